/**
 * Staying below the open-files limit. Deno (2.9.6) does not survive reaching it: `Deno.serve` dies
 * ("Too many open files"), and other parts panic or crash (docs/upstream/README.md). So whatever
 * accepts connections (the HTTP front, the producers' ingress) asks an {@link FdBudget} first and
 * refuses, counted, once the process is within a margin of the limit.
 *
 * The limit is `RLIMIT_NOFILE` (soft), and the files open now are counted in `/proc/self/fd`, both
 * through libc (`runtime/libc.ts`): Deno refuses `/proc/self` to anything short of `--allow-all`.
 * Without libc access, {@link openFdProbe} returns undefined and only the callers' own caps apply.
 *
 * @module
 */
import { openLibc } from "./libc.ts";

/** What the process can tell about its open files. */
export interface FdProbe {
  /** The soft limit on open files (`ulimit -n`). */
  limit: number;
  /** Files open now, this process, all threads. */
  count(): number;
}

const RLIMIT_NOFILE = 7; // Linux, x86-64 and arm64
const PROC_FD = new TextEncoder().encode("/proc/self/fd\0");

/** Opens the probe through libc; undefined without FFI access to it (or not on Linux). */
export function openFdProbe(): FdProbe | undefined {
  const libc = openLibc({
    getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
    opendir: { parameters: ["buffer"], result: "pointer" },
    readdir: { parameters: ["pointer"], result: "pointer" },
    closedir: { parameters: ["pointer"], result: "i32" },
  });
  if (!libc) return undefined;
  const rl = new BigUint64Array(2);
  if (libc.getrlimit(RLIMIT_NOFILE, rl) !== 0) return undefined;
  const soft = rl[0];
  const limit = soft > 1_000_000_000n ? 1_000_000_000 : Number(soft);
  return {
    limit,
    count() {
      const dir = libc.opendir(PROC_FD);
      if (dir === null) return 0;
      let n = 0;
      while (libc.readdir(dir) !== null) n++;
      libc.closedir(dir);
      return Math.max(0, n - 3); // ".", ".." and the directory's own descriptor
    },
  };
}

/** The files kept free below `limit`: 1/8 of it, at least 32, at most 256. */
export function fdMargin(limit: number): number {
  return Math.min(256, Math.max(32, Math.floor(limit / 8)));
}

/** Options of {@link FdBudget}. */
export interface FdBudgetOptions {
  /** Files kept free below the limit (default {@link fdMargin}). */
  margin?: number;
  /** Recount at least this often, in ms (default 1000). */
  recountMs?: number;
  /** Near the ceiling, recount at most this often, in ms (default 50). */
  minRecountMs?: number;
  /** The clock in ms (default `performance.now`). */
  now?: () => number;
}

/**
 * Decides whether one more connection may be accepted. Between two counts it adds what it
 * admitted to the last count (never subtracting: closes are seen at the next count), so it errs on
 * the side of refusing; it counts again every `recountMs`, and near the ceiling before each
 * refusal (at most every `minRecountMs`). Pure but for the probe it is given.
 */
export class FdBudget {
  /** Files that may be open before new connections are refused. */
  readonly ceiling: number;
  readonly #probe: FdProbe;
  readonly #recountMs: number;
  readonly #minRecountMs: number;
  readonly #now: () => number;
  #counted: number;
  #countedAt: number;
  #since = 0;

  constructor(probe: FdProbe, opts: FdBudgetOptions = {}) {
    this.#probe = probe;
    this.ceiling = probe.limit - (opts.margin ?? fdMargin(probe.limit));
    this.#recountMs = opts.recountMs ?? 1000;
    this.#minRecountMs = opts.minRecountMs ?? 50;
    this.#now = opts.now ?? (() => performance.now());
    this.#counted = probe.count();
    this.#countedAt = this.#now();
  }

  /** Files open as last estimated. */
  get estimate(): number {
    return this.#counted + this.#since;
  }

  /** Whether a connection costing `fds` open files may be accepted now; if so, it is counted. */
  admit(fds = 1): boolean {
    const t = this.#now();
    const stale = t - this.#countedAt >= this.#recountMs;
    const near = this.estimate + fds > this.ceiling && t - this.#countedAt >= this.#minRecountMs;
    if (stale || near) {
      this.#counted = this.#probe.count();
      this.#countedAt = t;
      this.#since = 0;
    }
    if (this.estimate + fds > this.ceiling) return false;
    this.#since += fds;
    return true;
  }
}
