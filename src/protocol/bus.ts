/**
 * The points bus codec: the one definition of the ZeroMQ messages that carry sequenced points from
 * the relay to the bridge (inproc), and from the forwarder to gateways (TCP). Every producer and
 * consumer of the bus encodes and decodes with this module. Pure: no I/O, imports nothing.
 *
 * ## Wire format (version 1)
 *
 * One ZeroMQ message carries a **batch**: up to {@link BUS_BATCH_POINTS} points with consecutive
 * seqs, in seq order. Four frames, a fifth when the batch mixes series:
 *
 * | # | frame    | content |
 * | - | -------- | ------- |
 * | 0 | `topic`  | the series of every point (UTF-8), or {@link MIXED_TOPIC} (`"\x01"`) when the batch mixes series or carries no point (a heartbeat). First, so it is the ZeroMQ topic: XPUB/XSUB proxies pass a subscriber's series upstream. A subscriber to some series also subscribes to `"\x01"` and picks points by frame 4. |
 * | 1 | `header` | ASCII `"1 <firstSeq> <count> <epoch>"`: the format version, the seq of the first point (decimal), how many points (decimal, 0 for a heartbeat), the sequencer's run id (at most 64 bytes, no space). |
 * | 2 | `body`   | the points as browsers receive them (`{"seq":…,"x":…,"y":…,"series":…}`, see `frames.ts`), joined by `","`: a `points` frame for clients that see every series is `{"type":"points","points":[` + bodies joined by `","` + `]}`, with no work per point. |
 * | 3 | `index`  | per point, its end offset in `body` decoded as a string (UTF-16 code units), in decimal ASCII, joined by `","` (text, not binary: zeromq.js sends a buffer over 128 bytes without copying it, and under Deno that corrupts the heap; strings are copied). Point `i` is `body.slice(i === 0 ? 0 : end[i-1] + 1, end[i])`. |
 * | 4 | `series` | mixed batches only: the batch's distinct series, joined by `"\n"`, then `"\n\n"`, then each point's index into that list as a decimal digit string joined by `","`. |
 *
 * - Seqs are assigned once, by the one relay that validated the points; within an epoch they go
 *   up by exactly 1 per point, batch after batch, so a gap in them means points were missed.
 * - A **heartbeat** is a batch of count 0 (`firstSeq` = last seq assigned + 1, empty body and
 *   index), topic `"\x01"`: the relay sends one when idle, so a consumer can tell "quiet" from
 *   "dead" (`/healthz`).
 * - **Units** ({@link encodeUnits}): three frames, `"\x01"`, `"1 units <epoch>"` and a JSON
 *   object `{"<series>":"<unit>",…}`: the unit producers last sent for those series. The relay
 *   sends the ones that changed as they change, and all of them every {@link UNITS_REFRESH_MS} (a
 *   gateway that joins later learns them). Points themselves never carry a unit. A consumer of an
 *   older version counts one as invalid and goes on.
 * - **End of stream** ({@link END_OF_STREAM}): `["", ""]`, an empty topic and an empty header. It
 *   ends the bridge's receive loop; the relay sends it when it stops. A forwarder never sends one
 *   on its egress (gateways keep following across its restarts); a gateway sends its own into its
 *   upstream proxy when it shuts down.
 *
 * Why batches: a ZeroMQ message costs the receiving thread a few microseconds whatever it holds,
 * and the bridge's work per batch (one header parse, one frame built per series set) dwarfs its
 * work per point (a string slice into the history), so the cost is per batch plus a little per
 * point. Nothing is `JSON.parse`d on the way.
 *
 * @module
 */

/** Most points in one bus message. */
export const BUS_BATCH_POINTS = 512;
/** A batch takes no further point once its body reaches this many UTF-16 code units. */
export const BUS_BATCH_CHARS = 64 * 1024;
/** The topic of a batch whose points mix series, and of heartbeats. */
export const MIXED_TOPIC = "\x01";
/** The wire format version, the first field of the header. */
export const BUS_VERSION = 1;
/** Longest epoch, in bytes. */
export const MAX_EPOCH_LENGTH = 64;

/** The end-of-stream message: an empty topic and an empty header. */
export const END_OF_STREAM: readonly string[] = Object.freeze(["", ""]);

/** A frame as it comes off a ZeroMQ socket (a `Buffer`) or goes onto one. */
export type Frame = Uint8Array | string;

/** The frames of one encoded bus message, ready for `socket.send()`. */
export type BusFrames = [topic: string, header: string, body: string, index: string] | [
  topic: string,
  header: string,
  body: string,
  index: string,
  series: string,
];

/** A decoded batch: per-batch fields, and per-point access that costs a slice. */
export interface BusBatch {
  /** The sequencer's run id. */
  readonly epoch: string;
  /** Seq of the first point (for a heartbeat: the next seq to be assigned). */
  readonly firstSeq: number;
  /** How many points (0: a heartbeat). */
  readonly count: number;
  /** The points' client JSON joined by `","` (see the module doc). */
  readonly body: string;
  /** Each point's end offset in `body`. */
  readonly ends: Uint32Array;
  /** Distinct series in the batch, in first-seen order (one entry unless mixed). */
  readonly seriesNames: readonly string[];
  /** Each point's index into `seriesNames`; undefined when the batch has one series. */
  readonly seriesIndex?: Uint16Array;
}

/** What {@link decodeBus} returns: a batch, units, the end of stream, or why it is none. */
export type BusMessage =
  | { kind: "batch"; batch: BusBatch }
  | { kind: "units"; epoch: string; units: [series: string, unit: string][] }
  | { kind: "end" }
  | { kind: "invalid"; reason: string };

/**
 * Builds one batch point by point, with no array of points in between: {@link add} each point's
 * client JSON and series, then {@link finish}. Reusable after `finish`.
 */
export class BusBatchBuilder {
  #json: string[] = [];
  #ends: number[] = [];
  #chars = 0;
  #names: string[] = [];
  #nameIndex = new Map<string, number>();
  #index: number[] = [];
  #last = -1;
  #mixed = false;

  /** Points added since the last {@link finish}. */
  get count(): number {
    return this.#json.length;
  }

  /** Whether the batch is full ({@link BUS_BATCH_POINTS} points or {@link BUS_BATCH_CHARS}). */
  get full(): boolean {
    return this.#json.length >= BUS_BATCH_POINTS || this.#chars >= BUS_BATCH_CHARS;
  }

  /** Adds one point: its client JSON (no `","` needed around it) and its series name. */
  add(json: string, series: string): void {
    if (this.#json.length > 0) this.#chars++; // the "," before it
    this.#chars += json.length;
    this.#json.push(json);
    this.#ends.push(this.#chars);
    let i = this.#last >= 0 && this.#names[this.#last] === series
      ? this.#last
      : this.#nameIndex.get(series);
    if (i === undefined) {
      i = this.#names.length;
      this.#names.push(series);
      this.#nameIndex.set(series, i);
      if (i > 0) this.#mixed = true;
    }
    this.#last = i;
    this.#index.push(i);
  }

  /** Encodes the points added (seqs `firstSeq`, +1 each) under `epoch`, and resets. */
  finish(epoch: string, firstSeq: number): BusFrames {
    const n = this.#json.length;
    const index = this.#ends.join(",");
    const header = `${BUS_VERSION} ${firstSeq} ${n} ${epoch}`;
    const body = this.#json.join(",");
    const frames: BusFrames = this.#mixed
      ? [MIXED_TOPIC, header, body, index, `${this.#names.join("\n")}\n\n${this.#index.join(",")}`]
      : [n === 0 ? MIXED_TOPIC : this.#names[0], header, body, index];
    this.#json = [];
    this.#ends = [];
    this.#chars = 0;
    this.#names = [];
    this.#nameIndex.clear();
    this.#index = [];
    this.#last = -1;
    this.#mixed = false;
    return frames;
  }
}

/** Encodes a whole batch at once (see {@link BusBatchBuilder} to build one point by point). */
export function encodeBus(
  epoch: string,
  firstSeq: number,
  points: readonly { json: string; series: string }[],
): BusFrames {
  const b = new BusBatchBuilder();
  for (const p of points) b.add(p.json, p.series);
  return b.finish(epoch, firstSeq);
}

/** How often the relay sends every unit it knows again, in ms. */
export const UNITS_REFRESH_MS = 10_000;
/** The header word of a units message. */
const UNITS_WORD = "units";
/** Longest unit accepted off the bus, in UTF-16 units (producers' are checked by the ingress). */
const MAX_BUS_UNIT = 64;

/** A units message: series -> the unit producers last sent for it. */
export function encodeUnits(
  epoch: string,
  units: Iterable<readonly [string, string]>,
): [topic: string, header: string, body: string] {
  // fromEntries: a series named "__proto__" is an own key like any other.
  const body = JSON.stringify(Object.fromEntries(units));
  return [MIXED_TOPIC, `${BUS_VERSION} ${UNITS_WORD} ${epoch}`, body];
}

/** A heartbeat: a batch of no point; `nextSeq` is the seq the next point will get. */
export function encodeHeartbeat(epoch: string, nextSeq: number): BusFrames {
  return new BusBatchBuilder().finish(epoch, nextSeq);
}

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
