/**
 * zws: live data from ZeroMQ producers to a Flot chart in every browser.
 *
 * Data path: producer (`producer.ts`, or any ZeroMQ PUB) -> relay (`relay.ts`, in a Worker) ->
 * bridge (`ws_bridge.ts`, this thread) -> page (`static/app.js`). One `Deno.serve` serves the page,
 * its scripts, the WebSocket upgrade (`/ws`) and the same stream as Server-Sent Events (`/events`)
 * on one port.
 *
 * Scaled out (docs/scaling.md): `main.ts relay` runs the forwarder (`forwarder.ts`), and a server
 * started with `--upstream` is a gateway that follows it (`src/upstream.ts`) instead of running a
 * relay of its own.
 *
 * @module
 */
import { type Config, ingressExposed, parseConfig, USAGE } from "./src/config/config.ts";
import { createHandler, type HttpContext } from "./src/http/handler.ts";
import { hostPolicy } from "./src/http/host_check.ts";
import { errorMessage, log, setLogLevel } from "./src/runtime/log.ts";
import type { RelayStats } from "./src/relay/worker_messages.ts";
import { loadSecrets, NO_SECRETS, type Secrets } from "./src/config/secrets.ts";
import { createTokenVerifier } from "./src/http/auth.ts";
import { collectAfterChurn } from "./src/runtime/gc.ts";
import { RelaySupervisor } from "./src/relay/supervisor.ts";
import { assessHealth, type Health } from "./src/runtime/health.ts";
import { startUpstream, waitUntilHeld } from "./src/sources/upstream_link.ts";
import { WsBridge } from "./ws_bridge.ts";
import { resumeFromUrl } from "./src/protocol/resume.ts";
import { startJetStreamGateway } from "./src/nats/gateway.ts";
import { forwarderMain } from "./forwarder.ts";
import { type HttpService, serveHttp } from "./src/http/serve.ts";

/** A running server. */
export interface RunningServer {
  /** The HTTP address, e.g. `http://127.0.0.1:8000/` (`https:` with a certificate). */
  url: string;
  /** The ZeroMQ ingress actually bound (single process). */
  ingress?: string;
  /** The forwarder followed (gateway), or the NATS servers (JetStream gateway). */
  upstream?: string;
  /** Closes clients (1001), the relay and the listener. */
  shutdown(): Promise<void>;
  /**
   * Tests only: makes one of the relay worker's loops fail (`runtime/loop.ts` `faults`); on a
   * gateway, ends its upstream link's proxy (the loop name is ignored).
   */
  injectRelayFault?(loop: string, kind?: "throw" | "hang"): void;
}

/** How long a gateway holds a resuming client back until it holds the client's last point. */
const RESUME_WAIT_MS = 2000;

/** The server's data source: its own relay (one process) or a forwarder (gateway). */
interface Source {
  /** The data path's health for `/healthz` (absent: always ok). */
  health?: () => Health;
  relayStats(): Promise<RelayStats>;
  relayRestarts(): number;
  /** Tests only: arms a fault in the relay worker (see {@link RunningServer.injectRelayFault}). */
  injectFault?: (loop: string, kind?: "throw" | "hang") => void;
  /** Stops the source and closes the bridge(s): never a socket with a receive pending on it. */
  stop(): Promise<void>;
}

/**
 * Starts relay (or, with `config.upstream`, the link to a forwarder), bridge and HTTP server.
 * Throws with a one-line message when a port is taken.
 *
 * @param secrets what the security flags point at, loaded by {@link loadSecrets}
 */
export async function startServer(
  config: Config,
  secrets: Secrets = NO_SECRETS,
): Promise<RunningServer> {
  const startedAt = performance.now();
  if (secrets.curve) {
    log(
      "info",
      "relay",
      `ingress uses CURVE: server public key ${secrets.curve.publicKey} ` +
        `(give it to producers); ${secrets.curve.allow.length} producer key(s) allowed`,
    );
  } else if (!config.upstream && ingressExposed(config.ingress)) {
    log(
      "warn",
      "relay",
      `ingress ${config.ingress} is reachable from other hosts without CURVE: anyone who can ` +
        `reach it can publish, in clear text (see docs/securing.md)`,
    );
  }
  if (
    hostPolicy(config.hostname, config.allowedHosts) === null && !config.allowedHosts.includes("*")
  ) {
    log(
      "info",
      "http",
      `Host header not checked (bound to ${config.hostname}): set --allowed-hosts to the names ` +
        `this server answers to, against DNS rebinding (docs/securing.md)`,
    );
  }
  if (secrets.authSecret) {
    log(
      "info",
      "http",
      "viewers need a token (HS256 JWT) for the page, /ws and /events: open /?token=…; " +
        "/healthz and /metrics stay open",
    );
  }
  let bridge: WsBridge;
  const newBridge = (onEpochChange?: (epoch: string, seq: number) => void) =>
    new WsBridge({
      historyPerSeries: config.history,
      clientBufferBytes: config.clientBufferBytes,
      clientsBufferBudget: config.clientsBufferBudget,
      slowClientTimeoutMs: config.slowClientTimeout * 1000,
      maxMessageBytes: config.maxWsMessageBytes,
      onEpochChange,
    });
  let source: Source;
  let ingress: string | undefined;
  let gatewayExtras: Partial<HttpContext> = {};
  if (config.upstream) {
    const up = await startUpstream({ endpoint: config.upstream });
    /** Bridges of earlier epochs, closing. */
    const retiring = new Set<Promise<void>>();
    let epochChanges = 0;
    const onEpochChange = (epoch: string, seq: number) => {
      // The forwarder restarted without its state: seqs of the new epoch do not compare with the
      // old ones. A fresh bridge (empty history) takes over; clients of the old one reconnect
      // and get a reset snapshot.
      epochChanges++;
      log("warn", "upstream", `epoch changed ${bridge.epoch} -> ${epoch}: clients start over`);
      const old = bridge;
      bridge = newBridge(onEpochChange);
      bridge.attach(up.bus, epoch, seq - 1);
      old.closeClients(1012, "upstream restarted");
      const closing = old.close().finally(() => retiring.delete(closing));
      retiring.add(closing);
    };
    bridge = newBridge(onEpochChange);
    bridge.attach(up.bus, "", 0); // the epoch comes with the first point
    source = {
      relayStats: () => {
        const b = bridge.stats();
        return Promise.resolve({
          messages: b.pointsReceived,
          points: b.pointsReceived,
          rejected: {},
          lastSeq: bridge.lastSeq,
        });
      },
      relayRestarts: () => 0,
      injectFault: () => up.injectFault(),
      stop: async () => {
        const closed = bridge.close();
        await up.close(closed);
        await closed;
        await Promise.all(retiring);
      },
    };
    gatewayExtras = {
      upstream: {
        health: () => {
          const l = up.link();
          return {
            ...l,
            since: new Date(l.since).toISOString(),
            epoch: bridge.epoch || null,
            lastSeq: bridge.lastSeq,
          };
        },
        metrics: () => ({ ...up.link(), epochChanges, linkRestarts: up.restarts() }),
      },
      beforeUpgrade: (req: Request) =>
        waitUntilHeld(
          resumeFromUrl(new URL(req.url)),
          () => ({ epoch: bridge.epoch, heldSeq: bridge.heldSeq }),
          RESUME_WAIT_MS,
        ),
    };
  } else if (config.nats) {
    // JetStream gateway (src/nats/gateway.ts): serves once the stream's history is loaded.
    const js = await startJetStreamGateway({
      nats: config.nats,
      newBridge: () => newBridge(),
      onBridge: (b) => bridge = b,
    });
    await js.ready;
    source = {
      relayStats: () => {
        const b = bridge.stats();
        return Promise.resolve({
          messages: b.pointsReceived,
          points: b.pointsReceived,
          rejected: {},
          lastSeq: bridge.lastSeq,
        });
      },
      relayRestarts: () => 0,
      stop: () => js.stop(),
    };
    gatewayExtras = {
      upstream: { health: js.health, metrics: js.metrics },
      extraMetrics: js.extraMetrics,
      beforeUpgrade: (req: Request) =>
        waitUntilHeld(
          resumeFromUrl(new URL(req.url)),
          () => ({ epoch: bridge.epoch, heldSeq: bridge.heldSeq }),
          RESUME_WAIT_MS,
        ),
    };
  } else {
    bridge = newBridge();
    const relay = new RelaySupervisor({
      relay: {
        ingress: config.ingress,
        maxMessageBytes: config.maxMessageBytes,
        nativeIngress: config.nativeIngress,
        xWindowMs: config.xWindow * 1000,
        demo: config.demo,
        logLevel: config.logLevel,
        persist: {
          dataDir: config.dataDir,
          retention: config.retention,
          history: config.history,
          maxSeries: 1000,
        },
        ...(secrets.curve
          ? { curve: { secretKey: secrets.curve.secretKey, allow: secrets.curve.allow } }
          : {}),
      },
      onReady: (r, generation) => {
        // First start: the history the store kept (a restart continues where it stopped).
        if (generation === 1 && r.held) bridge.preload(r.held, r.lastSeq);
        bridge.attach(r.bus, r.epoch, r.lastSeq);
        if (generation > 1) log("info", "relay", `worker restarted (generation ${generation})`);
      },
      lastSeqSeen: () => bridge.lastSeq,
    });
    try {
      ingress = (await relay.start()).ingress;
    } catch (err) {
      await bridge.close();
      throw err;
    }
    source = {
      health: () =>
        assessHealth({
          relayUp: relay.up,
          busIdleMs: bridge.stats().busIdleMs,
          uptimeMs: performance.now() - startedAt,
          pending: relay.pending,
        }),
      relayStats: () => relay.stats(),
      relayRestarts: () => relay.restarts,
      injectFault: (loop, kind) => relay.postToWorker({ type: "fault", loop, kind }),
      stop: async () => {
        await relay.stop();
        await bridge.close();
      },
    };
  }
  // Connections that ended (all bridges of this process): a full GC releases their native memory.
  const stopGc = collectAfterChurn(() => {
    const b = bridge.stats();
    return b.connectionsTotal - b.clients;
  });
  const ctx: HttpContext = {
    // A getter: a gateway swaps in a new bridge when the forwarder's epoch changes.
    get bridge() {
      return bridge;
    },
    health: source.health,
    relayStats: () => source.relayStats(),
    relayRestarts: () => source.relayRestarts(),
    allowOrigins: config.allowOrigins,
    hosts: hostPolicy(config.hostname, config.allowedHosts),
    maxClients: config.maxClients,
    startedAt,
    auth: secrets.authSecret ? createTokenVerifier(secrets.authSecret) : null,
    maxClientsPerIp: config.maxClientsPerIp,
    upgradeRate: config.upgradeRate,
    secure: secrets.tls !== null && config.front,
    front: () => service.front!.stats(),
    ...gatewayExtras,
  };
  if (!config.front) delete ctx.front;
  const handler = createHandler(ctx);
  let service: HttpService;
  try {
    service = serveHttp({
      port: config.port,
      hostname: config.hostname,
      tls: secrets.tls,
      reusePort: config.reusePort,
      front: config.front
        ? {
          maxConnections: config.maxConnections,
          requestTimeoutMs: config.requestTimeout * 1000,
          maxWsMessageBytes: config.maxWsMessageBytes,
        }
        : null,
      onError: (err) => {
        log("error", "http", errorMessage(err));
        return new Response("internal error\n", { status: 500 });
      },
    }, handler);
  } catch (err) {
    stopGc();
    await source.stop();
    if (err instanceof Deno.errors.AddrInUse) {
      throw new Error(`port ${config.port} on ${config.hostname} is already in use`);
    }
    const what = secrets.tls ? " with --cert/--key" : "";
    throw new Error(
      `cannot listen on ${config.hostname}:${config.port}${what}: ` +
        errorMessage(err).split("\n")[0],
    );
  }
  const addr = service.addr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  let closing: Promise<void> | undefined;
  return {
    url: `${secrets.tls ? "https" : "http"}://${host}:${addr.port}/`,
    ingress,
    upstream: config.upstream ?? config.nats?.servers.join(","),
    injectRelayFault: source.injectFault,
    shutdown() {
      closing ??= (async () => {
        stopGc();
        bridge.closeClients(1001, "server shutting down");
        const served = service.shutdown();
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

if (import.meta.main && Deno.args[0] === "relay") {
  await forwarderMain(Deno.args.slice(1));
} else if (import.meta.main) {
  const parsed = parseConfig(Deno.args, (name) => Deno.env.get(name));
  if (parsed.kind === "help") {
    console.log(USAGE);
    Deno.exit(0);
  }
  if (parsed.kind === "error") {
    console.error(`zws: ${parsed.message}\nRun with --help for the flags.`);
    Deno.exit(2);
  }
  const config = parsed.config;
  setLogLevel(config.logLevel);
  for (const flag of ["--auth-secret", "--curve-secret-key"]) {
    if (Deno.args.some((a) => a === flag || a.startsWith(`${flag}=`))) {
      log(
        "warn",
        "main",
        `${flag} on the command line is visible to other users (ps) and echoed by deno task: ` +
          `use ${flag}-file or the environment variable instead (docs/securing.md)`,
      );
    }
  }
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
    console.error(`zws: ${errorMessage(err)}`);
    Deno.exit(1);
  }
  const shown = running.url.replace("//0.0.0.0:", "//127.0.0.1:");
  const from = config.nats
    ? `JetStream ${running.upstream} stream ${config.nats.stream}`
    : running.upstream
    ? `upstream ${running.upstream}`
    : `ingress ${running.ingress}`;
  console.log(`zws: listening on ${shown} (${from})`);
  const stop = async (signal: string) => {
    log("info", "main", `${signal}: shutting down`);
    // Hard deadline: exit within 2 s whatever happens.
    setTimeout(() => Deno.exit(0), 1800);
    await running.shutdown().catch((err) => log("error", "main", errorMessage(err)));
    log("debug", "main", "exiting");
    Deno.exit(0);
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, () => stop(sig));
  }
}
