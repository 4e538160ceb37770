import assert from "node:assert/strict";
import { History } from "../../src/hub/history.ts";

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

// Sequence gaps (a gateway joining mid-stream, or missing points).

const bare = (seq: number) => `{"seq":${seq}}`;
const seqs = (h: History, since: number | undefined) => {
  const plan = h.resume(since);
  return { reset: plan.reset, seqs: plan.points.map((p) => p.seq) };
};

Deno.test("history: a contiguous stream from 1 resumes exactly from any held point", () => {
  const h = new History(100, 10);
  for (let s = 1; s <= 10; s++) h.add(s % 2 ? "a" : "b", s, bare(s));
  assert.deepEqual(seqs(h, 0), { reset: false, seqs: [...Array(10).keys()].map((i) => i + 1) });
  assert.deepEqual(seqs(h, 7), { reset: false, seqs: [8, 9, 10] });
  assert.deepEqual(seqs(h, 10), { reset: false, seqs: [] });
  assert.deepEqual(seqs(h, undefined).reset, true);
  assert.deepEqual(seqs(h, 11).reset, true, "ahead of the history: not ours to vouch for");
});

Deno.test("history: joined mid-stream (a gateway), it cannot vouch for what came before", () => {
  const h = new History(100, 10);
  for (let s = 501; s <= 510; s++) h.add("a", s, bare(s));
  assert.deepEqual(seqs(h, 499).reset, true, "501 and before were never received");
  assert.deepEqual(seqs(h, 500), { reset: false, seqs: [...Array(10).keys()].map((i) => i + 501) });
  assert.deepEqual(seqs(h, 505), { reset: false, seqs: [506, 507, 508, 509, 510] });
});

Deno.test("history: a jump in the sequence (points missed upstream) is a gap for older resumes", () => {
  const h = new History(100, 10);
  for (let s = 1; s <= 5; s++) h.add("a", s, bare(s));
  for (let s = 9; s <= 12; s++) h.add("a", s, bare(s)); // 6..8 never arrived
  assert.equal(h.resume(3).reset, true, "resuming from 3 would skip 6..8 silently");
  assert.equal(h.resume(7).reset, true);
  assert.deepEqual(seqs(h, 8), { reset: false, seqs: [9, 10, 11, 12] });
  assert.deepEqual(seqs(h, 10), { reset: false, seqs: [11, 12] });
});

Deno.test("history: eviction still bounds exact resumes", () => {
  const h = new History(3, 10);
  for (let s = 1; s <= 10; s++) h.add("a", s, bare(s));
  assert.equal(h.size, 3);
  assert.equal(h.resume(6).reset, true);
  assert.deepEqual(seqs(h, 7), { reset: false, seqs: [8, 9, 10] });
});
