import assert from "node:assert/strict";
import {
  BUS_BATCH_CHARS,
  BUS_BATCH_POINTS,
  busBatches,
  busFrames,
  MIXED_TOPIC,
  splitBusLines,
} from "../src/relay_messages.ts";
import { encodePoint } from "../src/frames.ts";
import type { Point } from "../src/ingress_protocol.ts";

const pt = (series: string, y: number): Point => ({ x: 1000, y, series });

Deno.test("busBatches: one series -> its name is the topic; seqs from firstSeq, joined by newline", () => {
  const points = [pt("a", 0), pt("a", 1), pt("a", 2)];
  const [b, ...rest] = busBatches(points, 10);
  assert.deepEqual(rest, []);
  assert.equal(b.topic, "a");
  assert.equal(b.firstSeq, 10);
  assert.equal(b.count, 3);
  assert.equal(b.seriesList, undefined);
  assert.equal(b.pointJson, points.map((p, i) => encodePoint(10 + i, p)).join("\n"));
  const epoch = new TextEncoder().encode("e1");
  assert.deepEqual(busFrames(b, epoch), ["a", "10", b.pointJson, epoch]);
  const [one] = busBatches([pt("z", 7)], 1);
  assert.equal(one.pointJson, encodePoint(1, pt("z", 7)), "one point: just its JSON");
  assert.deepEqual(busBatches([], 1), []);
});

Deno.test("busBatches: several series -> MIXED_TOPIC and each point's series, in producer order", () => {
  const points = [pt("a", 0), pt("b", 1), pt("a", 2), pt("c", 3)];
  const [b, ...rest] = busBatches(points, 5);
  assert.deepEqual(rest, []);
  assert.equal(b.topic, MIXED_TOPIC);
  assert.equal(b.seriesList, "a\nb\na\nc");
  assert.deepEqual(splitBusLines(b.pointJson).map((j) => JSON.parse(j).y), [0, 1, 2, 3]);
  const epoch = new TextEncoder().encode("e1");
  assert.deepEqual(busFrames(b, epoch), [MIXED_TOPIC, "5", b.pointJson, epoch, "a\nb\na\nc"]);
});

Deno.test("busBatches: cut at BUS_BATCH_POINTS points and about BUS_BATCH_CHARS; seqs continue", () => {
  const many = Array.from({ length: BUS_BATCH_POINTS * 2 + 1 }, (_, i) => pt(`s${i % 2}`, i));
  const batches = busBatches(many, 1);
  assert.deepEqual(batches.map((b) => b.count), [BUS_BATCH_POINTS, BUS_BATCH_POINTS, 1]);
  assert.equal(batches[2].topic, "s0", "the last one holds one series");
  // Long series names: the character cap cuts first, each message ends at most one point over it.
  const long = "😀".repeat(64);
  const big = busBatches(Array.from({ length: BUS_BATCH_POINTS }, (_, i) => pt(long, i)), 1);
  assert.ok(big.length > 1, `split into ${big.length}`);
  const one = encodePoint(1, pt(long, 1)).length + 1;
  for (const b of big) {
    assert.ok(b.pointJson.length < BUS_BATCH_CHARS + one, `${b.pointJson.length}`);
  }
  for (const list of [batches, big]) {
    assert.equal(list[0].firstSeq, 1);
    for (let i = 1; i < list.length; i++) {
      assert.equal(list[i].firstSeq, list[i - 1].firstSeq + list[i - 1].count);
    }
  }
  assert.equal(big.reduce((a, b) => a + b.count, 0), BUS_BATCH_POINTS);
});

Deno.test("splitBusLines: inverts the joins, whatever the series names hold", () => {
  const odd = ['quote"back\\slash', "line\u2028sep", "😀".repeat(64), "bom\ufeff", "a b,c"];
  const points = odd.map((s, i) => pt(s, i));
  const [b] = busBatches(points, 5);
  const parts = splitBusLines(b.pointJson);
  const names = splitBusLines(b.seriesList ?? "");
  assert.equal(parts.length, odd.length);
  assert.deepEqual(names, odd);
  parts.forEach((json, i) => {
    const p = JSON.parse(json);
    assert.equal(p.seq, 5 + i);
    assert.equal(p.series, odd[i]);
  });
  assert.deepEqual(splitBusLines('{"seq":1}'), ['{"seq":1}']);
});
