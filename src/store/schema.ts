/**
 * The point store's file: its schema (`SCHEMA_VERSION`), the checks a file must pass before it is
 * served from, the start of a run (where the epoch and seq continue) and durable transactions.
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
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { StoreError } from "./errors.ts";

/** Bumped on any change of the schema; a file with another version is refused as corrupt. */
export const SCHEMA_VERSION = 1;
/** `PRAGMA application_id` of a zws store ("zws1"). */
export const APPLICATION_ID = 0x7a777331;
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

export function createSchema(db: DatabaseSync): void {
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

/**
 * Sets an opened file up for one run of one process (exclusive lock, WAL, synchronous commits as
 * below), then checks it (a file of another application or schema is refused) or creates the
 * schema in a new one.
 */
export function prepareFile(
  db: DatabaseSync,
  path: string,
  maxPages?: number,
  fullCheck = true,
): void {
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
  // FULL (see durably), so they survive a power cut too, and with them every earlier commit.
  db.exec("PRAGMA synchronous = NORMAL");
  if (maxPages) db.exec(`PRAGMA max_page_count = ${Math.floor(maxPages)}`);
  if (tables.n > 0) checkIntegrity(db, path, fullCheck);
  else createSchema(db);
}

/**
 * Refuses a damaged file (`full`: reads every page) or one of another schema version (never
 * served from).
 */
export function checkIntegrity(db: DatabaseSync, path: string, full = true): void {
  const version = (db.prepare("PRAGMA user_version").get() as { user_version: number })
    .user_version;
  if (version !== SCHEMA_VERSION) {
    throw new StoreError("corrupt", path, `schema version ${version}, expected ${SCHEMA_VERSION}`);
  }
  if (!full) return;
  const check = db.prepare("PRAGMA quick_check").all() as { quick_check: string }[];
  if (check.length !== 1 || check[0].quick_check !== "ok") {
    throw new StoreError("corrupt", path, check.map((r) => r.quick_check).slice(0, 3).join("; "));
  }
}

/**
 * Reads the meta rows, decides where this run continues, and marks the file as in use. `resume`:
 * a reopen while the run goes on (the file must hold that epoch, or none).
 */
export function beginRun(
  db: DatabaseSync,
  path: string,
  newEpoch?: string,
  resume?: { epoch: string; lastSeq: number },
): StoreStart {
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
      epoch: resume?.epoch ?? newEpoch ?? crypto.randomUUID().slice(0, 8),
      lastSeq: resume?.lastSeq ?? 0,
      recovered: "fresh",
    };
  } else if (typeof epoch !== "string" || !/^[\x21-\x7e]{1,64}$/.test(epoch)) {
    throw new StoreError("corrupt", path, "meta epoch is not an epoch");
  } else if (resume && epoch !== resume.epoch) {
    throw new StoreError(
      "corrupt",
      path,
      `holds epoch ${epoch}, not the running ${resume.epoch} (the file was replaced)`,
    );
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
  if (resume) start.lastSeq = Math.max(start.lastSeq, resume.lastSeq);
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
export function durably(db: DatabaseSync, f: () => void): void {
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

/** The series' units kept in `meta` (series -> unit); empty when none or unreadable. */
export function readUnits(db: DatabaseSync): [string, string][] {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'units'").get() as
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
}
