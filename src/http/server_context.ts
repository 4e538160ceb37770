/**
 * What the server's HTTP handler (`handler.ts`) is given: the bridge of the data source (read
 * on every request: a gateway may swap it), the source's counters and additions, and the
 * config's origins, hosts, limits and viewer tokens.
 *
 * @module
 */
import type { Config } from "../config/config.ts";
import type { Secrets } from "../config/secrets.ts";
import type { DataSource, SourceBridge } from "../sources/source.ts";
import { createTokenVerifier } from "./auth.ts";
import type { HttpContext, Hub } from "./handler.ts";
import { hostPolicy } from "./host_check.ts";

/** The handler's context for a server with `config` fed by `source`. */
export function serverContext<B extends SourceBridge & Hub>(
  config: Config,
  secrets: Secrets,
  source: DataSource<B>,
  startedAt: number,
): HttpContext {
  return {
    get bridge() {
      return source.bridge;
    },
    health: source.health ? () => source.health!() : undefined,
    relayStats: () => source.relayStats(),
    relayRestarts: () => source.relayRestarts(),
    allowOrigins: config.allowOrigins,
    hosts: hostPolicy(config.hostname, config.allowedHosts),
    maxClients: config.maxClients,
    startedAt,
    auth: secrets.authSecret ? createTokenVerifier(secrets.authSecret) : null,
    maxClientsPerIp: config.maxClientsPerIp,
    upgradeRate: config.upgradeRate,
    // The front terminates TLS: requests reach the handler as http: while the page is https:.
    secure: secrets.tls !== null && config.front,
    storeRange: source.storeRange,
    ...source.http,
  };
}
