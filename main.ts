/**
 * zws: live data from ZeroMQ producers to a Flot chart in every browser.
 *
 * The server, in the order {@link startServer} builds it:
 * config (`src/config/`) -> source (`src/sources/`: its own relay, `relay.ts` in a Worker; or a
 * forwarder's egress; or a JetStream stream) -> hub (`ws_bridge.ts`, `src/hub/`: history and
 * fan-out) -> http (`src/http/`: the page, `/ws`, `/events`, `/healthz`, `/metrics`) -> listen
 * (`src/runtime/process.ts`: one `Deno.serve` on one port). The page is `static/`.
 *
 * `main.ts forwarder` (or `relay`) runs the forwarder instead (`forwarder.ts`, loaded only then);
 * see docs/architecture.md for the data path and docs/scaling.md for the deployments.
 *
 * @module
 */
import { type Config, parseConfig, USAGE } from "./src/config/config.ts";
import { loadSecrets, NO_SECRETS, type Secrets } from "./src/config/secrets.ts";
import { explainSetup, warnSecretFlags } from "./src/config/notes.ts";
import { openSource } from "./src/sources/open.ts";
import { WsBridge } from "./ws_bridge.ts";
import {
  collectAfterChurn,
  exposedGc,
  GC_INTERVAL_MS,
  TRIM_INTERVAL_MS,
  trimPeriodically,
} from "./src/runtime/gc.ts";
import { CLIENT_MESSAGE_RATE } from "./src/protocol/client_messages.ts";
import { openMallocTrim } from "./src/runtime/malloc_trim.ts";
import { useVectoredWrites, WRITEV_ENV } from "./src/runtime/vectored_writes.ts";
import { createHandler } from "./src/http/handler.ts";
import { serverContext } from "./src/http/server_context.ts";
import { configOrExit, failToStart, runUntilSignal } from "./src/runtime/process.ts";
import { type HttpService, serveHttp } from "./src/http/serve.ts";
import { errorMessage, log, setLogLevel } from "./src/runtime/log.ts";
import { CLOSE } from "./src/protocol/close_codes.ts";

/** The relay worker's module (named here: nothing under `src/` names a top-level file). */
const RELAY_WORKER = new URL("./relay.ts", import.meta.url);

/** A running server. */
export interface RunningServer {
  /** The HTTP address, e.g. `http://127.0.0.1:8000/` (`https:` with a certificate). */
  url: string;
  /** The ZeroMQ ingress actually bound (single process). */
  ingress?: string;
  /** The forwarder followed (gateway), or the NATS servers (JetStream gateway). */
  upstream?: string;
  /** Where the data comes from, as the listening line says it (`ingress tcp://…`). */
  from: string;
  /** Closes clients (1001), the relay and the listener. */
  shutdown(): Promise<void>;
  /**
   * Tests only: makes one of the relay worker's loops fail (`runtime/loop.ts` `faults`); on a
   * gateway, ends its upstream link's proxy (the loop name is ignored).
   */
  injectRelayFault?(loop: string, kind?: "throw" | "hang"): void;
}

/** Bridges as `config` sets them (a gateway makes a new one when its upstream's epoch changes). */
function bridgeFactory(config: Config) {
  return (onEpochChange?: (epoch: string, seq: number) => void) =>
    new WsBridge({
      historyPerSeries: config.history,
      clientBufferBytes: config.clientBufferBytes,
      clientsBufferBudget: config.clientsBufferBudget,
      slowClientTimeoutMs: config.slowClientTimeout * 1000,
      maxMessageBytes: config.maxWsMessageBytes,
      // Behind the front, the front closes a flood (and its 1008 arrives: Deno's own close is
      // lost while messages keep coming, docs/upstream/README.md); the hub's limit is a backstop.
      clientMessageRate: config.front ? 2 * CLIENT_MESSAGE_RATE : CLIENT_MESSAGE_RATE,
      onEpochChange,
    });
}

/**
 * Starts the server: source, hub, HTTP, listener. Throws with a one-line message when the
 * ingress or the port is taken.
 *
 * @param secrets what the security flags point at, loaded by {@link loadSecrets}
 */
export async function startServer(
  config: Config,
  secrets: Secrets = NO_SECRETS,
): Promise<RunningServer> {
  const startedAt = performance.now();
  explainSetup(config, secrets);
  // Before the first WebSocket: else each socket keeps a buffer the size of its largest frame.
  if (useVectoredWrites() === "denied") {
    log(
      "warn",
      "http",
      `cannot set ${WRITEV_ENV} (no env permission for it): each WebSocket keeps a buffer as ` +
        `large as the largest frame it was sent (docs/reliability.md, "Memory per socket")`,
    );
  }
  const source = await openSource(config, {
    secrets,
    newBridge: bridgeFactory(config),
    relayWorker: RELAY_WORKER,
    startedAt,
  });
  // Connections that ended (all bridges of this process): a full GC releases their native memory.
  const trim = openMallocTrim() ?? null; // null: none (undefined would open it again)
  const stopChurnGc = collectAfterChurn(
    () => {
      const b = source.bridge.stats();
      return b.connectionsTotal - b.clients;
    },
    GC_INTERVAL_MS,
    exposedGc() ?? null,
    trim,
  );
  // And under load: what glibc keeps of the frames already written goes back every 2 s.
  const stopTrim = trimPeriodically(TRIM_INTERVAL_MS, trim);
  const stopGc = () => {
    stopChurnGc();
    stopTrim();
  };
  const ctx = serverContext(config, secrets, source, startedAt);
  let http: HttpService | undefined;
  if (config.front) ctx.front = () => http!.front!.freshStats();
  const handler = createHandler(ctx);
  try {
    http = await serveHttp({
      port: config.port,
      hostname: config.hostname,
      reusePort: config.reusePort,
      tls: secrets.tls,
      // The front (on by default): request-head timeout, open-files margin, connection cap and
      // the WebSocket message bound before Deno holds a message (`src/http/front.ts`).
      front: config.front
        ? {
          maxConnections: config.maxConnections,
          requestTimeoutMs: config.requestTimeout * 1000,
          maxWsMessageBytes: config.maxWsMessageBytes,
        }
        : null,
    }, handler);
  } catch (err) {
    stopGc();
    await source.stop();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    url: http.url,
    ingress: source.ingress,
    upstream: source.upstream,
    from: source.from,
    injectRelayFault: source.injectFault,
    shutdown() {
      closing ??= (async () => {
        stopGc();
        source.bridge.closeClients(CLOSE.going_away, "server shutting down");
        const served = http!.shutdown();
        log("debug", "main", "stopping the data source and the bridge");
        await source.stop();
        log("debug", "main", "bridge closed; waiting for http");
        await served;
        log("debug", "main", "http closed");
      })();
      return closing;
    },
  };
}

/** `zws [flags]`: the server until SIGINT/SIGTERM. */
async function serverMain(args: string[]): Promise<void> {
  const config = configOrExit(parseConfig(args, (name) => Deno.env.get(name)), "zws", USAGE);
  setLogLevel(config.logLevel);
  warnSecretFlags(args);
  let secrets: Secrets;
  try {
    secrets = await loadSecrets(config);
  } catch (err) {
    console.error(`zws: ${errorMessage(err)}`);
    Deno.exit(2);
  }
  let running: RunningServer;
  try {
    running = await startServer(config, secrets);
  } catch (err) {
    failToStart("zws", err);
  }
  console.log(
    `zws: listening on ${running.url.replace("//0.0.0.0:", "//127.0.0.1:")} (${running.from})`,
  );
  runUntilSignal({ component: "main", stop: () => running.shutdown() });
}

if (import.meta.main) {
  const role = Deno.args[0];
  if (role === "forwarder" || role === "relay") {
    const { forwarderMain } = await import("./forwarder.ts");
    await forwarderMain(Deno.args.slice(1));
  } else await serverMain(Deno.args);
}
