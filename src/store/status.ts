/**
 * What persistence is doing, as `/healthz` and `/metrics` report it (the writer keeps it). Pure.
 *
 * @module
 */
import type { StoreErrorKind } from "./errors.ts";

/** What persistence is doing, for `/healthz` and `/metrics`. */
export interface PersistStatus {
  /** `disk`: points are written; `memory`: the store failed, points live in memory only; `off`: `--no-persist`. */
  mode: "disk" | "memory" | "off";
  /** Why it is in memory (absent otherwise). */
  error?: { kind: StoreErrorKind; message: string };
  /** Points written to disk since start. */
  pointsPersisted: number;
  /** Points not written because the store had failed (or failed while writing them). */
  pointsNotPersisted: number;
  /** Store failures (a failed open counts). */
  failures: number;
  /** Points trimmed from disk by retention since start. */
  pointsTrimmed: number;
  /** Writes (transactions) since start, and the longest one in ms. */
  flushes: number;
  maxFlushMs: number;
  /**
   * Points not written because the writer's queue was full (the disk did not keep up) or its
   * worker died with them queued.
   */
  pointsDropped: number;
  /** Times the writer's worker died (or stopped answering) and was started again. */
  writerRestarts: number;
  /** Points waiting for the writer now. */
  queuedPoints: number;
}

/** What `/healthz` says of persistence: the mode, why it is in memory, what was not kept. */
export function persistHealth(p: PersistStatus): {
  mode: PersistStatus["mode"];
  error?: string;
  pointsNotPersisted?: number;
  pointsDropped?: number;
  writerRestarts?: number;
} {
  return {
    mode: p.mode,
    ...(p.error ? { error: p.error.message } : {}),
    ...(p.mode === "memory" ? { pointsNotPersisted: p.pointsNotPersisted } : {}),
    ...(p.pointsDropped > 0 ? { pointsDropped: p.pointsDropped } : {}),
    ...(p.writerRestarts > 0 ? { writerRestarts: p.writerRestarts } : {}),
  };
}
