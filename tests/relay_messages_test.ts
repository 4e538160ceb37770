import assert from "node:assert/strict";
import {
  BUS_BATCH_CHARS,
  BUS_BATCH_POINTS,
  busBatches,
  splitBusPoints,
} from "../src/relay_messages.ts";
import { encodePoint } from "../src/frames.ts";
import type { Point } from "../src/ingress_protocol.ts";

const pt = (series: string, y: number): Point => ({ x: 1000, y, series });

Deno.test("busBatches: runs of one series, seqs from firstSeq, points joined by newline", () => {
  const points = [pt("a", 0), pt("a", 1), pt("b", 2), pt("a", 3)];
  const batches = busBatches(points, 10);
  assert.deepEqual(batches.map((b) => [b.series, b.firstSeq, b.count]), [
    ["a", 10, 2],
    ["b", 12, 1],
    ["a", 13, 1],
  ]);
  assert.equal(
    batches[0].pointJson,
    `${encodePoint(10, points[0])}\n${encodePoint(11, points[1])}`,
  );
  assert.equal(batches[1].pointJson, encodePoint(12, points[2]), "one point: just its JSON");
  assert.deepEqual(busBatches([], 1), []);
});

Deno.test("busBatches: a run is cut at BUS_BATCH_POINTS points and about BUS_BATCH_CHARS", () => {
  const many = Array.from({ length: BUS_BATCH_POINTS * 2 + 1 }, (_, i) => pt("s", i));
  const counts = busBatches(many, 1).map((b) => b.count);
  assert.deepEqual(counts, [BUS_BATCH_POINTS, BUS_BATCH_POINTS, 1]);
  // Long series names: the character cap cuts first, each message ends at most one point over it.
  const long = "😀".repeat(64);
  const big = busBatches(Array.from({ length: BUS_BATCH_POINTS }, (_, i) => pt(long, i)), 1);
  assert.ok(big.length > 1, `split into ${big.length}`);
  const one = encodePoint(1, pt(long, 1)).length + 1;
  for (const b of big) {
    assert.ok(b.pointJson.length < BUS_BATCH_CHARS + one, `${b.pointJson.length}`);
  }
  assert.equal(big.reduce((a, b) => a + b.count, 0), BUS_BATCH_POINTS);
  // Seqs stay consecutive across the cut.
  for (let i = 1; i < big.length; i++) {
    assert.equal(big[i].firstSeq, big[i - 1].firstSeq + big[i - 1].count);
  }
});

Deno.test("splitBusPoints: inverts the join, whatever the series name holds", () => {
  const odd = ['quote"back\\slash', "line\u2028sep", "😀".repeat(64), "bom\ufeff"];
  const points = odd.map((s, i) => pt(s, i));
  for (const b of busBatches(points, 5)) {
    const parts = splitBusPoints(b.pointJson);
    assert.equal(parts.length, b.count);
    parts.forEach((json, i) => {
      const p = JSON.parse(json);
      assert.equal(p.seq, b.firstSeq + i);
      assert.equal(p.series, b.series);
    });
  }
  assert.deepEqual(splitBusPoints('{"seq":1}'), ['{"seq":1}']);
});
