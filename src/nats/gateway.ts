/**
 * A JetStream gateway's data source (`deno task start --nats nats://host:4222`): connects to NATS
 * (waiting while it is unreachable), follows the stream (`follower.ts`) into the bridge, and
 * resolves `ready` once the history held by the stream is loaded, so the server starts serving
 * full. When the stream is made again (a new epoch), a fresh bridge takes over and the old one's
 * clients are closed with 1012 (they reconnect and get a reset).
 *
 * @module
 */
import type { NatsConfig } from "./config.ts";
import { connectNats, type NatsLink } from "./connect.ts";
import { type Follower, startFollower } from "./follower.ts";
import { renderFollowerMetrics, renderNatsLinkMetrics } from "./metrics.ts";
import type { UpstreamMetrics } from "../http/metrics_snapshot.ts";
import { log } from "../runtime/log.ts";
import type { BusBatch } from "../protocol/bus.ts";
import { CLOSE } from "../protocol/close_codes.ts";

/** What the gateway needs of a bridge (`ws_bridge.ts`' `WsBridge`). */
export interface IngestingBridge {
  ingest(batch: BusBatch, follows: boolean): void;
  readonly epoch: string;
  readonly lastSeq: number;
  closeClients(code: number, reason: string): void;
  close(): Promise<void>;
}

/** A batch of no points: tells a bridge the epoch. */
function epochOnly(epoch: string): BusBatch {
  return { epoch, firstSeq: 0, count: 0, body: "", ends: new Uint32Array(0), seriesNames: [] };
}

/** Options of {@link startJetStreamGateway}. */
export interface JetStreamGatewayOptions<B extends IngestingBridge> {
  nats: NatsConfig;
  /** Makes a bridge (the first one, and one per new epoch). */
  newBridge(): B;
  /** Called with every bridge that takes over (the first one included). */
  onBridge(bridge: B): void;
  signal?: AbortSignal;
}

/** A running JetStream source. */
export interface JetStreamGateway {
  /** Settles once the stream's history is in the bridge. */
  readonly ready: Promise<void>;
  /** For `/healthz`'s `upstream`. */
  health(): Record<string, unknown>;
  /** For `/metrics`' `zws_upstream_*`. */
  metrics(): UpstreamMetrics;
  /** The `zws_nats_*` metrics. */
  extraMetrics(): string;
  stop(): Promise<void>;
}

/** Connects and follows the stream into bridges made by `opts.newBridge`. */
export async function startJetStreamGateway<B extends IngestingBridge>(
  opts: JetStreamGatewayOptions<B>,
): Promise<JetStreamGateway> {
  const link: NatsLink = await connectNats(
    opts.nats,
    `zws gateway ${crypto.randomUUID().slice(0, 8)}`,
    "gateway",
    opts.signal,
  );
  let bridge = opts.newBridge();
  opts.onBridge(bridge);
  const retiring = new Set<Promise<void>>();
  let follower: Follower;
  try {
    follower = await startFollower({
      nc: link.nc,
      cfg: opts.nats,
      who: "gateway",
      onBatch: (b) => bridge.ingest(b.batch, b.follows),
      onEpoch: (epoch) => {
        const old = bridge;
        bridge = opts.newBridge();
        opts.onBridge(bridge);
        bridge.ingest(epochOnly(epoch), true);
        old.closeClients(CLOSE.restart, "stream was made again");
        const closing = old.close().finally(() => retiring.delete(closing));
        retiring.add(closing);
      },
    });
  } catch (err) {
    await bridge.close();
    await link.close();
    throw err;
  }
  // No points: tells a bridge that has none yet the epoch, for its first clients' hello.
  bridge.ingest(epochOnly(follower.stats().epoch), true);
  const ready = follower.ready.then(() => {
    const s = follower.stats();
    log(
      "info",
      "gateway",
      `JetStream stream ${opts.nats.stream} loaded: ${s.points} points in ${s.batches} batches ` +
        `up to stream seq ${s.streamSeq}, epoch ${s.epoch}`,
    );
  });
  return {
    ready,
    health: () => {
      const l = link.state();
      const f = follower.stats();
      return {
        nats: opts.nats.servers.join(","),
        stream: opts.nats.stream,
        connected: l.connected,
        server: l.server ?? null,
        since: new Date(l.since).toISOString(),
        connects: l.connects,
        disconnects: l.disconnects,
        ready: f.ready,
        epoch: bridge.epoch || f.epoch,
        lastSeq: bridge.lastSeq,
        streamSeq: f.streamSeq,
        streamLastSeq: f.streamLastSeq,
        gaps: f.gaps,
      };
    },
    metrics: () => {
      const l = link.state();
      return {
        connected: l.connected,
        connects: l.connects,
        disconnects: l.disconnects,
        epochChanges: follower.stats().epochChanges,
      };
    },
    extraMetrics: () =>
      renderNatsLinkMetrics(link.state()) + renderFollowerMetrics(follower.stats()),
    async stop() {
      await follower.close();
      await bridge.close();
      await Promise.all(retiring);
      await link.close();
    },
  };
}
