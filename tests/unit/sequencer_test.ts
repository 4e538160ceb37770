import assert from "node:assert/strict";
import { Sequencer } from "../../src/relay/sequencer.ts";
import { isColumns, type SinkPoints } from "../../src/relay/sink.ts";
import { BUS_BATCH_POINTS } from "../../src/protocol/bus.ts";
import { decodeBus, lastSeqOf, pointJson } from "../../src/protocol/bus_decode.ts";
import type { Point } from "../../src/protocol/ingress.ts";

const points = (n: number, series = "s"): Point[] =>
  Array.from({ length: n }, (_, i) => ({ x: 1.7e12 + i, y: i, series }));

Deno.test("Sequencer: batches carry consecutive seqs across messages, from lastSeq + 1", () => {
  const q = new Sequencer("ep", 41);
  assert.ok(q.offer(points(3)));
  assert.ok(q.offer(points(2, "t")));
  const cut = q.cut()!;
  assert.deepEqual([cut.firstSeq, cut.count, q.lastSeq, q.pending], [42, 5, 46, 0]);
  const m = decodeBus(cut.frames);
  assert.ok(m.kind === "batch");
  assert.equal(lastSeqOf(m.batch), 46);
  assert.equal(JSON.parse(pointJson(m.batch, 4)).seq, 46);
  assert.equal(JSON.parse(pointJson(m.batch, 4)).series, "t");
  assert.equal(q.cut(), undefined);
});

Deno.test("Sequencer: a long message is cut at BUS_BATCH_POINTS; the rest follows", () => {
  const q = new Sequencer("ep", 0);
  q.offer(points(BUS_BATCH_POINTS + 10));
  assert.equal(q.cut()!.count, BUS_BATCH_POINTS);
  const rest = q.cut()!;
  assert.deepEqual([rest.firstSeq, rest.count], [BUS_BATCH_POINTS + 1, 10]);
});

Deno.test("Sequencer: over maxPending a message is refused whole, with no seq used", () => {
  const q = new Sequencer("ep", 0, 100);
  assert.ok(q.offer(points(60)));
  assert.ok(!q.offer(points(41)), "60 + 41 > 100: shed");
  assert.equal(q.pending, 60);
  q.cut();
  assert.equal(q.lastSeq, 60, "the shed message took no seq");
  assert.ok(q.offer(points(40)), "drained: it fits again");
  q.cut();
  assert.equal(q.lastSeq, 100, "exactly the accepted points got seqs");
  assert.ok(q.offer([]), "an empty message is no overload");
});

Deno.test("Sequencer: a cut stops before a seq the sink refuses, and goes on once it is reserved", () => {
  let reserved = 7;
  const appended: number[] = [];
  const sink = {
    reserve: (seq: number) => seq <= reserved,
    append: (_s: string, seq: number) => void appended.push(seq),
  };
  const q = new Sequencer("ep", 0, 100, sink);
  q.offer(points(5));
  q.offer(points(5, "t"));
  const first = q.cut()!;
  assert.deepEqual([first.firstSeq, first.count, q.lastSeq, q.pending, q.blocked], [
    1,
    7,
    7,
    3,
    true,
  ]);
  assert.equal(q.cut(), undefined, "nothing more until the sink reserves");
  assert.ok(q.blocked);
  assert.deepEqual(appended, [1, 2, 3, 4, 5, 6, 7], "no point is handed on without its seq");
  reserved = 100;
  const rest = q.cut()!;
  assert.deepEqual([rest.firstSeq, rest.count, q.pending, q.blocked], [8, 3, 0, false]);
  const m = decodeBus(rest.frames);
  assert.ok(m.kind === "batch");
  assert.equal(JSON.parse(pointJson(m.batch, 0)).series, "t");
  assert.deepEqual(appended.slice(7), [8, 9, 10]);
});

Deno.test("Sequencer: a sink with runs gets each message's points in one call, and stops the cut at its reservation", () => {
  const got: string[] = [];
  let reserved = 7;
  const sink = {
    reserve: (seq: number) => seq <= reserved,
    append: () => assert.fail("per-point append is not used when the sink takes runs"),
    reservedUpTo: () => reserved,
    appendRun: (ps: SinkPoints, from: number, to: number, s0: number) => {
      assert.ok(!isColumns(ps));
      for (let i = from; i < to; i++) got.push(`${s0 + i - from}:${ps[i].series}:${ps[i].x}`);
    },
  };
  const q = new Sequencer("ep", 0, 1000, sink);
  q.offer(points(3, "a"));
  q.offer(points(6, "b"));
  const first = q.cut()!;
  assert.deepEqual([first.firstSeq, first.count, q.blocked], [1, 7, true], "seqs 1-7 reserved");
  assert.deepEqual(got, [
    "1:a:1700000000000",
    "2:a:1700000000001",
    "3:a:1700000000002",
    "4:b:1700000000000",
    "5:b:1700000000001",
    "6:b:1700000000002",
    "7:b:1700000000003",
  ]);
  assert.equal(q.cut(), undefined, "nothing more until the sink reserves");
  reserved = 100;
  const rest = q.cut()!;
  assert.deepEqual([rest.firstSeq, rest.count], [8, 2]);
  assert.deepEqual(got.slice(7), ["8:b:1700000000004", "9:b:1700000000005"]);
});

Deno.test("Sequencer: the whole bound absorbs a stall once; after a shed only part of it, until drained", () => {
  const q = new Sequencer("ep", 0, 1000);
  for (let i = 0; i < 10; i++) assert.ok(q.offer(points(100)), `message ${i} fits the bound`);
  assert.ok(!q.overloaded);
  assert.ok(!q.offer(points(100)), "over 1,000: shed");
  assert.ok(q.overloaded);
  q.cut(); // 512 out: 488 left, above 40 % of the bound
  assert.ok(!q.offer(points(100)), "overloaded: 488 + 100 > 400");
  q.cut(); // all out
  assert.ok(!q.overloaded, "drained: the whole bound again");
  for (let i = 0; i < 10; i++) assert.ok(q.offer(points(100)));
});
