/**
 * A JetStream gateway's source (`--nats`): the stream that relays publish into
 * (`src/nats/gateway.ts`), ready once its history is in the bridge.
 *
 * @module
 */
import type { NatsConfig } from "../nats/config.ts";
import { startJetStreamGateway } from "../nats/gateway.ts";
import { resumeWait } from "./forwarder_link.ts";
import { bridgeRelayStats, type DataSource, type NewBridge, type SourceBridge } from "./source.ts";

/** Follows the stream of `nats`; resolves once its history is loaded. */
export async function followStream<B extends SourceBridge>(
  nats: NatsConfig,
  newBridge: NewBridge<B>,
): Promise<DataSource<B>> {
  let bridge: B | undefined;
  const js = await startJetStreamGateway({
    nats,
    newBridge: () => newBridge(),
    onBridge: (b) => bridge = b,
  });
  await js.ready;
  const current = () => bridge!;
  return {
    get bridge() {
      return current();
    },
    from: `JetStream ${nats.servers.join(",")} stream ${nats.stream}`,
    upstream: nats.servers.join(","),
    relayStats: () => bridgeRelayStats(current()),
    relayRestarts: () => 0,
    http: {
      upstream: { health: js.health, metrics: js.metrics },
      extraMetrics: js.extraMetrics,
      beforeUpgrade: resumeWait(current),
    },
    stop: () => js.stop(),
  };
}
