/**
 * The producer protocol: turns the frames of one ZeroMQ message into validated points, or into the
 * reasons they were rejected. Pure: no I/O.
 *
 * - One frame of JSON: `{"x": <epoch ms>, "y": <number>, "series"?: "<name>", "unit"?: "<unit>"}`,
 *   or an array of them. `unit` (1 to {@link MAX_UNIT_LENGTH} characters, no control characters;
 *   otherwise the point is dropped as `invalid_unit`) names the unit of the point's series: the
 *   last one seen is kept per series and shown to viewers (`series_list`, the history API); the
 *   points themselves go out without it.
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
import { pointTail } from "./frames.ts";
import {
  checkPoint,
  type Point,
  type Rejection,
  type RejectReason,
  toPoint,
  type XRange,
  xRange,
  type XWindow,
} from "./points.ts";

export {
  checkPoint,
  DEFAULT_X_WINDOW_MS,
  kind,
  MAX_UNIT_LENGTH,
  type Point,
  REJECT_REASONS,
  type Rejection,
  type RejectReason,
  SECONDS_THRESHOLD,
  toPoint,
  unitProblem,
  type XRange,
  xRange,
  type XWindow,
} from "./points.ts";
import {
  END,
  OBJ,
  S0,
  S1,
  scanPoints,
  type ScanSpans,
  SPAN_SLOTS,
  X0,
  X1,
  Y0,
  Y1,
} from "./point_scan.ts";

/** What one producer message yields: its valid points and the rejections of the rest. */
export interface ParsedMessage {
  points: Point[];
  rejected: Rejection[];
  /** Series -> unit, from the points that carried one (absent when none did). */
  units?: Map<string, string>;
}

/**
 * A validated point already in its client JSON but for the seq: `tail` is what follows
 * `{"seq":N,` (`"x":…,"y":…,"series":…}`, see `frames.ts`). What the relay sequences.
 */
export interface EncodedPoint {
  /** The series (line) it belongs to. */
  series: string;
  /** The client JSON after the seq field. */
  tail: string;
  /** x in epoch ms and y, as numbers (for the durable store). */
  x: number;
  y: number;
}

/** {@link ParsedMessage} with the points encoded ({@link parseEncoded}). */
export interface EncodedMessage {
  points: EncodedPoint[];
  rejected: Rejection[];
  /** Series -> unit, from the points that carried one (absent when none did). */
  units?: Map<string, string>;
}

export { DEFAULT_SERIES, MAX_SERIES_LENGTH, seriesProblem };
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
  return parse(frames, maxBytes, xWindow, false) as ParsedMessage;
}

/**
 * {@link parseMessage} by the same rules, with each point in its client JSON (but for the seq)
 * instead of as numbers: what the relay sequences. For compact payloads (`point_scan.ts`) the
 * producer's own number text is reused, so no number is formatted again (x is, when it came in
 * seconds). Never throws.
 */
export function parseEncoded(
  frames: readonly Uint8Array[],
  maxBytes: number,
  xWindow: XWindow = { windowMs: 0 },
): EncodedMessage {
  return parse(frames, maxBytes, xWindow, true) as EncodedMessage;
}

/** Longest number text reused as is in the client JSON (longer ones are formatted again). */
const MAX_REUSED_NUMBER = 24;
const DEFAULT_SERIES_JSON = JSON.stringify(DEFAULT_SERIES);
/** The last series name the scanner sliced (see {@link parseScanned}). */
let lastScanned = "";
const spans: ScanSpans = { slots: new Int32Array(SPAN_SLOTS * 128) };

function parse(
  frames: readonly Uint8Array[],
  maxBytes: number,
  xWindow: XWindow,
  encoded: boolean,
): ParsedMessage | EncodedMessage {
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
  const range = xRange(xWindow);
  const n = scanPoints(text, spans);
  if (n > 0) return parseScanned(text, n, topicSeries, range, encoded);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return reject("invalid_json", (err as Error).message.slice(0, 120));
  }
  const out: {
    points: (Point | EncodedPoint)[];
    rejected: Rejection[];
    units?: Map<string, string>;
  } = { points: [], rejected: [] };
  const add = (item: unknown) => {
    const p = toPoint(item, topicSeries, range);
    if ("reason" in p) {
      out.rejected.push(p);
      return;
    }
    out.points.push(encoded ? { series: p.series, tail: pointTail(p), x: p.x, y: p.y } : p);
    if (p.unit !== undefined) (out.units ??= new Map()).set(p.series, p.unit);
  };
  if (Array.isArray(value)) {
    if (value.length === 0) return reject("empty_batch", "empty array");
    for (const item of value) add(item);
  } else {
    add(value);
  }
  return out as ParsedMessage | EncodedMessage;
}

/** The points {@link scanPoints} found in `t`, validated by {@link checkPoint}. */
function parseScanned(
  t: string,
  n: number,
  topicSeries: string | undefined,
  range: XRange,
  encoded: boolean,
): ParsedMessage | EncodedMessage {
  const s = spans.slots;
  const points: (Point | EncodedPoint)[] = [];
  const rejected: Rejection[] = [];
  const topicJson = topicSeries === undefined ? undefined : JSON.stringify(topicSeries);
  for (let i = 0, b = 0; i < n; i++, b += SPAN_SLOTS) {
    const x0 = s[b + X0], x1 = s[b + X1], y0 = s[b + Y0], y1 = s[b + Y1], s0 = s[b + S0];
    const x = Number(t.slice(x0, x1));
    let name: string | undefined;
    if (s0 >= 0) {
      // Points of a message mostly share a series: compare in place before slicing a new one.
      const len = s[b + S1] - s0;
      name = lastScanned.length === len && t.startsWith(lastScanned, s0)
        ? lastScanned
        : (lastScanned = t.slice(s0, s0 + len));
    }
    const p = checkPoint(x, Number(t.slice(y0, y1)), name, undefined, topicSeries, range);
    if ("reason" in p) rejected.push(p);
    else if (!encoded) points.push(p);
    else if (
      p.x !== x || p.x === 0 || p.y === 0 || x1 - x0 > MAX_REUSED_NUMBER ||
      y1 - y0 > MAX_REUSED_NUMBER
    ) {
      // x came in seconds, x or y may be -0 (formatted "0"), or the text is long: format it.
      points.push({ series: p.series, tail: pointTail(p), x: p.x, y: p.y });
    } else if (topicJson === undefined && s0 >= 0) {
      // The producer's own text, `"x":…,"y":…,"series":"…"}`: a series without escapes is its
      // own JSON.
      points.push({
        series: p.series,
        tail: t.slice(s[b + OBJ] + 1, s[b + END] + 1),
        x: p.x,
        y: p.y,
      });
    } else {
      const sj = topicJson ?? DEFAULT_SERIES_JSON;
      points.push({
        series: p.series,
        tail: `${t.slice(s[b + OBJ] + 1, y1)},"series":${sj}}`,
        x: p.x,
        y: p.y,
      });
    }
  }
  return { points, rejected } as ParsedMessage | EncodedMessage;
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
