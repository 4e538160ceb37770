/**
 * Retention of the point store: the `--retention` setting (a count of points per series and/or an
 * age), and the ledger of rows per series that lets the store trim in bounded time without
 * scanning the file. Pure: no I/O.
 *
 * @module
 */

/** How much the store keeps per series. */
export interface Retention {
  /** Points kept per series at most (the newest). */
  count: number;
  /** Points older than this (ms, by the time they were written) are dropped; absent: no limit. */
  ageMs?: number;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses `--retention`: a count (`100000`), an age (`30s`, `15m`, `24h`, `7d`) or both
 * (`100000,24h`). Without a count, `defaultCount` applies (the history size: a store never needs
 * to keep more points than a restart loads). Returns an error message on bad input.
 */
export function parseRetention(spec: string, defaultCount: number): Retention | string {
  const parts = spec.split(",").map((p) => p.trim()).filter((p) => p !== "");
  if (parts.length === 0 || parts.length > 2) {
    return `--retention: expected <count>, <age> or <count>,<age> (e.g. 100000,24h), got "${spec}"`;
  }
  let count: number | undefined;
  let ageMs: number | undefined;
  for (const p of parts) {
    const age = /^(\d{1,9})([smhd])$/.exec(p);
    if (age) {
      if (ageMs !== undefined) return `--retention: two ages in "${spec}"`;
      ageMs = Number(age[1]) * UNITS[age[2]];
      if (ageMs < 1000) return `--retention: the age must be at least 1s, got "${p}"`;
    } else if (/^\d{1,9}$/.test(p)) {
      if (count !== undefined) return `--retention: two counts in "${spec}"`;
      count = Number(p);
      if (count < 1) return `--retention: the count must be at least 1, got "${p}"`;
    } else {
      return `--retention: "${p}" is neither a count nor an age like 30s, 15m, 24h, 7d`;
    }
  }
  return { count: count ?? defaultCount, ...(ageMs !== undefined ? { ageMs } : {}) };
}

/** One stored row: a batch of points of one series. */
export interface RowInfo {
  id: number;
  /** Points in it. */
  n: number;
  /** When it was written (ms since the Unix epoch). */
  writtenMs: number;
}

/** Rows of one series, oldest first, and the points they hold. */
class SeriesRows {
  rows: RowInfo[] = [];
  head = 0;
  points = 0;

  get length(): number {
    return this.rows.length - this.head;
  }

  front(): RowInfo {
    return this.rows[this.head];
  }

  shift(): RowInfo {
    const r = this.rows[this.head++];
    this.points -= r.n;
    // Compact now and then so the array does not grow with everything ever shifted.
    if (this.head > 1024 && this.head * 2 > this.rows.length) {
      this.rows = this.rows.slice(this.head);
      this.head = 0;
    }
    return r;
  }
}

/** What to delete from one series: every row of it with `id <= upToId`. */
export interface TrimStep {
  series: string;
  upToId: number;
  rows: number;
  points: number;
}

/**
 * The rows the store holds, per series, so trimming knows what to drop without reading the file.
 * A row is dropped whole once every point in it is beyond the count (so a series keeps between
 * `count` and `count` + one row's points; loading cuts to the exact count) or older than the age.
 */
export class RetentionLedger {
  #series = new Map<string, SeriesRows>();
  #rows = 0;

  constructor(readonly retention: Retention) {}

  /** Rows held, over all series. */
  get rows(): number {
    return this.#rows;
  }

  /** Series held. */
  seriesNames(): string[] {
    return [...this.#series.keys()];
  }

  /** Points held in `series`. */
  points(series: string): number {
    return this.#series.get(series)?.points ?? 0;
  }

  /** Rows of `series`, oldest first (a copy). */
  rowsOf(series: string): RowInfo[] {
    const s = this.#series.get(series);
    return s ? s.rows.slice(s.head) : [];
  }

  /** Records a row written (ids increase). */
  add(series: string, row: RowInfo): void {
    let s = this.#series.get(series);
    if (!s) this.#series.set(series, s = new SeriesRows());
    s.rows.push(row);
    s.points += row.n;
    this.#rows++;
  }

  /** Forgets everything (the store was emptied). */
  clear(): void {
    this.#series.clear();
    this.#rows = 0;
  }

  /**
   * Plans the deletions due now, at most `maxRows` rows in all (the rest waits for the next call:
   * bounded time per flush), and applies them to the ledger. `only`: the series to look at
   * (those just written), else all.
   */
  trim(nowMs: number, maxRows: number, only?: Iterable<string>): TrimStep[] {
    const steps: TrimStep[] = [];
    const { count, ageMs } = this.retention;
    const cutoff = ageMs === undefined ? -Infinity : nowMs - ageMs;
    let budget = maxRows;
    for (const name of only ?? this.#series.keys()) {
      if (budget <= 0) break;
      const s = this.#series.get(name);
      if (!s) continue;
      let step: TrimStep | undefined;
      while (
        budget > 0 && s.length > 0 &&
        (s.points - s.front().n >= count || s.front().writtenMs < cutoff)
      ) {
        const r = s.shift();
        step ??= { series: name, upToId: r.id, rows: 0, points: 0 };
        step.upToId = r.id;
        step.rows++;
        step.points += r.n;
        budget--;
        this.#rows--;
      }
      if (s.length === 0) this.#series.delete(name);
      if (step) steps.push(step);
    }
    return steps;
  }
}
