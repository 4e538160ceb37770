/**
 * What a first start loads from the store for the bridge's history: the last points of each of the
 * series written last, in seq order.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { StoreError } from "./errors.ts";
import type { RetentionLedger } from "./retention.ts";
import { rowPoints, type StoredPoint, type StoredRow } from "./rows.ts";

/** How much {@link loadRecent} loads. */
export interface LoadLimits {
  /** Points per series at most. */
  perSeries: number;
  /** Series at most (those written last). */
  maxSeries: number;
  /** No seq above this one. */
  upTo: number;
  /** Rows written before this (ms; retention's age) are left out. */
  cutoff: number;
}

/**
 * The last `perSeries` points of the `maxSeries` series written last, in seq order; throws
 * {@link StoreError} on a row that does not add up.
 */
export function loadRecent(
  db: DatabaseSync,
  path: string,
  ledger: RetentionLedger,
  { perSeries, maxSeries, upTo, cutoff }: LoadLimits,
): StoredPoint[] {
  const select = db.prepare(
    "SELECT first_seq, n, seqs, xy FROM batches " +
      "WHERE series = ? AND id >= ? AND written_ms >= ? ORDER BY id",
  );
  const names = ledger.seriesNames();
  const lastId = (name: string) => {
    const rows = ledger.rowsOf(name);
    return rows[rows.length - 1].id;
  };
  if (names.length > maxSeries) {
    names.sort((a, b) => lastId(b) - lastId(a));
    names.length = maxSeries;
  }
  const out: StoredPoint[] = [];
  for (const series of names) {
    const rows = ledger.rowsOf(series);
    let from = rows.length - 1;
    for (let have = rows[from].n; from > 0 && have < perSeries; have += rows[--from].n);
    const mine: StoredPoint[] = [];
    for (const row of select.iterate(series, rows[from].id, cutoff)) {
      const points = rowPoints(series, row as StoredRow, upTo);
      if (!points) {
        throw new StoreError("corrupt", path, `a row of "${series}" does not add up`);
      }
      mine.push(...points);
    }
    for (let i = Math.max(0, mine.length - perSeries); i < mine.length; i++) out.push(mine[i]);
  }
  out.sort((a, b) => a.seq - b.seq);
  return out;
}
