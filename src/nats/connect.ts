/**
 * Connecting to NATS for both roles: credentials and TLS from a {@link NatsConfig}, endless
 * reconnects, and one clear log line per state change (never a stack trace, rate-limited).
 *
 * @module
 */
import {
  connect,
  type ConnectionOptions,
  credsAuthenticator,
  type NatsConnection,
  nkeyAuthenticator,
} from "@nats-io/transport-node";
import type { NatsConfig } from "./config.ts";
import { errorMessage, log, RateLimitedLog } from "../runtime/log.ts";
import { guardLateSocketErrors } from "./late_socket_errors.ts";

/** Connection state, for `/healthz` and `/metrics`. */
export interface NatsLinkState {
  /** Whether the connection is up now. */
  connected: boolean;
  /** Server the connection is on (when connected). */
  server?: string;
  /** Connections made (the first one included). */
  connects: number;
  /** Disconnections seen. */
  disconnects: number;
  /** Since when `connected` holds, ms since the epoch. */
  since: number;
}

/** A NATS connection and its state. */
export interface NatsLink {
  readonly nc: NatsConnection;
  state(): NatsLinkState;
  /** Drains and closes the connection, and stops watching it. */
  close(): Promise<void>;
}

async function readSecret(path: string, what: string): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch (err) {
    throw new Error(`cannot read the NATS ${what} file ${path}: ${errorMessage(err)}`);
  }
}

/** The client's connection options (reads the credential and TLS files named in `cfg`). */
export async function natsConnectionOptions(
  cfg: NatsConfig,
  name: string,
): Promise<ConnectionOptions> {
  const opts: ConnectionOptions = {
    servers: cfg.servers,
    name,
    // Retry for ever, at start too: NATS may come up after zws.
    waitOnFirstConnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    reconnectJitter: 200,
    pingInterval: 5000,
    maxPingOut: 2,
    timeout: 5000,
  };
  if (cfg.user !== undefined) {
    opts.user = cfg.user;
    opts.pass = cfg.password ?? await readSecret(cfg.passwordFile!, "password");
  }
  if (cfg.token !== undefined || cfg.tokenFile !== undefined) {
    opts.token = cfg.token ?? await readSecret(cfg.tokenFile!, "token");
  }
  if (cfg.nkeyFile !== undefined) {
    const seed = await readSecret(cfg.nkeyFile, "nkey seed");
    if (!/^S[A-Z2-7]{50,}$/.test(seed)) {
      throw new Error(`the NATS nkey file ${cfg.nkeyFile} does not hold a seed (S…)`);
    }
    opts.authenticator = nkeyAuthenticator(new TextEncoder().encode(seed));
  }
  if (cfg.credsFile !== undefined) {
    const creds = await readSecret(cfg.credsFile, "credentials");
    if (!creds.includes("-----BEGIN NATS USER JWT-----")) {
      throw new Error(`the NATS creds file ${cfg.credsFile} holds no user JWT`);
    }
    opts.authenticator = credsAuthenticator(new TextEncoder().encode(creds));
  }
  if (cfg.tlsCa !== undefined || cfg.tlsCert !== undefined) {
    opts.tls = {
      ...(cfg.tlsCa !== undefined ? { caFile: cfg.tlsCa } : {}),
      ...(cfg.tlsCert !== undefined ? { certFile: cfg.tlsCert, keyFile: cfg.tlsKey } : {}),
    };
  } else if (cfg.servers.some((s) => s.startsWith("tls://"))) {
    opts.tls = {};
  }
  return opts;
}

/**
 * Connects (retrying until it works: one error line, then one every 10 s while it fails) and
 * watches the connection. Throws only for a problem retrying cannot fix (a bad file, refused
 * credentials).
 */
export async function connectNats(
  cfg: NatsConfig,
  name: string,
  who: string,
  signal?: AbortSignal,
): Promise<NatsLink> {
  guardLateSocketErrors();
  const opts = await natsConnectionOptions(cfg, name);
  const rate = new RateLimitedLog(10_000);
  const servers = cfg.servers.join(",");
  let nc: NatsConnection | undefined;
  // waitOnFirstConnect retries inside connect() but says nothing; connect with a short first
  // attempt ourselves, so the user sees the problem at once.
  let attempts = 0;
  while (!nc) {
    if (signal?.aborted) throw new Error(`stopped before NATS ${servers} was reachable`);
    try {
      nc = await connect({ ...opts, waitOnFirstConnect: false, maxReconnectAttempts: -1 });
    } catch (err) {
      const msg = errorMessage(err);
      if (/authoriz|authentic|permission/i.test(msg)) {
        throw new Error(`NATS ${servers} refused the credentials: ${msg}`);
      }
      attempts++;
      rate.log(
        "error",
        who,
        "nats-unreachable",
        `cannot reach NATS ${servers}: ${msg} (retrying${
          attempts > 1 ? `, ${attempts} tries` : ""
        })`,
      );
      await new Promise((r) => setTimeout(r, Math.min(2000, 200 * attempts)));
    }
  }
  if (attempts > 0) log("info", who, `connected to NATS ${nc.getServer()}`);
  const state: NatsLinkState = {
    connected: true,
    server: nc.getServer(),
    connects: 1,
    disconnects: 0,
    since: Date.now(),
  };
  const conn = nc;
  const watching = (async () => {
    for await (const s of conn.status()) {
      switch (s.type) {
        case "disconnect":
          state.connected = false;
          state.disconnects++;
          state.since = Date.now();
          rate.log("warn", who, "nats-disconnect", `lost NATS ${s.server}; reconnecting`);
          break;
        case "reconnect":
          state.connected = true;
          state.connects++;
          state.server = s.server;
          state.since = Date.now();
          log("info", who, `reconnected to NATS ${s.server}`);
          break;
        case "error":
          rate.log("error", who, "nats-error", `NATS: ${errorMessage(s.error)}`);
          break;
      }
    }
  })().catch(() => {});
  return {
    nc: conn,
    state: () => ({ ...state }),
    async close() {
      await conn.drain().catch(() => conn.close().catch(() => {}));
      await conn.closed();
      await watching;
    },
  };
}
