/**
 * Options and configuration of the relay's `WriterThread` (`writer_thread.ts`), their defaults,
 * and the configuration its worker opens the store with. Pure.
 *
 * @module
 */
import type { LogLevel } from "../runtime/log.ts";
import type { WorkerStoreOptions, WriterConfig } from "./writer_messages.ts";

/** Options of `WriterThread.open`. */
export interface WriterThreadOptions {
  /** How often appended points go to the worker, in ms (default 100). */
  flushMs?: number;
  /**
   * Points appended but not yet written, at most (default 524,288: 64 chunks, about 14.7 MB of
   * shared memory, touched only as far as used); more are dropped.
   */
  maxQueuedPoints?: number;
  /** Points per chunk (default 8192): the queue is a pool of such chunks. */
  chunkPoints?: number;
  /** The worker counts as dead when its heartbeat stops for this long, in ms (default 10,000). */
  stallMs?: number;
  /** Longest wait for a refused seq's reservation, in ms (default 1000); then memory only. */
  reservationWaitMs?: number;
  /** Longest wait for the last write and the clean-stop mark on close, in ms (default 10,000). */
  closeTimeoutMs?: number;
  /** The worker's heartbeat and reservation check, in ms (default 50). */
  beatMs?: number;
  /** Delay before a dead worker is started again, in ms (default 100; doubles while it keeps dying). */
  restartDelayMs?: number;
  /**
   * Nice value of the worker's thread (default 10; 0 leaves it): with every core busy, the
   * threads that carry the points go first and the writer takes what they leave (its queue
   * absorbs the wait, and drops are counted if it never catches up). Measured with W6 in
   * docs/benchmarks.md. Needs the FFI permission for libc (`runtime/thread_priority.ts`).
   */
  nice?: number;
  /** Worker module (defaults to `writer_worker.ts`). */
  workerUrl?: URL;
}

/** What the store is and what a first start loads. */
export interface WriterThreadConfig {
  /** The data directory (`--data-dir`). */
  dataDir: string;
  store: WorkerStoreOptions;
  /** Trims by age every this many writes. */
  trimEvery?: number;
  /** Points to load for the bridge on a first start. */
  load?: { perSeries: number; maxSeries: number };
}

/** {@link WriterThreadOptions} with every default filled in (all but `workerUrl`). */
export type WriterThreadSettings = Required<Omit<WriterThreadOptions, "workerUrl">>;

/** `opts` with the defaults for what it leaves out. */
export function withDefaults(opts: WriterThreadOptions): WriterThreadSettings {
  return {
    flushMs: opts.flushMs ?? 100,
    maxQueuedPoints: opts.maxQueuedPoints ?? 64 * 8192,
    chunkPoints: opts.chunkPoints ?? 8192,
    stallMs: opts.stallMs ?? 10_000,
    reservationWaitMs: opts.reservationWaitMs ?? 1000,
    closeTimeoutMs: opts.closeTimeoutMs ?? 10_000,
    beatMs: opts.beatMs ?? 50,
    restartDelayMs: opts.restartDelayMs ?? 100,
    nice: opts.nice ?? 10,
  };
}

/** What the worker opens (`ToWriter` "open"): `config`, the settings it runs by, `logLevel`. */
export function workerConfig(
  config: WriterThreadConfig,
  settings: WriterThreadSettings,
  logLevel: LogLevel,
): WriterConfig {
  return {
    dataDir: config.dataDir,
    store: config.store,
    ...(config.trimEvery ? { trimEvery: config.trimEvery } : {}),
    ...(config.load ? { load: config.load } : {}),
    logLevel,
    beatMs: settings.beatMs,
    nice: settings.nice,
  };
}
