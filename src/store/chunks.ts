/**
 * Points on their way to the store, as typed arrays: {@link ChunkBuilder} fills a chunk with a few
 * stores per point (no object per point), and {@link chunkRows} turns chunks into the store's rows
 * (one per series: seq deltas and x/y pairs, as `point_store.ts` keeps them) in two passes. Between
 * threads a chunk lives in a slot of a {@link ChunkPool} (shared memory): the relay fills it, the
 * store's worker reads it and frees it, and nothing is copied, transferred or left for the garbage
 * collector. Pure: no I/O.
 */
import { ChunkPool } from "./chunk_pool.ts";
import { isColumns, type SinkPoints } from "../relay/sink.ts";

export { ChunkPool, type PoolBuffers } from "./chunk_pool.ts";

/**
 * Points in seq order: point `i` is of series `names[series[i]]`, has seq `seqs[i]` and (x, y) =
 * (`xy[2i]`, `xy[2i+1]`); `n` points (the arrays may be longer).
 */
export interface PointChunk {
  n: number;
  names: string[];
  series: Uint32Array<ArrayBufferLike>;
  seqs: Float64Array<ArrayBufferLike>;
  xy: Float64Array<ArrayBufferLike>;
  /** The pool slot its arrays are views of (absent: arrays of its own). */
  slot?: number;
}

/** One row of the store: points of one series, seqs as deltas from `first`, x/y interleaved. */
export interface StoreRow {
  series: string;
  first: number;
  last: number;
  n: number;
  deltas: Uint32Array;
  xy: Float64Array;
}

/**
 * Fills chunks of up to `capacity` points: in arrays of its own, or (with a `pool`) in the pool's
 * slots, one at a time ({@link ready} says whether it has one).
 */
export class ChunkBuilder {
  #names: string[] = [];
  #index = new Map<string, number>();
  #lastName: string | undefined;
  #lastIndex = 0;
  #series: Uint32Array<ArrayBufferLike>;
  #seqs: Float64Array<ArrayBufferLike>;
  #xy: Float64Array<ArrayBufferLike>;
  #n = 0;
  #pool?: ChunkPool;
  #slot = -1;
  readonly capacity: number;

  constructor(capacity = 8192, pool?: ChunkPool) {
    this.#pool = pool;
    this.capacity = pool ? pool.capacity : capacity;
    this.#series = new Uint32Array(pool ? 0 : capacity);
    this.#seqs = new Float64Array(pool ? 0 : capacity);
    this.#xy = new Float64Array(pool ? 0 : 2 * capacity);
  }

  /** Points in the chunk being filled. */
  get length(): number {
    return this.#n;
  }

  /** Whether the chunk is full ({@link take} it before adding more). */
  get full(): boolean {
    return this.#n === this.capacity;
  }

  /** The pool slot being filled (-1: none, or no pool). */
  get slot(): number {
    return this.#slot;
  }

  /** Whether a point can be added: always without a pool, else once a free slot is held. */
  get ready(): boolean {
    if (!this.#pool || this.#slot >= 0) return true;
    this.#slot = this.#pool.acquire();
    if (this.#slot < 0) return false;
    const v = this.#pool.views(this.#slot);
    this.#series = v.series;
    this.#seqs = v.seqs;
    this.#xy = v.xy;
    return true;
  }

  /** Adds one point (seqs increase); the chunk must not be full, and must be {@link ready}. */
  add(series: string, seq: number, x: number, y: number): void {
    const i = series === this.#lastName ? this.#lastIndex : this.#seriesIndex(series);
    const n = this.#n++;
    this.#series[n] = i;
    this.#seqs[n] = seq;
    this.#xy[2 * n] = x;
    this.#xy[2 * n + 1] = y;
  }

  /**
   * Adds `points[from..to)`, whose seqs run from `firstSeq`, as far as the chunk has room; returns
   * the index after the last one added (`to` when all fit). The chunk must be {@link ready}. One
   * call per run of points: what {@link add} does per point, without a call per point.
   */
  addRun(points: SinkPoints, from: number, to: number, firstSeq: number): number {
    const end = Math.min(to, from + this.capacity - this.#n);
    const series = this.#series, seqs = this.#seqs, xy = this.#xy;
    let n = this.#n;
    let name = this.#lastName, index = this.#lastIndex;
    if (isColumns(points)) {
      const names = points.series, cols = points.xy;
      for (let k = from; k < end; k++, n++) {
        if (names[k] !== name) {
          index = this.#seriesIndex(names[k]);
          name = names[k];
        }
        series[n] = index;
        seqs[n] = firstSeq + (k - from);
        xy[2 * n] = cols[2 * k];
        xy[2 * n + 1] = cols[2 * k + 1];
      }
    } else {
      for (let k = from; k < end; k++, n++) {
        const p = points[k];
        if (p.series !== name) {
          index = this.#seriesIndex(p.series);
          name = p.series;
        }
        series[n] = index;
        seqs[n] = firstSeq + (k - from);
        xy[2 * n] = p.x;
        xy[2 * n + 1] = p.y;
      }
    }
    this.#n = n;
    return end;
  }

  /** The index of `series` in this chunk's names (added when new); remembered for the next point. */
  #seriesIndex(series: string): number {
    // Points of one producer message are mostly of one series: the caller skips the lookup then.
    // With a few series taking turns, comparing them beats hashing a new string per point.
    const names = this.#names;
    let found: number | undefined;
    if (names.length <= 8) {
      for (let k = 0; k < names.length; k++) {
        if (names[k] === series) {
          found = k;
          break;
        }
      }
    } else found = this.#index.get(series);
    if (found === undefined) {
      found = names.length;
      names.push(series);
      this.#index.set(series, found);
    }
    this.#lastName = series;
    this.#lastIndex = found;
    return found;
  }

  /**
   * Takes the chunk (undefined when empty) and starts a new one. In a pool, the chunk keeps its
   * slot (its reader releases it); else a full chunk's arrays are handed over whole (new ones are
   * made), a partial one's points copied out.
   */
  take(): PointChunk | undefined {
    const n = this.#n;
    if (n === 0) return undefined;
    let chunk: PointChunk;
    if (this.#pool) {
      chunk = { n, names: this.#names, series: this.#series, seqs: this.#seqs, xy: this.#xy };
      chunk.slot = this.#slot;
      this.#slot = -1;
    } else {
      const full = n === this.capacity;
      chunk = {
        n,
        names: this.#names,
        series: full ? this.#series : this.#series.slice(0, n),
        seqs: full ? this.#seqs : this.#seqs.slice(0, n),
        xy: full ? this.#xy : this.#xy.slice(0, 2 * n),
      };
      if (full) {
        this.#series = new Uint32Array(n);
        this.#seqs = new Float64Array(n);
        this.#xy = new Float64Array(2 * n);
      }
    }
    this.#names = [];
    this.#index.clear();
    this.#lastName = undefined;
    this.#n = 0;
    return chunk;
  }
}

/**
 * Arrays {@link chunkRows} fills again on every call, per series (grown as needed; at most
 * `maxSeries` series and `maxPoints` points each are kept), so a writer that calls it on every
 * write leaves no garbage behind. A row's arrays are valid until the next call.
 */
export class RowScratch {
  #rows = new Map<string, { deltas: Uint32Array<ArrayBuffer>; xy: Float64Array<ArrayBuffer> }>();

  constructor(readonly maxSeries = 4096, readonly maxPoints = 1 << 20) {}

  /** Arrays for `n` points of `series`. */
  take(series: string, n: number): { deltas: Uint32Array; xy: Float64Array } {
    const have = this.#rows.get(series);
    if (have && have.deltas.length >= n) {
      return { deltas: have.deltas.subarray(0, n), xy: have.xy.subarray(0, 2 * n) };
    }
    const size = Math.max(n, Math.min(2 * (have?.deltas.length ?? 0), this.maxPoints), 1024);
    const fresh = { deltas: new Uint32Array(size), xy: new Float64Array(2 * size) };
    if (size <= this.maxPoints && (have || this.#rows.size < this.maxSeries)) {
      this.#rows.set(series, fresh);
    }
    return { deltas: fresh.deltas.subarray(0, n), xy: fresh.xy.subarray(0, 2 * n) };
  }
}

/**
 * One row per series for the points of `chunks` (in seq order), in the order the series first
 * appear, in arrays of its own or (`scratch`) reused ones. A series' seqs within the chunks must
 * span less than 2^32.
 */
export function chunkRows(chunks: readonly PointChunk[], scratch?: RowScratch): StoreRow[] {
  // Pass 1: points per series, and each series' first and last seq.
  const rows = new Map<string, StoreRow>();
  const local: StoreRow[][] = [];
  for (const c of chunks) {
    const mine = c.names.map((name) => {
      let r = rows.get(name);
      if (!r) {
        rows.set(
          name,
          r = { series: name, first: -1, last: -1, n: 0, deltas: EMPTY_U32, xy: EMPTY_F64 },
        );
      }
      return r;
    });
    local.push(mine);
    for (let i = 0; i < c.n; i++) {
      const r = mine[c.series[i]];
      if (r.n++ === 0) r.first = c.seqs[i];
      r.last = c.seqs[i];
    }
  }
  // Pass 2: fill each row's arrays.
  const filled = new Map<StoreRow, number>();
  for (const r of rows.values()) {
    const a = scratch?.take(r.series, r.n) ??
      { deltas: new Uint32Array(r.n), xy: new Float64Array(2 * r.n) };
    r.deltas = a.deltas;
    r.xy = a.xy;
    filled.set(r, 0);
  }
  const at: number[] = [];
  for (let k = 0; k < chunks.length; k++) {
    const c = chunks[k];
    const mine = local[k];
    at.length = 0;
    for (const r of mine) at.push(filled.get(r)!);
    for (let i = 0; i < c.n; i++) {
      const s = c.series[i];
      const r = mine[s];
      const j = at[s]++;
      r.deltas[j] = c.seqs[i] - r.first;
      r.xy[2 * j] = c.xy[2 * i];
      r.xy[2 * j + 1] = c.xy[2 * i + 1];
    }
    for (let s = 0; s < mine.length; s++) filled.set(mine[s], at[s]);
  }
  return [...rows.values()];
}

/** Drops every point with a seq above `lastSeq` from `chunks` (seqs ascend); returns how many. */
export function cutChunks(chunks: PointChunk[], lastSeq: number): number {
  let dropped = 0;
  while (chunks.length > 0) {
    const c = chunks[chunks.length - 1];
    let keep = c.n;
    while (keep > 0 && c.seqs[keep - 1] > lastSeq) keep--;
    dropped += c.n - keep;
    c.n = keep;
    if (keep > 0) break;
    chunks.pop();
  }
  return dropped;
}

const EMPTY_U32 = new Uint32Array(0);
const EMPTY_F64 = new Float64Array(0);
