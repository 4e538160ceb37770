/**
 * Picks the server's data source from its config: `--upstream` follows a forwarder, `--nats` a
 * JetStream stream, and otherwise the server runs its own relay.
 *
 * @module
 */
import type { Config } from "../config/config.ts";
import type { Secrets } from "../config/secrets.ts";
import { followForwarder } from "./forwarder_link.ts";
import { followStream } from "./jetstream.ts";
import { startOwnRelay } from "./own_relay.ts";
import type { DataSource, NewBridge, SourceBridge } from "./source.ts";

/** What {@link openSource} needs besides the config. */
export interface SourceDeps<B extends SourceBridge> {
  secrets: Secrets;
  newBridge: NewBridge<B>;
  /** The relay worker module (`relay.ts`: only top-level files name top-level files). */
  relayWorker: URL;
  /** `performance.now()` at the server's start. */
  startedAt: number;
}

/** Starts the source `config` asks for. */
export function openSource<B extends SourceBridge>(
  config: Config,
  deps: SourceDeps<B>,
): Promise<DataSource<B>> {
  if (config.upstream) return followForwarder(config.upstream, deps.newBridge);
  if (config.nats) return followStream(config.nats, deps.newBridge);
  return startOwnRelay({
    config,
    secrets: deps.secrets,
    newBridge: deps.newBridge,
    workerUrl: deps.relayWorker,
    startedAt: deps.startedAt,
  });
}
