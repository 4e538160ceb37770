/**
 * The point store's options and counters, and its file's name and path (`point_store.ts`). Pure.
 *
 * @module
 */
import type { Retention } from "./retention.ts";

/** The store's file name inside the data directory. */
export const STORE_FILE = "points.db";

/** The store's file in the data directory `dir`. */
export function storePath(dir: string): string {
  return `${dir.replace(/\/+$/, "")}/${STORE_FILE}`;
}

/** Options of `PointStore.open`. */
export interface StoreOptions {
  /** What to keep per series. */
  retention: Retention;
  /** Epoch for a fresh file (default: a random one). */
  newEpoch?: string;
  /**
   * Seqs reserved at a time (default 10,000,000: half of it ahead is over 6 s at 750,000 points/s,
   * for a worker at nice 10 on busy cores; 1,000,000 let the relay wait, and shed, at W6's ceiling).
   */
  reserveAhead?: number;
  /** Page limit of the file (tests: a "disk" that fills up). */
  maxPages?: number;
  /** Rows deleted per write at most (default 2000), so a trim never takes long. */
  maxTrimRows?: number;
  /** Clock (ms since the Unix epoch; tests). */
  now?: () => number;
  /**
   * Reopening while the run goes on (the store's worker died and was restarted): the file must
   * hold this epoch (or none: a fresh file takes it), and seqs continue after `lastSeq` at least.
   */
  resume?: { epoch: string; lastSeq: number };
}

/** Counters of the store. */
export interface StoreCounters {
  rowsWritten: number;
  pointsWritten: number;
  rowsTrimmed: number;
  pointsTrimmed: number;
}
