/**
 * The browser protocol: JSON text frames sent on `/ws`. Each point is encoded once (in the relay)
 * and every frame is built once and sent as the same string to every client. Pure: no I/O.
 *
 * - `{"type":"hello","session":"…","server":{…},"epoch":"…","seq":N}`: the first frame.
 * - `{"type":"points","points":[{"seq":N,"x":…,"y":…,"series":"…"}, …]}`: live data, in seq order.
 *
 * @module
 */
import type { Point } from "./ingress_protocol.ts";

/** Server name and version, sent in the hello frame and `/healthz`. */
export const SERVER_INFO = Object.freeze({ name: "zws", version: "0.1.0" });

/** Encodes one sequenced point as the JSON object browsers receive. */
export function encodePoint(seq: number, p: Point): string {
  return `{"seq":${seq},"x":${p.x},"y":${p.y},"series":${JSON.stringify(p.series)}}`;
}

/** Builds a `points` frame from already-encoded points. */
export function pointsFrame(encoded: readonly string[]): string {
  return `{"type":"points","points":[${encoded.join(",")}]}`;
}

/** The fields of a hello frame. */
export interface Hello {
  /** Unique id of this connection. */
  session: string;
  /** Id of the sequencer's run; sequence numbers compare only within one epoch. */
  epoch: string;
  /** Last sequence number assigned so far. */
  seq: number;
}

/** Builds the hello frame, the first frame on every connection. */
export function helloFrame(h: Hello): string {
  return JSON.stringify({ type: "hello", ...h, server: SERVER_INFO });
}
