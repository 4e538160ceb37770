/**
 * The forwarder's settings (`deno task forwarder`, `zws forwarder`): its flag table (`flags.ts`)
 * read with environment fallbacks, then the rules that tie flags together. Port, hostname and
 * upstream have variables of their own, so a shared environment (a Procfile's `.env`) cannot turn
 * a gateway setting into a forwarder one. Pure: no I/O.
 *
 * @module
 */
import { renderUsage } from "./flag_docs.ts";
import { envVars, type ReadFlags, readFlags, readSettings, type SettingsOf } from "./flag.ts";
import { FORWARDER_FLAGS, ROLE_TABLES } from "./flags.ts";
import { type ParseResult, parseWith, persistence } from "./rules.ts";
import type { Retention } from "../store/retention.ts";
import { NATS_USAGE, type NatsConfig, parseNatsConfig } from "../nats/config.ts";

/** The forwarder's validated settings. */
export type ForwarderConfig = SettingsOf<typeof FORWARDER_FLAGS> & {
  /** Where the root keeps points, epoch and seq (`src/store/`); null: `--no-persist`. */
  dataDir: string | null;
  /** What the store keeps per series. */
  retention: Retention;
  /** JetStream relay (`--nats`, `src/nats/`): publish into the stream instead of an egress. */
  nats?: NatsConfig;
};

/** The outcome of {@link parseForwarderConfig}. */
export type ForwarderParseResult = ParseResult<ForwarderConfig>;

/** Environment variables of the forwarder, by setting. */
export const FORWARDER_ENV_VARS: Readonly<Record<string, string>> = Object.freeze(
  envVars(FORWARDER_FLAGS),
);

/** Usage text of `zws forwarder --help` (`zws relay --help`). */
export const FORWARDER_USAGE: string = renderUsage(
  `zws relay — the forwarder: producers in, validated and sequenced points out to gateways

Usage: deno task forwarder [flags]   (deno task relay is the same; with the binary or main.ts:
                                     zws forwarder [flags], or zws relay [flags])

Producers connect to the ingress; gateways (deno task start --upstream <egress>) and chained
forwarders connect to the egress. Every gateway of one forwarder sees the same sequence numbers.`,
  [{
    title: "Flags (environment fallback in brackets)",
    table: FORWARDER_FLAGS,
    withHelp: true,
    note: "With --nats the relay publishes into a JetStream stream instead of an egress (no " +
      "--egress,\n--upstream or --state-file: seq and epoch come from the stream).",
  }],
) + "\n" + NATS_USAGE;

/** Parses the forwarder's flags (after `forwarder`) with `env` as fallback; never throws. */
export function parseForwarderConfig(
  args: readonly string[],
  env: (name: string) => string | undefined = () => undefined,
): ForwarderParseResult {
  return parseWith(
    () => readFlags(ROLE_TABLES.forwarder, args, env),
    (flags) => build(flags, env),
  );
}

function build(flags: ReadFlags, env: (name: string) => string | undefined): ForwarderConfig {
  const F = FORWARDER_FLAGS;
  if (flags.given("upstream")) {
    for (const flag of ["ingress", "state-file"]) {
      if (flags.given(flag)) {
        throw new Error(
          `--${flag} and --upstream exclude each other: a chained forwarder only passes ` +
            `on what its parent sequenced`,
        );
      }
    }
  }
  const settings = readSettings(F, flags);
  const config: ForwarderConfig = {
    ...settings,
    ...persistence(flags, F, "./data/relay", 1000),
  };
  if (config.stateFile !== undefined) {
    // The state file (epoch and seq only) is the older way: with it, no store.
    if (flags.text(F.dataDir) !== undefined) {
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
  const nats = parseNatsConfig(flags.values, env);
  if (nats) {
    for (const flag of ["egress", "upstream", "state-file"]) {
      if (flags.given(flag)) {
        throw new Error(`--nats excludes --${flag}: seq and epoch come from the stream`);
      }
    }
    config.nats = nats;
    delete config.upstream;
    delete config.stateFile;
  }
  return config;
}

/** Defaults of the forwarder (what no flag and no environment give). */
export const FORWARDER_DEFAULTS: Readonly<ForwarderConfig> = Object.freeze(defaults());

function defaults(): ForwarderConfig {
  const r = parseForwarderConfig([]);
  if (r.kind !== "config") throw new Error("the forwarder's defaults do not parse");
  return r.config;
}
