/**
 * Adaptive batching of outgoing points: while traffic is light a point goes out at once; under load
 * the points that arrive within one tick go out together, so a client gets at most ~1000/tick frames
 * per second however high the point rate, and no point waits longer than one tick.
 *
 * @module
 */

/** Timer functions, injectable for tests. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId): void;
}

/** A timer handle, as returned by `setTimeout`. */
export type TimerId = ReturnType<typeof setTimeout>;

const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
};

/** Collects items and hands them to `flush` at most once per `tickMs`. */
export class Batcher<T> {
  #items: T[] = [];
  #lastFlush = -Infinity;
  #timer: TimerId | undefined;
  #closed = false;

  /**
   * @param flush receives every batch (never empty), in arrival order
   * @param tickMs shortest time between two flushes
   */
  constructor(
    private readonly flush: (items: T[]) => void,
    readonly tickMs = 16,
    private readonly clock: Clock = realClock,
  ) {}

  /** Adds one item; flushes now if the last flush was at least one tick ago. Ignored once closed. */
  push(item: T): void {
    if (this.#closed) return;
    this.#items.push(item);
    if (this.#timer !== undefined) return;
    const wait = this.#lastFlush + this.tickMs - this.clock.now();
    if (wait <= 0) {
      // Flush at the end of this turn of the event loop, so that a burst read in one go from the
      // socket leaves as one frame even when the line was idle.
      this.#timer = this.clock.setTimeout(() => this.#flushNow(), 0);
    } else {
      this.#timer = this.clock.setTimeout(() => this.#flushNow(), wait);
    }
  }

  /** Items waiting for the next flush. */
  get pending(): number {
    return this.#items.length;
  }

  #flushNow(): void {
    this.#timer = undefined;
    this.#lastFlush = this.clock.now();
    if (this.#items.length === 0) return;
    const items = this.#items;
    this.#items = [];
    this.flush(items);
  }

  /** Cancels the timer and drops anything pending; later pushes are ignored. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#items = [];
  }
}
