/**
 * The forwarder (`zws relay`, `deno task relay`): how zws outgrows one process, on ZeroMQ's own
 * forwarder pattern (XSUB/XPUB proxies) rather than a broker of its own.
 *
 * Root forwarder: producers -> ingress (XSUB bound, the relay's native proxy, `relay.ts`) ->
 * validation and sequencing, once -> inproc bus -> native proxy (XSUB <-> XPUB bound on the
 * egress) -> gateways (`main.ts --upstream`, `src/upstream.ts`). Every gateway gets the same
 * `[series, seq, pointJson, epoch]` messages (`src/relay_messages.ts`), so a client can resume on
 * any of them. Subscriptions travel upstream through the proxies: a gateway gets only the series it
 * subscribed to (today gateways subscribe to everything).
 *
 * Chained forwarder (`--upstream`): XSUB connected to a parent's egress <-> XPUB bound on its own
 * egress, all native: one more level of fan-out (a tree across hosts), no JavaScript per point.
 *
 * Every TCP socket that receives is a native proxy end (shared/notes/zeromq-in-deno.md). The only
 * JavaScript receive loops are the relay's (inproc) and the monitor watchers (inproc).
 *
 * @module
 */
import { type Relay, startRelay } from "./relay.ts";
import { persistHealth } from "./src/store/writer.ts";
import {
  FORWARDER_USAGE,
  type ForwarderConfig,
  parseForwarderConfig,
} from "./src/config/config.ts";
import { SERVER_INFO } from "./src/protocol/frames.ts";
import { SECURITY_HEADERS } from "./src/http/handler.ts";
import { errorMessage, log, setLogLevel } from "./src/runtime/log.ts";
import { renderForwarderMetrics } from "./src/http/metrics.ts";
import type { RelayStats } from "./src/relay/worker_messages.ts";
import type { LinkState, PeerState } from "./src/zmq/links.ts";
import { type ForwardPathRestarts, openForwardPath } from "./src/zmq/forward_path.ts";
import { jetstreamRelayMain } from "./src/nats/relay.ts";

/** Counters and state of a forwarder. */
export interface ForwarderStats {
  /** "root" validates and sequences; "chained" passes on a parent's stream. */
  role: "root" | "chained";
  /** The sequencer's counters (root). */
  relay?: RelayStats;
  /** Connections on the egress. */
  peers: PeerState;
  /** Link to the parent (chained). */
  upstream?: LinkState;
  /** Restarts of the forwarder's own loops (egress proxy, monitors). */
  restarts: ForwardPathRestarts;
}

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

/** What the state file holds (JSON). */
export interface ForwarderState {
  epoch: string;
  lastSeq: number;
  /** True only after a clean stop: then the next run continues this epoch and seq. */
  clean: boolean;
  /**
   * Connections on the egress at the clean stop (gateways, chained forwarders): the next run
   * waits (at most {@link RESUBSCRIBE_WAIT_MS}) for as many to be back before it sequences, so
   * that points are not published to nobody while they resubscribe.
   */
  gateways?: number;
}

/** How long a restarted forwarder waits for its gateways to be back before it sequences. */
export const RESUBSCRIBE_WAIT_MS = 5000;
/** After the last awaited handshake: time for the subscriptions to travel up to the relay's bus. */
const SUBSCRIPTION_SETTLE_MS = 200;

/** Reads a state file; undefined when it does not exist. Throws with the path on bad content. */
export async function readState(path: string): Promise<ForwarderState | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`cannot read state file ${path}: ${errorMessage(err)}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`state file ${path} is not JSON`);
  }
  const s = v as Partial<ForwarderState>;
  if (
    typeof s !== "object" || s === null || typeof s.epoch !== "string" ||
    !/^[\x21-\x7e]{1,64}$/.test(s.epoch) || !Number.isSafeInteger(s.lastSeq) ||
    (s.lastSeq as number) < 0 || typeof s.clean !== "boolean"
  ) {
    throw new Error(`state file ${path} does not hold {"epoch", "lastSeq", "clean"}`);
  }
  const gateways = Number.isSafeInteger(s.gateways) && s.gateways! > 0 ? s.gateways : undefined;
  return {
    epoch: s.epoch,
    lastSeq: s.lastSeq as number,
    clean: s.clean,
    ...(gateways ? { gateways } : {}),
  };
}

/** Writes a state file atomically (a temporary file, then a rename); makes its directory. */
export async function writeState(path: string, state: ForwarderState): Promise<void> {
  const tmp = `${path}.tmp`;
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  try {
    if (dir !== "" && dir !== ".") await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(tmp, JSON.stringify(state) + "\n");
    await Deno.rename(tmp, path);
  } catch (err) {
    throw new Error(`cannot write state file ${path}: ${errorMessage(err)}`);
  }
}

/**
 * After a clean restart: waits until `expected` peers have completed a handshake on the egress
 * (their subscriptions follow at once), plus a moment for those to reach the relay's bus, or
 * until `timeoutMs`. Logs how many came back.
 */
async function waitForGateways(
  peers: { state(): PeerState },
  expected: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (peers.state().handshakes < expected && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const back = peers.state().handshakes;
  await new Promise((r) => setTimeout(r, SUBSCRIPTION_SETTLE_MS));
  log(
    back >= expected ? "info" : "warn",
    "forwarder",
    `${back} of ${expected} gateway(s) back before sequencing` +
      (back >= expected ? "" : ` (gave up after ${timeoutMs} ms)`),
  );
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
  const uptime = () => Math.round((performance.now() - startedAt) / 100) / 10;
  const json = (body: unknown) =>
    new Response(JSON.stringify(body) + "\n", {
      headers: { ...SECURITY_HEADERS, "Content-Type": "application/json" },
    });
  const handler = (req: Request): Response => {
    const url = new URL(req.url);
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed\n", {
        status: 405,
        headers: { ...SECURITY_HEADERS, Allow: "GET, HEAD" },
      });
    }
    const s = stats();
    if (url.pathname === "/healthz") {
      return json({
        status: "ok",
        role,
        server: SERVER_INFO,
        uptime: uptime(),
        ...(relay ? { ingress: relay.ingress, epoch: relay.epoch, lastSeq: s.relay!.lastSeq } : {}),
        ...(s.relay?.persist ? { persist: persistHealth(s.relay.persist) } : {}),
        egress: egressEndpoint,
        gateways: s.peers.connected,
        ...(s.upstream
          ? { upstream: { ...s.upstream, since: new Date(s.upstream.since).toISOString() } }
          : {}),
      });
    }
    if (url.pathname === "/metrics") {
      return new Response(
        renderForwarderMetrics({
          relay: s.relay,
          gatewaysConnected: s.peers.connected,
          gatewayConnectionsTotal: s.peers.accepted,
          upstreamConnected: s.upstream?.connected,
          loopRestarts: s.restarts,
          uptimeSeconds: uptime(),
        }),
        {
          headers: {
            ...SECURITY_HEADERS,
            "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
          },
        },
      );
    }
    return new Response("not found\n", { status: 404, headers: SECURITY_HEADERS });
  };
  const egressEndpoint = path.egress;

  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      port: config.port,
      hostname: config.hostname,
      onListen: () => {},
      onError: (err) => {
        log("error", "http", errorMessage(err));
        return new Response("internal error\n", { status: 500 });
      },
    }, handler);
  } catch (err) {
    await cleanUp();
    if (err instanceof Deno.errors.AddrInUse) {
      throw new Error(`port ${config.port} on ${config.hostname} is already in use`);
    }
    throw new Error(`cannot listen on ${config.hostname}:${config.port}: ${errorMessage(err)}`);
  }
  const addr = server.addr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;

  let closing: Promise<void> | undefined;
  return {
    relayEnded: relay?.ended ?? new Promise<void>(() => {}),
    ingress: relay?.ingress,
    egress: egressEndpoint,
    upstream: config.upstream,
    url: `http://${host}:${addr.port}/`,
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

/** `zws relay [flags]`: parses flags, starts a forwarder, stops it on SIGINT/SIGTERM. */
export async function forwarderMain(args: string[]): Promise<void> {
  const parsed = parseForwarderConfig(args, (name) => Deno.env.get(name));
  if (parsed.kind === "help") {
    console.log(FORWARDER_USAGE);
    Deno.exit(0);
  }
  if (parsed.kind === "error") {
    console.error(`zws relay: ${parsed.message}\nRun with --help for the flags.`);
    Deno.exit(2);
  }
  const config = parsed.config;
  setLogLevel(config.logLevel);
  // --nats: publish into a JetStream stream instead of an egress (src/nats/relay.ts).
  if (config.nats) return await jetstreamRelayMain({ ...config, nats: config.nats }, startRelay);
  let fwd: Forwarder;
  try {
    fwd = await startForwarder(config);
  } catch (err) {
    console.error(`zws relay: ${errorMessage(err)}`);
    Deno.exit(1);
  }
  let stopping = false;
  // The relay runs in this process: if its loop fails, nothing is sequenced any more. Exit, so the
  // service manager restarts the forwarder (gateways reconnect; a new epoch, clients reset).
  fwd.relayEnded.then(() => {
    if (stopping) return;
    log("error", "forwarder", "the relay stopped unexpectedly; exiting so that it is restarted");
    Deno.exit(1);
  });
  const from = fwd.upstream ? `upstream ${fwd.upstream}` : `ingress ${fwd.ingress}`;
  const epoch = fwd.epoch ? `, epoch ${fwd.epoch}` : "";
  console.log(`zws relay: ${from}, egress ${fwd.egress}, http ${fwd.url}${epoch}`);
  const stop = async (signal: string) => {
    stopping = true;
    log("info", "forwarder", `${signal}: shutting down`);
    setTimeout(() => Deno.exit(0), 1800);
    await fwd.shutdown().catch((err) => log("error", "forwarder", errorMessage(err)));
    Deno.exit(0);
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, () => stop(sig));
  }
}
