/**
 * Messages between the relay's {@link WriterThread} (`writer_thread.ts`) and the store's Worker
 * (`writer_worker.ts`), and the shared counters both read without waiting for a message.
 *
 * @module
 */
import type { LogLevel } from "../runtime/log.ts";
import type { RangeAnswer, RangeQuery } from "./range.ts";
import type { StoredPoint } from "./rows.ts";
import type { StoreOptions } from "./point_store_options.ts";
import type { StoreStart } from "./schema.ts";
import type { PersistStatus } from "./status.ts";
import type { PoolBuffers } from "./chunks.ts";

/**
 * Slots of the shared counters: a `Float64Array` over a `SharedArrayBuffer` (aligned element
 * reads and writes do not tear; each slot has one writer).
 * - `RESERVED` (worker): seqs up to it are reserved on disk; Infinity once the store is gone.
 * - `DONE` (worker): points taken off the queue (written, or lost with a failed store).
 * - `SEQ_HI` (relay): the highest seq in use, which the reservation must stay ahead of.
 * - `BEAT` (worker): counts up while the worker's event loop turns.
 * - `FAILED` (worker): 1 once the store failed and the file was set aside (memory only).
 */
export const SLOT = { RESERVED: 0, DONE: 1, SEQ_HI: 2, BEAT: 3, FAILED: 4 } as const;

/** Number of shared slots. */
export const SLOTS = 5;

/** Store options that cross the thread boundary (no clock function). */
export type WorkerStoreOptions = Omit<StoreOptions, "now">;

/** What the worker opens, and what it loads for a first start. */
export interface WriterConfig {
  dataDir: string;
  store: WorkerStoreOptions;
  /** Trims by age every this many writes (`WriterOptions.trimEvery`). */
  trimEvery?: number;
  /** The last `perSeries` points of at most `maxSeries` series, for the bridge (first start). */
  load?: { perSeries: number; maxSeries: number };
  /** Lowest log level the worker prints. */
  logLevel?: LogLevel;
  /** How often the worker beats and checks the reservation, in ms. */
  beatMs: number;
  /** Nice value for the worker's thread (0: unchanged; see `runtime/thread_priority.ts`). */
  nice?: number;
}

/** Relay -> store worker. */
export type ToWriter =
  /** `pool`: the chunk slots the points come in (`chunks.ts`), handed to `generation`. */
  | {
    type: "open";
    config: WriterConfig;
    shared: SharedArrayBuffer;
    pool: PoolBuffers;
    generation: number;
  }
  /**
   * Points in seq order, in pool slots (`n` points of series `names` each): one write for all of
   * them, then the slots are released.
   */
  | { type: "points"; chunks: { slot: number; n: number; names: string[] }[] }
  /** Keep these units (all of the series') with the next write. */
  | { type: "units"; units: [string, string][] }
  /** Read a history request from the file; answered by a "range" with the same `id`. */
  | { type: "range"; id: number; query: RangeQuery }
  /** Write what is queued up to `lastSeq`, record a clean stop after it, and end. */
  | { type: "close"; lastSeq: number }
  /**
   * Tests: `throw` ends the worker with an uncaught error; `hang` blocks its thread for `ms`
   * (default 1000: a disk that hangs); `slow` makes every write wait `ms` first (default 200: a
   * disk that cannot keep up).
   */
  | { type: "fault"; kind: "throw" | "hang" | "slow"; ms?: number };

/** Store worker -> relay. */
export type FromWriter =
  | {
    type: "opened";
    /** Where the run continues (absent: the store could not be opened; `status` says why). */
    start?: StoreStart;
    /** Points loaded for the bridge (first start), in seq order. */
    held: StoredPoint[];
    /** The units the file keeps (first start; empty otherwise). */
    units: [string, string][];
    status: PersistStatus;
  }
  /** The answer to a "range" (null: no store, or it failed). */
  | { type: "range"; id: number; series: RangeAnswer | null }
  | { type: "status"; status: PersistStatus }
  | { type: "closed"; status: PersistStatus }
  | { type: "crashed"; message: string };
