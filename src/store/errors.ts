/**
 * Typed errors of the point store: what went wrong with the disk or the file, so the caller can
 * say it in one line and go on in memory. Pure: no I/O.
 *
 * @module
 */

/**
 * Why the store cannot be used:
 * - `full`: the disk (or the file's size limit) is full.
 * - `unwritable`: the directory or file cannot be created or written (read-only, permissions,
 *   not a directory).
 * - `corrupt`: the file is not a zws store, or its content is damaged; it is never read again.
 * - `locked`: another process holds the store (two servers on one data directory).
 * - `io`: any other failure of the file system or of SQLite.
 */
export type StoreErrorKind = "full" | "unwritable" | "corrupt" | "locked" | "io";

/** A store failure: its kind, the path concerned, and what SQLite or the OS said. */
export class StoreError extends Error {
  override readonly name = "StoreError";
  constructor(
    readonly kind: StoreErrorKind,
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${describeKind(kind)} (${path}): ${detail}`);
  }
}

/** A short phrase for each kind, as log lines and `/healthz` say it. */
export function describeKind(kind: StoreErrorKind): string {
  switch (kind) {
    case "full":
      return "disk full";
    case "unwritable":
      return "data directory not writable";
    case "corrupt":
      return "corrupt store file";
    case "locked":
      return "data directory in use by another process";
    case "io":
      return "store I/O error";
  }
}

/** SQLite primary result codes that tell the kind (https://sqlite.org/rescode.html). */
const CODES: Record<number, StoreErrorKind> = {
  5: "locked", // SQLITE_BUSY
  6: "locked", // SQLITE_LOCKED
  8: "unwritable", // SQLITE_READONLY
  11: "corrupt", // SQLITE_CORRUPT
  13: "full", // SQLITE_FULL
  14: "unwritable", // SQLITE_CANTOPEN
  23: "unwritable", // SQLITE_AUTH
  26: "corrupt", // SQLITE_NOTADB
};

/**
 * Classifies what `node:sqlite` or `Deno` threw. `node:sqlite` sets `errcode` on some errors
 * only, so the message is read too.
 */
export function classifyError(err: unknown, path: string): StoreError {
  if (err instanceof StoreError) return err;
  const e = err as { errcode?: unknown; message?: unknown; name?: unknown };
  const message = typeof e?.message === "string" ? e.message : String(err);
  let kind: StoreErrorKind | undefined;
  if (typeof e?.errcode === "number") kind = CODES[e.errcode & 0xff];
  if (!kind) {
    if (/disk is full|database or disk is full|no space left|ENOSPC|quota/i.test(message)) {
      kind = "full";
    } else if (/not a database|malformed|corrupt/i.test(message)) kind = "corrupt";
    else if (/database is locked|database table is locked/i.test(message)) kind = "locked";
    else if (
      e?.name === "NotCapable" || e?.name === "PermissionDenied" || e?.name === "NotADirectory" ||
      /readonly|read-only|unable to open|permission|not a directory|EROFS|EACCES/i.test(message)
    ) kind = "unwritable";
    else kind = "io";
  }
  return new StoreError(kind, path, message.split("\n")[0]);
}
