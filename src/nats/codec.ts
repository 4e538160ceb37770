/**
 * How zws points live in a JetStream stream (the `--nats` mode, docs/scaling.md). Pure: no I/O.
 *
 * - **Subject**: `<prefix>.<series token>`, one per series, so the stream's per-subject limit
 *   (`max_msgs_per_subject`) and `max_age` give each series its own retention. The token keeps
 *   `[A-Za-z0-9_-]` and writes every other UTF-8 byte as `~XX` (hex), so any series name makes a
 *   valid single-token subject (no `.`, `*`, `>` or whitespace) and decodes back exactly.
 * - **Message**: a batch of points of that one series, as published by one relay: the points'
 *   JSON bodies without their `seq` (`"x":1,"y":2,"series":"a"}`), joined by `\n` (JSON never
 *   holds a raw newline). At most {@link MAX_BATCH_POINTS} points.
 * - **Seq**: a relay cannot know a point's seq before the stream has stored it, and several relays
 *   publish into one stream with no coordinator; so the gateway derives it from the stream
 *   sequence of the message: `streamSeq * SEQ_STRIDE + index`. It only grows, every gateway
 *   derives the same one, and it is contiguous exactly when the stream sequences are (the
 *   gateway tells the history whether a batch follows the previous one). Within a message the
 *   seqs go up by 1, so a message is a bus batch (`src/protocol/bus.ts`) for the bridge.
 * - **Epoch**: the stream's creation time (`js-` and milliseconds in base 36): a stream deleted
 *   and made again is a new epoch, whose seqs do not compare with the old ones.
 *
 * @module
 */

/** Points of one message at most; also the stride of {@link pointSeq}. */
export const MAX_BATCH_POINTS = 1000;
/** Seq of point `i` of stream message `s` is `s * SEQ_STRIDE + i`. */
export const SEQ_STRIDE = MAX_BATCH_POINTS;
/** Default stream name and subject prefix. */
export const DEFAULT_STREAM = "ZWS";
/** Default subject prefix (subjects `zws.points.<series>`). */
export const DEFAULT_SUBJECT_PREFIX = "zws.points";

import type { BusBatch } from "../protocol/bus.ts";

const KEEP = /^[A-Za-z0-9_-]$/;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** The subject token of a series name (reversible, see the module doc). */
export function seriesToken(series: string): string {
  let out = "";
  for (const ch of series) {
    if (KEEP.test(ch)) {
      out += ch;
      continue;
    }
    for (const b of enc.encode(ch)) out += "~" + b.toString(16).padStart(2, "0");
  }
  return out === "" ? "~" : out;
}

/** The series of a subject token; undefined when it is not one {@link seriesToken} writes. */
export function tokenSeries(token: string): string | undefined {
  if (token === "~") return "";
  const bytes: number[] = [];
  for (let i = 0; i < token.length;) {
    const ch = token[i];
    if (ch === "~") {
      const hex = token.slice(i + 1, i + 3);
      if (!/^[0-9a-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else if (KEEP.test(ch)) {
      bytes.push(ch.charCodeAt(0));
      i++;
    } else return undefined;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    return undefined;
  }
}

/** The subject a series is published on. */
export function subjectFor(prefix: string, series: string): string {
  return `${prefix}.${seriesToken(series)}`;
}

/** The series of a subject under `prefix`; undefined for any other subject. */
export function seriesOfSubject(prefix: string, subject: string): string | undefined {
  if (!subject.startsWith(prefix + ".")) return undefined;
  const token = subject.slice(prefix.length + 1);
  if (token.includes(".")) return undefined;
  return tokenSeries(token);
}

/** The seq of point `index` of the message at `streamSeq`. */
export function pointSeq(streamSeq: number, index: number): number {
  return streamSeq * SEQ_STRIDE + index;
}

/** The stream sequence a derived seq belongs to. */
export function streamSeqOf(seq: number): number {
  return Math.floor(seq / SEQ_STRIDE);
}

/**
 * The body of an encoded point (`{"seq":N,` removed): what the stream stores. Undefined when the
 * JSON does not start with a seq (not a point from `frames.ts`' `encodePoint`).
 */
export function pointBody(pointJson: string): string | undefined {
  const m = /^\{"seq":\d+,/.exec(pointJson);
  return m ? pointJson.slice(m[0].length) : undefined;
}

/** A message's payload from point bodies (see {@link pointBody}). */
export function encodeBatch(bodies: readonly string[]): Uint8Array {
  return enc.encode(bodies.join("\n"));
}

/**
 * A stream message as a bus batch (`src/protocol/bus.ts`' shape, the one the bridge takes): its
 * points' browser JSON with seqs `streamSeq * SEQ_STRIDE + i`, under `epoch`. Undefined when a
 * body is not a JSON object tail or there are too many points (a message no zws relay wrote):
 * the caller drops and counts it.
 */
export function decodeBatch(
  payload: Uint8Array,
  streamSeq: number,
  series: string,
  epoch: string,
): BusBatch | undefined {
  const text = dec.decode(payload);
  if (text === "") return undefined;
  const bodies = text.split("\n");
  if (bodies.length > MAX_BATCH_POINTS) return undefined;
  const firstSeq = pointSeq(streamSeq, 0);
  const ends = new Uint32Array(bodies.length);
  const jsons = new Array<string>(bodies.length);
  let chars = -1;
  for (let i = 0; i < bodies.length; i++) {
    const b = bodies[i];
    if (!b.startsWith('"') || !b.endsWith("}")) return undefined;
    jsons[i] = `{"seq":${firstSeq + i},${b}`;
    chars += jsons[i].length + 1;
    ends[i] = chars;
  }
  return {
    epoch,
    firstSeq,
    count: bodies.length,
    body: jsons.join(","),
    ends,
    seriesNames: [series],
  };
}

/** The epoch of a stream from its creation time (RFC 3339, as JetStream reports it). */
export function epochOfStream(created: string): string {
  const ms = Date.parse(created);
  if (!Number.isFinite(ms)) throw new Error(`stream creation time "${created}" is not a date`);
  // Sub-millisecond digits (JetStream reports nanoseconds) tell apart streams made in one ms.
  const frac = /\.(\d+)/.exec(created)?.[1].padEnd(9, "0").slice(3, 9) ?? "000000";
  return `js-${ms.toString(36)}${Number(frac).toString(36).padStart(4, "0")}`;
}
