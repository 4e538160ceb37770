/**
 * Points on their way to the store, as typed arrays: {@link ChunkBuilder} fills a chunk with a few
 * stores per point (no object per point), a chunk crosses threads without a copy (its buffers are
 * transferred), and {@link chunkRows} turns chunks into the store's rows (one per series: seq
 * deltas and x/y pairs, as `point_store.ts` keeps them) in two passes. Pure: no I/O.
 *
 * @module
 */

/**
 * Points in seq order: point `i` is of series `names[series[i]]`, has seq `seqs[i]` and (x, y) =
 * (`xy[2i]`, `xy[2i+1]`); `n` points (the arrays may be longer).
 */
export interface PointChunk {
  n: number;
  names: string[];
  series: Uint32Array<ArrayBuffer>;
  seqs: Float64Array<ArrayBuffer>;
  xy: Float64Array<ArrayBuffer>;
}

/** One row of the store: points of one series, seqs as deltas from `first`, x/y interleaved. */
export interface StoreRow {
  series: string;
  first: number;
  last: number;
  n: number;
  deltas: Uint32Array<ArrayBuffer>;
  xy: Float64Array<ArrayBuffer>;
}

/** Fills chunks of up to `capacity` points. */
export class ChunkBuilder {
  #names: string[] = [];
  #index = new Map<string, number>();
  #lastName: string | undefined;
  #lastIndex = 0;
  #series: Uint32Array<ArrayBuffer>;
  #seqs: Float64Array<ArrayBuffer>;
  #xy: Float64Array<ArrayBuffer>;
  #n = 0;

  constructor(readonly capacity = 8192) {
    this.#series = new Uint32Array(capacity);
    this.#seqs = new Float64Array(capacity);
    this.#xy = new Float64Array(2 * capacity);
  }

  /** Points in the chunk being filled. */
  get length(): number {
    return this.#n;
  }

  /** Whether the chunk is full ({@link take} it before adding more). */
  get full(): boolean {
    return this.#n === this.capacity;
  }

  /** Adds one point (seqs increase); the chunk must not be full. */
  add(series: string, seq: number, x: number, y: number): void {
    // Points of one producer message are mostly of one series: skip the lookup then.
    let i = this.#lastIndex;
    if (series !== this.#lastName) {
      let found = this.#index.get(series);
      if (found === undefined) {
        found = this.#names.length;
        this.#names.push(series);
        this.#index.set(series, found);
      }
      i = this.#lastIndex = found;
      this.#lastName = series;
    }
    const n = this.#n++;
    this.#series[n] = i;
    this.#seqs[n] = seq;
    this.#xy[2 * n] = x;
    this.#xy[2 * n + 1] = y;
  }

  /**
   * Takes the chunk (undefined when empty) and starts a new one. A full chunk's arrays are handed
   * over whole (new ones are made); a partial one's points are copied out.
   */
  take(): PointChunk | undefined {
    const n = this.#n;
    if (n === 0) return undefined;
    const full = n === this.capacity;
    const chunk: PointChunk = {
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
    this.#names = [];
    this.#index.clear();
    this.#lastName = undefined;
    this.#n = 0;
    return chunk;
  }
}

/** The buffers of `chunks`, to transfer them with `postMessage`. */
export function chunkBuffers(chunks: readonly PointChunk[]): ArrayBuffer[] {
  return chunks.flatMap((c) => [c.series.buffer, c.seqs.buffer, c.xy.buffer]);
}

/**
 * One row per series for the points of `chunks` (in seq order), in the order the series first
 * appear. A series' seqs within the chunks must span less than 2^32.
 */
export function chunkRows(chunks: readonly PointChunk[]): StoreRow[] {
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
    r.deltas = new Uint32Array(r.n);
    r.xy = new Float64Array(2 * r.n);
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
