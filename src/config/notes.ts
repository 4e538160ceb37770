/**
 * What the server says about its setup when it starts: the CURVE key producers need, an ingress
 * open to other hosts in clear text, an unchecked Host header, viewer tokens, secrets given on the
 * command line. One log line each.
 *
 * @module
 */
import type { Config } from "./config.ts";
import { ingressExposed } from "./parsers.ts";
import type { Secrets } from "./secrets.ts";
import { ROLE_TABLES, secretFlags } from "./flags.ts";
import { hostPolicy } from "../http/host_check.ts";
import { log } from "../runtime/log.ts";

/** Logs what an operator should know about `config` before the server starts. */
export function explainSetup(config: Config, secrets: Secrets): void {
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
}

/** Warns about each secret given as a flag in `args` (`ps` shows it, `deno task` echoes it). */
export function warnSecretFlags(args: readonly string[]): void {
  for (const flag of secretFlags(ROLE_TABLES.server)) {
    if (args.some((a) => a === flag || a.startsWith(`${flag}=`))) {
      log(
        "warn",
        "main",
        `${flag} on the command line is visible to other users (ps) and echoed by deno task: ` +
          `use ${flag}-file or the environment variable instead (docs/securing.md)`,
      );
    }
  }
}
