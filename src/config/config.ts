/**
 * Command-line flags with environment fallbacks, validated into a {@link Config}. Pure: no I/O.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { parseRetention, type Retention } from "../store/retention.ts";
import { LOG_LEVELS, type LogLevel } from "../runtime/log.ts";
import { isCurveKey } from "../zmq/curve.ts";
import { NATS_FLAGS, NATS_USAGE, type NatsConfig, parseNatsConfig } from "../nats/config.ts";

/** The server's validated settings. */
export interface Config {
  /** HTTP/WebSocket port (0 picks a free one). */
  port: number;
  /** Interface the HTTP server binds. */
  hostname: string;
  /** ZeroMQ endpoint the relay binds for producers, e.g. `tcp://127.0.0.1:5000`. */
  ingress: string;
  /**
   * A forwarder's egress to follow (gateway mode, see `forwarder.ts`), e.g. `tcp://10.0.0.1:5001`;
   * then no relay and no ingress of its own. Undefined: a single process with its own relay.
   */
  upstream?: string;
  /** JetStream gateway mode (`--nats`, `src/nats/`): consume the stream that relays publish. */
  nats?: NatsConfig;
  /** Sets SO_REUSEPORT on the HTTP listener, so several gateway processes share one port (Linux). */
  reusePort: boolean;
  /** Whether the built-in demo producer runs. */
  demo: boolean;
  /** Largest producer message accepted, in bytes (all frames together). */
  maxMessageBytes: number;
  /**
   * Plain producers connect to libzmq's socket instead of zws's ZMTP reader: its size limit then
   * holds per frame only (`src/zmq/plain_ingress.ts`). For producers on libzmq before 4.0.
   */
  nativeIngress: boolean;
  /**
   * Whether the HTTP front (`src/http/front.ts`) owns the public port: request-head timeout,
   * open-files margin, connection cap, WebSocket message bound. False: `Deno.serve` on the port.
   */
  front: boolean;
  /** Most TCP connections the front holds at once (0: only the open-files margin). */
  maxConnections: number;
  /** Seconds a connection may take to send a complete request head before it is closed. */
  requestTimeout: number;
  /** Seconds a point's x may lie from the server's clock, either way (0 = any finite x). */
  xWindow: number;
  /** Host names (Host header) the server answers to, besides loopback names; "*" = any. */
  allowedHosts: string[];
  /** Extra origins allowed to open `/ws`, besides the server's own. */
  allowOrigins: string[];
  /** Most clients (WebSocket and event stream) served at once. */
  maxClients: number;
  /** Points held per series for new and returning clients. */
  history: number;
  /** Where history, epoch and seq are kept across restarts (`src/store/`); null: `--no-persist`. */
  dataDir: string | null;
  /** What the store keeps per series (`--retention`; the count defaults to `--history`). */
  retention: Retention;
  /** Unsent bytes a client may have queued before it is held back. */
  clientBufferBytes: number;
  /** Seconds a client may stay over its buffer bound before it is closed (4008). */
  slowClientTimeout: number;
  /** Unsent bytes all clients together may have queued; over it the most queued are held back. */
  clientsBufferBudget: number;
  /** Lowest log level printed. */
  logLevel: LogLevel;
  /** Most WebSocket clients from one IP address at once (0 = no limit). */
  maxClientsPerIp: number;
  /** WebSocket upgrades allowed per IP address per second, with a burst of as many (0 = no limit). */
  upgradeRate: number;
  /** Largest message a WebSocket client may send, in bytes; larger ones close it with 1009. */
  maxWsMessageBytes: number;
  /** Viewer-token secret given inline (flag or env). Never log it. */
  authSecret: string | null;
  /** File holding the viewer-token secret. */
  authSecretFile: string | null;
  /** PEM certificate (chain) file for HTTPS/wss. */
  tlsCert: string | null;
  /** PEM private key file for HTTPS/wss. */
  tlsKey: string | null;
  /** CURVE secret key of the ingress (Z85) given inline. Never log it. */
  curveSecretKey: string | null;
  /** File holding the ingress's CURVE secret key (`deno task keygen` output or a bare key). */
  curveSecretKeyFile: string | null;
  /** Producer public keys (Z85) allowed on a CURVE ingress. */
  curveAllow: string[];
  /** File listing more allowed producer public keys, one per line. */
  curveAllowFile: string | null;
}

/** Defaults for every setting. */
export const DEFAULTS: Readonly<Config> = Object.freeze({
  port: 8000,
  hostname: "0.0.0.0",
  ingress: "tcp://127.0.0.1:5000",
  reusePort: false,
  demo: true,
  maxMessageBytes: 65536,
  nativeIngress: false,
  front: true,
  maxConnections: 20000,
  requestTimeout: 10,
  xWindow: 86400,
  allowedHosts: [],
  allowOrigins: [],
  maxClients: 10000,
  history: 1000,
  dataDir: "./data",
  retention: Object.freeze({ count: 1000 }),
  clientBufferBytes: 1024 * 1024,
  slowClientTimeout: 10,
  clientsBufferBudget: 128 * 1024 * 1024,
  logLevel: "info",
  maxClientsPerIp: 0,
  upgradeRate: 0,
  maxWsMessageBytes: 4096,
  authSecret: null,
  authSecretFile: null,
  tlsCert: null,
  tlsKey: null,
  curveSecretKey: null,
  curveSecretKeyFile: null,
  curveAllow: [],
  curveAllowFile: null,
});

/** Environment variable read for each flag when the flag is absent. */
export const ENV_VARS = {
  port: "PORT",
  hostname: "ZWS_HOSTNAME",
  ingress: "ZWS_INGRESS",
  upstream: "ZWS_UPSTREAM",
  reusePort: "ZWS_REUSE_PORT",
  demo: "ZWS_NO_DEMO",
  maxMessageBytes: "ZWS_MAX_MESSAGE_BYTES",
  nativeIngress: "ZWS_NATIVE_INGRESS",
  front: "ZWS_NO_FRONT",
  maxConnections: "ZWS_MAX_CONNECTIONS",
  requestTimeout: "ZWS_REQUEST_TIMEOUT",
  xWindow: "ZWS_X_WINDOW",
  allowedHosts: "ZWS_ALLOWED_HOSTS",
  allowOrigins: "ZWS_ALLOW_ORIGIN",
  maxClients: "ZWS_MAX_CLIENTS",
  history: "ZWS_HISTORY",
  dataDir: "ZWS_DATA_DIR",
  noPersist: "ZWS_NO_PERSIST",
  retention: "ZWS_RETENTION",
  clientBufferBytes: "ZWS_CLIENT_BUFFER_BYTES",
  slowClientTimeout: "ZWS_SLOW_CLIENT_TIMEOUT",
  clientsBufferBudget: "ZWS_CLIENTS_BUFFER_BUDGET",
  logLevel: "ZWS_LOG_LEVEL",
  maxClientsPerIp: "ZWS_MAX_CLIENTS_PER_IP",
  upgradeRate: "ZWS_UPGRADE_RATE",
  maxWsMessageBytes: "ZWS_MAX_WS_MESSAGE_BYTES",
  authSecret: "ZWS_AUTH_SECRET",
  authSecretFile: "ZWS_AUTH_SECRET_FILE",
  tlsCert: "ZWS_TLS_CERT",
  tlsKey: "ZWS_TLS_KEY",
  curveSecretKey: "ZWS_CURVE_SECRET_KEY",
  curveSecretKeyFile: "ZWS_CURVE_SECRET_KEY_FILE",
  curveAllow: "ZWS_CURVE_ALLOW",
  curveAllowFile: "ZWS_CURVE_ALLOW_FILE",
} as const;

/** Shortest inline viewer-token secret, in bytes (HS256). */
export const MIN_AUTH_SECRET_BYTES = 32;

/** Usage text printed by `--help`. */
export const USAGE = `zws — live data from ZeroMQ producers to a Flot chart in every browser

Usage: deno task start [flags]          one process: relay, bridge and page
       deno task start --upstream <egress> a gateway following a forwarder
       deno task relay [flags]          the forwarder (zws relay --help)
       deno task start --nats <url>     a gateway consuming a JetStream stream (docs/scaling.md)

Flags (environment fallback in brackets):
  --port <n>                 HTTP and WebSocket port, 0 = any free port   [PORT] (default 8000)
  --hostname <host>          interface to listen on                 [ZWS_HOSTNAME] (default 0.0.0.0)
  --ingress <endpoint>       ZeroMQ endpoint producers connect to    [ZWS_INGRESS]
                             (default tcp://127.0.0.1:5000; tcp://host:* picks a free port)
  --upstream <endpoint>      gateway mode: follow a forwarder's egress (tcp://host:5001) instead
                             of running a relay; --ingress and the demo do not apply [ZWS_UPSTREAM]
  --reuse-port               let several processes listen on --port (SO_REUSEPORT, Linux)
                             [ZWS_REUSE_PORT=1]
  --no-demo                  do not run the built-in demo producer  [ZWS_NO_DEMO=1]
  --max-message-bytes <n>    largest producer message accepted, all its frames together
                             [ZWS_MAX_MESSAGE_BYTES] (default 65536)
  --native-ingress           plain producers connect to libzmq's own socket, not zws's ZMTP
                             reader: for libzmq < 4.0 producers; the size limit then holds per
                             frame only                          [ZWS_NATIVE_INGRESS=1]
  --x-window <s>             accept x within this many seconds of the server's clock, either
                             way; others count as invalid_x, 0 = any x [ZWS_X_WINDOW] (default 86400)
  --allow-origin <origin>    another origin allowed to open /ws and /events; repeatable
                             [ZWS_ALLOW_ORIGIN, comma-separated]
  --allowed-hosts <names>    host names (Host header) served besides loopback ones, comma-
                             separated; "*" = any (default: any when bound to a non-loopback
                             address, loopback names only when bound to loopback) [ZWS_ALLOWED_HOSTS]
  --max-clients <n>          most clients at once (WS and SSE)      [ZWS_MAX_CLIENTS] (default 10000)
  --history <n>              points held per series for new and returning clients
                             [ZWS_HISTORY] (default 1000)
  --data-dir <dir>           keep history, epoch and seq there across restarts (SQLite)
                             [ZWS_DATA_DIR] (default ./data)
  --no-persist               keep everything in memory only         [ZWS_NO_PERSIST]
  --retention <count,age>    what the store keeps per series: a count and/or an age (30s, 15m,
                             24h, 7d), e.g. 100000,24h  [ZWS_RETENTION] (default: --history)
  --client-buffer-bytes <n>  unsent bytes per client before it is held back
                             [ZWS_CLIENT_BUFFER_BYTES] (default 1048576)
  --slow-client-timeout <s>  seconds over that bound before the client is closed (4008)
                             [ZWS_SLOW_CLIENT_TIMEOUT] (default 10)
  --clients-buffer-budget <n>  unsent bytes of all clients together; over it the clients
                             with the most queued are held back
                             [ZWS_CLIENTS_BUFFER_BUDGET] (default 134217728)
  --log-level <level>        debug | info | warn | error            [ZWS_LOG_LEVEL] (default info)
  -h, --help                 print this help and exit

Limits (over a limit: 503 or 429 before the upgrade, counted in /metrics):
  --max-clients-per-ip <n>   most WebSocket clients from one IP, 0 = no limit
                             [ZWS_MAX_CLIENTS_PER_IP] (default 0)
  --upgrade-rate <n>         WebSocket upgrades per IP per second (burst of as many), 0 = no limit
                             [ZWS_UPGRADE_RATE] (default 0)
  --max-ws-message-bytes <n> largest message a client may send; larger closes it with 1009
                             (the front ends it before Deno holds it) [ZWS_MAX_WS_MESSAGE_BYTES] (default 4096)
  --max-connections <n>      most TCP connections at once on --port, 0 = only the open-files
                             margin (docs/securing.md)  [ZWS_MAX_CONNECTIONS] (default 20000)
  --request-timeout <s>      seconds a connection may take to send its request head
                             [ZWS_REQUEST_TIMEOUT] (default 10)
  --no-front                 serve --port with Deno.serve alone: no request timeout, no
                             open-files margin, no early WebSocket message bound (for a proxy
                             in front that does these)            [ZWS_NO_FRONT=1]

Security (docs/securing.md; files must be readable by zws: put them under ./secrets/):
  --auth-secret <secret>     require viewer tokens (HS256 JWT) signed with this secret, at least
                             32 bytes; prefer the file or the env var  [ZWS_AUTH_SECRET]
  --auth-secret-file <path>  the same, read from a file             [ZWS_AUTH_SECRET_FILE]
  --cert <path>              PEM certificate: serve HTTPS and wss:  [ZWS_TLS_CERT]
  --key <path>               PEM private key for --cert             [ZWS_TLS_KEY]
  --curve-secret-key <key>   encrypt the ingress with ZeroMQ CURVE using this server secret key
                             (Z85); prefer the file or the env var  [ZWS_CURVE_SECRET_KEY]
  --curve-secret-key-file <path>
                             the same, from \`deno task keygen\` output [ZWS_CURVE_SECRET_KEY_FILE]
  --curve-allow=<pubkey>     a producer public key allowed in; repeatable (write it with "=":
                             Z85 keys may start with "-")   [ZWS_CURVE_ALLOW, comma-separated]
  --curve-allow-file <path>  more allowed producer keys, one per line [ZWS_CURVE_ALLOW_FILE]

${NATS_USAGE}`;

/** The outcome of {@link parseConfig} (or, with `C`, of {@link parseForwarderConfig}). */
export type ParseResult<C = Config> =
  | { kind: "config"; config: C }
  | { kind: "help" }
  | { kind: "error"; message: string };

/** Parses `args` (flags) with `env` as fallback; never throws, never exits. */
export function parseConfig(
  args: readonly string[],
  env: (name: string) => string | undefined = () => undefined,
): ParseResult {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        hostname: { type: "string" },
        ingress: { type: "string" },
        upstream: { type: "string" },
        "reuse-port": { type: "boolean" },
        "no-demo": { type: "boolean" },
        "max-message-bytes": { type: "string" },
        "native-ingress": { type: "boolean" },
        "no-front": { type: "boolean" },
        "max-connections": { type: "string" },
        "request-timeout": { type: "string" },
        "x-window": { type: "string" },
        "allowed-hosts": { type: "string", multiple: true },
        "allow-origin": { type: "string", multiple: true },
        "max-clients": { type: "string" },
        history: { type: "string" },
        "data-dir": { type: "string" },
        "no-persist": { type: "boolean" },
        retention: { type: "string" },
        "client-buffer-bytes": { type: "string" },
        "slow-client-timeout": { type: "string" },
        "clients-buffer-budget": { type: "string" },
        "log-level": { type: "string" },
        "max-clients-per-ip": { type: "string" },
        "upgrade-rate": { type: "string" },
        "max-ws-message-bytes": { type: "string" },
        "auth-secret": { type: "string" },
        "auth-secret-file": { type: "string" },
        cert: { type: "string" },
        key: { type: "string" },
        "curve-secret-key": { type: "string" },
        "curve-secret-key-file": { type: "string" },
        "curve-allow": { type: "string", multiple: true },
        "curve-allow-file": { type: "string" },
        ...NATS_FLAGS,
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    return { kind: "error", message: argsProblem(err) };
  }
  if (values.help) return { kind: "help" };
  const str = flagOrEnv(values, env);
  if (values.upstream !== undefined && values.ingress !== undefined) {
    return {
      kind: "error",
      message: "--ingress and --upstream exclude each other: a gateway has no ingress of its own",
    };
  }
  /** An inline value or a file, from flags when either flag is given, else from env. */
  const inlineOrFile = (flag: string, name: string, fileName: string) => {
    const fromFlags = values[flag] !== undefined || values[`${flag}-file`] !== undefined;
    const inline = fromFlags ? values[flag] as string | undefined : nonEmpty(env(name));
    const file = fromFlags ? values[`${flag}-file`] as string | undefined : nonEmpty(env(fileName));
    if (inline !== undefined && file !== undefined) {
      throw new Error(
        fromFlags
          ? `give --${flag} or --${flag}-file, not both`
          : `set ${name} or ${fileName}, not both`,
      );
    }
    return {
      inline: inline ?? null,
      file: file === undefined ? null : path(`--${flag}-file`, file),
    };
  };
  try {
    const auth = inlineOrFile("auth-secret", ENV_VARS.authSecret, ENV_VARS.authSecretFile);
    if (
      auth.inline !== null && new TextEncoder().encode(auth.inline).length < MIN_AUTH_SECRET_BYTES
    ) {
      throw new Error(
        `--auth-secret must be at least ${MIN_AUTH_SECRET_BYTES} bytes ` +
          `(e.g. openssl rand -base64 32); the value is not shown`,
      );
    }
    const curve = inlineOrFile(
      "curve-secret-key",
      ENV_VARS.curveSecretKey,
      ENV_VARS.curveSecretKeyFile,
    );
    if (curve.inline !== null && !isCurveKey(curve.inline)) {
      throw new Error(
        "--curve-secret-key is not a CURVE key (40 Z85 characters, from deno task keygen); " +
          "the value is not shown",
      );
    }
    const allowRaw = (values["curve-allow"] as string[] | undefined) ??
      (nonEmpty(env(ENV_VARS.curveAllow))?.split(",") ?? []);
    const curveAllow = allowRaw.map((k) => k.trim()).filter((k) => k !== "");
    curveAllow.forEach((k, i) => {
      if (!isCurveKey(k)) {
        throw new Error(
          `--curve-allow value ${i + 1} is not a CURVE public key (40 Z85 characters)`,
        );
      }
    });
    const curveAllowFileRaw = str("curve-allow-file", ENV_VARS.curveAllowFile);
    const curveAllowFile = curveAllowFileRaw === undefined
      ? null
      : path("--curve-allow-file", curveAllowFileRaw);
    const curveOn = curve.inline !== null || curve.file !== null;
    if (curveOn && curveAllow.length === 0 && curveAllowFile === null) {
      throw new Error(
        "CURVE needs an allow-list of producer public keys: --curve-allow or --curve-allow-file",
      );
    }
    if (!curveOn && (curveAllow.length > 0 || curveAllowFile !== null)) {
      throw new Error("--curve-allow needs --curve-secret-key or --curve-secret-key-file");
    }
    const certRaw = str("cert", ENV_VARS.tlsCert);
    const keyRaw = str("key", ENV_VARS.tlsKey);
    if ((certRaw === undefined) !== (keyRaw === undefined)) {
      throw new Error("--cert and --key go together");
    }
    const upstream = str("upstream", ENV_VARS.upstream);
    const history = integer(
      "--history",
      str("history", ENV_VARS.history),
      DEFAULTS.history,
      1,
      1e6,
    );
    const config: Config = {
      port: integer("--port", str("port", ENV_VARS.port), DEFAULTS.port, 0, 65535),
      hostname: hostname(str("hostname", ENV_VARS.hostname) ?? DEFAULTS.hostname),
      ingress: endpoint(str("ingress", ENV_VARS.ingress) ?? DEFAULTS.ingress),
      reusePort: values["reuse-port"] === true || truthy(env(ENV_VARS.reusePort)),
      demo: !(values["no-demo"] === true || truthy(env(ENV_VARS.demo))),
      maxMessageBytes: integer(
        "--max-message-bytes",
        str("max-message-bytes", ENV_VARS.maxMessageBytes),
        DEFAULTS.maxMessageBytes,
        64,
        64 * 1024 * 1024,
      ),
      nativeIngress: values["native-ingress"] === true || truthy(env(ENV_VARS.nativeIngress)),
      front: !(values["no-front"] === true || truthy(env(ENV_VARS.front))),
      maxConnections: integer(
        "--max-connections",
        str("max-connections", ENV_VARS.maxConnections),
        DEFAULTS.maxConnections,
        0,
        10_000_000,
      ),
      requestTimeout: integer(
        "--request-timeout",
        str("request-timeout", ENV_VARS.requestTimeout),
        DEFAULTS.requestTimeout,
        1,
        3600,
      ),
      xWindow: integer(
        "--x-window",
        str("x-window", ENV_VARS.xWindow),
        DEFAULTS.xWindow,
        0,
        100 * 365 * 86400,
      ),
      allowedHosts: hostNames(
        (values["allowed-hosts"] as string[] | undefined)?.flatMap((v) => v.split(",")) ??
          (nonEmpty(env(ENV_VARS.allowedHosts))?.split(",") ?? []),
      ),
      allowOrigins: origins(
        (values["allow-origin"] as string[] | undefined) ??
          (nonEmpty(env(ENV_VARS.allowOrigins))?.split(",") ?? []),
      ),
      maxClients: integer(
        "--max-clients",
        str("max-clients", ENV_VARS.maxClients),
        DEFAULTS.maxClients,
        1,
        1_000_000,
      ),
      history,
      ...persistence(values, env, str, DEFAULTS.dataDir!, history),
      clientBufferBytes: integer(
        "--client-buffer-bytes",
        str("client-buffer-bytes", ENV_VARS.clientBufferBytes),
        DEFAULTS.clientBufferBytes,
        1024,
        1024 * 1024 * 1024,
      ),
      slowClientTimeout: integer(
        "--slow-client-timeout",
        str("slow-client-timeout", ENV_VARS.slowClientTimeout),
        DEFAULTS.slowClientTimeout,
        1,
        3600,
      ),
      clientsBufferBudget: integer(
        "--clients-buffer-budget",
        str("clients-buffer-budget", ENV_VARS.clientsBufferBudget),
        DEFAULTS.clientsBufferBudget,
        1024 * 1024,
        64 * 1024 * 1024 * 1024,
      ),
      logLevel: logLevel(str("log-level", ENV_VARS.logLevel) ?? DEFAULTS.logLevel),
      maxClientsPerIp: integer(
        "--max-clients-per-ip",
        str("max-clients-per-ip", ENV_VARS.maxClientsPerIp),
        DEFAULTS.maxClientsPerIp,
        0,
        1_000_000,
      ),
      upgradeRate: decimal(
        "--upgrade-rate",
        str("upgrade-rate", ENV_VARS.upgradeRate),
        DEFAULTS.upgradeRate,
        100_000,
      ),
      maxWsMessageBytes: integer(
        "--max-ws-message-bytes",
        str("max-ws-message-bytes", ENV_VARS.maxWsMessageBytes),
        DEFAULTS.maxWsMessageBytes,
        64,
        16 * 1024 * 1024,
      ),
      authSecret: auth.inline,
      authSecretFile: auth.file,
      tlsCert: certRaw === undefined ? null : path("--cert", certRaw),
      tlsKey: keyRaw === undefined ? null : path("--key", keyRaw),
      curveSecretKey: curve.inline,
      curveSecretKeyFile: curve.file,
      curveAllow,
      curveAllowFile,
    };
    if (upstream !== undefined) config.upstream = connectEndpoint(upstream, "--upstream");
    const nats = parseNatsConfig(values, env);
    if (nats) {
      if (config.upstream !== undefined || values.ingress !== undefined) {
        throw new Error(
          "--nats excludes --upstream and --ingress: a JetStream gateway follows the stream",
        );
      }
      config.nats = nats;
    }
    return { kind: "config", config };
  } catch (err) {
    return { kind: "error", message: (err as Error).message };
  }
}

/** One line for a `parseArgs` error, with a hint for values that start with "-" (Z85 keys may). */
export function argsProblem(err: unknown): string {
  const line = (err instanceof Error ? err.message : String(err)).split("\n")[0];
  const m = /^Option '(--[\w-]+)[^']*' argument is ambiguous/.exec(line);
  // Do not repeat parseArgs' suggestion: it quotes the value, which may be a secret key.
  return m ? `${m[1]}: a value that starts with "-" needs the form ${m[1]}=VALUE` : line;
}

/**
 * `--data-dir`, `--no-persist` and `--retention` (shared by the server and the forwarder; the
 * environment variables have the same names for both).
 */
function persistence(
  values: Record<string, string | boolean | string[] | undefined>,
  env: (name: string) => string | undefined,
  str: (flag: string, name: string) => string | undefined,
  defaultDir: string,
  defaultCount: number,
): { dataDir: string | null; retention: Retention } {
  if (values["no-persist"] === true && values["data-dir"] !== undefined) {
    throw new Error("--data-dir and --no-persist exclude each other");
  }
  // A flag beats the environment: --data-dir persists whatever ZWS_NO_PERSIST says.
  const off = values["no-persist"] === true ||
    (values["data-dir"] === undefined && truthy(env(ENV_VARS.noPersist)));
  const dirRaw = str("data-dir", ENV_VARS.dataDir);
  const spec = str("retention", ENV_VARS.retention);
  const retention = spec === undefined
    ? { count: defaultCount }
    : parseRetention(spec, defaultCount);
  if (typeof retention === "string") throw new Error(retention);
  return { dataDir: off ? null : path("--data-dir", dirRaw ?? defaultDir), retention };
}

/** Looks a string option up in the parsed flags, else in the environment variable `name`. */
function flagOrEnv(
  values: Record<string, string | boolean | string[] | undefined>,
  env: (name: string) => string | undefined,
): (flag: string, name: string) => string | undefined {
  return (flag, name) => (values[flag] as string | undefined) ?? nonEmpty(env(name));
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === "" ? undefined : s.trim();
}

function truthy(s: string | undefined): boolean {
  return s !== undefined && /^(1|true|yes|on)$/i.test(s.trim());
}

function integer(flag: string, raw: string | undefined, def: number, min: number, max: number) {
  if (raw === undefined) return def;
  if (!/^\d+$/.test(raw)) throw new Error(`${flag} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new Error(`${flag} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function decimal(flag: string, raw: string | undefined, def: number, max: number): number {
  if (raw === undefined) return def;
  if (!/^\d+(\.\d+)?$/.test(raw)) throw new Error(`${flag} must be a number >= 0, got "${raw}"`);
  const n = Number(raw);
  if (n > max) throw new Error(`${flag} must be at most ${max}, got ${n}`);
  return n;
}

function path(flag: string, raw: string): string {
  // deno-lint-ignore no-control-regex
  if (raw.trim() === "" || /[\u0000-\u001f]/.test(raw)) throw new Error(`${flag} is not a path`);
  return raw;
}

/**
 * Whether a ZeroMQ bind endpoint is reachable from other hosts: any `tcp://` endpoint whose host is
 * not a loopback address or `localhost` (`ipc://` and `inproc://` stay on this machine).
 */
export function ingressExposed(ep: string): boolean {
  const m = /^tcp:\/\/(.+):(\d+|\*)$/.exec(ep);
  if (!m) return false;
  const host = m[1].replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (host === "localhost" || host === "::1") return false;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return false;
  return true;
}

function hostname(raw: string): string {
  if (!/^[A-Za-z0-9.\-:\[\]]+$/.test(raw)) throw new Error(`--hostname is not a host: "${raw}"`);
  return raw.replace(/^\[(.*)\]$/, "$1");
}

/**
 * Checks a ZeroMQ bind endpoint: `tcp://host:port` (port may be `*`), `ipc://path`,
 * `inproc://name`. `flag` names the option in the error.
 */
export function endpoint(raw: string, flag = "--ingress"): string {
  const tcp = /^tcp:\/\/([^\s:\/]+|\[[0-9a-fA-F:.]+\]):(\d{1,5}|\*)$/.exec(raw);
  if (tcp) {
    if (tcp[2] !== "*" && Number(tcp[2]) > 65535) {
      throw new Error(`${flag} port out of range in "${raw}"`);
    }
    return raw;
  }
  if (/^(ipc|inproc):\/\/\S+$/.test(raw)) return raw;
  throw new Error(
    `${flag} must look like tcp://127.0.0.1:5000 (or ipc://path, inproc://name), got "${raw}"`,
  );
}

/** Checks a ZeroMQ endpoint to connect to: like {@link endpoint}, but a tcp port must be given. */
export function connectEndpoint(raw: string, flag: string): string {
  const checked = endpoint(raw, flag);
  if (/^tcp:.*:\*$/.test(checked)) {
    throw new Error(`${flag} needs a port to connect to, got "${raw}"`);
  }
  return checked;
}

function origins(list: string[]): string[] {
  return list.map((o) => o.trim()).filter((o) => o !== "").map((o) => {
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      throw new Error(
        `--allow-origin is not an origin: "${o}" (expected e.g. https://example.com)`,
      );
    }
    if (
      url.origin === "null" || (url.pathname !== "/" && url.pathname !== "") ||
      url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== ""
    ) {
      throw new Error(
        `--allow-origin is not an origin: "${o}" (expected e.g. https://example.com)`,
      );
    }
    return url.origin;
  });
}

function logLevel(raw: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) {
    throw new Error(`--log-level must be one of ${LOG_LEVELS.join(", ")}, got "${raw}"`);
  }
  return raw as LogLevel;
}

/** The forwarder's validated settings (`zws relay`, see `forwarder.ts`). */
export interface ForwarderConfig {
  /** Endpoint producers connect to (XSUB bound), e.g. `tcp://127.0.0.1:5000`. */
  ingress: string;
  /** Endpoint gateways and chained forwarders connect to (XPUB bound), e.g. `tcp://127.0.0.1:5001`. */
  egress: string;
  /**
   * A parent forwarder's egress: this one is then a pure pass-through (no ingress, no sequencing),
   * one level of a tree. Undefined: the root, which validates and sequences.
   */
  upstream?: string;
  /** HTTP port of `/healthz` and `/metrics` (0 picks a free one). */
  port: number;
  /** Interface of that HTTP server. */
  hostname: string;
  /** Whether the built-in demo producer runs (root only). */
  demo: boolean;
  /** Largest producer message accepted, in bytes. */
  maxMessageBytes: number;
  /** Plain producers connect to libzmq's socket, not the ZMTP reader (see {@link Config}). */
  nativeIngress: boolean;
  /** File that keeps the epoch and last seq across clean restarts (root, with `--no-persist`). */
  stateFile?: string;
  /** Where the root keeps points, epoch and seq (`src/store/`); null: `--no-persist`. */
  dataDir: string | null;
  /** What the store keeps per series. */
  retention: Retention;
  /** JetStream relay (`--nats`, `src/nats/`): publish into the stream instead of an egress. */
  nats?: NatsConfig;
  /** Lowest log level printed. */
  logLevel: LogLevel;
}

/** Defaults of the forwarder. */
export const FORWARDER_DEFAULTS: Readonly<ForwarderConfig> = Object.freeze({
  ingress: "tcp://127.0.0.1:5000",
  egress: "tcp://127.0.0.1:5001",
  port: 8001,
  hostname: "127.0.0.1",
  demo: true,
  maxMessageBytes: 65536,
  nativeIngress: false,
  dataDir: "./data/relay",
  retention: Object.freeze({ count: 1000 }),
  logLevel: "info",
});

/**
 * Environment variables of the forwarder. Port, hostname and upstream have names of their own, so
 * a shared environment (a Procfile's `.env`) cannot turn a gateway setting into a forwarder one.
 */
export const FORWARDER_ENV_VARS = {
  ingress: "ZWS_INGRESS",
  egress: "ZWS_EGRESS",
  upstream: "ZWS_FORWARDER_UPSTREAM",
  port: "ZWS_FORWARDER_PORT",
  hostname: "ZWS_FORWARDER_HOSTNAME",
  demo: "ZWS_NO_DEMO",
  maxMessageBytes: "ZWS_MAX_MESSAGE_BYTES",
  nativeIngress: "ZWS_NATIVE_INGRESS",
  stateFile: "ZWS_STATE_FILE",
  dataDir: "ZWS_DATA_DIR",
  noPersist: "ZWS_NO_PERSIST",
  retention: "ZWS_RETENTION",
  logLevel: "ZWS_LOG_LEVEL",
} as const;

/** Usage text of `zws relay --help`. */
export const FORWARDER_USAGE =
  `zws relay — the forwarder: producers in, validated and sequenced points out to gateways

Usage: deno task relay [flags]        (or: zws relay [flags], main.ts relay [flags])

Producers connect to the ingress; gateways (deno task start --upstream <egress>) and chained
forwarders connect to the egress. Every gateway of one forwarder sees the same sequence numbers.

Flags (environment fallback in brackets):
  --ingress <endpoint>       producers connect here (XSUB bound)     [ZWS_INGRESS]
                             (default tcp://127.0.0.1:5000; tcp://host:* picks a free port)
  --egress <endpoint>        gateways connect here (XPUB bound)      [ZWS_EGRESS]
                             (default tcp://127.0.0.1:5001)
  --upstream <endpoint>      chain: follow a parent forwarder's egress instead of an ingress
                             (a pure pass-through, one level of a tree) [ZWS_FORWARDER_UPSTREAM]
  --data-dir <dir>           keep points, epoch and seq there (SQLite): a restart continues the
                             sequence, after a crash too (seqs are reserved ahead)
                             [ZWS_DATA_DIR] (default ./data/relay)
  --no-persist               keep nothing across restarts           [ZWS_NO_PERSIST]
  --retention <count,age>    points kept per series on disk, e.g. 100000,24h [ZWS_RETENTION]
                             (default 1000)
  --state-file <path>        instead of --data-dir: keep only epoch and seq, across clean
                             restarts; after a crash a new epoch starts   [ZWS_STATE_FILE]
  --port <n>                 HTTP port of /healthz and /metrics, 0 = any [ZWS_FORWARDER_PORT]
                             (default 8001)
  --hostname <host>          interface of that port           [ZWS_FORWARDER_HOSTNAME] (default 127.0.0.1)
  --no-demo                  do not run the built-in demo producer  [ZWS_NO_DEMO=1]
  --max-message-bytes <n>    largest producer message accepted, all its frames together
                             [ZWS_MAX_MESSAGE_BYTES] (default 65536)
  --native-ingress           plain producers connect to libzmq's own socket (size limit per
                             frame only; for libzmq < 4.0 producers) [ZWS_NATIVE_INGRESS=1]
  --log-level <level>        debug | info | warn | error            [ZWS_LOG_LEVEL] (default info)
  -h, --help                 print this help and exit

With --nats the relay publishes into a JetStream stream instead of an egress (no --egress,
--upstream or --state-file: seq and epoch come from the stream).

${NATS_USAGE}`;

/** The outcome of {@link parseForwarderConfig}. */
export type ForwarderParseResult = ParseResult<ForwarderConfig>;

/** Parses the forwarder's flags (after `relay`) with `env` as fallback; never throws. */
export function parseForwarderConfig(
  args: readonly string[],
  env: (name: string) => string | undefined = () => undefined,
): ForwarderParseResult {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        ingress: { type: "string" },
        egress: { type: "string" },
        upstream: { type: "string" },
        "state-file": { type: "string" },
        "data-dir": { type: "string" },
        "no-persist": { type: "boolean" },
        retention: { type: "string" },
        port: { type: "string" },
        hostname: { type: "string" },
        "no-demo": { type: "boolean" },
        "max-message-bytes": { type: "string" },
        "native-ingress": { type: "boolean" },
        "log-level": { type: "string" },
        ...NATS_FLAGS,
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    return { kind: "error", message: argsProblem(err) };
  }
  if (values.help) return { kind: "help" };
  const V = FORWARDER_ENV_VARS;
  const str = flagOrEnv(values, env);
  if (values.upstream !== undefined) {
    for (const flag of ["ingress", "state-file"]) {
      if (values[flag] !== undefined) {
        return {
          kind: "error",
          message: `--${flag} and --upstream exclude each other: a chained forwarder only passes ` +
            `on what its parent sequenced`,
        };
      }
    }
  }
  try {
    const config: ForwarderConfig = {
      ingress: endpoint(str("ingress", V.ingress) ?? FORWARDER_DEFAULTS.ingress),
      egress: endpoint(str("egress", V.egress) ?? FORWARDER_DEFAULTS.egress, "--egress"),
      port: integer("--port", str("port", V.port), FORWARDER_DEFAULTS.port, 0, 65535),
      hostname: hostname(str("hostname", V.hostname) ?? FORWARDER_DEFAULTS.hostname),
      demo: !(values["no-demo"] === true || truthy(env(V.demo))),
      maxMessageBytes: integer(
        "--max-message-bytes",
        str("max-message-bytes", V.maxMessageBytes),
        FORWARDER_DEFAULTS.maxMessageBytes,
        64,
        64 * 1024 * 1024,
      ),
      nativeIngress: values["native-ingress"] === true || truthy(env(V.nativeIngress)),
      logLevel: logLevel(str("log-level", V.logLevel) ?? FORWARDER_DEFAULTS.logLevel),
      ...persistence(
        values,
        env,
        str,
        FORWARDER_DEFAULTS.dataDir!,
        FORWARDER_DEFAULTS.retention.count,
      ),
    };
    const upstream = str("upstream", V.upstream);
    if (upstream !== undefined) config.upstream = connectEndpoint(upstream, "--upstream");
    const stateFile = str("state-file", V.stateFile);
    if (stateFile !== undefined) config.stateFile = stateFile;
    if (stateFile !== undefined) {
      // The state file (epoch and seq only) is the older way: with it, no store.
      if (str("data-dir", ENV_VARS.dataDir) !== undefined) {
        throw new Error(
          "--state-file and --data-dir both keep epoch and seq: the data dir also keeps points " +
            "(drop --state-file)",
        );
      }
      config.dataDir = null;
    }
    if (config.upstream !== undefined && config.egress === config.upstream) {
      throw new Error(`--egress and --upstream are the same endpoint (${config.egress})`);
    }
    const nats = parseNatsConfig(values, env);
    if (nats) {
      for (const flag of ["egress", "upstream", "state-file"]) {
        if (values[flag] !== undefined) {
          throw new Error(`--nats excludes --${flag}: seq and epoch come from the stream`);
        }
      }
      config.nats = nats;
      delete config.upstream;
      delete config.stateFile;
    }
    return { kind: "config", config };
  } catch (err) {
    return { kind: "error", message: (err as Error).message };
  }
}

/** Checks `--allowed-hosts` names: host names (lower-cased), `.suffix` or `*`. */
function hostNames(list: string[]): string[] {
  return list.map((h) => h.trim().toLowerCase().replace(/\.$/, "")).filter((h) => h !== "").map(
    (h) => {
      if (h !== "*" && !/^\.?[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(h) && !/^[0-9a-f:.]+$/.test(h)) {
        throw new Error(
          `--allowed-hosts: "${h}" is not a host name (expected e.g. zws.example.com, ` +
            `.example.com or *)`,
        );
      }
      return h;
    },
  );
}
