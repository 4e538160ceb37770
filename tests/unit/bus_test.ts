import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  BUS_BATCH_CHARS,
  BUS_BATCH_POINTS,
  END_OF_STREAM,
  type Frame,
  MIXED_TOPIC,
} from "../../src/protocol/bus.ts";
import {
  BusBatchBuilder,
  encodeBus,
  encodeHeartbeat,
  encodeUnits,
} from "../../src/protocol/bus_encode.ts";
import {
  decodeBus,
  isEndOfStream,
  lastSeqOf,
  pointJson,
  pointSeries,
} from "../../src/protocol/bus_decode.ts";
import { encodePoint, pointsFrame } from "../../src/protocol/frames.ts";

/** As the frames come off a ZeroMQ socket: every frame a Buffer. */
const wire = (frames: readonly Frame[]): Buffer[] =>
  frames.map((f) => typeof f === "string" ? Buffer.from(f) : Buffer.from(f));

const pts = (series: string[], firstSeq: number) =>
  series.map((s, i) => ({
    series: s,
    json: encodePoint(firstSeq + i, { x: 1700000000000 + i, y: i / 3, series: s }),
  }));

function decodeOk(frames: readonly Frame[]) {
  const m = decodeBus(wire(frames));
  if (m.kind !== "batch") throw new Error(`expected a batch, got ${JSON.stringify(m)}`);
  return m.batch;
}

Deno.test("encodeBus() of one series: 4 frames, topic is the series, points round-trip", () => {
  const points = pts(["cpu", "cpu", "cpu"], 41);
  const frames = encodeBus("ep1", 41, points);
  assert.deepStrictEqual(frames.length, 4);
  assert.deepStrictEqual(frames[0], "cpu");
  assert.deepStrictEqual(frames[1], "1 41 3 ep1");
  const b = decodeOk(frames);
  assert.deepStrictEqual([b.epoch, b.firstSeq, b.count, lastSeqOf(b)], ["ep1", 41, 3, 43]);
  assert.deepStrictEqual(b.seriesNames, ["cpu"]);
  assert.deepStrictEqual(b.seriesIndex, undefined);
  for (let i = 0; i < 3; i++) {
    assert.deepStrictEqual(pointJson(b, i), points[i].json);
    assert.deepStrictEqual(pointSeries(b, i), "cpu");
  }
});

Deno.test("decodeBus() body is a points frame's content with no work per point", () => {
  const a = encodeBus("e", 1, pts(["s", "s"], 1));
  const c = encodeBus("e", 3, pts(["s"], 3));
  const frame = pointsFrame([decodeOk(a).body, decodeOk(c).body]);
  const parsed = JSON.parse(frame);
  assert.deepStrictEqual(parsed.type, "points");
  assert.deepStrictEqual(parsed.points.map((p: { seq: number }) => p.seq), [1, 2, 3]);
});

Deno.test("encodeBus() of mixed series: topic \\x01, 5th frame, each point's series", () => {
  const series = ["a", "b", "a", "ünï", "b"];
  const points = pts(series, 7);
  const frames = encodeBus("ep", 7, points);
  assert.deepStrictEqual(frames.length, 5);
  assert.deepStrictEqual(frames[0], MIXED_TOPIC);
  const b = decodeOk(frames);
  assert.deepStrictEqual(b.seriesNames, ["a", "b", "ünï"]);
  assert.deepStrictEqual(b.count, 5);
  for (let i = 0; i < series.length; i++) {
    assert.deepStrictEqual(pointSeries(b, i), series[i]);
    assert.deepStrictEqual(pointJson(b, i), points[i].json);
    assert.deepStrictEqual(JSON.parse(pointJson(b, i)).seq, 7 + i);
  }
});

Deno.test("encodeHeartbeat() is a batch of no point; end of stream is recognised", () => {
  const hb = decodeOk(encodeHeartbeat("ep", 101));
  assert.deepStrictEqual([hb.count, hb.firstSeq, lastSeqOf(hb), hb.body], [0, 101, 100, ""]);
  assert.deepStrictEqual(encodeHeartbeat("ep", 1)[0], MIXED_TOPIC);
  assert.deepStrictEqual(decodeBus(wire(END_OF_STREAM)), { kind: "end" });
  assert(isEndOfStream(wire(END_OF_STREAM)));
  assert(!isEndOfStream(wire(encodeHeartbeat("ep", 1))));
});

Deno.test("BusBatchBuilder is full at BUS_BATCH_POINTS points or BUS_BATCH_CHARS, and reusable", () => {
  const b = new BusBatchBuilder();
  for (let i = 0; i < BUS_BATCH_POINTS - 1; i++) b.add("{}", "s");
  assert(!b.full);
  b.add("{}", "s");
  assert(b.full);
  const first = decodeOk(b.finish("e", 1));
  assert.deepStrictEqual(first.count, BUS_BATCH_POINTS);
  assert.deepStrictEqual(b.count, 0);
  b.add("x".repeat(BUS_BATCH_CHARS), "t");
  assert(b.full);
  const second = decodeOk(b.finish("e", 1 + BUS_BATCH_POINTS));
  assert.deepStrictEqual([second.count, second.seriesNames], [1, ["t"]]);
});

Deno.test("decodeBus() refuses malformed messages with a reason, never throws", () => {
  const good = encodeBus("ep", 1, pts(["a", "b"], 1));
  const bad: Frame[][] = [
    [],
    ["a"],
    ["a", "1 1 1 ep", "{}"],
    ["a", "2 1 1 ep", "{}", "2"],
    ["a", "1 x 1 ep", "{}", "2"],
    ["a", "1 1 -1 ep", "{}", ""],
    ["a", "1 1 1 ", "{}", "2"],
    ["a", `1 1 1 ${"e".repeat(65)}`, "{}", "2"],
    ["a", "1 1 1 ep", "{}", "3"],
    ["a", "1 1 1 ep", "{}", "1"],
    ["a", "1 1 1 ep", "{}", ""],
    ["a", "1 1 1 ep", "{}", "2,"],
    ["a", "1 1 1 ep", "{}", "+2"],
    ["a", "1 1 1 ep", "{}", "99999999999"],
    ["a", "1 1 2 ep", "{},{}", "2"],
    ["a", "1 1 2 ep", "{},{}", "2,2"],
    ["a", "1 1 2 ep", "{},{}", "2,5,5"],
    ["a", "1 1 0 ep", "", "0"],
    [...good.slice(0, 4), "a\nb"],
    [...good.slice(0, 4), "a\nb\n\n0,2"],
    [...good.slice(0, 4), "a\nb\n\n0"],
  ];
  for (const frames of bad) {
    const m = decodeBus(wire(frames));
    assert.deepStrictEqual(m.kind, "invalid", JSON.stringify(frames.map(String)));
    assert(m.kind === "invalid" && m.reason.length > 0);
  }
});

Deno.test("decodeBus() reads an index frame at any byte offset (Buffers from a pool)", () => {
  const frames = encodeBus("ep", 5, pts(["s", "s", "s"], 5));
  assert.equal(
    typeof frames[3],
    "string",
    "text: zeromq.js copies strings, never sends them zero-copy",
  );
  const bytes = new TextEncoder().encode(frames[3]);
  const pool = new Uint8Array(bytes.length + 3);
  pool.set(bytes, 3);
  const b = decodeOk([frames[0], frames[1], frames[2], pool.subarray(3)]);
  assert.deepStrictEqual(JSON.parse(pointJson(b, 2)).seq, 7);
});

Deno.test("encodeUnits() / decodeBus(): three frames, topic \\x01, any series name", () => {
  const frames = encodeUnits("ep", [["temp", "°C"], ["__proto__", "m"], ["a b", "m/s²"]]);
  assert.equal(frames.length, 3);
  assert.equal(frames[0], MIXED_TOPIC);
  assert.equal(frames[1], "1 units ep");
  assert.deepEqual(decodeBus(wire(frames)), {
    kind: "units",
    epoch: "ep",
    units: [["temp", "°C"], ["__proto__", "m"], ["a b", "m/s²"]],
  });
  assert.deepEqual(decodeBus(wire(encodeUnits("ep", []))), {
    kind: "units",
    epoch: "ep",
    units: [],
  });
});

Deno.test("decodeBus() refuses malformed units messages with a reason", () => {
  const bad: Frame[][] = [
    [MIXED_TOPIC, "1 unitz ep", "{}"],
    [MIXED_TOPIC, "2 units ep", "{}"],
    [MIXED_TOPIC, "1 units", "{}"],
    [MIXED_TOPIC, `1 units ${"e".repeat(65)}`, "{}"],
    [MIXED_TOPIC, "1 units ep", "{"],
    [MIXED_TOPIC, "1 units ep", "[]"],
    [MIXED_TOPIC, "1 units ep", '{"a":5}'],
    [MIXED_TOPIC, "1 units ep", '{"a":""}'],
    [MIXED_TOPIC, "1 units ep", `{"a":"${"u".repeat(65)}"}`],
  ];
  for (const frames of bad) {
    const m = decodeBus(wire(frames));
    assert.equal(m.kind, "invalid", JSON.stringify(frames));
  }
});
