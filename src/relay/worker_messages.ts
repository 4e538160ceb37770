/**
 * Messages between the main thread and the relay worker (`postMessage`).
 *
 * The points bus itself (relay -> bridge, forwarder -> gateways) is defined in one place,
 * `protocol/bus.ts` (and docs/architecture.md, "Points bus").
 *
 * @module
 */
import type { RejectReason } from "../protocol/ingress.ts";
import type { LogLevel } from "../runtime/log.ts";
import type { Retention } from "../store/retention.ts";
import type { RangeAnswer, RangeQuery } from "../store/range.ts";
import type { StoredPoint } from "../store/rows.ts";
import type { PersistStatus } from "../store/status.ts";

/** What the relay needs to start. */
export interface RelayOptions {
  /** Endpoint producers connect to (bound by the native proxy). */
  ingress: string;
  /** Largest producer message accepted, in bytes. */
  maxMessageBytes: number;
  /** Largest distance of a point's x from the relay's clock, in ms (absent or 0: no check). */
  xWindowMs?: number;
  /**
   * Plain producers connect to libzmq's own socket (as before the ZMTP reader): its size limit
   * holds per frame only (a message of many frames is held whole before it is counted oversize).
   */
  nativeIngress?: boolean;
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
  /**
   * Most validated points waiting for the bus (default `DEFAULT_MAX_PENDING_POINTS` in
   * `relay/sequencer.ts`); a producer message that does not fit is shed, counted as `overload`.
   */
  maxPendingPoints?: number;
  /**
   * Persistence (`--data-dir`, `src/store/`): the relay writes every point it sequences, keeps
   * epoch and seq in the store, and (on its first start) loads the last `history` points of at
   * most `maxSeries` series for the bridge. `dataDir` null or absent: memory only.
   */
  persist?: { dataDir: string | null; retention: Retention; history: number; maxSeries: number };
  /**
   * The supervisor's {@link Attention} flag (`runtime/attention.ts`): raised before each message
   * it posts, so loops that never yield still let the message in.
   */
  attention?: SharedArrayBuffer;
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
  /** What persistence is doing (absent: the relay has no store options). */
  persist?: PersistStatus;
  /** Producer connections refused by the CURVE allow-list (absent: 0). */
  producersRefused?: number;
  /** The plain ingress's connections (absent: CURVE or native ingress). */
  ingress?: {
    /** Producer connections open now. */
    connections: number;
    /** Producer connections accepted since start. */
    accepted: number;
    /** Closed for breaking ZMTP or not completing the handshake in time. */
    protocolErrors: number;
    /** Refused near the open-files limit. */
    refused: number;
  };
  /** Validated points waiting for the bus now. */
  pending?: number;
  /** Times one of the relay's loops ended and was restarted (absent: 0). */
  loopRestarts?: number;
  /** Time the bus send loop spent waiting on a full bus (EAGAIN), in ms. */
  busWaitMs?: number;
}

/** Main thread -> relay worker. */
export type ToRelay =
  | { type: "start"; options: RelayOptions }
  | { type: "stats"; id: number }
  /** A history request's read of the store (`GET /api/history`). */
  | { type: "range"; id: number; query: RangeQuery }
  | { type: "stop" }
  /** Tests only: makes the named loop fail once (see `runtime/loop.ts` `faults`). */
  | { type: "fault"; loop: string; kind?: "throw" | "hang" };

/** Relay worker -> main thread. */
export type FromRelay =
  | {
    type: "ready";
    ingress: string;
    bus: string;
    epoch: string;
    lastSeq: number;
    /** Points loaded from the store (first start only), in seq order. */
    held?: StoredPoint[];
    /** The series' units the relay knows (series -> unit). */
    units?: [string, string][];
  }
  | { type: "stats"; id: number; stats: RelayStats }
  /** The answer to a `range` request: null when there is no store (off, or failed). */
  | { type: "range"; id: number; series: RangeAnswer | null }
  | { type: "fatal"; message: string }
  | { type: "crashed"; message: string; stats?: RelayStats }
  | { type: "stopped" };
