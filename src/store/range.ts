/**
 * What the history API asks of the store (`GET /api/history`, `http/history_api.ts`) and how the
 * store reads it: the points of some series with x in a range, but for the seqs the caller holds
 * in memory already, within a bound on the points read.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { StoreError } from "./errors.ts";
import { decodeRow } from "./rows.ts";

/**
 * A history request: the points of some series with x in `[from, to]`, but for the seqs the
 * caller holds in memory already.
 */
export interface RangeQuery {
  /** The series (null: every series stored that `allowed` lets through). */
  series: string[] | null;
  /** The series the viewer may see (null: all). */
  allowed: string[] | null;
  /** The x range, epoch ms, both ends included (absent: open on that side). */
  from?: number;
  to?: number;
  /** Per series, the seqs `[lo, hi]` held in memory: points in there are not read again. */
  skip: Record<string, [number, number]>;
  /** Rows written outside `[writtenFrom, writtenTo]` (ms) cannot hold a point of the range. */
  writtenFrom?: number;
  writtenTo?: number;
}

/** One series of a {@link RangeQuery}'s answer: its points as (x, y) pairs, in seq order. */
export interface RangeSeries {
  name: string;
  xy: Float64Array;
}

/**
 * Most stored points one {@link RangeQuery} reads (80 MB of pairs): the read runs in the relay's
 * worker, between its loops, so it must stay short.
 */
export const MAX_RANGE_POINTS = 5_000_000;

/** The answer to a {@link RangeQuery}: the series, or that the range holds too many points. */
export type RangeAnswer = RangeSeries[] | { tooMany: number };

/**
 * Reads `q` from the store at `path` over the series `stored` (those with points), rows written
 * at or after `cutoff` (retention's age); throws {@link StoreError} on a row that does not add up.
 */
export function readRange(
  db: DatabaseSync,
  path: string,
  stored: readonly string[],
  cutoff: number,
  q: RangeQuery,
  maxPoints: number,
): RangeAnswer {
  const allowed = q.allowed ? new Set(q.allowed) : undefined;
  const names = stored.filter((n) => !allowed || allowed.has(n));
  const select = db.prepare(
    "SELECT first_seq, n, seqs, xy FROM batches " +
      "WHERE series = ? AND written_ms >= ? AND written_ms <= ? ORDER BY id",
  );
  const from = q.from ?? -Infinity;
  const to = q.to ?? Infinity;
  const out: RangeSeries[] = [];
  let total = 0;
  for (const name of names) {
    const [lo, hi] = q.skip[name] ?? [Infinity, -Infinity];
    let xy = new Float64Array(1024);
    let n = 0;
    const rows = select.iterate(
      name,
      Math.max(cutoff, q.writtenFrom ?? -Infinity),
      q.writtenTo ?? Number.MAX_SAFE_INTEGER,
    );
    for (const row of rows) {
      const r = row as { first_seq: number; n: number; seqs: Uint8Array; xy: Uint8Array };
      const decoded = decodeRow(r);
      if (!decoded) throw new StoreError("corrupt", path, `a row of "${name}" does not add up`);
      const { deltas, pairs } = decoded;
      for (let i = 0; i < r.n; i++) {
        const seq = r.first_seq + deltas[i];
        const x = pairs[2 * i];
        if (x < from || x > to || (seq >= lo && seq <= hi)) continue;
        if (2 * n + 2 > xy.length) {
          const grown = new Float64Array(xy.length * 2);
          grown.set(xy);
          xy = grown;
        }
        xy[2 * n] = x;
        xy[2 * n + 1] = pairs[2 * i + 1];
        n++;
      }
      if (total + n > maxPoints) return { tooMany: maxPoints };
    }
    total += n;
    out.push({ name, xy: xy.slice(0, 2 * n) });
  }
  return out;
}
