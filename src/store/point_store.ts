/**
 * The point store: the history of every series and the sequencer's epoch and seq, in one SQLite
 * file (`<data dir>/points.db`) through `node:sqlite` (built into Deno; needs read and write
 * permission on the directory, nothing else). Synchronous: `StoreWriter` (`writer.ts`) calls it
 * in the store's own Worker (`writer_worker.ts`), off the thread that carries the points.
 *
 * The schema, and what its tables hold, is in `schema.ts`.
 *
 * Seqs are reserved ahead: `reserved` is made durable before any seq above the old value is used,
 * so after a crash the next run continues the same epoch after `reserved` and no (epoch, seq) is
 * ever used for two different points. The seqs between the last point written and `reserved` are
 * the lost window: a client that resumes from inside it gets a reset.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { classifyError, StoreError } from "./errors.ts";
import { batchRows, dropAbove, LITTLE_ENDIAN, type SeriesBatch, type StoredPoint } from "./rows.ts";
import { MAX_RANGE_POINTS, type RangeAnswer, type RangeQuery, readRange } from "./range.ts";
import { loadRecent } from "./load.ts";
import { beginRun, durably, prepareFile, readUnits, type StoreStart } from "./schema.ts";
import { type Retention, RetentionLedger, type TrimStep } from "./retention.ts";
import { type StoreCounters, type StoreOptions, storePath } from "./point_store_options.ts";
import type { StoreRow } from "./chunks.ts";

/** An open store file; every method throws {@link StoreError}. */
export class PointStore {
  readonly path: string;
  readonly start: StoreStart;
  readonly retention: Retention;
  readonly counters: StoreCounters = {
    rowsWritten: 0,
    pointsWritten: 0,
    rowsTrimmed: 0,
    pointsTrimmed: 0,
  };
  #db: DatabaseSync;
  #reserved: number;
  #reserveAhead: number;
  #maxTrimRows: number;
  #now: () => number;
  #ledger: RetentionLedger;
  #insert: StatementSync;
  #setMeta: StatementSync;
  #trim: StatementSync;
  #closed = false;

  private constructor(db: DatabaseSync, path: string, opts: StoreOptions, start: StoreStart) {
    this.#db = db;
    this.path = path;
    this.start = start;
    this.retention = opts.retention;
    this.#reserved = start.lastSeq;
    this.#reserveAhead = opts.reserveAhead ?? 10_000_000;
    this.#maxTrimRows = opts.maxTrimRows ?? 2000;
    this.#now = opts.now ?? Date.now;
    this.#ledger = new RetentionLedger(opts.retention);
    this.#insert = db.prepare(
      "INSERT INTO batches (series, first_seq, last_seq, n, written_ms, seqs, xy) " +
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    this.#setMeta = db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
    this.#trim = db.prepare("DELETE FROM batches WHERE series = ? AND id <= ?");
  }

  /**
   * Opens (or creates) `<dir>/points.db`, checks it, and starts a run: marks it not clean and
   * reserves seqs ahead, durably, before returning.
   */
  static open(dir: string, opts: StoreOptions): PointStore {
    const path = storePath(dir);
    if (!LITTLE_ENDIAN) throw new StoreError("io", path, "big-endian hosts are not supported");
    let db: DatabaseSync | undefined;
    try {
      try {
        Deno.mkdirSync(dir, { recursive: true });
      } catch (err) {
        if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
      }
      db = new DatabaseSync(path);
      // A reopen while the run goes on (`resume`) skips the full check: this process wrote the
      // file moments ago, and the sequence must not wait on reading all of it.
      prepareFile(db, path, opts.maxPages, !opts.resume);
      const start = beginRun(db, path, opts.newEpoch, opts.resume);
      const store = new PointStore(db, path, opts, start);
      store.#loadLedger();
      store.reserve(start.lastSeq + 1);
      return store;
    } catch (err) {
      try {
        db?.close();
      } catch { /* already failed */ }
      throw classifyError(err, path);
    }
  }

  /** Highest seq reserved (durable): the sequencer may hand out seqs up to it. */
  get reserved(): number {
    return this.#reserved;
  }

  /** Seqs reserved per {@link reserve}. */
  get reserveAhead(): number {
    return this.#reserveAhead;
  }

  /** Rows held now. */
  get rows(): number {
    return this.#ledger.rows;
  }

  /** Points held now in `series` (rows kept whole: up to one row more than the count). */
  pointsOf(series: string): number {
    return this.#ledger.points(series);
  }

  /**
   * Makes `seq` usable: when it is above the reservation, reserves up to `seq + reserveAhead`
   * (or `upTo` when larger), durably, before returning.
   */
  reserve(seq: number, upTo = 0): void {
    if (seq <= this.#reserved && upTo <= this.#reserved) return;
    const next = Math.max(seq + this.#reserveAhead, upTo);
    this.#guard(() => durably(this.#db, () => this.#setMeta.run("reserved", next)));
    this.#reserved = next;
  }

  /**
   * Keeps the reservation ahead of `seq` (the highest seq in use): when less than half a block is
   * left, reserves `seq + reserveAhead`, durably (rare: once per half a block of seqs).
   */
  topUp(seq: number): void {
    if (this.#reserved - seq >= this.#reserveAhead / 2) return;
    const next = seq + this.#reserveAhead;
    this.#guard(() => durably(this.#db, () => this.#setMeta.run("reserved", next)));
    this.#reserved = next;
  }

  /** Writes batches (see {@link writeRows}): one row per batch. */
  write(batches: readonly SeriesBatch[], topUp?: number): TrimStep[] {
    return this.writeRows(batchRows(batches), topUp);
  }

  /**
   * Writes rows in one transaction, with the trims retention asks for now (bounded rows); then,
   * when `topUp` is given and the reservation is less than half a block ahead of it, a new
   * reservation (its own, durable, transaction: rare). Returns the trims made.
   */
  writeRows(rows: readonly StoreRow[], topUp?: number): TrimStep[] {
    const now = this.#now();
    return this.#guard(() => {
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        const written: string[] = [];
        for (const row of rows) {
          if (row.n === 0) continue;
          const r = this.#insert.run(
            row.series,
            row.first,
            row.last,
            row.n,
            now,
            new Uint8Array(row.deltas.buffer, row.deltas.byteOffset, 4 * row.n),
            new Uint8Array(row.xy.buffer, row.xy.byteOffset, 16 * row.n),
          );
          this.#ledger.add(row.series, { id: Number(r.lastInsertRowid), n: row.n, writtenMs: now });
          written.push(row.series);
          this.counters.rowsWritten++;
          this.counters.pointsWritten += row.n;
        }
        const steps = this.#applyTrim(this.#ledger.trim(now, this.#maxTrimRows, written));
        this.#db.exec("COMMIT");
        if (topUp !== undefined) this.topUp(topUp);
        return steps;
      } catch (err) {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
        throw err;
      }
    });
  }

  /** Trims by age (and what count left over), over all series, in bounded time. */
  trimAll(): TrimStep[] {
    return this.#guard(() => {
      const steps = this.#ledger.trim(this.#now(), this.#maxTrimRows);
      if (steps.length === 0) return steps;
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        this.#applyTrim(steps);
        this.#db.exec("COMMIT");
      } catch (err) {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
        throw err;
      }
      return steps;
    });
  }

  #applyTrim(steps: TrimStep[]): TrimStep[] {
    for (const s of steps) {
      this.#trim.run(s.series, s.upToId);
      this.counters.rowsTrimmed += s.rows;
      this.counters.pointsTrimmed += s.points;
    }
    return steps;
  }

  /**
   * The last `perSeries` points (at most the retention's count, and within its age) of the `maxSeries` series
   * written last, in seq order, with no seq above `upTo` (default: all).
   */
  load(perSeries: number, maxSeries = Infinity, upTo = Infinity): StoredPoint[] {
    perSeries = Math.min(perSeries, this.retention.count);
    return this.#guard(() => {
      const cutoff = this.retention.ageMs === undefined
        ? -Infinity
        : this.#now() - this.retention.ageMs;
      return loadRecent(this.#db, this.path, this.#ledger, { perSeries, maxSeries, upTo, cutoff });
    });
  }

  /** The series' units kept (series -> unit); empty when none or unreadable. */
  units(): [string, string][] {
    return this.#guard(() => readUnits(this.#db));
  }

  /** Keeps the series' units (all of them, replacing what was kept). */
  setUnits(units: Iterable<readonly [string, string]>): void {
    this.#guard(() => this.#setMeta.run("units", JSON.stringify(Object.fromEntries(units))));
  }

  /** Names of the series stored. */
  seriesNames(): string[] {
    return this.#ledger.seriesNames();
  }

  /**
   * The stored points of a history request ({@link RangeQuery}), series by series; past
   * `maxPoints` points read, it stops and says so (`range.ts`).
   */
  range(q: RangeQuery, maxPoints = MAX_RANGE_POINTS): RangeAnswer {
    return this.#guard(() => {
      const cutoff = this.retention.ageMs === undefined
        ? -Infinity
        : this.#now() - this.retention.ageMs;
      const names = (q.series ?? this.#ledger.seriesNames()).filter((n) =>
        this.#ledger.points(n) > 0
      );
      return readRange(this.#db, this.path, names, cutoff, q, maxPoints);
    });
  }

  /**
   * Ends the run. With `lastSeq` (every point up to it written), records a clean stop so the next
   * run continues after it, and drops any point written above it (sequenced, then never sent:
   * the next run gives those seqs to other points); without, leaves the file as after a crash.
   */
  close(lastSeq?: number): void {
    if (this.#closed) return;
    try {
      if (lastSeq !== undefined) {
        this.#guard(() =>
          durably(this.#db, () => {
            dropAbove(this.#db, lastSeq);
            this.#setMeta.run("last_seq", lastSeq);
            this.#setMeta.run("clean", 1);
          })
        );
      }
    } finally {
      this.#closed = true;
      try {
        this.#db.close();
      } catch { /* closing a failed file */ }
    }
  }

  #loadLedger(): void {
    const rows = this.#db.prepare("SELECT id, series, n, written_ms FROM batches ORDER BY id");
    for (const row of rows.iterate()) {
      const r = row as { id: number; series: string; n: number; written_ms: number };
      this.#ledger.add(r.series, { id: r.id, n: r.n, writtenMs: r.written_ms });
    }
  }

  #guard<T>(f: () => T): T {
    if (this.#closed) throw new StoreError("io", this.path, "the store is closed");
    try {
      return f();
    } catch (err) {
      throw classifyError(err, this.path);
    }
  }
}
