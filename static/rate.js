// When the page asks the server for decimated live data (`{"type":"rate","max_points_per_s":N}`),
// and at which rate. Pure: no DOM, no I/O (tests/unit/rate_test.ts).
//
// A line over a window of W seconds drawn on P pixel columns shows at most ~2 points per column:
// a series faster than 2P/W points/s sends points nobody sees. The page then asks for
// N = 2P/W points/s per series (the server sends each bucket's min and max, so peaks stay), and
// asks again when the window or the width changes the target by more than a tenth.

/** Points per pixel column the page asks for. */
export const POINTS_PER_COLUMN = 2;
/** A series this much faster than the target turns decimation on. */
export const ON_FACTOR = 1.5;
/** Decimation goes off when every series arrives slower than this share of the rate asked. */
export const OFF_FACTOR = 0.4;
/** Lowest and highest rate the page asks for, points/s per series. */
export const MIN_RATE = 1;
export const MAX_RATE = 100000;

/**
 * The rate the page's window wants: 2 points per pixel column, per second of the window.
 * @param {number} columns
 * @param {number} windowMs
 * @returns {number | null}
 */
export function targetRate(columns, windowMs) {
  if (!(windowMs > 0) || !Number.isFinite(windowMs) || !(columns > 0)) return null;
  const n = Math.round((POINTS_PER_COLUMN * columns) / (windowMs / 1000));
  return Math.min(MAX_RATE, Math.max(MIN_RATE, n));
}

/**
 * The rate to ask for next: a number (decimated, at most that many points/s per series) or null
 * (every point). `current`: what was asked last (null: exact); `fastest`: the most points one
 * series delivered in the last second; `target`: {@link targetRate} (null: none, e.g. over SSE).
 * @param {number | null} current
 * @param {number} fastest
 * @param {number | null} target
 * @returns {number | null}
 */
export function nextRate(current, fastest, target) {
  if (target === null) return null;
  if (current === null) return fastest > target * ON_FACTOR ? target : null;
  // The window or the width changed: the new rate first (the stream shows its speed under it).
  if (Math.abs(target - current) > current * 0.1) return target;
  // Decimated: the server sends at most `current` per series, so a slow stream shows as one
  // well under it (exact costs no more then).
  return fastest < current * OFF_FACTOR ? null : current;
}
