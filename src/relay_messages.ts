/**
 * Messages between the main thread and the relay worker (`postMessage`), and the layout of the
 * points bus (inproc ZeroMQ) that carries the data itself.
 *
 * Points bus, and the forwarder's egress (`forwarder.ts`) that carries it over TCP to gateways:
 * one ZeroMQ message per point, four frames `[series, seq, pointJson, epoch]`:
 *
 * - `series`: the series name, UTF-8. First, so it is the ZeroMQ topic: a subscriber that
 *   subscribes to some series only gets those, and XPUB/XSUB proxies pass subscriptions upstream
 *   (a forwarder sends a gateway only what it subscribed to).
 * - `seq`: decimal ASCII, assigned once by the one relay that validated the point; it increases by
 *   exactly 1 per point within an epoch, so a gap in it means points were missed.
 * - `pointJson`: the point as browsers receive it (see `frames.ts`), its `seq` included.
 * - `epoch`: the sequencer's run id (ASCII, at most 64 bytes). Seqs compare only within one epoch;
 *   a gateway learns the epoch from here, so clients can resume on any gateway of one forwarder.
 *
 * End of stream: a message whose `seq` frame is empty (`["", "", ""]`) ends the bridge's receive
 * loop (see `ws_bridge.ts`). The relay sends it on its bus when it stops; a forwarder never sends
 * one on its egress (its gateways keep following across its restarts), and a gateway sends its own
 * into its upstream proxy when it shuts down (`upstream.ts`).
 *
 * @module
 */
import type { RejectReason } from "./ingress_protocol.ts";
import type { LogLevel } from "./log.ts";

/** What the relay needs to start. */
export interface RelayOptions {
  /** Endpoint producers connect to (bound by the native proxy). */
  ingress: string;
  /** Largest producer message accepted, in bytes. */
  maxMessageBytes: number;
  /** Largest distance of a point's x from the relay's clock, in ms (absent or 0: no check). */
  xWindowMs?: number;
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
