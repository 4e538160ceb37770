/**
 * Messages between the main thread and the relay worker (`postMessage`), and the layout of the
 * points bus (inproc ZeroMQ) that carries the data itself.
 *
 * Points bus: one ZeroMQ message per point, three frames `[series, seq, pointJson]`, where
 * `seq` is decimal ASCII and `pointJson` is the encoded point (see `frames.ts`).
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
