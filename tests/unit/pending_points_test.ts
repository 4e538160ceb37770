import assert from "node:assert/strict";
import { PendingPoints } from "../../src/store/pending_points.ts";
import { ChunkBuilder, type PointChunk } from "../../src/store/chunks.ts";

/** Every held point's seq, in the order the chunks give them. */
const seqsOf = (chunks: PointChunk[]) => chunks.flatMap((c) => [...c.seqs.subarray(0, c.n)]);

function chunk(from: number, to: number): PointChunk {
  const b = new ChunkBuilder(to - from + 1);
  for (let seq = from; seq <= to; seq++) b.add("a", seq, seq, -seq);
  return b.take()!;
}

Deno.test("PendingPoints: single points and whole chunks come out in seq order, once", () => {
  const p = new PendingPoints();
  for (let seq = 1; seq <= 3; seq++) p.add("a", seq, seq, -seq);
  p.addChunk(chunk(4, 7));
  p.add("b", 8, 8, -8);
  assert.equal(p.count, 8);
  const { chunks, count } = p.take();
  assert.equal(count, 8);
  assert.deepEqual(seqsOf(chunks), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(p.count, 0);
  assert.deepEqual(p.take(), { chunks: [], count: 0 }, "taken: nothing is held twice");
});

Deno.test("PendingPoints: cut() drops what is above a seq, clear() everything", () => {
  const p = new PendingPoints();
  p.addChunk(chunk(1, 4));
  for (let seq = 5; seq <= 6; seq++) p.add("a", seq, seq, -seq);
  p.cut(3);
  assert.equal(p.count, 3);
  assert.deepEqual(seqsOf(p.take().chunks), [1, 2, 3]);
  p.add("a", 7, 7, -7);
  p.addChunk(chunk(8, 9));
  p.clear();
  assert.equal(p.count, 0);
  assert.deepEqual(p.take(), { chunks: [], count: 0 });
});
