import assert from "node:assert/strict";
import { History } from "../src/history.ts";

const pt = (seq: number) => `{"seq":${seq}}`;
const seqs = (h: History, since: number | undefined) => {
  const plan = h.resume(since);
  return { reset: plan.reset, seqs: plan.points.map((p) => p.seq) };
};

Deno.test("history: a contiguous stream from 1 resumes exactly from any held point", () => {
  const h = new History(100, 10);
  for (let s = 1; s <= 10; s++) h.add(s % 2 ? "a" : "b", s, pt(s));
  assert.deepEqual(seqs(h, 0), { reset: false, seqs: [...Array(10).keys()].map((i) => i + 1) });
  assert.deepEqual(seqs(h, 7), { reset: false, seqs: [8, 9, 10] });
  assert.deepEqual(seqs(h, 10), { reset: false, seqs: [] });
  assert.deepEqual(seqs(h, undefined).reset, true);
  assert.deepEqual(seqs(h, 11).reset, true, "ahead of the history: not ours to vouch for");
});

Deno.test("history: joined mid-stream (a gateway), it cannot vouch for what came before", () => {
  const h = new History(100, 10);
  for (let s = 501; s <= 510; s++) h.add("a", s, pt(s));
  assert.deepEqual(seqs(h, 499).reset, true, "501 and before were never received");
  assert.deepEqual(seqs(h, 500), { reset: false, seqs: [...Array(10).keys()].map((i) => i + 501) });
  assert.deepEqual(seqs(h, 505), { reset: false, seqs: [506, 507, 508, 509, 510] });
});

Deno.test("history: a jump in the sequence (points missed upstream) is a gap for older resumes", () => {
  const h = new History(100, 10);
  for (let s = 1; s <= 5; s++) h.add("a", s, pt(s));
  for (let s = 9; s <= 12; s++) h.add("a", s, pt(s)); // 6..8 never arrived
  assert.equal(h.resume(3).reset, true, "resuming from 3 would skip 6..8 silently");
  assert.equal(h.resume(7).reset, true);
  assert.deepEqual(seqs(h, 8), { reset: false, seqs: [9, 10, 11, 12] });
  assert.deepEqual(seqs(h, 10), { reset: false, seqs: [11, 12] });
});

Deno.test("history: eviction still bounds exact resumes", () => {
  const h = new History(3, 10);
  for (let s = 1; s <= 10; s++) h.add("a", s, pt(s));
  assert.equal(h.size, 3);
  assert.equal(h.resume(6).reset, true);
  assert.deepEqual(seqs(h, 7), { reset: false, seqs: [8, 9, 10] });
});
