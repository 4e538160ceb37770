/**
 * What happens to a store file that failed while running: it is moved out of the way so that the
 * next start begins a new one.
 *
 * @module
 */
import { errorMessage, log } from "../runtime/log.ts";

/**
 * Moves a store that failed while running out of the way (`points.db.failed-<time>`, best effort:
 * a rename needs no free space). Seqs go on past its reservation in memory, so a later run must
 * not continue its epoch: it starts a fresh store (a new epoch; clients get a reset) instead.
 */
export function setAside(path: string): void {
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
