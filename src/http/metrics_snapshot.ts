/**
 * What `/metrics` shows: the shape of the server's counters (the HTTP layer's, a gateway's upstream
 * link's, and the snapshot that gathers them with the relay's and the bridge's), and the reasons an
 * upgrade is refused. Rendered by `metrics.ts`. Pure: types and constants.
 *
 * @module
 */
import type { RelayStats } from "../relay/worker_messages.ts";
import type { FrontStats } from "./front_constants.ts";
import type { BridgeStats } from "../protocol/stats.ts";
import type { AuthFailureReason } from "./auth.ts";

/** Why a WebSocket upgrade was refused (the `reason` label of `zws_ws_rejected_total`). */
export type WsRejectReason = "origin" | "capacity" | "ip_capacity" | "rate" | "unauthorized";

/** Every {@link WsRejectReason}, in the order `/metrics` lists them. */
export const WS_REJECT_REASONS: readonly WsRejectReason[] = [
  "origin",
  "capacity",
  "ip_capacity",
  "rate",
  "unauthorized",
];

/** Server-level counters kept by the HTTP layer. */
export interface ServerStats {
  /** Upgrades refused, by reason (missing reasons count 0). */
  wsRejected: Partial<Record<WsRejectReason, number>>;
  /** Requests refused for a missing, invalid or expired token, on any endpoint. */
  authFailures?: Partial<Record<AuthFailureReason, number>>;
  /** Event streams (`/events`) refused, by reason (missing reasons count 0). */
  sseRejected?: Partial<Record<WsRejectReason, number>>;
  /** History requests (`/api/history`) refused, by reason (missing reasons count 0). */
  historyRejected?: Partial<Record<WsRejectReason, number>>;
  /** History requests answered (200). */
  historyRequests?: number;
  /** Relay worker restarts after a crash. */
  relayRestarts: number;
  /** Seconds since start. */
  uptimeSeconds: number;
  /** The process's memory now (`Deno.memoryUsage()`), when sampled. */
  memory?: ProcessMemory;
}

/** A process's memory, in bytes: resident, and V8's heap (used, total) and external buffers. */
export interface ProcessMemory {
  /** Resident set size. */
  rss: number;
  /** V8 heap in use. */
  heapUsed: number;
  /** V8 heap reserved. */
  heapTotal: number;
  /** Memory of buffers held by JavaScript objects outside V8's heap (ArrayBuffers, strings). */
  external: number;
}

/** A gateway's upstream (see `upstream.ts`): the link to its forwarder. */
export interface UpstreamMetrics {
  /** Whether the link to the forwarder is up now. */
  connected: boolean;
  /** Handshakes completed (first connect and reconnects). */
  connects: number;
  /** Connections lost. */
  disconnects: number;
  /** Epoch changes seen (forwarder restarts without its state). */
  epochChanges: number;
  /** Restarts of the link's loops: its proxy (rebuilt), its monitor (absent: 0). */
  linkRestarts?: { proxy: number; monitor: number };
}

/** Everything `/metrics` shows. */
export interface MetricsSnapshot {
  relay: RelayStats;
  bridge: BridgeStats;
  server: ServerStats;
  /** Present on a gateway (`--upstream`). */
  upstream?: UpstreamMetrics;
  /** The HTTP front's counters (absent with `--no-front`). */
  front?: FrontStats;
}
