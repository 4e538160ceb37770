/**
 * The flag tables: every flag of the server (`deno task start`), the forwarder
 * (`deno task forwarder`) and the JetStream backbone (both roles), written once (see `flag.ts`
 * for what a {@link FlagSpec} holds and what is made from it). The server's own and limit flags
 * are here; its security flags, the forwarder's and the JetStream ones in `flags_*.ts`. Adding a flag is one entry here
 * plus its use: the parser, `--help`, the environment list of `deno.json`'s permission sets and
 * the tables in `docs/operations.md` (`deno task gen`) follow; `tests/unit/flags_consistency_test.ts`
 * fails while they disagree. Keys are the settings' names in the role's config.
 *
 * @module
 */
import { type FlagSpec, type FlagTable, list, ruled, toggle, value } from "./flag.ts";
import {
  connectEndpoint,
  decimal,
  endpoint,
  hostname,
  hostNames,
  int,
  origins,
} from "./parsers.ts";
import {
  GiB,
  KiB,
  level,
  maxMessageBytes,
  MiB,
  nativeIngress,
  noDemo,
  noPersist,
} from "./flags_shared.ts";
import { SECURITY_FLAGS } from "./flags_security.ts";
import { FORWARDER_FLAGS } from "./flags_forwarder.ts";
import { NATS_FLAG_TABLE } from "./flags_nats.ts";

export { SECURITY_FLAGS } from "./flags_security.ts";
export { FORWARDER_FLAGS } from "./flags_forwarder.ts";
export { NATS_FLAG_TABLE } from "./flags_nats.ts";

/** The server's own settings (`deno task start`). */
export const SERVER_FLAGS = {
  /** HTTP/WebSocket port (0 picks a free one). */
  port: value({
    flag: "port",
    arg: "<n>",
    env: "PORT",
    fallback: 8000,
    shown: "8000",
    parse: int(0, 65535),
    help: "HTTP and WebSocket port, 0 = any free port",
  }),
  /** Interface the HTTP server binds. */
  hostname: value({
    flag: "hostname",
    arg: "<host>",
    env: "ZWS_HOSTNAME",
    fallback: "0.0.0.0",
    shown: "0.0.0.0",
    parse: hostname,
    help: "interface to listen on",
  }),
  /** ZeroMQ endpoint the relay binds for producers, e.g. `tcp://127.0.0.1:5000`. */
  ingress: value({
    flag: "ingress",
    arg: "<endpoint>",
    env: "ZWS_INGRESS",
    fallback: "tcp://127.0.0.1:5000",
    shown: "tcp://127.0.0.1:5000",
    parse: endpoint,
    help: "ZeroMQ endpoint producers connect to; tcp://host:* picks a free port (ipc:// and " +
      "inproc:// work too)",
  }),
  /**
   * A forwarder's egress to follow (gateway mode), e.g. `tcp://10.0.0.1:5001`; then no relay and
   * no ingress of its own. Absent: a single process with its own relay.
   */
  upstream: value<string | undefined>({
    flag: "upstream",
    arg: "<endpoint>",
    env: "ZWS_UPSTREAM",
    fallback: undefined,
    parse: connectEndpoint,
    help: "gateway mode: follow a forwarder's egress (tcp://host:5001) instead of running a " +
      "relay; --ingress and the demo do not apply",
  }),
  /** Sets SO_REUSEPORT on the HTTP listener, so several gateway processes share one port (Linux). */
  reusePort: toggle({
    flag: "reuse-port",
    env: "ZWS_REUSE_PORT",
    help: "let several processes listen on --port (SO_REUSEPORT, Linux)",
  }),
  /** Whether the built-in demo producer runs. */
  demo: noDemo,
  /** Largest producer message accepted, in bytes (all frames together). */
  maxMessageBytes,
  /** Plain producers connect to libzmq's socket, not the ZMTP reader (size limit per frame). */
  nativeIngress,
  /** Seconds a point's x may lie from the server's clock, either way (0 = any finite x). */
  xWindow: value({
    flag: "x-window",
    arg: "<s>",
    env: "ZWS_X_WINDOW",
    fallback: 86400,
    shown: "86400",
    parse: int(0, 100 * 365 * 86400),
    help: "accept x within this many seconds of the server's clock, either way; others count " +
      "as invalid_x, 0 = any x",
  }),
  /** Host names (Host header) the server answers to, besides loopback names; "*" = any. */
  allowedHosts: list({
    flag: "allowed-hosts",
    arg: "<names>",
    env: "ZWS_ALLOWED_HOSTS",
    fallback: [] as string[],
    parse: hostNames,
    help: "host names (Host header) served besides loopback names and IP literals " +
      '(.example.com: its subdomains; "*": any); others get 421 (default: any when bound to a ' +
      "non-loopback address, loopback names only when bound to loopback)",
  }),
  /** Extra origins allowed to open `/ws` and `/events`, besides the server's own. */
  allowOrigins: list({
    flag: "allow-origin",
    arg: "<origin>",
    env: "ZWS_ALLOW_ORIGIN",
    fallback: [] as string[],
    parse: origins,
    help: "another origin allowed to open /ws and /events; repeatable",
  }),
  /** Most clients (WebSocket and event stream) served at once. */
  maxClients: value({
    flag: "max-clients",
    arg: "<n>",
    env: "ZWS_MAX_CLIENTS",
    fallback: 10000,
    shown: "10000",
    parse: int(1, 1_000_000),
    help: "most clients at once (WebSocket and SSE; 503 beyond)",
  }),
  /** Points held per series for new and returning clients. */
  history: value({
    flag: "history",
    arg: "<n>",
    env: "ZWS_HISTORY",
    fallback: 1000,
    shown: "1000",
    parse: int(1, 1_000_000),
    help: "points held per series for new and returning clients",
  }),
  dataDir: ruled({
    flag: "data-dir",
    arg: "<dir>",
    env: "ZWS_DATA_DIR",
    shown: "./data",
    help: "keep history, epoch and seq there across restarts (SQLite)",
  }),
  noPersist,
  retention: ruled({
    flag: "retention",
    arg: "<count,age>",
    env: "ZWS_RETENTION",
    shown: "--history",
    help: "what the store keeps per series: a count and/or an age (30s, 15m, 24h, 7d), " +
      "e.g. 100000,24h",
  }),
  /** Unsent bytes a client may have queued before it is held back. */
  clientBufferBytes: value({
    flag: "client-buffer-bytes",
    arg: "<n>",
    env: "ZWS_CLIENT_BUFFER_BYTES",
    fallback: MiB,
    shown: String(MiB),
    parse: int(KiB, GiB),
    help: "unsent bytes per client before it is held back",
  }),
  /** Seconds a client may stay over its buffer bound before it is closed (4008). */
  slowClientTimeout: value({
    flag: "slow-client-timeout",
    arg: "<s>",
    env: "ZWS_SLOW_CLIENT_TIMEOUT",
    fallback: 10,
    shown: "10",
    parse: int(1, 3600),
    help: "seconds over that bound before the client is closed (4008)",
  }),
  /** Unsent bytes all clients together may have queued; over it the most queued are held back. */
  clientsBufferBudget: value({
    flag: "clients-buffer-budget",
    arg: "<n>",
    env: "ZWS_CLIENTS_BUFFER_BUDGET",
    fallback: 128 * MiB,
    shown: String(128 * MiB),
    parse: int(MiB, 64 * GiB),
    help: "unsent bytes of all clients together; over it the clients with the most queued are " +
      "held back",
  }),
  /** Lowest log level printed. */
  logLevel: level,
} as const satisfies FlagTable;

/** The server's limits (over a limit: 503 or 429 before the upgrade, counted in `/metrics`). */
export const LIMIT_FLAGS = {
  /** Most WebSocket clients from one IP address at once (0 = no limit). */
  maxClientsPerIp: value({
    flag: "max-clients-per-ip",
    arg: "<n>",
    env: "ZWS_MAX_CLIENTS_PER_IP",
    fallback: 0,
    shown: "0",
    parse: int(0, 1_000_000),
    help: "most WebSocket clients from one IP (429 beyond), 0 = no limit",
  }),
  /** WebSocket upgrades allowed per IP address per second, with a burst of as many (0 = no limit). */
  upgradeRate: value({
    flag: "upgrade-rate",
    arg: "<n>",
    env: "ZWS_UPGRADE_RATE",
    fallback: 0,
    shown: "0",
    parse: decimal(100_000),
    help: "WebSocket upgrades per IP per second (burst of as many; 429 beyond), 0 = no limit",
  }),
  /** Largest message a WebSocket client may send, in bytes; larger ones close it with 1009. */
  maxWsMessageBytes: value({
    flag: "max-ws-message-bytes",
    arg: "<n>",
    env: "ZWS_MAX_WS_MESSAGE_BYTES",
    fallback: 4096,
    shown: "4096",
    parse: int(64, 16 * MiB),
    help: "largest message a client may send; larger closes it with 1009 (the front ends it " +
      "before Deno holds it)",
  }),
  /** Most TCP connections the front holds at once (0: only the open-files margin). */
  maxConnections: value({
    flag: "max-connections",
    arg: "<n>",
    env: "ZWS_MAX_CONNECTIONS",
    fallback: 20000,
    shown: "20000",
    parse: int(0, 10_000_000),
    help: "most TCP connections at once on --port, 0 = only the open-files margin " +
      "(docs/securing.md)",
  }),
  /** Seconds a connection may take to send a complete request head before it is closed. */
  requestTimeout: value({
    flag: "request-timeout",
    arg: "<s>",
    env: "ZWS_REQUEST_TIMEOUT",
    fallback: 10,
    shown: "10",
    parse: int(1, 3600),
    help: "seconds a connection may take to send its request head",
  }),
  /**
   * Whether the HTTP front (`src/http/front.ts`) owns the public port: request-head timeout,
   * open-files margin, connection cap, WebSocket message bound. False: `Deno.serve` on the port.
   */
  front: toggle({
    flag: "no-front",
    env: "ZWS_NO_FRONT",
    meaning: (on: boolean) => !on,
    help: "serve --port with Deno.serve alone: no request timeout, no open-files margin, no " +
      "early WebSocket message bound (for a proxy in front that does these)",
  }),
} as const satisfies FlagTable;

/** The tables of each role, in `--help` order: what `deno.json`'s permission sets must allow. */
export const ROLE_TABLES: Readonly<Record<"server" | "forwarder", readonly FlagTable[]>> = {
  server: [SERVER_FLAGS, LIMIT_FLAGS, SECURITY_FLAGS, NATS_FLAG_TABLE],
  forwarder: [FORWARDER_FLAGS, NATS_FLAG_TABLE],
};

/** The specs given as flags that are secrets (the server warns: `ps` shows them). */
export function secretFlags(tables: readonly FlagTable[]): string[] {
  return tables.flatMap((t) => Object.values(t) as FlagSpec[])
    .filter((s) => s.secret && s.flag)
    .map((s) => `--${s.flag}`);
}
