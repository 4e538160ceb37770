/**
 * The one interface behind which the server gets its data (`main.ts`: config -> source -> hub ->
 * http -> listen): its own relay in a Worker (`own_relay.ts`), a forwarder's egress
 * (`forwarder_link.ts`), or a JetStream stream (`jetstream.ts`). Each source feeds bridges that
 * the server makes (`newBridge`): a source may swap in a new one when its epoch changes.
 *
 * @module
 */
import type { BusBatch } from "../protocol/bus.ts";
import type { BridgeStats } from "../protocol/stats.ts";
import type { RelayStats } from "../relay/worker_messages.ts";
import type { Health } from "../runtime/health.ts";
import type { StoredPoint } from "../store/rows.ts";
import type { UpstreamMetrics } from "../http/metrics_snapshot.ts";
import type { StoreRangeReader } from "../http/history_api.ts";

/** What a source needs of a bridge (`WsBridge` of `ws_bridge.ts`). */
export interface SourceBridge {
  /** Follows a ZeroMQ points bus (inproc). */
  attach(bus: string, epoch: string, lastSeq: number): void;
  /** Takes a batch from a source that is not a ZeroMQ bus (JetStream). */
  ingest(batch: BusBatch, follows: boolean): void;
  /** Takes the series' units (series -> unit) the relay knows. */
  setUnits(units: Iterable<readonly [string, string]>): void;
  /** Fills the history with what the store kept, before any point arrives. */
  preload(points: readonly StoredPoint[], upTo: number): void;
  readonly epoch: string;
  readonly lastSeq: number;
  /** Last seq held in the history (what a connecting client can resume from). */
  readonly heldSeq: number;
  stats(): BridgeStats;
  closeClients(code: number, reason: string): void;
  /** Closes clients and the bus subscription. */
  close(): Promise<void>;
}

/** Makes a bridge; `onEpochChange` is called when its bus brings another epoch. */
export type NewBridge<B extends SourceBridge> = (
  onEpochChange?: (epoch: string, seq: number) => void,
) => B;

/** What a source adds to the HTTP side (a gateway's upstream state, its resume wait). */
export interface SourceHttp {
  /** The upstream's state in `/healthz` and `/metrics`. */
  upstream?: {
    health(): Record<string, unknown>;
    metrics(): UpstreamMetrics;
  };
  /** More Prometheus text for `/metrics`. */
  extraMetrics?: () => string;
  /** Runs before a WebSocket upgrade (a gateway waits until it holds a resuming client's point). */
  beforeUpgrade?: (req: Request) => Promise<void>;
}

/** A running data source. */
export interface DataSource<B extends SourceBridge> {
  /** The bridge clients are served from now (read it each time: it may be swapped). */
  readonly bridge: B;
  /** What the listening line says the data comes from: `ingress tcp://…`, `upstream tcp://…`. */
  readonly from: string;
  /** The ingress bound (own relay). */
  readonly ingress?: string;
  /** What a gateway follows (a forwarder's egress, NATS servers). */
  readonly upstream?: string;
  /** The data path's health for `/healthz` (absent: always ok). */
  health?(): Health;
  /** The relay's counters (a gateway reports its bridge's). */
  relayStats(): Promise<RelayStats>;
  /** Relay worker restarts. */
  relayRestarts(): number;
  /** Reads the point store for `/api/history` (absent: memory only). */
  storeRange?: StoreRangeReader;
  /** HTTP additions. */
  readonly http: SourceHttp;
  /** Tests only: makes a loop of the data path fail (`runtime/loop.ts` `faults`). */
  injectFault?(loop: string, kind?: "throw" | "hang"): void;
  /** Stops the source and closes the bridge(s): never a socket with a receive pending on it. */
  stop(): Promise<void>;
}

/** A gateway's relay counters: what its bridge received (it has no relay of its own). */
export function bridgeRelayStats(bridge: SourceBridge): Promise<RelayStats> {
  const b = bridge.stats();
  return Promise.resolve({
    messages: b.pointsReceived,
    points: b.pointsReceived,
    rejected: {},
    lastSeq: bridge.lastSeq,
  });
}
