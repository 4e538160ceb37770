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
  type Point,
  type Rejection,
  type RejectReason,
  toPoint,
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
import { scanPoints, type ScanSpans, SPAN_SLOTS } from "./point_scan.ts";
import { type PackedPoints, validateScanned } from "./packed_points.ts";

export { isPacked, type PackedPoints } from "./packed_points.ts";

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

/** The points of an {@link EncodedMessage}: one object per point, or packed (`packed_points.ts`). */
export type EncodedPoints = EncodedPoint[] | PackedPoints;

/** {@link ParsedMessage} with the points encoded ({@link parseEncoded}). */
export interface EncodedMessage {
  points: EncodedPoints;
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
  const payload = frames[frames.length - 1];
  const range = xRange(xWindow);
  const n = scanPoints(payload, spans);
  if (n > 0) {
    const scanned = validateScanned(payload, n, spans.slots, topicSeries, range, encoded);
    if (scanned) return scanned as ParsedMessage | EncodedMessage;
  }
  const text = decode(payload);
  if (text === undefined) return reject("invalid_utf8", "payload is not UTF-8");
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
