/**
 * The store's writer: `append` and `reserve` cost an array push and a comparison per point;
 * `flush` (a timer every `flushMs`, or its caller) writes what was appended in one transaction.
 * When the disk fails (full, read-only, corrupt) it says so in one log line and goes on in memory:
 * the points are counted as not persisted and `/healthz` shows the state ({@link PersistStatus}).
 *
 * It runs in the store's own Worker (`writer_worker.ts`), fed by the relay's
 * `WriterThread` (`writer_thread.ts`), opened by `openWriter` (`open_writer.ts`); tests and
 * `bench/store.ts` also drive it directly.
 *
 * @module
 */
import { describeKind, StoreError } from "./errors.ts";
import type { PointStore } from "./point_store.ts";
import type { RangeAnswer, RangeQuery } from "./range.ts";
import type { StoredPoint } from "./rows.ts";
import type { StoreStart } from "./schema.ts";
import { errorMessage, log } from "../runtime/log.ts";
import type { PersistStatus } from "./status.ts";
import { setAside } from "./set_aside.ts";
import { chunkRows, type PointChunk, RowScratch } from "./chunks.ts";
import { PendingPoints } from "./pending_points.ts";

/** Options of {@link StoreWriter}. */
export interface WriterOptions {
  /**
   * How often pending points are written, in ms (default 100): what a crash can lose at most.
   * 0: no timer (the caller flushes).
   */
  flushMs?: number;
  /** Trims by age every this many flushes (default 10). */
  trimEvery?: number;
}

/** Buffers points and writes them in batches; see the module doc. */
export class StoreWriter {
  #store?: PointStore;
  #pending = new PendingPoints();
  #scratch = new RowScratch();
  #lastAppended = 0;
  /** Seqs up to this one are reserved on disk (cached: no call per point). */
  #reserved: number;
  #timer?: ReturnType<typeof setInterval>;
  #trimEvery: number;
  #status: PersistStatus;
  #start?: StoreStart;
  /** Units to keep at the next write (all of them), when they changed. */
  #units?: [string, string][];

  /**
   * @param store the open store, or undefined when persistence is off or the store could not be
   *   opened (`openError`: why, counted and shown).
   */
  constructor(store: PointStore | undefined, opts: WriterOptions = {}, openError?: StoreError) {
    this.#store = store;
    this.#start = store?.start;
    this.#reserved = store ? store.reserved : Infinity;
    this.#lastAppended = store ? store.start.lastSeq : 0;
    this.#trimEvery = opts.trimEvery ?? 10;
    this.#status = {
      mode: store ? "disk" : openError ? "memory" : "off",
      pointsPersisted: 0,
      pointsNotPersisted: 0,
      failures: openError ? 1 : 0,
      pointsTrimmed: 0,
      flushes: 0,
      maxFlushMs: 0,
      pointsDropped: 0,
      writerRestarts: 0,
      queuedPoints: 0,
      ...(openError ? { error: { kind: openError.kind, message: openError.message } } : {}),
    };
    const flushMs = opts.flushMs ?? 100;
    if (store && flushMs > 0) this.#timer = setInterval(() => this.flush(), flushMs);
  }

  /** Where the store's run continues (undefined: no store). */
  get start(): StoreStart | undefined {
    return this.#start;
  }

  /** Current state (a copy). */
  status(): PersistStatus {
    return {
      ...this.#status,
      queuedPoints: this.#pending.count,
      ...(this.#status.error ? { error: { ...this.#status.error } } : {}),
    };
  }

  /** Highest seq reserved on disk (Infinity: no store, off or failed). */
  get reserved(): number {
    return this.#store ? this.#reserved : Infinity;
  }

  /** Points appended and not written yet. */
  get pending(): number {
    return this.#pending.count;
  }

  /**
   * Keeps the durable reservation ahead of `seq`, the highest seq in use (see
   * `PointStore.topUp`); a failure goes on in memory.
   */
  topUp(seq: number): void {
    if (!this.#store) return;
    try {
      this.#store.topUp(seq);
      this.#reserved = this.#store.reserved;
    } catch (err) {
      this.#fail(err);
    }
  }

  /**
   * Whether `seq` may be handed out with no risk of reuse after a crash: true while it is within
   * the durable reservation (reserving more when needed, synchronously: rare, the timer keeps the
   * reservation ahead), and always when persistence is off. False only after the store failed and
   * the sequence went past what was reserved: the caller should start a new epoch.
   */
  reserve(seq: number): boolean {
    if (seq <= this.#reserved) return true;
    if (!this.#store) return false;
    try {
      this.#store.reserve(seq, seq + this.#pending.count * 2);
      this.#reserved = this.#store.reserved;
      return true;
    } catch (err) {
      this.#fail(err);
      return false;
    }
  }

  /** Queues one point (seqs increase) for the next write. */
  append(series: string, seq: number, x: number, y: number): void {
    this.#lastAppended = seq;
    if (!this.#store) {
      if (this.#status.mode === "memory") this.#status.pointsNotPersisted++;
      return;
    }
    this.#pending.add(series, seq, x, y);
  }

  /** Queues a chunk of points (seqs increase, after any appended before) for the next write. */
  appendChunk(chunk: PointChunk): void {
    if (chunk.n === 0) return;
    this.#lastAppended = chunk.seqs[chunk.n - 1];
    if (!this.#store) {
      if (this.#status.mode === "memory") this.#status.pointsNotPersisted += chunk.n;
      return;
    }
    this.#pending.addChunk(chunk);
  }

  /** Keeps the series' units (all of them) with the next write. */
  setUnits(units: Iterable<readonly [string, string]>): void {
    if (this.#store) this.#units = [...units].map(([s, u]) => [s, u]);
  }

  /** The units kept by the last run (empty without a store). */
  loadUnits(): [string, string][] {
    if (!this.#store) return [];
    try {
      return this.#store.units();
    } catch (err) {
      this.#fail(err);
      return [];
    }
  }

  /** Writes what is pending now (the timer calls it; a clean stop calls it last). */
  flush(): void {
    const store = this.#store;
    if (!store) return;
    if (this.#units) {
      const units = this.#units;
      this.#units = undefined;
      try {
        store.setUnits(units);
      } catch (err) {
        this.#fail(err);
        return;
      }
    }
    const { chunks, count } = this.#pending.take();
    const t0 = performance.now();
    try {
      // Keep the reservation ahead of the sequence by at least what two flushes carry.
      const steps = count > 0
        ? store.writeRows(chunkRows(chunks, this.#scratch), this.#lastAppended + count * 2)
        : [];
      this.#status.pointsPersisted += count;
      if (++this.#status.flushes % this.#trimEvery === 0) steps.push(...store.trimAll());
      for (const s of steps) this.#status.pointsTrimmed += s.points;
      this.#reserved = store.reserved;
    } catch (err) {
      this.#status.pointsNotPersisted += count;
      this.#fail(err);
    }
    this.#status.maxFlushMs = Math.max(this.#status.maxFlushMs, performance.now() - t0);
  }

  /**
   * Loads what a restart serves: the last `perSeries` points of at most `maxSeries` series, up to
   * the seq the run started after. Empty when there is no store or it fails (then counted).
   */
  load(perSeries: number, maxSeries?: number): StoredPoint[] {
    if (!this.#store) return [];
    try {
      return this.#store.load(perSeries, maxSeries, this.#store.start.lastSeq);
    } catch (err) {
      this.#fail(err);
      return [];
    }
  }

  /**
   * Writes what is pending up to `lastSeq` (the last seq sent) and records a clean stop after it
   * (when the store still works).
   */
  close(lastSeq: number): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (!this.#store) return;
    // Points sequenced after `lastSeq` were never sent: not written (the store drops any it has).
    this.#pending.cut(lastSeq);
    this.flush();
    const store = this.#store;
    if (!store) return; // the last flush failed
    try {
      store.close(lastSeq);
    } catch (err) {
      this.#fail(err);
    }
    this.#store = undefined;
  }

  /**
   * The stored points of a history request (`PointStore.range`); undefined when there is no
   * store (off, or failed: then counted). Points not yet written are the newest: the caller
   * holds them in memory.
   */
  range(q: RangeQuery): RangeAnswer | undefined {
    if (!this.#store) return undefined;
    try {
      return this.#store.range(q);
    } catch (err) {
      this.#fail(err);
      return undefined;
    }
  }

  /**
   * Closes the file as a crash would leave it (nothing pending written, no clean-stop mark): the
   * next open continues after the reservation. For a worker that is going away on an error.
   */
  abandon(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    try {
      this.#store?.close();
    } catch { /* already failed */ }
    this.#store = undefined;
  }

  /** Goes on in memory after a failure: one log line, the file closed, never read again. */
  #fail(err: unknown): void {
    const e = err instanceof StoreError ? err : new StoreError("io", "?", errorMessage(err));
    this.#status.failures++;
    this.#status.mode = "memory";
    this.#status.error = { kind: e.kind, message: e.message };
    log(
      "error",
      "store",
      `${describeKind(e.kind)}: ${e.message}; going on in memory (points are not kept across ` +
        `a restart until this is fixed)`,
    );
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#pending.clear();
    const path = this.#store?.path;
    try {
      this.#store?.close();
    } catch { /* already failed */ }
    this.#store = undefined;
    if (path) setAside(path);
  }
}
