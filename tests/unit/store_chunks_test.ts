import assert from "node:assert/strict";
import { ChunkBuilder, chunkRows, cutChunks, type PointChunk } from "../../src/store/chunks.ts";

/** Points seq from..to of `series(seq)`, x = seq, y = -seq, in chunks of `capacity`. */
function build(from: number, to: number, series: (seq: number) => string, capacity = 4) {
  const b = new ChunkBuilder(capacity);
  const chunks: PointChunk[] = [];
  for (let seq = from; seq <= to; seq++) {
    b.add(series(seq), seq, seq, -seq);
    if (b.full) chunks.push(b.take()!);
  }
  const rest = b.take();
  if (rest) chunks.push(rest);
  return chunks;
}

Deno.test("ChunkBuilder: full chunks hand over their arrays, a partial one is copied to its size", () => {
  const b = new ChunkBuilder(3);
  assert.equal(b.take(), undefined);
  for (let seq = 1; seq <= 4; seq++) {
    b.add(seq % 2 ? "odd" : "even", seq, seq * 10, seq / 2);
    if (b.full) {
      const c = b.take()!;
      assert.equal(c.n, 3);
      assert.deepEqual(c.names, ["odd", "even"]);
      assert.deepEqual([...c.series], [0, 1, 0]);
      assert.deepEqual([...c.seqs], [1, 2, 3]);
      assert.deepEqual([...c.xy], [10, 0.5, 20, 1, 30, 1.5]);
      assert.equal(b.length, 0);
    }
  }
  const last = b.take()!;
  assert.deepEqual([last.n, last.names, last.seqs.length, last.xy.length], [1, ["even"], 1, 2]);
});

Deno.test("chunkRows: one row per series across chunks, seqs as deltas from its first, x/y in order", () => {
  const chunks = build(1, 11, (seq) => ["a", "b", "c"][seq % 3]);
  const rows = chunkRows(chunks);
  assert.deepEqual(rows.map((r) => r.series), ["b", "c", "a"], "in the order series first appear");
  for (const r of rows) {
    const seqs = [...r.deltas].map((d) => r.first + d);
    const want = Array.from({ length: 11 }, (_, i) => i + 1).filter((s) =>
      ["a", "b", "c"][s % 3] === r.series
    );
    assert.deepEqual(seqs, want, r.series);
    assert.deepEqual([r.n, r.last], [want.length, want[want.length - 1]]);
    assert.deepEqual([...r.xy], want.flatMap((s) => [s, -s]));
  }
  assert.deepEqual(chunkRows([]), []);
});

Deno.test("cutChunks: drops the points above a seq, whole chunks and part of one", () => {
  const chunks = build(1, 10, () => "a");
  assert.equal(chunks.length, 3);
  assert.equal(cutChunks(chunks, 5), 5);
  assert.deepEqual(chunks.map((c) => c.n), [4, 1]);
  assert.deepEqual(chunkRows(chunks).map((r) => r.n), [5]);
  assert.equal(cutChunks(chunks, 99), 0);
  assert.equal(cutChunks(chunks, 0), 5);
  assert.equal(chunks.length, 0);
});
