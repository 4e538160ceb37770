/**
 * One point's rules, whatever the message that carried it: what a point is, why one is rejected
 * (the reasons `zws_ingress_rejected_total` counts), and the checks of x, y and the series
 * (`ingress.ts` applies them to each point of a message). Pure: no I/O.
 *
 * @module
 */
import { DEFAULT_SERIES, seriesProblem } from "../../static/protocol.js";

/** A validated data point, as it travels from the relay to the browsers. */
export interface Point {
  /** Epoch milliseconds. */
  x: number;
  /** The value. */
  y: number;
  /** The series (line) it belongs to. */
  series: string;
  /** The unit of its series, when the producer sent one. */
  unit?: string;
}

/**
 * Every reason a message or point is rejected; the label values of `zws_ingress_rejected_total`.
 * All but `overload` are the parser's; `overload` is the relay's: points shed, before sequencing,
 * because too many wait for the bus (`relay/sequencer.ts`).
 */
export const REJECT_REASONS = [
  "oversize",
  "frame_count",
  "invalid_utf8",
  "invalid_json",
  "not_a_point",
  "empty_batch",
  "invalid_x",
  "invalid_y",
  "invalid_series",
  "invalid_unit",
  "overload",
] as const;

/** One of {@link REJECT_REASONS}. */
export type RejectReason = typeof REJECT_REASONS[number];

/** A rejection with a short human-readable detail (for the log line). */
export interface Rejection {
  reason: RejectReason;
  detail: string;
}

/** Longest unit, in characters (code points). */
export const MAX_UNIT_LENGTH = 16;

/** Why `u` is not a valid unit (a non-empty string of at most 16 characters, no control ones). */
export function unitProblem(u: unknown): string | undefined {
  if (typeof u !== "string") return `unit must be a string, got ${kind(u)}`;
  if (u.length === 0) return "unit is empty";
  if (u.length > MAX_UNIT_LENGTH * 2 || [...u].length > MAX_UNIT_LENGTH) {
    return `unit longer than ${MAX_UNIT_LENGTH} characters`;
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(u)) return "unit contains control characters";
  return undefined;
}

/** `x` below this is epoch seconds. */
export const SECONDS_THRESHOLD = 1e11;
/** Default largest distance of `x` from the relay's clock, either way, in ms (one day): `--x-window`. */
export const DEFAULT_X_WINDOW_MS = 86_400_000;

/** The range of `x` accepted: within `windowMs` of `now()`; `windowMs` 0 accepts any finite x. */
export interface XWindow {
  /** Largest distance from now, either way, in ms; 0: no check. */
  windowMs: number;
  /** The clock, in epoch ms (default `Date.now`). */
  now?: () => number;
}

/** The x accepted, in epoch ms: [lo, hi]. */
export interface XRange {
  lo: number;
  hi: number;
}

/** The x range a window allows right now. */
export function xRange(w: XWindow): XRange {
  if (!(w.windowMs > 0)) return { lo: -Infinity, hi: Infinity };
  const now = (w.now ?? Date.now)();
  return { lo: now - w.windowMs, hi: now + w.windowMs };
}

/** The last series name that passed {@link seriesProblem} (points of a message mostly share one). */
let lastGoodSeries: string | undefined;

/**
 * Validates one decoded JSON value as a point; `topicSeries` overrides its `series`, `range`
 * bounds x (after seconds became milliseconds; default: any finite x).
 */
export function toPoint(value: unknown, topicSeries?: string, range?: XRange): Point | Rejection {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { reason: "not_a_point", detail: `expected an object, got ${kind(value)}` };
  }
  const v = value as Record<string, unknown>;
  return checkPoint(
    Object.hasOwn(v, "x") ? v.x : undefined,
    Object.hasOwn(v, "y") ? v.y : undefined,
    Object.hasOwn(v, "series") ? v.series : undefined,
    Object.hasOwn(v, "unit") ? v.unit : undefined,
    topicSeries,
    range,
  );
}

/**
 * The rules of one point, whichever way its fields were read: `x`, `y`, `s` (the series) and
 * `unit` as decoded (undefined when absent; the compact scanner never sees a unit); `topicSeries`
 * overrides `s`, `range` bounds x.
 */
export function checkPoint(
  x: unknown,
  y: unknown,
  s: unknown,
  unit: unknown,
  topicSeries: string | undefined,
  range: XRange | undefined,
): Point | Rejection {
  if (typeof x !== "number" || !Number.isFinite(x)) {
    return { reason: "invalid_x", detail: `x must be a finite number, got ${kind(x)}` };
  }
  if (typeof y !== "number" || !Number.isFinite(y)) {
    return { reason: "invalid_y", detail: `y must be a finite number, got ${kind(y)}` };
  }
  let series = topicSeries;
  if (series === undefined) {
    if (s === undefined) series = DEFAULT_SERIES;
    else if (typeof s !== "string") {
      return { reason: "invalid_series", detail: `series must be a string, got ${kind(s)}` };
    } else if (s === lastGoodSeries) {
      series = s; // the same name as the previous point: already checked
    } else {
      const problem = seriesProblem(s);
      if (problem) return { reason: "invalid_series", detail: problem };
      series = lastGoodSeries = s;
    }
  }
  if (unit !== undefined) {
    const problem = unitProblem(unit);
    if (problem) return { reason: "invalid_unit", detail: problem };
  }
  // Seconds become milliseconds, rounded to the microsecond to keep float noise out of the JSON.
  const ms = Math.abs(x) < SECONDS_THRESHOLD ? Math.round(x * 1e6) / 1e3 : x;
  if (!Number.isFinite(ms)) return { reason: "invalid_x", detail: "x out of range" };
  if (range && (ms < range.lo || ms > range.hi)) {
    return {
      reason: "invalid_x",
      detail: `x ${ms} ms is ${ms < range.lo ? "before" : "after"} the accepted window ` +
        `(${new Date(range.lo).toISOString()} .. ${new Date(range.hi).toISOString()}; ` +
        `--x-window; x is epoch ms, or seconds below 1e11)`,
    };
  }
  return unit === undefined ? { x: ms, y, series } : { x: ms, y, series, unit: unit as string };
}

/** A value's kind, for messages. */
export function kind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  return typeof v;
}
