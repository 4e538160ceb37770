/**
 * One row of the store's `batches` table: the points of one series from one flush, as two BLOBs
 * (`seqs`: `n` little-endian uint32 deltas from `first_seq`; `xy`: `n` (x, y) pairs as
 * little-endian float64), written and read back here. Pure but for {@link dropAbove}.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { encodePoint } from "../protocol/frames.ts";
import type { StoreRow } from "./chunks.ts";

/** One stored point. */
export interface StoredPoint {
  series: string;
  seq: number;
  /** The point as browsers receive it (see `frames.ts`). */
  json: string;
}

/** Points of one series to write, in seq order (parallel arrays). */
export interface SeriesBatch {
  series: string;
  seqs: number[];
  xs: number[];
  ys: number[];
}

/** Little-endian on every platform Deno runs on; checked, since the file format depends on it. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A row's BLOBs and bounds, ready to insert. */
export interface EncodedRow {
  first: number;
  last: number;
  n: number;
  seqs: Uint8Array;
  xy: Uint8Array;
}

/** The columns of a row that hold its points. */
export type StoredRow = {
  first_seq: number;
  n: number;
  seqs: Uint8Array;
  xy: Uint8Array;
};

/** Encodes a (non-empty) batch of one series as one row. */
export function encodeRow(b: SeriesBatch): EncodedRow {
  const n = b.seqs.length;
  const first = b.seqs[0];
  const deltas = new Uint32Array(n);
  const xy = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    deltas[i] = b.seqs[i] - first;
    xy[2 * i] = b.xs[i];
    xy[2 * i + 1] = b.ys[i];
  }
  return {
    first,
    last: b.seqs[n - 1],
    n,
    seqs: new Uint8Array(deltas.buffer),
    xy: new Uint8Array(xy.buffer),
  };
}

/** The rows of `batches` (empty ones left out), one per batch, as `PointStore.writeRows` takes. */
export function batchRows(batches: readonly SeriesBatch[]): StoreRow[] {
  return batches.filter((b) => b.seqs.length > 0).map((b) => {
    const r = encodeRow(b);
    return {
      series: b.series,
      first: r.first,
      last: r.last,
      n: r.n,
      deltas: new Uint32Array(r.seqs.buffer),
      xy: new Float64Array(r.xy.buffer),
    };
  });
}

/** The seq deltas and (x, y) pairs of a row; undefined when its BLOBs do not add up. */
export function decodeRow(
  r: { n: number; seqs: Uint8Array; xy: Uint8Array },
): { deltas: Uint32Array; pairs: Float64Array } | undefined {
  if (
    !(r.seqs instanceof Uint8Array) || !(r.xy instanceof Uint8Array) ||
    r.seqs.byteLength !== 4 * r.n || r.xy.byteLength !== 16 * r.n
  ) {
    return undefined;
  }
  // Copied: a BLOB's bytes need not be aligned for typed-array views.
  return {
    deltas: new Uint32Array(r.seqs.slice().buffer),
    pairs: new Float64Array(r.xy.slice().buffer),
  };
}

/**
 * The points of a stored row of `series` with no seq above `upTo`, as browsers receive them;
 * undefined when its BLOBs do not add up (a corrupt file).
 */
export function rowPoints(series: string, r: StoredRow, upTo: number): StoredPoint[] | undefined {
  const row = decodeRow(r);
  if (!row) return undefined;
  const { deltas, pairs: xy } = row;
  const out: StoredPoint[] = [];
  for (let i = 0; i < r.n; i++) {
    const seq = r.first_seq + deltas[i];
    if (seq > upTo) break;
    const json = encodePoint(seq, { series, x: xy[2 * i], y: xy[2 * i + 1] });
    out.push({ series, seq, json });
  }
  return out;
}

/** Deletes every stored point with a seq above `seq` (rows above it; a row across it is cut). */
export function dropAbove(db: DatabaseSync, seq: number): void {
  const rows = db.prepare(
    "SELECT id, first_seq, n, seqs, xy FROM batches WHERE last_seq > ?",
  )
    .all(seq) as { id: number; first_seq: number; n: number; seqs: Uint8Array; xy: Uint8Array }[];
  const del = db.prepare("DELETE FROM batches WHERE id = ?");
  const cut = db.prepare(
    "UPDATE batches SET last_seq = ?, n = ?, seqs = ?, xy = ? WHERE id = ?",
  );
  for (const r of rows) {
    const deltas = new Uint32Array(r.seqs.slice().buffer);
    let keep = 0;
    while (keep < r.n && r.first_seq + deltas[keep] <= seq) keep++;
    if (keep === 0) {
      del.run(r.id);
      continue;
    }
    const last = r.first_seq + deltas[keep - 1];
    cut.run(last, keep, r.seqs.slice(0, 4 * keep), r.xy.slice(0, 16 * keep), r.id);
  }
}
