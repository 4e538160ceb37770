/**
 * The forwarder (`deno task forwarder`, `zws forwarder`; `relay` is the same): how zws outgrows
 * one process, on ZeroMQ's own forwarder pattern (XSUB/XPUB proxies) rather than a broker of its
 * own. `main.ts` loads this module only when asked for the forwarder.
 *
 * Root forwarder: producers -> ingress (XSUB bound, the relay's native proxy, `relay.ts`) ->
 * validation and sequencing, once -> inproc bus -> native proxy (XSUB <-> XPUB bound on the
 * egress, `src/zmq/forward_path.ts`) -> gateways (`main.ts --upstream`,
 * `src/sources/upstream.ts`). Every gateway gets the same bus batches (`src/protocol/bus.ts`),
 * so a client can resume on any of them. Subscriptions travel upstream through the proxies.
 *
 * Chained forwarder (`--upstream`): XSUB connected to a parent's egress <-> XPUB bound on its own
 * egress, all native: one more level of fan-out (a tree across hosts), no JavaScript per point.
 *
 * Every TCP socket that receives is a native proxy end (docs/architecture.md, "ZeroMQ under
 * Deno"). The only JavaScript receive loops are the relay's (inproc) and the monitor watchers.
 *
 * @module
 */
import { type Relay, startRelay } from "./relay.ts";
import {
  FORWARDER_USAGE,
  type ForwarderConfig,
  parseForwarderConfig,
} from "./src/config/config.ts";
import { log, setLogLevel } from "./src/runtime/log.ts";
import { openForwardPath } from "./src/zmq/forward_path.ts";
import { jetstreamRelayMain } from "./src/nats/relay.ts";
import { createForwarderHandler, type ForwarderStats } from "./src/http/forwarder_http.ts";
import {
  readState,
  RESUBSCRIBE_WAIT_MS,
  waitForGateways,
  writeState,
} from "./src/relay/state_file.ts";
import {
  configOrExit,
  failToStart,
  listen,
  type Listening,
  runUntilSignal,
} from "./src/runtime/process.ts";
import { errorMessage } from "./src/runtime/log.ts";

export type { ForwarderStats } from "./src/http/forwarder_http.ts";
export {
  type ForwarderState,
  readState,
  RESUBSCRIBE_WAIT_MS,
  writeState,
} from "./src/relay/state_file.ts";

/** A running forwarder; {@link startForwarder} makes one. */
export interface Forwarder {
  /** Ingress actually bound (root). */
  readonly ingress?: string;
  /** Egress actually bound (a `*` port resolved). */
  readonly egress: string;
  /** The parent followed (chained). */
  readonly upstream?: string;
  /** Its `/healthz` and `/metrics` server, e.g. `http://127.0.0.1:8001/`. */
  readonly url: string;
  /** The sequencer's epoch (root). */
  readonly epoch?: string;
  /** Counters and link states (a copy). */
  stats(): ForwarderStats;
  /** Settles when the relay's loop has ended (on shutdown, or a failure); never for a chained one. */
  readonly relayEnded: Promise<void>;
  /** Stops everything; a root with a state file records a clean stop in it. */
  shutdown(): Promise<void>;
  /** Tests only: ends the egress proxy as a failure would (the forwarder rebuilds it). */
  injectFault(): void;
}

/** Starts a forwarder (root, or chained with `config.upstream`) and its HTTP server. */
export async function startForwarder(config: ForwarderConfig): Promise<Forwarder> {
  const startedAt = performance.now();
  const role = config.upstream ? "chained" : "root";
  let relay: Relay | undefined;
  const stateFile = config.stateFile;
  const saved = !config.upstream && stateFile ? await readState(stateFile) : undefined;
  const bus = `inproc://zws-forwarder-bus-${crypto.randomUUID()}`;
  // The egress path first (an inproc connect may precede the relay's bind), so that the gateways'
  // subscriptions can reach the relay's bus before its first point.
  const path = await openForwardPath({
    source: config.upstream ?? bus,
    chained: config.upstream !== undefined,
    egress: config.egress,
  });
  const cleanUp = async () => {
    await relay?.close();
    await path.close();
  };
  try {
    if (!config.upstream) {
      if (saved && !saved.clean) {
        log(
          "warn",
          "forwarder",
          `the last run did not stop cleanly (state file ${stateFile}): starting a new epoch, ` +
            `clients get a reset`,
        );
      }
      if (saved?.clean && saved.gateways) {
        await waitForGateways({ state: path.peers }, saved.gateways, RESUBSCRIBE_WAIT_MS);
      }
      relay = await startRelay({
        ingress: config.ingress,
        maxMessageBytes: config.maxMessageBytes,
        nativeIngress: config.nativeIngress,
        demo: config.demo,
        bus,
        ...(saved?.clean ? { epoch: saved.epoch, lastSeq: saved.lastSeq } : {}),
        logLevel: config.logLevel,
        endOfStream: false,
        // The store keeps epoch, seq and points (src/store/); no history to load: gateways hold
        // what clients are served.
        persist: { dataDir: config.dataDir, retention: config.retention, history: 0, maxSeries: 0 },
      });
      if (saved?.clean) {
        log("info", "forwarder", `continuing epoch ${saved.epoch} after seq ${saved.lastSeq}`);
      }
      if (stateFile) {
        await writeState(stateFile, {
          epoch: relay.epoch,
          lastSeq: relay.stats().lastSeq,
          clean: false,
        });
      }
    }
  } catch (err) {
    await cleanUp();
    throw err;
  }

  const stats = (): ForwarderStats => ({
    role,
    ...(relay ? { relay: relay.stats() } : {}),
    peers: path.peers(),
    ...(config.upstream ? { upstream: path.upstream() } : {}),
    restarts: path.restarts(),
  });
  const egressEndpoint = path.egress;
  let listening: Listening;
  try {
    listening = listen(
      { port: config.port, hostname: config.hostname },
      createForwarderHandler({
        stats,
        ...(relay ? { relay: { ingress: relay.ingress, epoch: relay.epoch } } : {}),
        egress: egressEndpoint,
        startedAt,
      }),
    );
  } catch (err) {
    await cleanUp();
    throw err;
  }
  const server = listening.server;

  let closing: Promise<void> | undefined;
  return {
    relayEnded: relay?.ended ?? new Promise<void>(() => {}),
    ingress: relay?.ingress,
    egress: egressEndpoint,
    upstream: config.upstream,
    url: listening.url,
    epoch: relay?.epoch,
    stats,
    injectFault: () => path.injectFault(),
    shutdown() {
      closing ??= (async () => {
        const served = server.shutdown();
        // The relay first (no end-of-stream: gateways keep following), then a moment for the
        // egress proxy to pass on what is in flight, then the egress itself.
        await relay?.close();
        if (relay) await new Promise((r) => setTimeout(r, 100));
        const gateways = path.peers().connected;
        await path.close();
        if (relay && stateFile) {
          await writeState(stateFile, {
            epoch: relay.epoch,
            lastSeq: relay.stats().lastSeq,
            clean: true,
            ...(gateways > 0 ? { gateways } : {}),
          }).catch((err) => log("error", "forwarder", errorMessage(err)));
        }
        await served;
      })();
      return closing;
    },
  };
}

/**
 * `zws forwarder [flags]` (or `zws relay`): parses flags, starts a forwarder (or, with `--nats`, a
 * JetStream relay), stops it on SIGINT/SIGTERM.
 */
export async function forwarderMain(args: string[]): Promise<void> {
  const config = configOrExit(
    parseForwarderConfig(args, (name) => Deno.env.get(name)),
    "zws relay",
    FORWARDER_USAGE,
  );
  setLogLevel(config.logLevel);
  // --nats: publish into a JetStream stream instead of an egress (src/nats/relay.ts).
  if (config.nats) return await jetstreamRelayMain({ ...config, nats: config.nats }, startRelay);
  let fwd: Forwarder;
  try {
    fwd = await startForwarder(config);
  } catch (err) {
    failToStart("zws relay", err);
  }
  const stopping = runUntilSignal({ component: "forwarder", stop: () => fwd.shutdown() });
  // The relay runs in this process: if its loop fails, nothing is sequenced any more. Exit, so the
  // service manager restarts the forwarder (gateways reconnect; a new epoch, clients reset).
  fwd.relayEnded.then(() => {
    if (stopping.aborted) return;
    log("error", "forwarder", "the relay stopped unexpectedly; exiting so that it is restarted");
    Deno.exit(1);
  });
  const from = fwd.upstream ? `upstream ${fwd.upstream}` : `ingress ${fwd.ingress}`;
  const epoch = fwd.epoch ? `, epoch ${fwd.epoch}` : "";
  console.log(`zws relay: ${from}, egress ${fwd.egress}, http ${fwd.url}${epoch}`);
}
