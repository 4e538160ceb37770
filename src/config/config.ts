/**
 * The server's settings (`deno task start`): its flag tables (`flags.ts`) read with environment
 * fallbacks, then the rules that tie flags together, into a {@link Config}. The forwarder's are in
 * `forwarder_config.ts` (re-exported here). Pure: no I/O.
 *
 * @module
 */
import { renderUsage } from "./flag_docs.ts";
import { envVars, type ReadFlags, readFlags, readSettings, type SettingsOf } from "./flag.ts";
import { LIMIT_FLAGS, ROLE_TABLES, SECURITY_FLAGS, SERVER_FLAGS } from "./flags.ts";
import { inlineOrFile, type ParseResult as Parsed, parseWith, persistence } from "./rules.ts";
import type { Retention } from "../store/retention.ts";
import { isCurveKey } from "../zmq/curve.ts";
import { NATS_USAGE, type NatsConfig, parseNatsConfig } from "../nats/config.ts";

export { argsProblem, connectEndpoint, endpoint, ingressExposed } from "./parsers.ts";
export {
  FORWARDER_DEFAULTS,
  FORWARDER_ENV_VARS,
  FORWARDER_USAGE,
  type ForwarderConfig,
  type ForwarderParseResult,
  parseForwarderConfig,
} from "./forwarder_config.ts";

/** The server's validated settings: one per table entry, and those the rules make. */
export type Config =
  & SettingsOf<typeof SERVER_FLAGS>
  & SettingsOf<typeof LIMIT_FLAGS>
  & SettingsOf<typeof SECURITY_FLAGS>
  & {
    /** Where history, epoch and seq are kept across restarts (`src/store/`); null: `--no-persist`. */
    dataDir: string | null;
    /** What the store keeps per series (`--retention`; the count defaults to `--history`). */
    retention: Retention;
    /** Viewer-token secret given inline (flag or env). Never log it. */
    authSecret: string | null;
    /** File holding the viewer-token secret. */
    authSecretFile: string | null;
    /** CURVE secret key of the ingress (Z85) given inline. Never log it. */
    curveSecretKey: string | null;
    /** File holding the ingress's CURVE secret key (`deno task keygen` output or a bare key). */
    curveSecretKeyFile: string | null;
    /** JetStream gateway mode (`--nats`, `src/nats/`): consume the stream that relays publish. */
    nats?: NatsConfig;
  };

/** The outcome of {@link parseConfig} (or, with `C`, of `parseForwarderConfig`). */
export type ParseResult<C = Config> = Parsed<C>;

/** Environment variable read for each setting when its flag is absent. */
export const ENV_VARS: Readonly<Record<string, string>> = Object.freeze({
  ...envVars(SERVER_FLAGS),
  ...envVars(LIMIT_FLAGS),
  ...envVars(SECURITY_FLAGS),
});

/** Shortest inline viewer-token secret, in bytes (HS256). */
export const MIN_AUTH_SECRET_BYTES = 32;

/** Usage text printed by `--help`. */
export const USAGE: string = renderUsage(
  `zws — live data from ZeroMQ producers to a Flot chart in every browser

Usage: deno task start [flags]             one process: relay, bridge and page
       deno task start --upstream <egress> a gateway following a forwarder
       deno task start --nats <url>        a gateway consuming a JetStream stream (docs/scaling.md)
       deno task forwarder [flags]         the forwarder (zws forwarder --help)`,
  [
    { title: "Flags (environment fallback in brackets)", table: SERVER_FLAGS, withHelp: true },
    {
      title: "Limits (over a limit: 503 or 429 before the upgrade, counted in /metrics)",
      table: LIMIT_FLAGS,
    },
    {
      title:
        "Security (docs/securing.md; files must be readable by zws: put them under ./secrets/)",
      table: SECURITY_FLAGS,
    },
  ],
) + "\n" + NATS_USAGE;

/** Parses `args` (flags) with `env` as fallback; never throws, never exits. */
export function parseConfig(
  args: readonly string[],
  env: (name: string) => string | undefined = () => undefined,
): ParseResult<Config> {
  return parseWith(() => readFlags(ROLE_TABLES.server, args, env), (flags) => build(flags, env));
}

/** The server's settings from read flags; throws an Error with a one-line message. */
function build(flags: ReadFlags, env: (name: string) => string | undefined): Config {
  const S = SECURITY_FLAGS;
  if (flags.given("upstream") && flags.given("ingress")) {
    throw new Error(
      "--ingress and --upstream exclude each other: a gateway has no ingress of its own",
    );
  }
  const settings = {
    ...readSettings(SERVER_FLAGS, flags),
    ...readSettings(LIMIT_FLAGS, flags),
    ...readSettings(SECURITY_FLAGS, flags),
  };
  const auth = inlineOrFile(flags, S.authSecret, S.authSecretFile);
  if (
    auth.inline !== null && new TextEncoder().encode(auth.inline).length < MIN_AUTH_SECRET_BYTES
  ) {
    throw new Error(
      `--auth-secret must be at least ${MIN_AUTH_SECRET_BYTES} bytes ` +
        `(e.g. openssl rand -base64 32); the value is not shown`,
    );
  }
  const curve = inlineOrFile(flags, S.curveSecretKey, S.curveSecretKeyFile);
  if (curve.inline !== null && !isCurveKey(curve.inline)) {
    throw new Error(
      "--curve-secret-key is not a CURVE key (40 Z85 characters, from deno task keygen); " +
        "the value is not shown",
    );
  }
  const curveOn = curve.inline !== null || curve.file !== null;
  const allowGiven = settings.curveAllow.length > 0 || settings.curveAllowFile !== null;
  if (curveOn && !allowGiven) {
    throw new Error(
      "CURVE needs an allow-list of producer public keys: --curve-allow or --curve-allow-file",
    );
  }
  if (!curveOn && allowGiven) {
    throw new Error("--curve-allow needs --curve-secret-key or --curve-secret-key-file");
  }
  if ((settings.tlsCert === null) !== (settings.tlsKey === null)) {
    throw new Error("--cert and --key go together");
  }
  const config: Config = {
    ...settings,
    ...persistence(flags, SERVER_FLAGS, "./data", settings.history),
    authSecret: auth.inline,
    authSecretFile: auth.file,
    curveSecretKey: curve.inline,
    curveSecretKeyFile: curve.file,
  };
  const nats = parseNatsConfig(flags.values, env);
  if (nats) {
    if (config.upstream !== undefined || flags.given("ingress")) {
      throw new Error(
        "--nats excludes --upstream and --ingress: a JetStream gateway follows the stream",
      );
    }
    config.nats = nats;
  }
  return config;
}

/** Defaults for every setting (what no flag and no environment give). */
export const DEFAULTS: Readonly<Config> = Object.freeze(defaults());

function defaults(): Config {
  const r = parseConfig([]);
  if (r.kind !== "config") throw new Error("the server's defaults do not parse");
  return r.config;
}
