/**
 * The store's counters over a run of the relay's `WriterThread`: the current worker's last
 * status, the sums of the earlier workers', and what the relay's side counts itself. Pure.
 *
 * @module
 */
import type { PersistStatus } from "./status.ts";

/** The counters a worker reports, summed over the run's workers. */
type Counters = Pick<
  PersistStatus,
  "pointsPersisted" | "pointsNotPersisted" | "failures" | "pointsTrimmed" | "flushes" | "maxFlushMs"
>;

/** Counters at zero. */
const zeroCounters = (): Counters => ({
  pointsPersisted: 0,
  pointsNotPersisted: 0,
  failures: 0,
  pointsTrimmed: 0,
  flushes: 0,
  maxFlushMs: 0,
});

/** Adds `w`'s counters to `c`. */
function addCounters(c: Counters, w: Counters): void {
  c.pointsPersisted += w.pointsPersisted;
  c.pointsNotPersisted += w.pointsNotPersisted;
  c.failures += w.failures;
  c.pointsTrimmed += w.pointsTrimmed;
  c.flushes += w.flushes;
  c.maxFlushMs = Math.max(c.maxFlushMs, w.maxFlushMs);
}

/** The counters behind `WriterThread.status`; see the module doc. */
export class WriterTally {
  /** The current worker's last status. */
  worker: Counters & { error?: PersistStatus["error"] } = zeroCounters();
  #carried: Counters = zeroCounters();
  /** The first error of the run (the relay's side, or a worker's). */
  error?: PersistStatus["error"];
  /** Counted on the relay's side. */
  failures = 0;
  notPersisted = 0;
  dropped = 0;
  restarts = 0;

  /** The status in `mode`, with `queuedPoints` waiting. */
  status(mode: PersistStatus["mode"], queuedPoints: number): PersistStatus {
    const w = this.worker;
    const c = this.#carried;
    const error = this.error ?? w.error;
    return {
      mode,
      ...(error ? { error: { ...error } } : {}),
      pointsPersisted: c.pointsPersisted + w.pointsPersisted,
      pointsNotPersisted: c.pointsNotPersisted + w.pointsNotPersisted + this.notPersisted,
      failures: c.failures + w.failures + this.failures,
      pointsTrimmed: c.pointsTrimmed + w.pointsTrimmed,
      flushes: c.flushes + w.flushes,
      maxFlushMs: Math.max(c.maxFlushMs, w.maxFlushMs),
      pointsDropped: this.dropped,
      writerRestarts: this.restarts,
      queuedPoints,
    };
  }

  /** Adds the current worker's counters to the earlier ones' (it is going away). */
  carry(): void {
    const w = this.worker;
    addCounters(this.#carried, w);
    if (w.error) this.error ??= w.error;
    this.worker = zeroCounters();
  }
}
