// The view: which time range the panels show. Live, it follows the clock (this browser's,
// corrected by the server's from the hello frame) over the chosen window; paused, it stays where
// it was; zoomed, it shows a chosen range (drag, wheel, keyboard). This module owns the window,
// the mode, the range shown while not live, the range last drawn and the clock offset; its rules
// are pure functions (tests/unit/view_test.ts).

import { WINDOWS } from "./address.js";

/** Narrowest zoom, ms. */
export const MIN_SPAN_MS = 20;
/** Below this much skew (ms), the server's clock is not used: it is the hello's own delay. */
export const MIN_SKEW_MS = 1000;
/** Shortest "all held" window, ms. */
const MIN_ALL_MS = 1000;

/**
 * Server clock minus this browser's, from the hello's `serverTime` read at `localNow`: the
 * estimate is off by the hello's delay (network, a busy page), so only real skew counts.
 */
export function clockOffsetOf(serverTime, localNow) {
  const offset = serverTime - localNow;
  return Math.abs(offset) > MIN_SKEW_MS ? offset : 0;
}

/**
 * The live range ending at `to` (now: the clock, not the largest x, so one point from the future
 * cannot move it) over `windowKey`; "all" starts at `oldest`, the oldest point held (Infinity:
 * none), and spans at least a second.
 */
export function liveRangeAt(to, windowKey, oldest) {
  if (windowKey !== "all") return { from: to - WINDOWS[windowKey], to: to };
  let from = oldest;
  if (!Number.isFinite(from) || from > to - MIN_ALL_MS) from = to - MIN_ALL_MS;
  return { from: from, to: to };
}

/** A range not live under a new window: it keeps its end `to` and takes the window's length. */
export function resizedRange(to, windowKey, oldest) {
  const from = windowKey === "all" ? Math.min(oldest, to - MIN_ALL_MS) : to - WINDOWS[windowKey];
  return { from: from, to: to };
}

/** [from, to], widened around its middle to {@link MIN_SPAN_MS} when narrower. */
export function clampedRange(from, to) {
  if (to - from >= MIN_SPAN_MS) return { from: from, to: to };
  const mid = (from + to) / 2;
  return { from: mid - MIN_SPAN_MS / 2, to: mid + MIN_SPAN_MS / 2 };
}

/** `range` zoomed by `factor` around its middle (2: out, 0.5: in), then panned by `shift` spans. */
export function steppedRange(range, factor, shift) {
  const span = range.to - range.from;
  const mid = (range.from + range.to) / 2 + shift * span;
  return { from: mid - (span * factor) / 2, to: mid + (span * factor) / 2 };
}

/**
 * Creates the view, live over `windowKey`. `hooks`: `oldestHeld()` (the oldest x the rings hold,
 * Infinity: none), `onFixed()` (a range not live was chosen: fetch history it needs),
 * `onLive()` (back to live), `onChange(redraw)` (the mode or range changed: show it; `redraw`:
 * draw every panel now).
 */
export function createView(windowKey, hooks) {
  /** "live" (follows the clock), "paused" (frozen where it was), "zoomed" (a chosen range). */
  let mode = "live";
  /** The range shown while not live. */
  let fixed = null;
  /** The range of the last draw. */
  let last = null;
  /** Server clock minus this browser's, in ms (0 until a hello said otherwise). */
  let clockOffset = 0;

  /** Now on the server's clock, in epoch ms: the live view ends here. */
  const now = () => Date.now() + clockOffset;
  const isLive = () => mode === "live";
  const oldest = (key) => key === "all" ? hooks.oldestHeld() : Infinity;

  function liveRange() {
    return liveRangeAt(now(), windowKey, oldest(windowKey));
  }

  /** The time range shown: the live one, or while not live the fixed one. */
  function viewRange() {
    if (!isLive() && fixed !== null) return { from: fixed.from, to: fixed.to };
    return liveRange();
  }

  /**
   * The range zoom and pan steps start from: not live, the fixed one (so steps that come faster
   * than frames add up); live, the last one drawn (what the user sees).
   */
  function shownRange() {
    if (!isLive() && fixed !== null) return { from: fixed.from, to: fixed.to };
    return last || viewRange();
  }

  /** Leaves live: shows [from, to] (zoom, pan, keyboard). */
  function zoomTo(from, to) {
    if (!Number.isFinite(from) || !Number.isFinite(to)) return;
    mode = "zoomed";
    fixed = clampedRange(from, to);
    hooks.onFixed();
    hooks.onChange(true);
  }

  function goLive() {
    mode = "live";
    fixed = null;
    hooks.onLive();
    hooks.onChange(true);
  }

  return {
    now: now,
    isLive: isLive,
    liveRange: liveRange,
    viewRange: viewRange,
    shownRange: shownRange,
    zoomTo: zoomTo,
    goLive: goLive,
    /** The live window's length now, ms. */
    liveSpan() {
      const r = liveRange();
      return r.to - r.from;
    },
    /** Zooms by `factor` around the middle (2: out, 0.5: in), or pans by `shift` spans. */
    zoomBy(factor, shift) {
      const r = steppedRange(shownRange(), factor, shift);
      zoomTo(r.from, r.to);
    },
    /** Pauses where the view is, or (false) goes back to live, to everything received meanwhile. */
    setPaused(next) {
      if (!next) return goLive();
      mode = "paused";
      fixed = shownRange();
      hooks.onChange(false);
    },
    /** Takes window `key`; not live, the range keeps its end and takes the new length. */
    setWindow(key) {
      windowKey = key;
      if (isLive() || fixed === null) return;
      fixed = resizedRange(fixed.to, key, oldest(key));
      hooks.onFixed();
      hooks.onChange(false);
    },
    /** Back to live over window `key` (Reset view). */
    reset(key) {
      windowKey = key;
      goLive();
    },
    /** Sets the clock offset from a hello's server time (epoch ms). */
    setClock(serverTime) {
      clockOffset = clockOffsetOf(serverTime, Date.now());
    },
    /** The frame loop drew `range`. */
    drawn(range) {
      last = range;
    },
    /** "live", "paused" or "zoomed". */
    get mode() {
      return mode;
    },
    /** "10s", "1m", "5m" or "all". */
    get windowKey() {
      return windowKey;
    },
    /** The range shown while not live ({ from, to }), or null. */
    get fixed() {
      return fixed;
    },
    /** The range of the last draw, or null before the first. */
    get lastDrawn() {
      return last;
    },
    /** Server clock minus this browser's (ms). */
    get clockOffset() {
      return clockOffset;
    },
  };
}
