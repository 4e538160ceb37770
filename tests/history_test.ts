import assert from "node:assert/strict";
import { History } from "../src/history.ts";

const pt = (seq: number, series = "a") => `{"seq":${seq},"series":"${series}"}`;

function fill(h: History, from: number, to: number, series: (seq: number) => string) {
  for (let s = from; s <= to; s++) h.add(series(s), s, pt(s, series(s)));
}

Deno.test("history: keeps the last N points per series, oldest first, merged in seq order", () => {
  const h = new History(3);
  fill(h, 1, 10, (s) => (s % 2 ? "odd" : "even"));
  assert.equal(h.size, 6);
  assert.equal(h.lastSeq, 10);
  assert.deepEqual(h.snapshot().map((p) => p.seq), [5, 6, 7, 8, 9, 10]);
  assert.equal(h.snapshot()[0].json, pt(5, "odd"));
});

Deno.test("history: resume is exact after any seq not yet evicted, a reset otherwise", () => {
  const h = new History(3);
  fill(h, 1, 10, (s) => (s % 2 ? "odd" : "even")); // evicted: 1..4
  assert.deepEqual(h.resume(4), { reset: false, points: h.after(4) });
  assert.deepEqual(h.resume(7).points.map((p) => p.seq), [8, 9, 10]);
  assert.equal(h.resume(10).reset, false);
  assert.deepEqual(h.resume(10).points, []);
  assert.equal(h.resume(3).reset, true, "4 was evicted: a client at 3 would miss it");
  assert.deepEqual(h.resume(3).points.map((p) => p.seq), [5, 6, 7, 8, 9, 10]);
  assert.equal(h.resume(11).reset, true, "a seq from the future is another history");
  assert.equal(h.resume(undefined).reset, true, "a new client starts with a reset");
});

Deno.test("history: a series that is quiet keeps its points while others churn", () => {
  const h = new History(2);
  h.add("rare", 1, pt(1, "rare"));
  fill(h, 2, 50, () => "busy");
  assert.deepEqual(h.snapshot().map((p) => p.seq), [1, 49, 50]);
  // Points 2..48 were evicted, so resuming from 1 is not exact.
  assert.equal(h.resume(1).reset, true);
  assert.equal(h.resume(48).reset, false);
});

Deno.test("history: a filter returns only the chosen series", () => {
  const h = new History(10);
  fill(h, 1, 9, (s) => ["a", "b", "c"][s % 3]);
  const only = new Set(["a", "c"]);
  assert.deepEqual(h.snapshot(only).map((p) => p.seq), [2, 3, 5, 6, 8, 9]);
  assert.deepEqual(h.resume(5, only).points.map((p) => p.seq), [6, 8, 9]);
  assert.deepEqual(h.snapshot(new Set(["none"])), []);
});

Deno.test("history: beyond maxSeries the stalest series goes, and resume before it is a reset", () => {
  const h = new History(5, 2);
  h.add("x", 1, pt(1, "x"));
  h.add("y", 2, pt(2, "y"));
  h.add("y", 3, pt(3, "y"));
  h.add("z", 4, pt(4, "z")); // x (last seq 1) is the stalest
  assert.equal(h.seriesCount, 2);
  assert.equal(h.size, 3);
  assert.deepEqual(h.snapshot().map((p) => p.seq), [2, 3, 4]);
  assert.equal(h.resume(0).reset, true);
  assert.equal(h.resume(1).reset, false);
});

Deno.test("history: sizes must be positive", () => {
  assert.throws(() => new History(0), RangeError);
  assert.throws(() => new History(1, 0), RangeError);
});

Deno.test("history: a wrapped ring still answers after() with a binary search", () => {
  const h = new History(100);
  fill(h, 1, 1000, () => "s");
  for (const after of [0, 899, 900, 950, 999, 1000]) {
    const want = [];
    for (let s = Math.max(after + 1, 901); s <= 1000; s++) want.push(s);
    assert.deepEqual(h.after(after).map((p) => p.seq), want, `after ${after}`);
  }
});
