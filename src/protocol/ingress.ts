/**
 * The producer protocol: turns the frames of one ZeroMQ message into validated points, or into the
 * reasons they were rejected. Pure: no I/O.
 *
 * - One frame of JSON: `{"x": <epoch ms>, "y": <number>, "series"?: "<name>"}`, or an array of them.
 * - Two frames `[series, json]`: the first frame (the ZeroMQ topic) names the series of every point.
 * - `x` below 1e11 is taken as epoch seconds and multiplied by 1000.
 * - `x` must lie within a window around the relay's clock (`--x-window`, default
 *   {@link DEFAULT_X_WINDOW_MS} either way): a point outside it (the year 3000, 1e308, nanoseconds,
 *   1970) is dropped and counted as `invalid_x`, so one bad point cannot move every chart.
 *
 * Late and out-of-order points (x older than the series' newest, within the window) are accepted
 * and sequenced in arrival order like any other: clients receive them in seq order, the history
 * holds them in arrival order, and the page sorts each series by x when it stores a point.
 *
 * Series names, their limits and the default series come from `static/protocol.js`, which the
 * page loads too.
 *
 * @module
 */
import { DEFAULT_SERIES, MAX_SERIES_LENGTH, seriesProblem } from "../../static/protocol.js";

/** A validated data point, as it travels from the relay to the browsers. */
export interface Point {
  /** Epoch milliseconds. */
  x: number;
  /** The value. */
  y: number;
  /** The series (line) it belongs to. */
  series: string;
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
  "overload",
] as const;

/** One of {@link REJECT_REASONS}. */
export type RejectReason = typeof REJECT_REASONS[number];

/** A rejection with a short human-readable detail (for the log line). */
export interface Rejection {
  reason: RejectReason;
  detail: string;
}

/** What one producer message yields: its valid points and the rejections of the rest. */
export interface ParsedMessage {
  points: Point[];
  rejected: Rejection[];
}

export { DEFAULT_SERIES, MAX_SERIES_LENGTH, seriesProblem };
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

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
/** For series names: a leading U+FEFF is part of the name, not a byte-order mark to drop. */
const utf8Keep = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parses one producer message (its frames) into points. `maxBytes` bounds the frames' total size;
 * `xWindow` the x accepted (absent: any finite x; the server passes `--x-window`).
 * Never throws.
 */
export function parseMessage(
  frames: readonly Uint8Array[],
  maxBytes: number,
  xWindow: XWindow = { windowMs: 0 },
): ParsedMessage {
  let size = 0;
  for (const f of frames) size += f.byteLength;
  if (size > maxBytes) return reject("oversize", `${size} bytes > limit ${maxBytes}`);
  if (frames.length < 1 || frames.length > 2) {
    return reject("frame_count", `${frames.length} frames (expected 1, or 2 as [series, json])`);
  }
  let topicSeries: string | undefined;
  if (frames.length === 2) {
    const topic = decode(frames[0], utf8Keep);
    if (topic === undefined) return reject("invalid_utf8", "series frame is not UTF-8");
    const problem = seriesProblem(topic);
    if (problem) return reject("invalid_series", problem);
    topicSeries = topic;
  }
  const text = decode(frames[frames.length - 1]);
  if (text === undefined) return reject("invalid_utf8", "payload is not UTF-8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return reject("invalid_json", (err as Error).message.slice(0, 120));
  }
  const out: ParsedMessage = { points: [], rejected: [] };
  const range = xRange(xWindow);
  if (Array.isArray(value)) {
    if (value.length === 0) return reject("empty_batch", "empty array");
    for (const item of value) addPoint(out, item, topicSeries, range);
  } else {
    addPoint(out, value, topicSeries, range);
  }
  return out;
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
  const x = Object.hasOwn(v, "x") ? v.x : undefined;
  const y = Object.hasOwn(v, "y") ? v.y : undefined;
  if (typeof x !== "number" || !Number.isFinite(x)) {
    return { reason: "invalid_x", detail: `x must be a finite number, got ${kind(x)}` };
  }
  if (typeof y !== "number" || !Number.isFinite(y)) {
    return { reason: "invalid_y", detail: `y must be a finite number, got ${kind(y)}` };
  }
  let series = topicSeries;
  if (series === undefined) {
    const s = Object.hasOwn(v, "series") ? v.series : undefined;
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
  return { x: ms, y, series };
}

function addPoint(
  out: ParsedMessage,
  item: unknown,
  topicSeries: string | undefined,
  range: XRange,
): void {
  const p = toPoint(item, topicSeries, range);
  if ("reason" in p) out.rejected.push(p);
  else out.points.push(p);
}

function reject(reason: RejectReason, detail: string): ParsedMessage {
  return { points: [], rejected: [{ reason, detail }] };
}

function decode(bytes: Uint8Array, decoder: TextDecoder = utf8): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

function kind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  return typeof v;
}
