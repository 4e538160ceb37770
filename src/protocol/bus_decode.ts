/**
 * Decoding of the points bus (format in `bus.ts`): a message checked and read into a batch, units
 * or the end of stream, never throwing; then per-point access that costs a slice. Pure: no I/O.
 *
 * @module
 */
import {
  BUS_VERSION,
  type BusBatch,
  type BusMessage,
  type Frame,
  MAX_EPOCH_LENGTH,
  UNITS_WORD,
} from "./bus.ts";

/** Longest unit accepted off the bus, in UTF-16 units (producers' are checked by the ingress). */
const MAX_BUS_UNIT = 64;

const utf8 = new TextDecoder();
const asText = (f: Frame): string => typeof f === "string" ? f : utf8.decode(f);

/** Whether `frames` is the end-of-stream message (cheap: no decoding). */
export function isEndOfStream(frames: readonly Frame[]): boolean {
  return frames.length >= 2 && frames[0].length === 0 && frames[1].length === 0;
}

const COMMA = 0x2c;
const DIGIT_0 = 0x30;

/**
 * The index frame's end offsets (decimal, joined by ","), checked to grow by more than 1 each and
 * stay within the body; a reason when they do not. Reads bytes or a string alike, without a split.
 */
function parseEnds(raw: Frame, count: number, bodyLength: number): Uint32Array | string {
  const ends = new Uint32Array(count);
  const text = typeof raw === "string";
  const length = raw.length;
  if (length === 0) return count === 0 ? ends : `index does not hold ${count} offsets`;
  let n = 0;
  let value = -1;
  let prev = -1;
  for (let k = 0; k <= length; k++) {
    const c = k === length ? COMMA : text ? raw.charCodeAt(k) : raw[k];
    if (c === COMMA) {
      if (value < 0 || n >= count) return `index does not hold ${count} offsets`;
      if (value <= prev + 1 || value > bodyLength) return "bad point offsets";
      ends[n++] = value;
      prev = value;
      value = -1;
      continue;
    }
    const d = c - DIGIT_0;
    if (d < 0 || d > 9 || value > 0x7fffffff) return "bad point offsets";
    value = value < 0 ? d : value * 10 + d;
  }
  return n === count ? ends : `index does not hold ${count} offsets`;
}

/**
 * Decodes one bus message. Never throws: a message that is not a valid batch comes back as
 * `invalid` with the reason (a consumer drops and counts it).
 */
export function decodeBus(frames: readonly Frame[]): BusMessage {
  if (isEndOfStream(frames)) return { kind: "end" };
  if (frames.length === 3) return decodeUnits(frames);
  if (frames.length !== 4 && frames.length !== 5) {
    return { kind: "invalid", reason: `${frames.length} frames, expected 4 or 5` };
  }
  const header = asText(frames[1]);
  const parts = header.split(" ");
  if (parts.length !== 4 || parts[0] !== String(BUS_VERSION)) {
    return { kind: "invalid", reason: `bad header "${header.slice(0, 80)}"` };
  }
  const firstSeq = Number(parts[1]);
  const count = Number(parts[2]);
  const epoch = parts[3];
  if (
    !Number.isSafeInteger(firstSeq) || firstSeq < 0 || !Number.isSafeInteger(count) || count < 0
  ) {
    return { kind: "invalid", reason: `bad seq or count in header "${header.slice(0, 80)}"` };
  }
  if (epoch.length === 0 || epoch.length > MAX_EPOCH_LENGTH) {
    return { kind: "invalid", reason: "bad epoch" };
  }
  const body = asText(frames[2]);
  const ends = parseEnds(frames[3], count, body.length);
  if (typeof ends === "string") return { kind: "invalid", reason: ends };
  if (count > 0 && ends[count - 1] !== body.length) {
    return { kind: "invalid", reason: "point offsets do not cover the body" };
  }
  if (frames.length === 4) {
    const topic = asText(frames[0]);
    return {
      kind: "batch",
      batch: { epoch, firstSeq, count, body, ends, seriesNames: count === 0 ? [] : [topic] },
    };
  }
  const seriesText = asText(frames[4]);
  const cut = seriesText.indexOf("\n\n");
  if (cut < 0) return { kind: "invalid", reason: "mixed batch without a series list" };
  const seriesNames = seriesText.slice(0, cut).split("\n");
  const idx = seriesText.slice(cut + 2).split(",");
  if (idx.length !== count) return { kind: "invalid", reason: "series index count mismatch" };
  const seriesIndex = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    const k = Number(idx[i]);
    if (!(k >= 0 && k < seriesNames.length) || !Number.isInteger(k)) {
      return { kind: "invalid", reason: "bad series index" };
    }
    seriesIndex[i] = k;
  }
  return { kind: "batch", batch: { epoch, firstSeq, count, body, ends, seriesNames, seriesIndex } };
}

/** Decodes a units message (3 frames). */
function decodeUnits(frames: readonly Frame[]): BusMessage {
  const header = asText(frames[1]).split(" ");
  if (header.length !== 3 || header[0] !== String(BUS_VERSION) || header[1] !== UNITS_WORD) {
    return { kind: "invalid", reason: "3 frames, and not a units message" };
  }
  const epoch = header[2];
  if (epoch.length === 0 || epoch.length > MAX_EPOCH_LENGTH) {
    return { kind: "invalid", reason: "bad epoch" };
  }
  let body: unknown;
  try {
    body = JSON.parse(asText(frames[2]));
  } catch {
    return { kind: "invalid", reason: "units are not JSON" };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { kind: "invalid", reason: "units are not an object" };
  }
  const units = Object.entries(body);
  for (const [, u] of units) {
    if (typeof u !== "string" || u.length === 0 || u.length > MAX_BUS_UNIT) {
      return { kind: "invalid", reason: "a unit is not a short string" };
    }
  }
  return { kind: "units", epoch, units: units as [string, string][] };
}

/** The client JSON of point `i` of `b` (a slice of its body). */
export function pointJson(b: BusBatch, i: number): string {
  return b.body.slice(i === 0 ? 0 : b.ends[i - 1] + 1, b.ends[i]);
}

/** The series of point `i` of `b`. */
export function pointSeries(b: BusBatch, i: number): string {
  return b.seriesIndex ? b.seriesNames[b.seriesIndex[i]] : b.seriesNames[0];
}

/** Seq of the last point of `b` (for a heartbeat: the last seq assigned before it). */
export function lastSeqOf(b: BusBatch): number {
  return b.firstSeq + b.count - 1;
}
