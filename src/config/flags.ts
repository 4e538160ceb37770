/**
 * The flag tables: every flag of the server (`deno task start`), the forwarder
 * (`deno task forwarder`) and the JetStream backbone (both roles), written once (see `flag.ts`
 * for what a {@link FlagSpec} holds and what is made from it). Adding a flag is one entry here
 * plus its use: the parser, `--help`, the environment list of `deno.json`'s permission sets and
 * the tables in `docs/operations.md` (`deno task gen`) follow; `tests/unit/flags_consistency_test.ts`
 * fails while they disagree. Keys are the settings' names in the role's config.
 *
 * @module
 */
import { type FlagSpec, type FlagTable, list, ruled, toggle, value } from "./flag.ts";
import {
  connectEndpoint,
  curveKeys,
  decimal,
  endpoint,
  hostname,
  hostNames,
  int,
  logLevel,
  origins,
  path,
  text,
} from "./parsers.ts";
import { DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX } from "../nats/codec.ts";
import type { LogLevel } from "../runtime/log.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

// --- Shared by both roles (same flag, same variable). ---

const maxMessageBytes = value({
  flag: "max-message-bytes",
  arg: "<n>",
  env: "ZWS_MAX_MESSAGE_BYTES",
  fallback: 65536,
  shown: "65536",
  parse: int(64, 64 * MiB),
  help: "largest producer message accepted, in bytes (all frames together)",
});

const noDemo = toggle({
  flag: "no-demo",
  env: "ZWS_NO_DEMO",
  meaning: (on: boolean) => !on,
  help: "do not run the built-in demo producer",
});

const level = value<LogLevel>({
  flag: "log-level",
  arg: "<level>",
  env: "ZWS_LOG_LEVEL",
  fallback: "info",
  shown: "info",
  parse: logLevel,
  help: "debug | info | warn | error",
});

const noPersist = ruled({
  flag: "no-persist",
  env: "ZWS_NO_PERSIST",
  help: "keep nothing across restarts (memory only)",
});

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
    help: "largest message a client may send; larger closes it with 1009",
  }),
} as const satisfies FlagTable;

/** The server's security flags (docs/securing.md). */
export const SECURITY_FLAGS = {
  authSecret: ruled({
    flag: "auth-secret",
    arg: "<secret>",
    env: "ZWS_AUTH_SECRET",
    secret: true,
    help: "require viewer tokens (HS256 JWT) signed with this secret, at least 32 bytes; " +
      "prefer the file or the environment variable",
  }),
  authSecretFile: ruled({
    flag: "auth-secret-file",
    arg: "<path>",
    env: "ZWS_AUTH_SECRET_FILE",
    help: "the same, read from a file",
  }),
  /** PEM certificate (chain) file for HTTPS/wss. */
  tlsCert: value<string | null>({
    flag: "cert",
    arg: "<path>",
    env: "ZWS_TLS_CERT",
    fallback: null,
    parse: path,
    help: "PEM certificate: serve HTTPS and wss:",
  }),
  /** PEM private key file for HTTPS/wss. */
  tlsKey: value<string | null>({
    flag: "key",
    arg: "<path>",
    env: "ZWS_TLS_KEY",
    fallback: null,
    parse: path,
    help: "PEM private key for --cert",
  }),
  curveSecretKey: ruled({
    flag: "curve-secret-key",
    arg: "<key>",
    env: "ZWS_CURVE_SECRET_KEY",
    secret: true,
    help: "encrypt the ingress with ZeroMQ CURVE using this server secret key (Z85); prefer " +
      "the file or the environment variable",
  }),
  curveSecretKeyFile: ruled({
    flag: "curve-secret-key-file",
    arg: "<path>",
    env: "ZWS_CURVE_SECRET_KEY_FILE",
    help: "the same, from `deno task keygen` output",
  }),
  /** Producer public keys (Z85) allowed on a CURVE ingress. */
  curveAllow: list({
    flag: "curve-allow",
    arg: "<pubkey>",
    equals: true,
    env: "ZWS_CURVE_ALLOW",
    fallback: [] as string[],
    parse: curveKeys,
    help: 'a producer public key allowed in; repeatable (write it with "=": Z85 keys may start ' +
      'with "-")',
  }),
  /** File listing more allowed producer public keys, one per line. */
  curveAllowFile: value<string | null>({
    flag: "curve-allow-file",
    arg: "<path>",
    env: "ZWS_CURVE_ALLOW_FILE",
    fallback: null,
    parse: path,
    help: "more allowed producer keys, one per line",
  }),
} as const satisfies FlagTable;

/** The forwarder's settings (`deno task forwarder`). */
export const FORWARDER_FLAGS = {
  /** Endpoint producers connect to (XSUB bound), e.g. `tcp://127.0.0.1:5000`. */
  ingress: value({
    flag: "ingress",
    arg: "<endpoint>",
    env: "ZWS_INGRESS",
    fallback: "tcp://127.0.0.1:5000",
    shown: "tcp://127.0.0.1:5000",
    parse: endpoint,
    help: "producers connect here (XSUB bound); tcp://host:* picks a free port",
  }),
  /** Endpoint gateways and chained forwarders connect to (XPUB bound), e.g. `tcp://127.0.0.1:5001`. */
  egress: value({
    flag: "egress",
    arg: "<endpoint>",
    env: "ZWS_EGRESS",
    fallback: "tcp://127.0.0.1:5001",
    shown: "tcp://127.0.0.1:5001",
    parse: endpoint,
    help: "gateways connect here (XPUB bound)",
  }),
  /**
   * A parent forwarder's egress: this one is then a pure pass-through (no ingress, no sequencing),
   * one level of a tree. Absent: the root, which validates and sequences.
   */
  upstream: value<string | undefined>({
    flag: "upstream",
    arg: "<endpoint>",
    env: "ZWS_FORWARDER_UPSTREAM",
    fallback: undefined,
    parse: connectEndpoint,
    help: "chain: follow a parent forwarder's egress instead of an ingress (a pure " +
      "pass-through, one level of a tree)",
  }),
  dataDir: ruled({
    flag: "data-dir",
    arg: "<dir>",
    env: "ZWS_DATA_DIR",
    shown: "./data/relay",
    help: "keep points, epoch and seq there (SQLite): a restart continues the sequence, after a " +
      "crash too (seqs are reserved ahead)",
  }),
  noPersist,
  retention: ruled({
    flag: "retention",
    arg: "<count,age>",
    env: "ZWS_RETENTION",
    shown: "1000",
    help: "points kept per series on disk, e.g. 100000,24h",
  }),
  /** File that keeps the epoch and last seq across clean restarts (root, with `--no-persist`). */
  stateFile: value<string | undefined>({
    flag: "state-file",
    arg: "<path>",
    env: "ZWS_STATE_FILE",
    fallback: undefined,
    parse: text,
    help: "instead of --data-dir: keep only epoch and seq, across clean restarts; after a crash " +
      "a new epoch starts",
  }),
  /** HTTP port of `/healthz` and `/metrics` (0 picks a free one). */
  port: value({
    flag: "port",
    arg: "<n>",
    env: "ZWS_FORWARDER_PORT",
    fallback: 8001,
    shown: "8001",
    parse: int(0, 65535),
    help: "HTTP port of /healthz and /metrics, 0 = any",
  }),
  /** Interface of that HTTP server. */
  hostname: value({
    flag: "hostname",
    arg: "<host>",
    env: "ZWS_FORWARDER_HOSTNAME",
    fallback: "127.0.0.1",
    shown: "127.0.0.1",
    parse: hostname,
    help: "interface of that port",
  }),
  /** Whether the built-in demo producer runs (root only). */
  demo: noDemo,
  /** Largest producer message accepted, in bytes. */
  maxMessageBytes,
  /** Lowest log level printed. */
  logLevel: level,
} as const satisfies FlagTable;

/** The JetStream backbone's flags (`--nats`, both roles; read by `src/nats/config.ts`). */
export const NATS_FLAG_TABLE = {
  servers: ruled({
    flag: "nats",
    arg: "<url>",
    multiple: true,
    env: "ZWS_NATS",
    help: "NATS server(s), repeatable or comma-separated: nats://host:4222 (tls://… for TLS)",
  }),
  stream: ruled({
    flag: "nats-stream",
    arg: "<name>",
    env: "ZWS_NATS_STREAM",
    shown: DEFAULT_STREAM,
    help: "stream name",
  }),
  subjectPrefix: ruled({
    flag: "nats-subject",
    arg: "<prefix>",
    env: "ZWS_NATS_SUBJECT",
    shown: DEFAULT_SUBJECT_PREFIX,
    help: "subject prefix, one subject per series",
  }),
  replicas: ruled({
    flag: "nats-replicas",
    arg: "<n>",
    env: "ZWS_NATS_REPLICAS",
    shown: "1",
    help: "replicas of the stream a relay creates",
  }),
  keepPerSeries: ruled({
    flag: "nats-keep",
    arg: "<n>",
    env: "ZWS_NATS_KEEP",
    shown: "1000",
    help: "batches kept per series (>= points kept)",
  }),
  maxAgeSeconds: ruled({
    flag: "nats-max-age",
    arg: "<s>",
    env: "ZWS_NATS_MAX_AGE",
    shown: "0",
    help: "drop stored points older than this, 0 = never",
  }),
  maxPendingPoints: ruled({
    flag: "nats-max-pending",
    arg: "<n>",
    env: "ZWS_NATS_MAX_PENDING",
    shown: "100000",
    help: "points a relay queues while NATS is slow; beyond: shed, counted",
  }),
  user: ruled({
    flag: "nats-user",
    arg: "<name>",
    env: "ZWS_NATS_USER",
    help: "user; its password from ZWS_NATS_PASSWORD or --nats-password-file",
  }),
  password: ruled({
    env: "ZWS_NATS_PASSWORD",
    help: "password of --nats-user (environment only: ps would show a flag)",
  }),
  passwordFile: ruled({
    flag: "nats-password-file",
    arg: "<path>",
    env: "ZWS_NATS_PASSWORD_FILE",
    help: "file holding the password of --nats-user",
  }),
  token: ruled({
    env: "ZWS_NATS_TOKEN",
    help: "token (environment only: ps would show a flag)",
  }),
  tokenFile: ruled({
    flag: "nats-token-file",
    arg: "<path>",
    env: "ZWS_NATS_TOKEN_FILE",
    help: "file holding the token",
  }),
  nkeyFile: ruled({
    flag: "nats-nkey-file",
    arg: "<path>",
    env: "ZWS_NATS_NKEY_FILE",
    help: "NKey seed file",
  }),
  credsFile: ruled({
    flag: "nats-creds-file",
    arg: "<path>",
    env: "ZWS_NATS_CREDS_FILE",
    help: "credentials file (JWT + seed)",
  }),
  tlsCa: ruled({
    flag: "nats-tls-ca",
    arg: "<path>",
    env: "ZWS_NATS_TLS_CA",
    help: "CA to trust for the NATS servers",
  }),
  tlsCert: ruled({
    flag: "nats-tls-cert",
    arg: "<path>",
    env: "ZWS_NATS_TLS_CERT",
    help: "client certificate (mutual TLS), with --nats-tls-key",
  }),
  tlsKey: ruled({
    flag: "nats-tls-key",
    arg: "<path>",
    env: "ZWS_NATS_TLS_KEY",
    help: "client key of --nats-tls-cert",
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
