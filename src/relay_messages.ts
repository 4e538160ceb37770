/**
 * Messages between the main thread and the relay worker (`postMessage`), and the layout of the
 * points bus (inproc ZeroMQ) that carries the data itself.
 *
 * Points bus, and the forwarder's egress (`forwarder.ts`) that carries it over TCP to gateways:
 * one ZeroMQ message per producer message (longer ones are cut at {@link BUS_BATCH_POINTS} points
 * or about {@link BUS_BATCH_CHARS} characters), its points in the producer's order. Four frames
 * `[series, seq, pointJson, epoch]` when every point in it is of one series, five
 * `[MIXED_TOPIC, seq, pointJson, epoch, seriesList]` when not:
 *
 * - `series`: the series name, UTF-8. First, so it is the ZeroMQ topic: a subscriber that
 *   subscribes to some series only gets those, and XPUB/XSUB proxies pass subscriptions upstream
 *   (a forwarder sends a gateway only what it subscribed to). Mixed messages have the topic
 *   {@link MIXED_TOPIC} ("\x01", which no series name starts with: a series has no control
 *   characters); a subscriber to some series subscribes to it too, and picks points by
 *   `seriesList`.
 * - `seq`: decimal ASCII, the seq of the message's first point; the others follow it, +1 each.
 *   Assigned once by the one relay that validated the points; it increases by exactly 1 per point
 *   within an epoch, so a gap in it means points were missed.
 * - `pointJson`: the points as browsers receive them (see `frames.ts`), each with its `seq`,
 *   joined by `"\n"` (which no encoded point contains: JSON escapes control characters). A
 *   message of one point is just that point's JSON.
 * - `epoch`: the sequencer's run id (ASCII, at most 64 bytes). Seqs compare only within one epoch;
 *   a gateway learns the epoch from here, so clients can resume on any gateway of one forwarder.
 * - `seriesList` (mixed messages only): each point's series, joined by `"\n"`.
 *
 * One message per producer message rather than per point: a ZeroMQ message costs the receiving
 * main thread a few microseconds whatever it holds, so a producer's batch of 20 points costs it
 * about as much as one point (see {@link busBatches}).
 *
 * End of stream: a message whose `seq` frame is empty (`["", "", ""]`) ends the bridge's receive
 * loop (see `ws_bridge.ts`). The relay sends it on its bus when it stops; a forwarder never sends
 * one on its egress (its gateways keep following across its restarts), and a gateway sends its own
 * into its upstream proxy when it shuts down (`upstream.ts`).
 *
 * @module
 */
import type { Point, RejectReason } from "./ingress_protocol.ts";
import { encodePoint } from "./frames.ts";
import type { LogLevel } from "./log.ts";

/** What the relay needs to start. */
export interface RelayOptions {
  /** Endpoint producers connect to (bound by the native proxy). */
  ingress: string;
  /** Largest producer message accepted, in bytes. */
  maxMessageBytes: number;
  /** Whether the demo producer runs inside the relay. */
  demo: boolean;
  /** Inproc endpoint the relay publishes sequenced points on. */
  bus: string;
  /** Sequencer epoch to continue (after a restart); a new one is made when absent. */
  epoch?: string;
  /** Last sequence number already assigned in `epoch`. */
  lastSeq?: number;
  /** Lowest log level the relay prints. */
  logLevel?: LogLevel;
  /** CURVE on the ingress: the server's secret key (Z85; never log it) and allowed producers. */
  curve?: { secretKey: string; allow: string[] };
  /**
   * Whether closing publishes the end-of-stream on the bus (default true, for the bridge). A
   * forwarder turns it off: its bus goes out to gateways, which keep following across restarts.
   */
  endOfStream?: boolean;
}

/** Counters kept by the relay. */
export interface RelayStats {
  /** Producer messages received (valid or not). */
  messages: number;
  /** Points accepted and sequenced. */
  points: number;
  /** Rejected messages or points, by reason. */
  rejected: Partial<Record<RejectReason, number>>;
  /** Last sequence number assigned. */
  lastSeq: number;
  /** Producer connections refused by the CURVE allow-list (absent: 0). */
  producersRefused?: number;
}

/** Main thread -> relay worker. */
export type ToRelay =
  | { type: "start"; options: RelayOptions }
  | { type: "stats"; id: number }
  | { type: "stop" };

/** Relay worker -> main thread. */
export type FromRelay =
  | { type: "ready"; ingress: string; bus: string; epoch: string; lastSeq: number }
  | { type: "stats"; id: number; stats: RelayStats }
  | { type: "fatal"; message: string }
  | { type: "crashed"; message: string; stats?: RelayStats }
  | { type: "stopped" };

/** Most points in one bus message. */
export const BUS_BATCH_POINTS = 64;
/** A bus message takes no further point once its `pointJson` reaches this many characters. */
export const BUS_BATCH_CHARS = 8192;
/** The topic of a bus message whose points are of several series. */
export const MIXED_TOPIC = "\x01";

/** One points-bus message, before the epoch frame is added. */
export interface BusBatch {
  /** The ZeroMQ topic: the series of every point in it, or {@link MIXED_TOPIC}. */
  topic: string;
  /** The seq of its first point. */
  firstSeq: number;
  /** The encoded points, joined by `"\n"`. */
  pointJson: string;
  /** Mixed messages only: each point's series, joined by `"\n"`. */
  seriesList?: string;
  /** How many points it holds. */
  count: number;
}

/**
 * Sequences `points` (one producer message's) from `firstSeq`, +1 per point in order, and groups
 * them into bus messages of at most {@link BUS_BATCH_POINTS} points and about
 * {@link BUS_BATCH_CHARS} characters. Pure.
 */
export function busBatches(points: readonly Point[], firstSeq: number): BusBatch[] {
  const out: BusBatch[] = [];
  let seq = firstSeq;
  let i = 0;
  while (i < points.length) {
    const start = seq;
    const first = points[i];
    let json = encodePoint(seq++, first);
    let mixed = false;
    let n = 1;
    i++;
    while (i < points.length && n < BUS_BATCH_POINTS && json.length < BUS_BATCH_CHARS) {
      const p = points[i++];
      json += "\n" + encodePoint(seq++, p);
      if (p.series !== first.series) mixed = true;
      n++;
    }
    out.push(
      mixed
        ? {
          topic: MIXED_TOPIC,
          firstSeq: start,
          pointJson: json,
          seriesList: points.slice(i - n, i).map((p) => p.series).join("\n"),
          count: n,
        }
        : { topic: first.series, firstSeq: start, pointJson: json, count: n },
    );
  }
  return out;
}

/** A bus message's frames: `[topic, seq, pointJson, epoch]`, plus `seriesList` when mixed. */
export function busFrames(b: BusBatch, epoch: Uint8Array): Array<string | Uint8Array> {
  const frames: Array<string | Uint8Array> = [b.topic, String(b.firstSeq), b.pointJson, epoch];
  if (b.seriesList !== undefined) frames.push(b.seriesList);
  return frames;
}

/** Splits a `"\n"`-joined frame (`pointJson`, `seriesList`; decoded) into its parts. */
export function splitBusLines(text: string): string[] {
  return text.includes("\n") ? text.split("\n") : [text];
}
