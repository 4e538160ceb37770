/**
 * The sequencer's side of the point store: `append` and `reserve` cost an array push and a
 * comparison per point; a timer writes what was appended every `flushMs` in one transaction. When
 * the disk fails (full, read-only, corrupt) it says so in one log line and goes on in memory: the
 * points are counted as not persisted and `/healthz` shows the state ({@link PersistStatus}).
 *
 * @module
 */
import { describeKind, StoreError, type StoreErrorKind } from "./errors.ts";
import {
  PointStore,
  type RangeAnswer,
  type RangeQuery,
  type SeriesBatch,
  type StoredPoint,
  type StoreOptions,
  type StoreStart,
} from "./point_store.ts";
import { errorMessage, log } from "../runtime/log.ts";

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
}

/** What `/healthz` says of persistence: the mode, why it is in memory, what was not kept. */
export function persistHealth(
  p: PersistStatus,
): { mode: PersistStatus["mode"]; error?: string; pointsNotPersisted?: number } {
  return {
    mode: p.mode,
    ...(p.error ? { error: p.error.message } : {}),
    ...(p.mode === "memory" ? { pointsNotPersisted: p.pointsNotPersisted } : {}),
  };
}

/** Options of {@link StoreWriter}. */
export interface WriterOptions {
  /** How often pending points are written, in ms (default 100): what a crash can lose at most. */
  flushMs?: number;
  /** Trims by age every this many flushes (default 10). */
  trimEvery?: number;
}

/** Buffers points and writes them in batches; see the module doc. */
export class StoreWriter {
  #store?: PointStore;
  #pending = new Map<string, SeriesBatch>();
  /** The batch the last point went to. */
  #last?: SeriesBatch;
  #pendingCount = 0;
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
      ...(openError ? { error: { kind: openError.kind, message: openError.message } } : {}),
    };
    if (store) this.#timer = setInterval(() => this.flush(), opts.flushMs ?? 100);
  }

  /** Where the store's run continues (undefined: no store). */
  get start(): StoreStart | undefined {
    return this.#start;
  }

  /** Current state (a copy). */
  status(): PersistStatus {
    return { ...this.#status, ...(this.#status.error ? { error: { ...this.#status.error } } : {}) };
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
      this.#store.reserve(seq, seq + this.#pendingCount * 2);
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
    // Points of one producer message are mostly of one series: skip the lookup then.
    let b = this.#last;
    if (b?.series !== series) {
      b = this.#pending.get(series);
      if (!b) this.#pending.set(series, b = { series, seqs: [], xs: [], ys: [] });
      this.#last = b;
    }
    b.seqs.push(seq);
    b.xs.push(x);
    b.ys.push(y);
    this.#pendingCount++;
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
    const batches = [...this.#pending.values()];
    const count = this.#pendingCount;
    this.#pending.clear();
    this.#last = undefined;
    this.#pendingCount = 0;
    const t0 = performance.now();
    try {
      // Keep the reservation ahead of the sequence by at least what two flushes carry.
      const steps = count > 0 ? store.write(batches, this.#lastAppended + count * 2) : [];
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
   * Writes what is pending up to `lastSeq` (the last seq sent) and records a clean stop after it
   * (when the store still works).
   */
  close(lastSeq: number): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (!this.#store) return;
    // Points sequenced after `lastSeq` were never sent: not written (the store drops any it has).
    for (const b of this.#pending.values()) {
      let keep = b.seqs.length;
      while (keep > 0 && b.seqs[keep - 1] > lastSeq) keep--;
      this.#pendingCount -= b.seqs.length - keep;
      b.seqs.length = b.xs.length = b.ys.length = keep;
    }
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
    this.#last = undefined;
    this.#pendingCount = 0;
    const path = this.#store?.path;
    try {
      this.#store?.close();
    } catch { /* already failed */ }
    this.#store = undefined;
    if (path) setAside(path);
  }
}

/**
 * Moves a store that failed while running out of the way (`points.db.failed-<time>`, best effort:
 * a rename needs no free space). Seqs go on past its reservation in memory, so a later run must
 * not continue its epoch: it starts a fresh store (a new epoch; clients get a reset) instead.
 */
function setAside(path: string): void {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  try {
    Deno.renameSync(path, `${path}.failed-${stamp}`);
    try {
      Deno.renameSync(`${path}-wal`, `${path}.failed-${stamp}-wal`);
    } catch { /* no log file */ }
    log(
      "warn",
      "store",
      `moved ${path} to ${path}.failed-${stamp}; the next start begins a new one`,
    );
  } catch (err) {
    log(
      "error",
      "store",
      `cannot move ${path} aside (${errorMessage(err)}): remove it before the next start, or ` +
        `that start may continue the epoch past what was reserved`,
    );
  }
}

/**
 * Opens the store in `dataDir` behind a writer; `null`: persistence off (`--no-persist`). A store
 * that cannot be opened is logged in one line and the writer works in memory.
 */
export function openWriter(
  dataDir: string | null,
  storeOpts: StoreOptions,
  writerOpts: WriterOptions = {},
): StoreWriter {
  if (dataDir === null) return new StoreWriter(undefined, writerOpts);
  let store: PointStore;
  try {
    store = PointStore.open(dataDir, storeOpts);
  } catch (err) {
    const e = err instanceof StoreError ? err : new StoreError("io", dataDir, errorMessage(err));
    log(
      "error",
      "store",
      `${describeKind(e.kind)}: ${e.message}; going on in memory (history and seqs are not kept ` +
        `across a restart until this is fixed)`,
    );
    return new StoreWriter(undefined, writerOpts, e);
  }
  const s = store.start;
  log(
    "info",
    "store",
    s.recovered === "fresh"
      ? `new store ${store.path}, epoch ${s.epoch}`
      : s.recovered === "clean"
      ? `continuing epoch ${s.epoch} after seq ${s.lastSeq} (${store.path})`
      : `the last run did not stop cleanly: epoch ${s.epoch} continues after seq ${s.lastSeq}; ` +
        `points after ${s.lostAfter} were lost (clients resuming from there get a reset)`,
  );
  return new StoreWriter(store, writerOpts);
}
