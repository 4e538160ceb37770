/**
 * The point store: the history of every series and the sequencer's epoch and seq, in one SQLite
 * file (`<data dir>/points.db`) through `node:sqlite` (built into Deno; needs read and write
 * permission on the directory, nothing else). Synchronous: {@link StoreWriter} calls it from a
 * timer, off the per-point path.
 *
 * Schema (`SCHEMA_VERSION` 1, `PRAGMA application_id` "zws1"):
 * - `meta(key, value)`: `epoch`; `reserved`, the highest seq that may have been handed out;
 *   `last_seq`, the last seq written at a clean stop; `clean`, 1 after a clean stop, 0 while running;
 *   `units`, the series' units as a JSON object (absent before any unit came).
 * - `batches(id, series, first_seq, last_seq, n, written_ms, seqs, xy)`: one row per series per
 *   flush: `seqs` a BLOB of `n` little-endian uint32 deltas from `first_seq`, `xy` a BLOB of `n`
 *   (x, y) pairs as little-endian float64. About 20 bytes a point, against ~75 for its JSON, and
 *   one row per batch instead of one per point (`bench/store.ts`; figures in docs/reliability.md).
 *   The JSON browsers get is rebuilt on load (`encodePoint`).
 *
 * Seqs are reserved ahead: `reserved` is made durable before any seq above the old value is used,
 * so after a crash the next run continues the same epoch after `reserved` and no (epoch, seq) is
 * ever used for two different points. The seqs between the last point written and `reserved` are
 * the lost window: a client that resumes from inside it gets a reset.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { encodePoint } from "../protocol/frames.ts";
import { classifyError, StoreError } from "./errors.ts";
import { type Retention, RetentionLedger, type TrimStep } from "./retention.ts";

/** Bumped on any change of the schema; a file with another version is refused as corrupt. */
export const SCHEMA_VERSION = 1;
/** `PRAGMA application_id` of a zws store ("zws1"). */
export const APPLICATION_ID = 0x7a777331;
/** The store's file name inside the data directory. */
export const STORE_FILE = "points.db";

/** One stored point. */
export interface StoredPoint {
  series: string;
  seq: number;
  /** The point as browsers receive it (see `frames.ts`). */
  json: string;
}

/** Points of one series to write, in seq order (parallel arrays). */
export interface SeriesBatch {
  series: string;
  seqs: number[];
  xs: number[];
  ys: number[];
}

/**
 * What the history API asks of the store (`GET /api/history`, `http/history_api.ts`): the points
 * of some series with x in `[from, to]`, but for the seqs the caller holds in memory already.
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

/** What {@link PointStore.range} answers: the series, or that the range holds too many points. */
export type RangeAnswer = RangeSeries[] | { tooMany: number };

/** Little-endian on every platform Deno runs on; checked, since the file format depends on it. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** How the store found its file when it opened. */
export interface StoreStart {
  /** The epoch to continue (or a new one, on a fresh file). */
  epoch: string;
  /** Seqs continue after this one. */
  lastSeq: number;
  /** `fresh`: new file; `clean`: the last run stopped cleanly; `crash`: it did not. */
  recovered: "fresh" | "clean" | "crash";
  /** After a crash: the last seq that was written; (lostAfter, lastSeq] is the lost window. */
  lostAfter?: number;
}

/** Options of {@link PointStore.open}. */
export interface StoreOptions {
  /** What to keep per series. */
  retention: Retention;
  /** Epoch for a fresh file (default: a random one). */
  newEpoch?: string;
  /** Seqs reserved at a time (default 1,000,000). */
  reserveAhead?: number;
  /** Page limit of the file (tests: a "disk" that fills up). */
  maxPages?: number;
  /** Rows deleted per write at most (default 2000), so a trim never takes long. */
  maxTrimRows?: number;
  /** Clock (ms since the Unix epoch; tests). */
  now?: () => number;
}

/** Counters of the store. */
export interface StoreCounters {
  rowsWritten: number;
  pointsWritten: number;
  rowsTrimmed: number;
  pointsTrimmed: number;
}

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
    this.#reserveAhead = opts.reserveAhead ?? 1_000_000;
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
    const path = `${dir.replace(/\/+$/, "")}/${STORE_FILE}`;
    if (!LITTLE_ENDIAN) throw new StoreError("io", path, "big-endian hosts are not supported");
    let db: DatabaseSync | undefined;
    try {
      try {
        Deno.mkdirSync(dir, { recursive: true });
      } catch (err) {
        if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
      }
      db = new DatabaseSync(path);
      db.exec("PRAGMA busy_timeout = 2000");
      const found = db.prepare("PRAGMA application_id").get() as { application_id: number };
      const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master").get() as { n: number };
      if (tables.n > 0 && found.application_id !== APPLICATION_ID) {
        throw new StoreError("corrupt", path, "not a zws store (another application's database)");
      }
      // One process per data directory: the lock is taken by the first write and held until
      // close, so a second server on the same directory fails to open (and runs in memory).
      db.exec("PRAGMA locking_mode = EXCLUSIVE");
      db.exec("PRAGMA journal_mode = WAL");
      // Points: NORMAL (in WAL mode a commit survives a crash of the process without waiting for
      // the disk; a power cut may lose the last ones). The reservation and the clean-stop mark:
      // FULL (see #durably), so they survive a power cut too, and with them every earlier commit.
      db.exec("PRAGMA synchronous = NORMAL");
      if (opts.maxPages) db.exec(`PRAGMA max_page_count = ${Math.floor(opts.maxPages)}`);
      if (tables.n > 0) checkIntegrity(db, path);
      else createSchema(db);
      const start = beginRun(db, path, opts);
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
   * Writes batches in one transaction, with the trims retention asks for now (bounded rows);
   * then, when `topUp` is given and the reservation is less than half a block ahead of it, a new
   * reservation (its own, durable, transaction: rare). Returns the trims made.
   */
  write(batches: readonly SeriesBatch[], topUp?: number): TrimStep[] {
    const now = this.#now();
    return this.#guard(() => {
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        const written: string[] = [];
        for (const b of batches) {
          if (b.seqs.length === 0) continue;
          const n = b.seqs.length;
          const first = b.seqs[0];
          const deltas = new Uint32Array(n);
          const xy = new Float64Array(2 * n);
          for (let i = 0; i < n; i++) {
            deltas[i] = b.seqs[i] - first;
            xy[2 * i] = b.xs[i];
            xy[2 * i + 1] = b.ys[i];
          }
          const r = this.#insert.run(
            b.series,
            first,
            b.seqs[n - 1],
            n,
            now,
            new Uint8Array(deltas.buffer),
            new Uint8Array(xy.buffer),
          );
          this.#ledger.add(b.series, {
            id: Number(r.lastInsertRowid),
            n: b.seqs.length,
            writtenMs: now,
          });
          written.push(b.series);
          this.counters.rowsWritten++;
          this.counters.pointsWritten += b.seqs.length;
        }
        const steps = this.#applyTrim(this.#ledger.trim(now, this.#maxTrimRows, written));
        this.#db.exec("COMMIT");
        if (topUp !== undefined && this.#reserved - topUp < this.#reserveAhead / 2) {
          const next = topUp + this.#reserveAhead;
          durably(this.#db, () => this.#setMeta.run("reserved", next));
          this.#reserved = next;
        }
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
      const select = this.#db.prepare(
        "SELECT first_seq, n, seqs, xy FROM batches " +
          "WHERE series = ? AND id >= ? AND written_ms >= ? ORDER BY id",
      );
      const names = this.#ledger.seriesNames();
      const lastId = (name: string) => {
        const rows = this.#ledger.rowsOf(name);
        return rows[rows.length - 1].id;
      };
      if (names.length > maxSeries) {
        names.sort((a, b) => lastId(b) - lastId(a));
        names.length = maxSeries;
      }
      const out: StoredPoint[] = [];
      for (const series of names) {
        const rows = this.#ledger.rowsOf(series);
        let from = rows.length - 1;
        for (let have = rows[from].n; from > 0 && have < perSeries; have += rows[--from].n);
        const mine: StoredPoint[] = [];
        for (const row of select.iterate(series, rows[from].id, cutoff)) {
          const r = row as { first_seq: number; n: number; seqs: Uint8Array; xy: Uint8Array };
          const { deltas, pairs: xy } = decodeRow(r, this.path, series);
          for (let i = 0; i < r.n; i++) {
            const seq = r.first_seq + deltas[i];
            if (seq > upTo) break;
            const json = encodePoint(seq, { series, x: xy[2 * i], y: xy[2 * i + 1] });
            mine.push({ series, seq, json });
          }
        }
        for (let i = Math.max(0, mine.length - perSeries); i < mine.length; i++) out.push(mine[i]);
      }
      out.sort((a, b) => a.seq - b.seq);
      return out;
    });
  }

  /** The series' units kept (series -> unit); empty when none or unreadable. */
  units(): [string, string][] {
    return this.#guard(() => {
      const row = this.#db.prepare("SELECT value FROM meta WHERE key = 'units'").get() as
        | { value: unknown }
        | undefined;
      if (typeof row?.value !== "string") return [];
      try {
        const v: unknown = JSON.parse(row.value);
        if (typeof v !== "object" || v === null || Array.isArray(v)) return [];
        return Object.entries(v).filter((e): e is [string, string] => typeof e[1] === "string");
      } catch {
        return [];
      }
    });
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
   * `maxPoints` points read, it stops and says so.
   */
  range(q: RangeQuery, maxPoints = MAX_RANGE_POINTS): RangeAnswer {
    return this.#guard(() => {
      const allowed = q.allowed ? new Set(q.allowed) : undefined;
      const names = (q.series ?? this.#ledger.seriesNames()).filter((n) =>
        (!allowed || allowed.has(n)) && this.#ledger.points(n) > 0
      );
      const cutoff = this.retention.ageMs === undefined
        ? -Infinity
        : this.#now() - this.retention.ageMs;
      const select = this.#db.prepare(
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
          const { deltas, pairs } = decodeRow(r, this.path, name);
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
            this.#dropAbove(lastSeq);
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

  /** Deletes every stored point with a seq above `seq` (rows above it; a row across it is cut). */
  #dropAbove(seq: number): void {
    const rows = this.#db.prepare(
      "SELECT id, first_seq, n, seqs, xy FROM batches WHERE last_seq > ?",
    )
      .all(seq) as { id: number; first_seq: number; n: number; seqs: Uint8Array; xy: Uint8Array }[];
    const del = this.#db.prepare("DELETE FROM batches WHERE id = ?");
    const cut = this.#db.prepare(
      "UPDATE batches SET last_seq = ?, n = ?, seqs = ?, xy = ? WHERE id = ?",
    );
    for (const r of rows) {
      const deltas = new Uint32Array(r.seqs.slice().buffer);
      let keep = 0;
      while (keep < r.n && r.first_seq + deltas[keep] <= seq) keep++;
      if (keep === 0) {
        del.run(r.id);
        continue;
      }
      const last = r.first_seq + deltas[keep - 1];
      cut.run(last, keep, r.seqs.slice(0, 4 * keep), r.xy.slice(0, 16 * keep), r.id);
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

/** The seq deltas and (x, y) pairs of a `batches` row; throws when they do not add up. */
function decodeRow(
  r: { n: number; seqs: Uint8Array; xy: Uint8Array },
  path: string,
  series: string,
): { deltas: Uint32Array; pairs: Float64Array } {
  if (
    !(r.seqs instanceof Uint8Array) || !(r.xy instanceof Uint8Array) ||
    r.seqs.byteLength !== 4 * r.n || r.xy.byteLength !== 16 * r.n
  ) {
    throw new StoreError("corrupt", path, `a row of "${series}" does not add up`);
  }
  // Copied: a BLOB's bytes need not be aligned for typed-array views.
  return {
    deltas: new Uint32Array(r.seqs.slice().buffer),
    pairs: new Float64Array(r.xy.slice().buffer),
  };
}

function createSchema(db: DatabaseSync): void {
  db.exec(`
    BEGIN;
    PRAGMA application_id = ${APPLICATION_ID};
    PRAGMA user_version = ${SCHEMA_VERSION};
    CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
    CREATE TABLE batches (
      id INTEGER PRIMARY KEY,
      series TEXT NOT NULL,
      first_seq INTEGER NOT NULL,
      last_seq INTEGER NOT NULL,
      n INTEGER NOT NULL,
      written_ms INTEGER NOT NULL,
      seqs BLOB NOT NULL,
      xy BLOB NOT NULL
    );
    CREATE INDEX batches_series ON batches (series, id);
    COMMIT;
  `);
}

/** Refuses a damaged file or one of another schema version (never served from). */
function checkIntegrity(db: DatabaseSync, path: string): void {
  const version = (db.prepare("PRAGMA user_version").get() as { user_version: number })
    .user_version;
  if (version !== SCHEMA_VERSION) {
    throw new StoreError("corrupt", path, `schema version ${version}, expected ${SCHEMA_VERSION}`);
  }
  const check = db.prepare("PRAGMA quick_check").all() as { quick_check: string }[];
  if (check.length !== 1 || check[0].quick_check !== "ok") {
    throw new StoreError("corrupt", path, check.map((r) => r.quick_check).slice(0, 3).join("; "));
  }
}

/** Reads the meta rows, decides where this run continues, and marks the file as in use. */
function beginRun(db: DatabaseSync, path: string, opts: StoreOptions): StoreStart {
  const meta = new Map<string, unknown>();
  for (const row of db.prepare("SELECT key, value FROM meta").all()) {
    const r = row as { key: string; value: unknown };
    meta.set(r.key, r.value);
  }
  const int = (key: string): number => {
    const v = Number(meta.get(key) ?? 0);
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new StoreError("corrupt", path, `meta ${key} is ${String(meta.get(key))}`);
    }
    return v;
  };
  let start: StoreStart;
  const epoch = meta.get("epoch");
  if (epoch === undefined) {
    start = {
      epoch: opts.newEpoch ?? crypto.randomUUID().slice(0, 8),
      lastSeq: 0,
      recovered: "fresh",
    };
  } else if (typeof epoch !== "string" || !/^[\x21-\x7e]{1,64}$/.test(epoch)) {
    throw new StoreError("corrupt", path, "meta epoch is not an epoch");
  } else if (int("clean") === 1) {
    start = { epoch, lastSeq: int("last_seq"), recovered: "clean" };
  } else {
    const written = db.prepare("SELECT max(last_seq) AS s FROM batches").get() as {
      s: number | null;
    };
    start = {
      epoch,
      lastSeq: Math.max(int("reserved"), int("last_seq")),
      recovered: "crash",
      lostAfter: written.s ?? 0,
    };
  }
  const set = db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
  durably(db, () => {
    set.run("epoch", start.epoch);
    set.run("clean", 0);
    set.run("reserved", start.lastSeq);
  });
  return start;
}

/**
 * Runs `f` in a transaction committed with `synchronous = FULL`: on disk when it returns (and,
 * in WAL mode, every commit before it too).
 */
function durably(db: DatabaseSync, f: () => void): void {
  db.exec("PRAGMA synchronous = FULL");
  try {
    db.exec("BEGIN IMMEDIATE");
    try {
      f();
      db.exec("COMMIT");
    } catch (err) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw err;
    }
  } finally {
    db.exec("PRAGMA synchronous = NORMAL");
  }
}
