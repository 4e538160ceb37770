/**
 * zws: live data from ZeroMQ producers to a Flot chart in every browser.
 *
 * Data path: producer (`producer.ts`, or any ZeroMQ PUB) -> relay (`relay.ts`, in a Worker) ->
 * bridge (`ws_bridge.ts`, this thread) -> page (`static/app.js`). One `Deno.serve` serves the page,
 * its scripts, the WebSocket upgrade (`/ws`) and the same stream as Server-Sent Events (`/events`)
 * on one port.
 *
 * @module
 */
import { type Config, ingressExposed, parseConfig, USAGE } from "./src/config.ts";
import { createHandler } from "./src/http.ts";
import { errorMessage, log, setLogLevel } from "./src/log.ts";
import { loadSecrets, NO_SECRETS, type Secrets } from "./src/secrets.ts";
import { createTokenVerifier } from "./src/auth.ts";
import { RelaySupervisor } from "./src/relay_supervisor.ts";
import { WsBridge } from "./ws_bridge.ts";

/** A running server. */
export interface RunningServer {
  /** The HTTP address, e.g. `http://127.0.0.1:8000/` (`https:` with a certificate). */
  url: string;
  /** The ZeroMQ ingress actually bound. */
  ingress: string;
  /** Closes clients (1001), the relay and the listener. */
  shutdown(): Promise<void>;
}

/**
 * Starts relay, bridge and HTTP server. Throws with a one-line message when a port is taken.
 *
 * @param secrets what the security flags point at, loaded by {@link loadSecrets}
 */
export async function startServer(
  config: Config,
  secrets: Secrets = NO_SECRETS,
): Promise<RunningServer> {
  const startedAt = performance.now();
  const bridge = new WsBridge({
    historyPerSeries: config.history,
    clientBufferBytes: config.clientBufferBytes,
    slowClientTimeoutMs: config.slowClientTimeout * 1000,
    maxMessageBytes: config.maxWsMessageBytes,
  });
  if (secrets.curve) {
    log(
      "info",
      "relay",
      `ingress uses CURVE: server public key ${secrets.curve.publicKey} ` +
        `(give it to producers); ${secrets.curve.allow.length} producer key(s) allowed`,
    );
  } else if (ingressExposed(config.ingress)) {
    log(
      "warn",
      "relay",
      `ingress ${config.ingress} is reachable from other hosts without CURVE: anyone who can ` +
        `reach it can publish, in clear text (see docs/securing.md)`,
    );
  }
  if (secrets.authSecret) {
    log(
      "info",
      "http",
      "viewers need a token (HS256 JWT) for the page and /ws: open /?token=…; " +
        "/healthz and /metrics stay open",
    );
  }
  const relay = new RelaySupervisor({
    relay: {
      ingress: config.ingress,
      maxMessageBytes: config.maxMessageBytes,
      demo: config.demo,
      logLevel: config.logLevel,
      ...(secrets.curve
        ? { curve: { secretKey: secrets.curve.secretKey, allow: secrets.curve.allow } }
        : {}),
    },
    onReady: (r, generation) => {
      bridge.attach(r.bus, r.epoch, r.lastSeq);
      if (generation > 1) log("info", "relay", `worker restarted (generation ${generation})`);
    },
    lastSeqSeen: () => bridge.lastSeq,
  });
  let ready;
  try {
    ready = await relay.start();
  } catch (err) {
    await bridge.close();
    throw err;
  }
  const handler = createHandler({
    bridge,
    relayStats: () => relay.stats(),
    relayRestarts: () => relay.restarts,
    allowOrigins: config.allowOrigins,
    maxClients: config.maxClients,
    startedAt,
    auth: secrets.authSecret ? createTokenVerifier(secrets.authSecret) : null,
    maxClientsPerIp: config.maxClientsPerIp,
    upgradeRate: config.upgradeRate,
  });
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      port: config.port,
      hostname: config.hostname,
      ...(secrets.tls ?? {}),
      onListen: () => {},
      onError: (err) => {
        log("error", "http", errorMessage(err));
        return new Response("internal error\n", { status: 500 });
      },
    }, handler);
  } catch (err) {
    await relay.stop();
    await bridge.close();
    if (err instanceof Deno.errors.AddrInUse) {
      throw new Error(`port ${config.port} on ${config.hostname} is already in use`);
    }
    const what = secrets.tls ? " with --cert/--key" : "";
    throw new Error(
      `cannot listen on ${config.hostname}:${config.port}${what}: ` +
        errorMessage(err).split("\n")[0],
    );
  }
  const addr = server.addr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  let closing: Promise<void> | undefined;
  return {
    url: `${secrets.tls ? "https" : "http"}://${host}:${addr.port}/`,
    ingress: ready.ingress,
    shutdown() {
      closing ??= (async () => {
        bridge.closeClients(1001, "server shutting down");
        const served = server.shutdown();
        log("debug", "main", "stopping relay");
        await relay.stop();
        log("debug", "main", "relay stopped; closing bridge");
        await bridge.close();
        log("debug", "main", "bridge closed; waiting for http");
        await served;
        log("debug", "main", "http closed");
      })();
      return closing;
    },
  };
}

if (import.meta.main) {
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
  console.log(`zws: listening on ${shown} (ingress ${running.ingress})`);
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
