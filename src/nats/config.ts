/**
 * The `--nats` flags, shared by both roles (the relay that publishes, the gateway that consumes):
 * their validation into a {@link NatsConfig}; the flags themselves (names, variables, help) are
 * in the table `NATS_FLAG_TABLE` of `src/config/flags.ts`. Pure: no I/O
 * (files named here are read by `connect.ts`).
 *
 * @module
 */
import { renderUsage } from "../config/flag_docs.ts";
import { DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX } from "./codec.ts";
import { envVars, parseArgsOptions } from "../config/flag.ts";
import { NATS_FLAG_TABLE } from "../config/flags.ts";

/** Validated NATS settings. */
export interface NatsConfig {
  /** Server URLs (`nats://host:4222`, `tls://…`); several for a cluster. */
  servers: string[];
  /** JetStream stream name. */
  stream: string;
  /** Subject prefix: series `s` is published on `<prefix>.<token of s>`. */
  subjectPrefix: string;
  /** Replicas when the relay creates the stream (1, or 3 on a 3-node cluster). */
  replicas: number;
  /** Messages (batches) kept per series by the stream; at least that many points. */
  keepPerSeries: number;
  /** Age limit of the stream's messages in seconds, 0 = none. */
  maxAgeSeconds: number;
  /** Points a relay may queue while publishes are pending; beyond, it sheds and counts. */
  maxPendingPoints: number;
  /** User name (with a password from `ZWS_NATS_PASSWORD` or `passwordFile`). */
  user?: string;
  /** The password from the environment (never a flag: `ps` would show it). */
  password?: string;
  passwordFile?: string;
  /** A token from the environment. */
  token?: string;
  tokenFile?: string;
  /** An NKey seed file (`SU…`). */
  nkeyFile?: string;
  /** A credentials file (JWT and seed, from `nsc`). */
  credsFile?: string;
  /** TLS: CA bundle to trust, and a client certificate and key (mutual TLS). */
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** Environment fallbacks of the NATS flags, by setting (from the table in `src/config/flags.ts`). */
export const NATS_ENV_VARS = envVars(NATS_FLAG_TABLE) as Readonly<Record<NatsSetting, string>>;

/** The flags, for `parseArgs`' `options`. */
export const NATS_FLAGS = (() => {
  const { help: _help, ...options } = parseArgsOptions([NATS_FLAG_TABLE]);
  return options;
})();

/** Usage lines of the NATS flags. */
export const NATS_USAGE: string = renderUsage("", [{
  title: "JetStream backbone (docs/scaling.md; relays publish, gateways consume; both roles)",
  table: NATS_FLAG_TABLE,
}]);

/** A key of the NATS table. */
type NatsSetting = keyof typeof NATS_FLAG_TABLE;

type Values = Record<string, string | boolean | string[] | undefined>;

/**
 * The NATS settings from parsed flags (`values`) and `env`; undefined without `--nats` /
 * `ZWS_NATS`. Throws an Error with a one-line message on a bad value.
 */
export function parseNatsConfig(
  values: Values,
  env: (name: string) => string | undefined,
): NatsConfig | undefined {
  const V = NATS_ENV_VARS;
  const get = (flag: string, name: string): string | undefined => {
    const v = values[flag];
    if (typeof v === "string") return v.trim() === "" ? undefined : v.trim();
    const e = env(name);
    return e === undefined || e.trim() === "" ? undefined : e.trim();
  };
  const rawServers = (values.nats as string[] | undefined) ??
    (env(V.servers)?.trim() ? [env(V.servers)!] : []);
  const servers = rawServers.flatMap((s) => s.split(",")).map((s) => s.trim()).filter((s) => s);
  const anyOther = Object.keys(NATS_FLAGS).some((f) => f !== "nats" && values[f] !== undefined);
  if (servers.length === 0) {
    if (anyOther) throw new Error("the --nats-* flags need --nats <url>");
    return undefined;
  }
  for (const s of servers) {
    if (!/^(nats|tls):\/\/[^\s/]+$/.test(s) && !/^[\w.-]+:\d+$/.test(s)) {
      throw new Error(`--nats: "${s}" is not nats://host:port (or tls://host:port)`);
    }
    if (/^(nats|tls):\/\/[^/]*@/.test(s)) {
      throw new Error(
        "--nats: put no user or password in the URL (ps shows it); use --nats-user with " +
          "ZWS_NATS_PASSWORD, or a token, nkey or creds file",
      );
    }
  }
  const int = (flag: string, name: string, def: number, min: number, max: number) => {
    const raw = get(flag, name);
    if (raw === undefined) return def;
    if (!/^\d+$/.test(raw)) throw new Error(`--${flag} must be a whole number, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) {
      throw new Error(`--${flag} must be between ${min} and ${max}, got ${n}`);
    }
    return n;
  };
  const stream = get("nats-stream", V.stream) ?? DEFAULT_STREAM;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(stream)) {
    throw new Error(`--nats-stream must be 1-64 of A-Z a-z 0-9 _ -, got "${stream}"`);
  }
  const subjectPrefix = get("nats-subject", V.subjectPrefix) ?? DEFAULT_SUBJECT_PREFIX;
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(subjectPrefix) || subjectPrefix.length > 128) {
    throw new Error(`--nats-subject must be dot-separated tokens of A-Z a-z 0-9 _ -`);
  }
  const config: NatsConfig = {
    servers: servers.map((s) => s.includes("://") ? s : `nats://${s}`),
    stream,
    subjectPrefix,
    replicas: int("nats-replicas", V.replicas, 1, 1, 5),
    keepPerSeries: int("nats-keep", V.keepPerSeries, 1000, 1, 1_000_000),
    maxAgeSeconds: int("nats-max-age", V.maxAgeSeconds, 0, 0, 10 * 365 * 86400),
    maxPendingPoints: int("nats-max-pending", V.maxPendingPoints, 100_000, 1000, 10_000_000),
  };
  const opt = (key: keyof NatsConfig, flag: string | undefined, name: string) => {
    const v = flag ? get(flag, name) : (env(name)?.trim() || undefined);
    if (v !== undefined) (config as unknown as Record<string, unknown>)[key] = v;
  };
  opt("user", "nats-user", V.user);
  opt("password", undefined, V.password);
  opt("passwordFile", "nats-password-file", V.passwordFile);
  opt("token", undefined, V.token);
  opt("tokenFile", "nats-token-file", V.tokenFile);
  opt("nkeyFile", "nats-nkey-file", V.nkeyFile);
  opt("credsFile", "nats-creds-file", V.credsFile);
  opt("tlsCa", "nats-tls-ca", V.tlsCa);
  opt("tlsCert", "nats-tls-cert", V.tlsCert);
  opt("tlsKey", "nats-tls-key", V.tlsKey);
  if (config.password !== undefined && config.passwordFile !== undefined) {
    throw new Error("set ZWS_NATS_PASSWORD or --nats-password-file, not both");
  }
  if (config.token !== undefined && config.tokenFile !== undefined) {
    throw new Error("set ZWS_NATS_TOKEN or --nats-token-file, not both");
  }
  const hasPassword = config.password !== undefined || config.passwordFile !== undefined;
  if ((config.user !== undefined) !== hasPassword) {
    throw new Error(
      "--nats-user and a password (ZWS_NATS_PASSWORD or --nats-password-file) go together",
    );
  }
  const methods = [
    config.user !== undefined,
    config.token !== undefined || config.tokenFile !== undefined,
    config.nkeyFile !== undefined,
    config.credsFile !== undefined,
  ].filter((x) => x).length;
  if (methods > 1) {
    throw new Error("give one NATS credential: user/password, token, nkey file or creds file");
  }
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new Error("--nats-tls-cert and --nats-tls-key go together");
  }
  return config;
}
