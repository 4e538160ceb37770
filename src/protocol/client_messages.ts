/**
 * Messages a browser may send on `/ws`, validated, and the `?series=` selection of `/ws` and
 * `/events` URLs. Pure: no I/O.
 *
 * - `{"type":"ping"}` -> the server answers `{"type":"pong"}`.
 * - `{"type":"series","only":["a","b"]}` -> from now on the connection receives only the series
 *   named (at most {@link MAX_SELECTED_SERIES} names, each a valid series name; `[]` means none).
 *   `{"type":"series","only":null}` -> every series again, including ones that appear later.
 *   The selection replaces the previous one (it is not added to it): subscribing and
 *   unsubscribing are the same message with the new full list, so it is idempotent and the page
 *   can resend it after a reconnect. The server answers with a `history` frame with `reset: true`
 *   holding what it holds of the new selection, then live points of it only.
 *
 * - `{"type":"rate","max_points_per_s":N}` -> from now on the connection receives, instead of
 *   every point, at most about N points per second per series: for each bucket of 2/N s of each
 *   series it sees, the bucket's min and max point, in `points` frames marked `"decimated":true`
 *   with `"rate":N` and no seq (`frames.ts`). N is an integer from 1 to {@link MAX_RATE}.
 *   `{"type":"rate","max_points_per_s":null}` (or 0) -> the exact stream again: the server first
 *   sends a `history` frame with `reset: true` (what it holds of the selection), then every point.
 *
 * Anything else closes the connection: a message over the size limit (default
 * {@link MAX_CLIENT_MESSAGE_BYTES}, `--max-ws-message-bytes`) with 1009, a binary frame with 1003,
 * a text frame that is not one of these messages with 1007.
 *
 * URL form (deep links, and the initial selection on `/ws` and `/events`): `?series=a,b`. Names
 * are separated by literal commas and percent-decoded one by one, so a name holding a comma is
 * written `%2C` (what `encodeURIComponent` produces). `?series=` selects no series.
 *
 * @module
 */
import { seriesProblem } from "./ingress.ts";
import { MAX_SELECTED_SERIES, splitSeriesParam } from "../../static/protocol.js";
import { CLOSE } from "./close_codes.ts";

/**
 * Messages per second a client may send by default: more than twice that within a second closes
 * it with 1008 (the hub's fixed window; the HTTP front's is sliding).
 */
export const CLIENT_MESSAGE_RATE = 20;

/** Default largest message accepted from a client, in bytes. */
export const MAX_CLIENT_MESSAGE_BYTES = 4096;

/** Most series one connection may select (message or URL): `static/protocol.js`, shared with the page. */
export { MAX_SELECTED_SERIES };

/** The highest rate a client may ask for, in points per second per series. */
export const MAX_RATE = 1_000_000;

/** A valid client message. */
export type ClientMessage =
  | { type: "ping" }
  /** `only`: the series to receive from now on; null: all of them. */
  | { type: "series"; only: string[] | null }
  /** `maxPointsPerS`: the decimated stream's rate; null: the exact stream. */
  | { type: "rate"; maxPointsPerS: number | null };

/** Why a client message was refused: the WebSocket close code and reason to use. */
export interface ClientMessageError {
  code: typeof CLOSE.binary_frame | typeof CLOSE.invalid_message | typeof CLOSE.message_too_big;
  reason: string;
}

/**
 * Size of a received message in bytes, or a stand-in that is over `limit` exactly when the real
 * size is (a long string is not encoded just to be measured).
 */
export function messageBytes(data: unknown, limit: number): number {
  if (typeof data === "string") {
    if (data.length > limit) return data.length; // UTF-8 is never shorter than UTF-16 units
    if (data.length * 3 <= limit) return data.length; // at most 3 bytes per unit: within limit
    return new TextEncoder().encode(data).length;
  }
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  if (data instanceof Blob) return data.size;
  return 0;
}

/** Parses one received WebSocket message; `maxBytes` bounds its size. */
export function parseClientMessage(
  data: unknown,
  maxBytes: number = MAX_CLIENT_MESSAGE_BYTES,
): ClientMessage | ClientMessageError {
  if (messageBytes(data, maxBytes) > maxBytes) {
    return { code: CLOSE.message_too_big, reason: "message too big" };
  }
  if (typeof data !== "string") {
    return { code: CLOSE.binary_frame, reason: "binary frames are not accepted" };
  }
  let msg: unknown;
  try {
    msg = JSON.parse(data);
  } catch {
    return { code: CLOSE.invalid_message, reason: "message is not JSON" };
  }
  if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
    return { code: CLOSE.invalid_message, reason: "message is not a JSON object" };
  }
  const m = msg as Record<string, unknown>;
  if (m.type === "ping") return { type: "ping" };
  if (m.type === "series") {
    const only = Object.hasOwn(m, "only") ? m.only : undefined;
    if (only === null) return { type: "series", only: null };
    if (!Array.isArray(only)) {
      return {
        code: CLOSE.invalid_message,
        reason: "series: only must be an array of names or null",
      };
    }
    const checked = checkSeriesNames(only);
    if (typeof checked === "string") {
      return { code: CLOSE.invalid_message, reason: `series: ${checked}` };
    }
    return { type: "series", only: checked };
  }
  if (m.type === "rate") {
    const n = Object.hasOwn(m, "max_points_per_s") ? m.max_points_per_s : undefined;
    if (n === null || n === 0) return { type: "rate", maxPointsPerS: null };
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_RATE) {
      return {
        code: CLOSE.invalid_message,
        reason: `rate: max_points_per_s must be an integer from 1 to ${MAX_RATE}, 0 or null`,
      };
    }
    return { type: "rate", maxPointsPerS: n };
  }
  return { code: CLOSE.invalid_message, reason: "unknown message type" };
}

/** The names, deduplicated in order, or why they are not a valid selection. */
function checkSeriesNames(names: readonly unknown[]): string[] | string {
  if (names.length > MAX_SELECTED_SERIES) {
    return `more than ${MAX_SELECTED_SERIES} series`;
  }
  const out = new Set<string>();
  for (const name of names) {
    if (typeof name !== "string") return "every series name must be a string";
    const problem = seriesProblem(name);
    if (problem) return problem;
    out.add(name);
  }
  return [...out];
}

/**
 * The series selection of a `/ws` or `/events` URL (`?series=a,b`): undefined when the URL has
 * none (every series), a set of names, or `{ error }` when a name is invalid or there are too many.
 * Several `series` parameters add up.
 */
export function seriesFromUrl(url: URL): ReadonlySet<string> | undefined | { error: string } {
  // The parser the page uses too (static/protocol.js); names past 4x the limit are not decoded.
  const param = splitSeriesParam(url.search, MAX_SELECTED_SERIES * 4);
  if (!param.found) return undefined;
  if (param.malformed > 0) return { error: "series: malformed percent-encoding" };
  const checked = checkSeriesNames(param.names);
  if (typeof checked === "string") return { error: `series: ${checked}` };
  return new Set(checked);
}
