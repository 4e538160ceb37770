/**
 * The relay's fast path for compact producer messages: the points `point_scan.ts` found in a
 * payload's bytes, validated by the rules of `points.ts` and packed (columns of numbers and byte
 * offsets into the payload, no object or string per point), so that `bus_encode.ts` writes each
 * point's client JSON by copying the producer's own bytes. What it cannot reuse as it came (x in
 * seconds, a zero written otherwise than `0`, a long number) it formats again, as the general path
 * does; what its shortcut cannot decide it asks `checkPoint`. Pure: no I/O.
 *
 * @module
 */
import { DEFAULT_SERIES } from "../../static/protocol.js";
import { pointTail } from "./frames.ts";
import {
  checkPoint,
  type Point,
  type Rejection,
  SECONDS_THRESHOLD,
  type XRange,
} from "./points.ts";
import { END, fastNumber, OBJ, S0, S1, SPAN_SLOTS, X0, X1, Y0, Y1 } from "./point_scan.ts";

/**
 * The valid points of a compact producer message (`point_scan.ts`), packed: what the relay
 * sequences without an object or a string per point. Point `i`'s client JSON after its seq is
 * `formatted[i]` when set (its numbers had to be formatted again: x in seconds, a zero, a long
 * number); else the payload's bytes `[copy[2i], |copy[2i+1]|)`, followed by `suffix` when
 * `copy[2i+1]` is negative (the series was not among the bytes: the topic's, or the default).
 * Everything in it is ASCII, so byte offsets are string offsets. Built by {@link parseEncoded};
 * `bus_encode.ts` writes it out.
 */
export interface PackedPoints {
  readonly packed: true;
  /** How many points. */
  readonly length: number;
  /** The producer's payload (ASCII; held, not copied: the caller gives up the frame). */
  readonly bytes: Uint8Array;
  /** Two slots per point: where its bytes start, and where they end (negative: then `suffix`). */
  readonly copy: Int32Array;
  /** `,"series":…}` for the points whose series is not in their bytes. */
  readonly suffix: string;
  /** Per point, its formatted tail, where its own bytes could not be reused (absent: none). */
  readonly formatted?: readonly (string | undefined)[];
  /** Per point, its series. */
  readonly series: readonly string[];
  /** Two slots per point: x (epoch ms) and y, as numbers (for the durable store). */
  readonly xy: Float64Array;
}

/** Whether `points` are packed (else one object per point). */
export function isPacked(points: PackedPoints | readonly unknown[]): points is PackedPoints {
  return !Array.isArray(points);
}

/** Longest number text reused as is in the client JSON (longer ones are formatted again). */
export const MAX_REUSED_NUMBER = 24;
const DEFAULT_SERIES_JSON = JSON.stringify(DEFAULT_SERIES);
/**
 * Series names `checkPoint` accepted lately, most recent first (a producer mostly sends a few,
 * often taking turns point by point): a point's name is looked up here by its bytes, with no
 * string made and no check run again.
 */
const accepted: string[] = [];
/** How many names {@link accepted} keeps. */
const ACCEPTED_NAMES = 16;

/** What {@link validateScanned} made of a compact message: its valid points, and the rejections. */
export interface ScannedMessage {
  /** `Point`s, or (when asked for `encoded`) packed (an empty array when none is valid). */
  points: Point[] | PackedPoints;
  rejected: Rejection[];
}

/**
 * The `n` points `scanPoints` (`point_scan.ts`) found in `t` (their spans in `slots`), validated by
 * {@link checkPoint}: `Point`s, or (when `encoded`) {@link PackedPoints}. Undefined when the
 * topic's series is not ASCII (the general path then takes the message).
 */
export function validateScanned(
  t: Uint8Array,
  n: number,
  s: Int32Array,
  topicSeries: string | undefined,
  range: XRange,
  encoded: boolean,
): ScannedMessage | undefined {
  const suffixSeries = topicSeries === undefined
    ? DEFAULT_SERIES_JSON
    : JSON.stringify(topicSeries);
  if (encoded && !isAscii(suffixSeries)) return undefined;
  const points: Point[] = [];
  const rejected: Rejection[] = [];
  const copy = encoded ? new Int32Array(2 * n) : undefined;
  const xy = encoded ? new Float64Array(2 * n) : undefined;
  const series: string[] = [];
  let formatted: (string | undefined)[] | undefined;
  /** The payload as a string, made when a number needs `Number` (17 digits, an exponent). */
  let text: string | undefined;
  let k = 0;
  // The previous point's x text and value: the points of a message often share their x (one
  // sample of several series), and a clock's 17 digits are read by Number, not fastNumber.
  let lastX0 = 0, lastX1 = -1, lastX = NaN;
  for (let i = 0, b = 0; i < n; i++, b += SPAN_SLOTS) {
    const x0 = s[b + X0], x1 = s[b + X1], y0 = s[b + Y0], y1 = s[b + Y1], s0 = s[b + S0];
    let x: number;
    if (sameBytes(t, lastX0, lastX1, x0, x1)) x = lastX;
    else {
      x = fastNumber(t, x0, x1);
      if (x !== x) x = Number((text ??= ascii(t, 0, t.length)).slice(x0, x1));
      lastX0 = x0, lastX1 = x1, lastX = x;
    }
    let y = fastNumber(t, y0, y1);
    if (y !== y) y = Number((text ??= ascii(t, 0, t.length)).slice(y0, y1));
    let name: string | undefined;
    let known = false;
    if (s0 >= 0 && topicSeries === undefined) {
      // (The topic's series overrides a point's: its name is not even read then.)
      const s1 = s[b + S1];
      name = acceptedName(t, s0, s1);
      known = name !== undefined;
      name ??= ascii(t, s0, s1);
    }
    // What checkPoint would accept unchanged, without asking it: a millisecond x inside the
    // range, a finite y, a series it already accepted (or the topic's, or the default).
    const plain = Math.abs(x) >= SECONDS_THRESHOLD && x >= range.lo && x <= range.hi &&
      Number.isFinite(x) && Number.isFinite(y) &&
      (topicSeries !== undefined || name === undefined || known);
    let px = x, py = y, ps: string;
    if (plain) ps = topicSeries ?? name ?? DEFAULT_SERIES;
    else {
      const checked = checkPoint(x, y, name, undefined, topicSeries, range);
      if ("reason" in checked) {
        rejected.push(checked);
        continue;
      }
      px = checked.x;
      py = checked.y;
      ps = checked.series;
      if (topicSeries === undefined && name !== undefined && !known) accept(name);
    }
    if (!encoded) {
      points.push({ x: px, y: py, series: ps });
      continue;
    }
    series[k] = ps;
    xy![2 * k] = px;
    xy![2 * k + 1] = py;
    const o = s[b + OBJ] + 1;
    if (
      px !== x || px === 0 || py === 0 && (y1 - y0 !== 1 || t[y0] !== ZERO_CHAR) ||
      x1 - x0 > MAX_REUSED_NUMBER || y1 - y0 > MAX_REUSED_NUMBER
    ) {
      // x came in seconds or is a zero, y is a zero written otherwise than "0" (-0 is formatted
      // "0"), or the text is long: format it.
      (formatted ??= [])[k] = pointTail({ x: px, y: py, series: ps });
    } else if (topicSeries === undefined && s0 >= 0) {
      // The producer's own bytes, `"x":…,"y":…,"series":"…"}`: an ASCII series without escapes
      // is its own JSON.
      copy![2 * k] = o;
      copy![2 * k + 1] = s[b + END] + 1;
    } else {
      copy![2 * k] = o;
      copy![2 * k + 1] = -y1;
    }
    k++;
  }
  if (!encoded) return { points, rejected };
  const packed: PackedPoints = {
    packed: true,
    length: k,
    bytes: t.length > HELD_BYTES_PER_POINT * k ? keepCopied(t, copy!, k) : t,
    copy: copy!,
    suffix: `,"series":${suffixSeries}}`,
    ...(formatted ? { formatted } : {}),
    series,
    xy: xy!,
  };
  return { points: k > 0 ? packed : [], rejected };
}

/**
 * Most payload bytes held per valid point: a payload with more (long rejected points beside a few
 * valid ones) is not held whole until its points are sequenced, only the bytes they copy.
 */
export const HELD_BYTES_PER_POINT = 256;

/** The bytes `copy` refers to (its first `k` points), in a new buffer; `copy` is moved to it. */
function keepCopied(t: Uint8Array, copy: Int32Array, k: number): Uint8Array {
  let size = 0;
  for (let i = 0; i < k; i++) size += Math.abs(copy[2 * i + 1]) - copy[2 * i];
  const out = new Uint8Array(size);
  let at = 0;
  for (let i = 0; i < k; i++) {
    const a = copy[2 * i], e = copy[2 * i + 1], b = Math.abs(e);
    out.set(t.subarray(a, b), at);
    copy[2 * i] = at;
    at += b - a;
    copy[2 * i + 1] = e < 0 ? -at : at;
  }
  return out;
}

/** The name in {@link accepted} whose ASCII is `t[from, to)` (moved up one place), if any. */
function acceptedName(t: Uint8Array, from: number, to: number): string | undefined {
  for (let i = 0; i < accepted.length; i++) {
    const name = accepted[i];
    if (!sameAscii(name, t, from, to)) continue;
    if (i > 0) {
      accepted[i] = accepted[i - 1];
      accepted[i - 1] = name;
    }
    return name;
  }
  return undefined;
}

/** Remembers a name `checkPoint` accepted, first (the last one of a full list goes). */
function accept(name: string): void {
  if (accepted.length >= ACCEPTED_NAMES) accepted.pop();
  accepted.unshift(name);
}
const ZERO_CHAR = 0x30;

/** Whether `t[a0, a1)` and `t[b0, b1)` hold the same bytes (compared from the end). */
function sameBytes(t: Uint8Array, a0: number, a1: number, b0: number, b1: number): boolean {
  if (a1 - a0 !== b1 - b0) return false;
  for (let i = a1 - 1, j = b1 - 1; i >= a0; i--, j--) if (t[i] !== t[j]) return false;
  return true;
}

/** Whether `t[from, to)` holds the ASCII string `s`. */
function sameAscii(s: string, t: Uint8Array, from: number, to: number): boolean {
  if (s.length !== to - from) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== t[from + i]) return false;
  return true;
}

/** `t[from, to)`, ASCII, as a string. */
function ascii(t: Uint8Array, from: number, to: number): string {
  return asciiDecoder.decode(t.subarray(from, to));
}
const asciiDecoder = new TextDecoder();

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7e) return false;
  return true;
}
