/**
 * Per-key (per client IP) limits for WebSocket upgrades: a token bucket for the upgrade rate and a
 * counter of open connections. Pure: no I/O, the clock is injected; memory stays bounded however
 * many keys are seen.
 *
 * @module
 */

/** A clock in milliseconds (e.g. `performance.now`). */
export type Now = () => number;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token bucket per key: each key may take up to `burst` tokens at once, refilled at `ratePerSecond`.
 * A rate of 0 turns the limiter off (every {@link take} succeeds).
 */
export class RateLimiter {
  #buckets = new Map<string, Bucket>();
  readonly burst: number;

  /**
   * @param ratePerSecond tokens added per second (0 = no limit)
   * @param burst most tokens a key can hold (defaults to `max(1, ceil(ratePerSecond))`)
   * @param now clock in ms
   * @param maxKeys most keys remembered; past it, full (idle) buckets are forgotten first, then the
   *   oldest ones (a forgotten key starts again with a full bucket)
   */
  constructor(
    readonly ratePerSecond: number,
    burst?: number,
    private readonly now: Now = () => performance.now(),
    readonly maxKeys = 100_000,
  ) {
    if (!(ratePerSecond >= 0) || !Number.isFinite(ratePerSecond)) {
      throw new RangeError(`rate must be a finite number >= 0, got ${ratePerSecond}`);
    }
    this.burst = burst ?? Math.max(1, Math.ceil(ratePerSecond));
    if (!(this.burst >= 1)) throw new RangeError(`burst must be >= 1, got ${this.burst}`);
  }

  /** Whether the limiter limits anything. */
  get enabled(): boolean {
    return this.ratePerSecond > 0;
  }

  /** Takes one token for `key`; false when its bucket is empty (the caller refuses the request). */
  take(key: string): boolean {
    if (!this.enabled) return true;
    const t = this.now();
    const b = this.#buckets.get(key);
    if (!b) {
      this.#makeRoom(t);
      this.#buckets.set(key, { tokens: this.burst - 1, at: t });
      return true;
    }
    b.tokens = this.#level(b, t);
    b.at = t;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Seconds until `key` has a token again (0 when it has one now); for `Retry-After`. */
  retryAfterSeconds(key: string): number {
    const b = this.#buckets.get(key);
    if (!this.enabled || !b) return 0;
    const level = this.#level(b, this.now());
    return level >= 1 ? 0 : Math.ceil((1 - level) / this.ratePerSecond);
  }

  /** Keys remembered now (for tests). */
  get size(): number {
    return this.#buckets.size;
  }

  #level(b: Bucket, t: number): number {
    return Math.min(this.burst, b.tokens + (Math.max(0, t - b.at) / 1000) * this.ratePerSecond);
  }

  #makeRoom(t: number): void {
    if (this.#buckets.size < this.maxKeys) return;
    for (const [k, b] of this.#buckets) {
      if (this.#level(b, t) >= this.burst) this.#buckets.delete(k);
    }
    // Still full: forget the oldest entries (Map keeps insertion order).
    while (this.#buckets.size >= this.maxKeys) {
      this.#buckets.delete(this.#buckets.keys().next().value!);
    }
  }
}

/** Counts open connections per key and in total, against a per-key maximum (0 = no limit). */
export class ConnectionCounter {
  #counts = new Map<string, number>();
  #total = 0;

  /** @param maxPerKey most connections one key may hold (0 = no limit) */
  constructor(readonly maxPerKey: number) {
    if (!Number.isInteger(maxPerKey) || maxPerKey < 0) {
      throw new RangeError(`maxPerKey must be a whole number >= 0, got ${maxPerKey}`);
    }
  }

  /**
   * Counts one more connection for `key` unless it is at its maximum. Returns a release function
   * (idempotent: calling it twice releases once), or `null` when refused.
   */
  acquire(key: string): (() => void) | null {
    const n = this.#counts.get(key) ?? 0;
    if (this.maxPerKey > 0 && n >= this.maxPerKey) return null;
    this.#counts.set(key, n + 1);
    this.#total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      const left = (this.#counts.get(key) ?? 1) - 1;
      if (left <= 0) this.#counts.delete(key);
      else this.#counts.set(key, left);
    };
  }

  /** Open connections of `key`. */
  count(key: string): number {
    return this.#counts.get(key) ?? 0;
  }

  /** Open connections over all keys. */
  get total(): number {
    return this.#total;
  }

  /** Keys with at least one connection (for tests: no leak). */
  get keys(): number {
    return this.#counts.size;
  }
}
