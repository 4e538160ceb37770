// Series storage for the page: per series, a ring of x and y in typed arrays, sorted by x (a late
// point is inserted where it belongs, so binary searches and lines stay right), bounded per series
// and over all series; and the set of series held, bounded in count, which forgets what the
// server no longer holds. No DOM: the chart and the legend read it.

import { MAX_SERIES_HELD } from "./protocol.js";

/** Most points kept per series (bounded memory whatever the rate): 5 min at 333 points/s. */
export const MAX_POINTS = 100000;
/** Most points kept over all series (32 MB of x and y); a full budget stops rings growing. */
export const MAX_TOTAL_POINTS = 2000000;
/** First ring size of a series (it doubles as points come, up to MAX_POINTS). */
const FIRST_CAP = 256;

/** Ring slots allocated over all series of one {@link SeriesSet}. */
class Budget {
  constructor() {
    this.total = 0;
  }
}

/** The points of one series: a ring of x and y, sorted by x, growing up to MAX_POINTS. */
export class Store {
  constructor(budget) {
    this.budget = budget;
    this.cap = FIRST_CAP;
    this.xs = new Float64Array(this.cap);
    this.ys = new Float64Array(this.cap);
    this.start = 0;
    this.size = 0;
    budget.total += this.cap;
    /** Points added since the last activity tick, and the decayed rate (for the legend's order). */
    this.recent = 0;
    this.activity = 0;
    /** Points that arrived older than every point a full ring holds (not stored). */
    this.droppedLate = 0;
    /** Reused [x, y] pairs handed to Flot (no garbage per frame). */
    this.pool = [];
  }

  /** Adds a point where its x belongs (after equal x: arrival order among equals). */
  push(x, y) {
    this.recent++;
    if (this.size === 0 || x >= this.x(this.size - 1)) {
      this.#insert(this.size, x, y);
      return;
    }
    this.#insert(this.upperBound(x), x, y);
  }

  #insert(i, x, y) {
    if (this.size === this.cap) {
      if (this.cap < MAX_POINTS && this.budget.total + this.cap <= MAX_TOTAL_POINTS) this.#grow();
      else {
        // Full: the oldest point makes room, unless the new one is older still.
        if (i === 0) {
          this.droppedLate++;
          return;
        }
        this.start = (this.start + 1) % this.cap;
        this.size--;
        i--;
      }
    }
    for (let j = this.size; j > i; j--) {
      const to = (this.start + j) % this.cap;
      const from = (this.start + j - 1) % this.cap;
      this.xs[to] = this.xs[from];
      this.ys[to] = this.ys[from];
    }
    const k = (this.start + i) % this.cap;
    this.xs[k] = x;
    this.ys[k] = y;
    this.size++;
  }

  #grow() {
    const cap = Math.min(MAX_POINTS, this.cap * 2);
    const xs = new Float64Array(cap);
    const ys = new Float64Array(cap);
    for (let i = 0; i < this.size; i++) {
      xs[i] = this.x(i);
      ys[i] = this.y(i);
    }
    this.xs = xs;
    this.ys = ys;
    this.budget.total += cap - this.cap;
    this.cap = cap;
    this.start = 0;
  }

  x(i) {
    return this.xs[(this.start + i) % this.cap];
  }

  y(i) {
    return this.ys[(this.start + i) % this.cap];
  }

  /** First index with x >= v, or size. */
  lowerBound(v) {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.x(mid) < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First index with x > v, or size. */
  upperBound(v) {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.x(mid) <= v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * The points within [from, to] for Flot, plus one before `from` so the line enters at the left
   * edge. More than 2 per pixel column (`px` columns): each column keeps its lowest and highest
   * point, in x order (what a line at this width shows anyway). `count`: the points in the window.
   */
  window(from, to, px) {
    let lo = this.lowerBound(from);
    const hi = this.upperBound(to);
    const count = hi - lo;
    if (lo > 0) lo--;
    const pool = this.pool;
    let k = 0;
    if (hi - lo <= 2 * px) {
      for (let i = lo; i < hi; i++) k = put(pool, k, this.x(i), this.y(i));
    } else {
      const scale = px / Math.max(1, to - from);
      let column = NaN;
      let minI = -1;
      let maxI = -1;
      const flush = () => {
        if (minI < 0) return;
        const a = Math.min(minI, maxI);
        const b = Math.max(minI, maxI);
        k = put(pool, k, this.x(a), this.y(a));
        if (b !== a) k = put(pool, k, this.x(b), this.y(b));
      };
      for (let i = lo; i < hi; i++) {
        const c = Math.floor((this.x(i) - from) * scale);
        if (c !== column) {
          flush();
          column = c;
          minI = maxI = i;
        } else {
          const y = this.y(i);
          if (y < this.y(minI)) minI = i;
          if (y > this.y(maxI)) maxI = i;
        }
      }
      flush();
    }
    return { data: pool.slice(0, k), count: count };
  }
}

/** Copies [x, y] into the pool slot k (reusing the pair), returns k + 1. */
function put(pool, k, x, y) {
  let p = pool[k];
  if (p === undefined) pool[k] = p = [0, 0];
  p[0] = x;
  p[1] = y;
  return k + 1;
}

/**
 * The series the page holds: name -> {@link Store}, at most `maxSeries` (the server's own limit:
 * beyond it the least recently fed series goes), forgetting the series the server's series_list
 * no longer names.
 */
export class SeriesSet {
  constructor(maxSeries = MAX_SERIES_HELD) {
    this.maxSeries = maxSeries;
    this.budget = new Budget();
    /** name -> Store, in insertion order refreshed on every point (oldest fed first). */
    this.map = new Map();
  }

  get size() {
    return this.map.size;
  }

  get(name) {
    return this.map.get(name);
  }

  has(name) {
    return this.map.has(name);
  }

  names() {
    return this.map.keys();
  }

  entries() {
    return this.map.entries();
  }

  values() {
    return this.map.values();
  }

  /** Adds a point; returns true when it created the series. */
  add(name, x, y) {
    let s = this.map.get(name);
    let created = false;
    if (!s) {
      while (this.map.size >= this.maxSeries) this.drop(this.map.keys().next().value);
      s = new Store(this.budget);
      this.map.set(name, s);
      created = true;
    } else if (s.recent === 0) {
      // Once per tick: move it to the end (most recently fed), cheaply.
      this.map.delete(name);
      this.map.set(name, s);
    }
    s.push(x, y);
    return created;
  }

  drop(name) {
    const s = this.map.get(name);
    if (!s) return;
    this.budget.total -= s.cap;
    this.map.delete(name);
  }

  clear() {
    for (const name of Array.from(this.map.keys())) this.drop(name);
  }

  /** Keeps only the series `keep` says yes to; returns how many went. */
  retain(keep) {
    let n = 0;
    for (const name of Array.from(this.map.keys())) {
      if (!keep(name)) {
        this.drop(name);
        n++;
      }
    }
    return n;
  }

  /** Once a second: folds each series' recent points into its activity (a decaying rate). */
  tickActivity() {
    for (const s of this.map.values()) {
      s.activity = s.activity * 0.7 + s.recent;
      s.recent = 0;
    }
  }

  /** The oldest x held over every series (Infinity: none). */
  oldest() {
    let from = Infinity;
    for (const s of this.map.values()) if (s.size) from = Math.min(from, s.x(0));
    return from;
  }

  /** Ring slots allocated over all series. */
  get slots() {
    return this.budget.total;
  }
}

/**
 * A {@link Store} of `points` ([[x, y], ...], as /api/history answers) outside any
 * {@link SeriesSet}'s budget: what the page fetched for a zoomed view. Unsorted input is sorted.
 */
export function storeOf(points) {
  const s = new Store(new Budget());
  for (const p of points) {
    if (Array.isArray(p) && typeof p[0] === "number" && typeof p[1] === "number") {
      s.push(p[0], p[1]);
    }
  }
  s.recent = 0;
  return s;
}
