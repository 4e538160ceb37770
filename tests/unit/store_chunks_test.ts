import assert from "node:assert/strict";
import {
  ChunkBuilder,
  ChunkPool,
  chunkRows,
  cutChunks,
  type PointChunk,
  RowScratch,
} from "../../src/store/chunks.ts";

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

Deno.test("ChunkPool: slots are filled, handed over by generation, released; a full pool is a full queue", () => {
  const pool = new ChunkPool(2, 3);
  const b = new ChunkBuilder(99, pool);
  assert.equal(b.capacity, 3, "the pool's chunk size wins");
  const chunks: PointChunk[] = [];
  for (let seq = 1; seq <= 6; seq++) {
    assert(b.ready, `slot for ${seq}`);
    b.add("a", seq, seq, 0);
    if (b.full) chunks.push(b.take()!);
  }
  assert.deepEqual(chunks.map((c) => c.slot), [0, 1]);
  assert.equal(b.ready, false, "both slots in use: nothing more fits");
  // The other thread's view of the same memory.
  const reader = ChunkPool.of(pool.buffers);
  assert.deepEqual([...reader.views(1).seqs], [4, 5, 6]);
  pool.handOver(0, 7);
  pool.handOver(1, 7);
  reader.release(0, 6);
  assert.equal(b.ready, false, "another generation cannot release it");
  reader.release(0, 7);
  assert(b.ready, "released by its generation: free again");
  assert.equal(b.slot, 0);
  assert.deepEqual(pool.reclaim(7), [1], "a dead reader's slots come back");
  assert.equal(pool.used, 1);
  b.add("a", 7, 7, 0);
  const partial = b.take()!;
  assert.deepEqual([partial.slot, partial.n], [0, 1]);
  pool.free(partial.slot!);
  assert.equal(pool.used, 0);
});

Deno.test("chunkRows with a RowScratch reuses its arrays from one call to the next", () => {
  const scratch = new RowScratch();
  const first = chunkRows(build(1, 10, () => "a"), scratch)[0];
  const second = chunkRows(build(11, 15, () => "a"), scratch)[0];
  assert.equal(first.deltas.buffer, second.deltas.buffer);
  assert.deepEqual([...second.deltas].map((d) => second.first + d), [11, 12, 13, 14, 15]);
  assert.deepEqual([...second.xy], [11, -11, 12, -12, 13, -13, 14, -14, 15, -15]);
});

Deno.test("ChunkBuilder: many series taking turns (past the short list, by map) keep their points", () => {
  const rows = chunkRows(build(1, 48, (seq) => `s${seq % 12}`, 16));
  assert.equal(rows.length, 12);
  for (const r of rows) {
    const k = Number(r.series.slice(1));
    const want = Array.from({ length: 48 }, (_, i) => i + 1).filter((s) => s % 12 === k);
    assert.deepEqual([...r.deltas].map((d) => r.first + d), want, r.series);
  }
});

Deno.test("ChunkBuilder.addRun: the same chunks as add per point, stopping where a chunk is full", () => {
  const points = Array.from({ length: 11 }, (_, i) => ({
    series: i < 5 ? "a" : i % 2 ? "b" : `s${i % 12}`,
    x: 100 + i,
    y: -i,
  }));
  const perPoint = new ChunkBuilder(4), byRun = new ChunkBuilder(4);
  const a: PointChunk[] = [], b: PointChunk[] = [];
  points.slice(2, 10).forEach((p, k) => {
    perPoint.add(p.series, 50 + k, p.x, p.y);
    if (perPoint.full) a.push(perPoint.take()!);
  });
  // A run of 8 (seqs 50..57) from index 2: 4 fit, then 4 more in the next chunk.
  let i = 2;
  const stops: number[] = [];
  while (i < 10) {
    i = byRun.addRun(points, i, 10, 50 + (i - 2));
    stops.push(i);
    if (byRun.full) b.push(byRun.take()!);
  }
  assert.deepEqual(stops, [6, 10]);
  assert.deepEqual(
    b.map((c) => [c.n, c.names, [...c.series], [...c.seqs], [...c.xy]]),
    a.map((c) => [c.n, c.names, [...c.series], [...c.seqs], [...c.xy]]),
  );
  assert.deepEqual([...b[1].seqs], [54, 55, 56, 57]);
  assert.deepEqual(b[1].names, ["s6", "b", "s8"]);
});
