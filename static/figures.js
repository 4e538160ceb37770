// The live figures, counted from the live points as they arrive and worked out once a second:
// points received per second, the median lag over the last second, and how fast the fastest
// series arrives (points/s over the last RATE_TICKS seconds of real time, so a burst after a
// stall is averaged: what decimation is judged on). No DOM (tests/unit/figures_test.ts).

/** Most lag samples kept per second. */
export const MAX_LAG_SAMPLES = 20000;
/** Seconds over which the page measures how fast a series arrives (decimation on or off). */
export const RATE_TICKS = 3;

/** The median of `values` (numbers, at least one). */
export function median(values) {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Creates the figures, counting from `start` (performance.now()). */
export function createFigures(start) {
  let received = 0;
  let receivedAtLastTick = 0;
  let lagSamples = [];
  let lastLag = null;
  let lastRate = 0;
  /** Live points per series since the last tick, and of the ticks before (RATE_TICKS in all). */
  let liveCounts = new Map();
  const pastCounts = [];
  /** When each of pastCounts began (performance.now()), and when the current one did. */
  const pastStarts = [];
  let countsSince = start;
  let fastest = 0;

  return {
    /** A live point of series `name` arrived, `lag` ms after its x. */
    point(name, lag) {
      liveCounts.set(name, (liveCounts.get(name) || 0) + 1);
      if (lagSamples.length < MAX_LAG_SAMPLES) lagSamples.push(lag);
    },
    /** `n` live points were taken into the rings. */
    count(n) {
      received += n;
    },
    /** Once a second, at `t` (performance.now()): the last second's figures. */
    tick(t) {
      lastRate = received - receivedAtLastTick;
      receivedAtLastTick = received;
      lastLag = lagSamples.length ? median(lagSamples) : null;
      lagSamples = [];
      // Points per second over the last ticks' real time (a late tick covers more than a second).
      pastCounts.push(liveCounts);
      pastStarts.push(countsSince);
      if (pastCounts.length > RATE_TICKS) {
        pastCounts.shift();
        pastStarts.shift();
      }
      liveCounts = new Map();
      countsSince = t;
      const sums = new Map();
      for (const counts of pastCounts) {
        for (const [name, n] of counts) sums.set(name, (sums.get(name) || 0) + n);
      }
      const seconds = Math.max(0.5, (t - pastStarts[0]) / 1000);
      fastest = 0;
      for (const n of sums.values()) fastest = Math.max(fastest, n / seconds);
    },
    /** Live points received so far. */
    get received() {
      return received;
    },
    /** Live points received in the last second. */
    get rate() {
      return lastRate;
    },
    /** The median lag over the last second, ms (null: no live points). */
    get lagMs() {
      return lastLag;
    },
    /** The fastest series' live points/s over the last ticks. */
    get fastest() {
      return fastest;
    },
  };
}
