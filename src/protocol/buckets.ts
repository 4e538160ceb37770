/**
 * Min/max decimation: points fall into buckets of `bucketMs` of x, and each bucket comes out as its
 * lowest and its highest point (by y), in x order, so peaks and dips stay visible however many
 * points a bucket held. The history API (`GET /api/history`, `http/history_api.ts`) uses it over a
 * range sorted by x; the decimated live stream (`hub/decimated.ts`) feeds it points as they come
 * and flushes buckets on time. Pure: no I/O, no clock (the caller passes its time).
 *
 * @module
 */

/** The default `max_points` of a history answer. */
export const DEFAULT_MAX_POINTS = 2000;
/** The largest `max_points` a history request may ask for. */
export const MAX_MAX_POINTS = 100_000;

/**
 * Buckets of `bucketMs` of x, aligned on `origin`: bucket k holds `origin + k * bucketMs <= x <
 * origin + (k + 1) * bucketMs`. One bucket is open at a time; a point of a later bucket closes it
 * (`emit` gets its min and max), a point of an earlier one (late, out of order) is counted in the
 * open bucket (its own x is kept). {@link flushIfOlder} closes a bucket that has been open too long
 * (a series that went quiet), {@link flush} the open one whatever its age.
 *
 * `T` is what the caller attaches to each point (its JSON, or nothing); `emit` receives one item
 * when the bucket's min and max are the same point, else two, in x order (ties: arrival order).
 */
export class MinMaxStream<T> {
  #index = 0;
  #count = 0;
  #openedAt = 0;
  #minX = 0;
  #minY = 0;
  #minAt = 0;
  #minItem!: T;
  #maxX = 0;
  #maxY = 0;
  #maxAt = 0;
  #maxItem!: T;
  /** Buckets emitted so far. */
  buckets = 0;

  /**
   * @param bucketMs width of a bucket in x (ms), > 0
   * @param emit receives each closed bucket's min and max, in x order
   * @param origin x where bucket 0 starts
   */
  constructor(
    readonly bucketMs: number,
    private readonly emit: (items: T[]) => void,
    readonly origin = 0,
  ) {
    if (!(bucketMs > 0) || !Number.isFinite(bucketMs)) {
      throw new RangeError(`bucketMs must be a finite number > 0, got ${bucketMs}`);
    }
  }

  /** Points in the open bucket (0: none open). */
  get pending(): number {
    return this.#count;
  }

  /** The bucket index of `x`. */
  indexOf(x: number): number {
    return Math.floor((x - this.origin) / this.bucketMs);
  }

  /** Adds one point; `now` (any clock) is remembered when it opens a bucket. */
  push(x: number, y: number, item: T, now = 0): void {
    const k = Math.floor((x - this.origin) / this.bucketMs);
    if (this.#count > 0 && k > this.#index) this.flush();
    const n = this.#count++;
    if (n === 0) {
      this.#index = k;
      this.#openedAt = now;
      this.#minX = this.#maxX = x;
      this.#minY = this.#maxY = y;
      this.#minAt = this.#maxAt = 0;
      this.#minItem = this.#maxItem = item;
      return;
    }
    if (y < this.#minY) {
      this.#minX = x;
      this.#minY = y;
      this.#minAt = n;
      this.#minItem = item;
    }
    if (y > this.#maxY) {
      this.#maxX = x;
      this.#maxY = y;
      this.#maxAt = n;
      this.#maxItem = item;
    }
  }

  /** Closes the open bucket when it was opened at least `ageMs` before `now`; true when it did. */
  flushIfOlder(now: number, ageMs: number): boolean {
    if (this.#count === 0 || now - this.#openedAt < ageMs) return false;
    this.flush();
    return true;
  }

  /** Closes the open bucket (if any): `emit` gets its min and max. */
  flush(): void {
    if (this.#count === 0) return;
    this.#count = 0;
    this.buckets++;
    const minItem = this.#minItem;
    const maxItem = this.#maxItem;
    // Drop the references: a quiet stream holds no point's JSON.
    this.#minItem = this.#maxItem = undefined as T;
    if (this.#minAt === this.#maxAt) return this.emit([minItem]);
    const minFirst = this.#minX < this.#maxX ||
      (this.#minX === this.#maxX && this.#minAt < this.#maxAt);
    this.emit(minFirst ? [minItem, maxItem] : [maxItem, minItem]);
  }
}

/** What {@link decimate} returns. */
export interface Decimated {
  /** Whether the points were bucketed (more than `maxPoints` in the range). */
  decimated: boolean;
  /** The bucket width in ms (when decimated). */
  bucketMs?: number;
  /** The points kept, `[x, y]`, in x order. */
  points: [number, number][];
}

/**
 * The bucket width for `span` ms of x cut into at most `buckets` buckets: a whole number of ms,
 * at least 1, such that `floor(span / width) < buckets` (so x = origin + span still falls in the
 * last bucket).
 */
export function bucketWidth(span: number, buckets: number): number {
  return Math.floor(Math.max(0, span) / Math.max(1, buckets)) + 1;
}

/**
 * At most `maxPoints` (>= 2) points of `xs`/`ys` (sorted by x, all within `[from, to]`): all of
 * them when they fit, else the min and max of each of `floor(maxPoints / 2)` buckets of the range,
 * aligned on `from`.
 */
export function decimate(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  from: number,
  to: number,
  maxPoints: number,
): Decimated {
  const n = xs.length;
  if (n <= maxPoints) {
    const points: [number, number][] = new Array(n);
    for (let i = 0; i < n; i++) points[i] = [xs[i], ys[i]];
    return { decimated: false, points };
  }
  const bucketMs = bucketWidth(to - from, Math.floor(maxPoints / 2));
  const points: [number, number][] = [];
  const stream = new MinMaxStream<number>(bucketMs, (items) => {
    for (const i of items) points.push([xs[i], ys[i]]);
  }, from);
  for (let i = 0; i < n; i++) stream.push(xs[i], ys[i], i);
  stream.flush();
  return { decimated: true, bucketMs, points };
}
