/**
 * The browser protocol: JSON text frames sent on `/ws`. Each point is encoded once (in the relay)
 * and every frame is built once and sent as the same string to every client. Pure: no I/O.
 *
 * - `{"type":"hello","session":"…","server":{…},"epoch":"…","seq":N,"resumed":bool,"time":T}`: the
 *   first frame. `resumed` says the connection continues the client's `since` exactly; `time` is
 *   the server's clock (epoch ms), which the page's time window follows.
 * - `{"type":"history","reset":bool,"points":[…]}`: held points, right after hello (and when a
 *   slow client catches up). `reset: true` means "clear the chart first": the points do not
 *   continue what the client had.
 * - `{"type":"points","points":[{"seq":N,"x":…,"y":…,"series":"…"}, …]}`: live data, in seq order.
 * - `{"type":"series_list","series":["a","b",…],"units":{"a":"°C",…}}`: the names of every
 *   series the server holds, whatever the connection selected (so a page can offer the ones it
 *   does not show), and the unit of those that have one (the last a producer sent). Sent after
 *   the first history frames and again when the set or a unit changes, at most once per second.
 * - `{"type":"points","decimated":true,"rate":N,"points":[{"x":…,"y":…,"series":"…"}, …]}`:
 *   live data instead of the exact points for a client that asked for at most N points per
 *   second per series (`{"type":"rate"}`, `client_messages.ts`): per series and bucket of 2/N s,
 *   its min and its max point (`hub/decimated.ts`). No seq: these points are not resumable.
 * - `{"type":"pong"}`: the answer to a client's ping.
 *
 * @module
 */
import type { Point } from "./ingress.ts";

/** Server name and version, sent in the hello frame and `/healthz`. */
export const SERVER_INFO = Object.freeze({ name: "zws", version: "0.1.0" });

/** Encodes one sequenced point as the JSON object browsers receive. */
export function encodePoint(seq: number, p: Point): string {
  return `{"seq":${seq},${pointTail(p)}`;
}

/** A point's JSON after its seq field: `"x":…,"y":…,"series":…}` ({@link withSeq} completes it). */
export function pointTail(p: Point): string {
  if (p.series !== lastSeries) {
    lastSeries = p.series;
    lastSeriesJson = JSON.stringify(p.series);
  }
  return `"x":${p.x},"y":${p.y},"series":${lastSeriesJson}}`;
}

/** The JSON browsers receive for a point of seq `seq` whose {@link pointTail} is `tail`. */
export function withSeq(seq: number, tail: string): string {
  return `{"seq":${seq},${tail}`;
}

/**
 * x and y of a point's client JSON ({@link encodePoint}: `{"seq":…,"x":…,"y":…,"series":…}`, the
 * fields always in that order), read without `JSON.parse`.
 */
export function readXY(json: string): { x: number; y: number } {
  const xi = json.indexOf(',"x":') + 5;
  const yi = json.indexOf(',"y":', xi);
  return {
    x: Number(json.slice(xi, yi)),
    y: Number(json.slice(yi + 5, json.indexOf(',"series":', yi))),
  };
}

/** One-entry cache of the series' JSON (consecutive points mostly share a series). */
let lastSeries = "value";
let lastSeriesJson = '"value"';

/** Builds a `points` frame from already-encoded points. */
export function pointsFrame(encoded: readonly string[]): string {
  return `{"type":"points","points":[${encoded.join(",")}]}`;
}

/**
 * Builds a decimated `points` frame (a client at `rate` points per second per series) from
 * points encoded without their seq (`{"x":…,"y":…,"series":…}`).
 */
export function decimatedFrame(rate: number, encoded: readonly string[]): string {
  return `{"type":"points","decimated":true,"rate":${rate},"points":[${encoded.join(",")}]}`;
}

/** Most points in one history frame; longer histories go out in several frames. */
export const HISTORY_CHUNK = 5000;

/**
 * Builds the history frames for already-encoded points: `reset` is set on the first frame only
 * (so a client clears once). Always at least one frame, so a reset with nothing held still says so.
 */
export function historyFrames(encoded: readonly string[], reset: boolean): string[] {
  const frames: string[] = [];
  for (let i = 0; i === 0 || i < encoded.length; i += HISTORY_CHUNK) {
    const chunk = encoded.slice(i, i + HISTORY_CHUNK).join(",");
    frames.push(`{"type":"history","reset":${reset && i === 0},"points":[${chunk}]}`);
  }
  return frames;
}

/** The fields of a hello frame. */
export interface Hello {
  /** Unique id of this connection. */
  session: string;
  /** Id of the sequencer's run; sequence numbers compare only within one epoch. */
  epoch: string;
  /** Last sequence number assigned so far. */
  seq: number;
  /** Whether this connection continues the client's `since` without a gap. */
  resumed: boolean;
}

/** Builds the hello frame, the first frame on every connection; `now`: the server's clock. */
export function helloFrame(h: Hello, now: number = Date.now()): string {
  return JSON.stringify({ type: "hello", ...h, server: SERVER_INFO, time: now });
}

/** Builds a `series_list` frame: the names of the series held, sorted, and their units. */
export function seriesListFrame(
  names: Iterable<string>,
  units: Readonly<Record<string, string>> = {},
): string {
  return JSON.stringify({ type: "series_list", series: [...names].sort(), units });
}
