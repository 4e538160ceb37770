/**
 * The HTTP side of the one port: the page and its scripts, `/healthz`, `/metrics`, the WebSocket
 * upgrade at `/ws` (handed to `http/websocket.ts` once its checks pass) and the same stream as
 * Server-Sent Events at `/events` (`sse.ts`), with the same checks: origin, capacity (both count
 * in one client limit), and a valid `?series=` selection (400 otherwise).
 *
 * Every request first passes the host check (`src/http/host_check.ts`, `--allowed-hosts`): a
 * `Host` the server does not answer to gets 421 (DNS rebinding).
 *
 * Checks on `/ws` and `/events`, in order: upgrade header (426, `/ws` only), upgrade rate per IP
 * (429), origin (403), a valid `?series=` (400), token when auth is on (401), total clients (503),
 * clients per IP (429). `/api/history` (`history_api.ts`) passes the same checks (its own request
 * rate per IP, at the upgrade rate; valid parameters instead of `?series=`; a request in progress
 * counts as a client while it is answered). With auth on, the page itself
 * (`/`, `/index.html`) needs a token too; its scripts and styles, `/healthz` and `/metrics` do not.
 *
 * @module
 */
import type { UpstreamMetrics } from "./metrics_snapshot.ts";
import type { TokenVerifier } from "./auth.ts";
import type { RelayStats } from "../relay/worker_messages.ts";
import type { AcceptOptions } from "../hub/client.ts";
import type { BridgeStats } from "../protocol/stats.ts";
import type { Health } from "../runtime/health.ts";
import { acceptEventStream, EVENT_STREAM_HEADERS, type EventStreamBridge } from "./sse.ts";
import { hostAllowed, type HostPolicy } from "./host_check.ts";
import { SECURITY_HEADERS, textResponse } from "./headers.ts";
import { assetResponse, healthzResponse, historyResponse, metricsResponse } from "./endpoints.ts";
import { answerHistory, type HeldHistory, type StoreRangeReader } from "./history_api.ts";
import { parseHistoryQuery } from "../protocol/history_query.ts";
import { createAdmission } from "./admission.ts";

export { originAllowed } from "./admission.ts";
export { SECURITY_HEADERS } from "./headers.ts";
import type { FrontStats } from "./front_constants.ts";

/** What the HTTP side needs from the hub (`WsBridge` in `ws_bridge.ts`). */
export interface Hub extends EventStreamBridge, HeldHistory {
  /** Clients connected now. */
  readonly clientCount: number;
  /**
   * Upgrades `req` to a WebSocket client (`acceptWebSocket` in `http/websocket.ts`); throws, after
   * calling `opts.onClose`, when `req` is not a valid upgrade.
   */
  accept(req: Request, opts: AcceptOptions): Response;
  /** The hub's counters, for `/metrics`. */
  stats(): BridgeStats;
}

/** What the handler needs from the rest of the server. */
export interface HttpContext {
  /** Read on every request, so a getter may hand out a new bridge (a gateway's new epoch). */
  bridge: Hub;
  /** The relay's counters. */
  relayStats: () => Promise<RelayStats>;
  /** Relay restarts so far. */
  relayRestarts: () => number;
  /** The data path's health for `/healthz` (absent: always ok). */
  health?: () => Health;
  /** Extra origins allowed to open `/ws` and `/events`. */
  allowOrigins: readonly string[];
  /** The `Host` names served (`hostPolicy`); absent or null: every host. */
  hosts?: HostPolicy;
  /** Most clients at once (WebSocket and event stream together). */
  maxClients: number;
  /** `performance.now()` at start. */
  startedAt: number;
  /** Checks viewer tokens; absent or `null`: no token needed. */
  auth?: TokenVerifier | null;
  /** Most clients per IP address (0 or absent: no limit). */
  maxClientsPerIp?: number;
  /** Upgrades per IP per second, with a burst of as many (0 or absent: no limit). */
  upgradeRate?: number;
  /** Clock in ms for the rate limit (default `performance.now`). */
  now?: () => number;
  /** A gateway's upstream (`--upstream`): its state goes into `/healthz` and `/metrics`. */
  upstream?: {
    /** JSON-ready state for `/healthz`. */
    health(): Record<string, unknown>;
    metrics(): UpstreamMetrics;
  };
  /** More Prometheus text appended to `/metrics` (a JetStream gateway's `zws_nats_*`). */
  extraMetrics?: () => string;
  /** Runs after the checks and before the upgrade (a gateway waits for a resuming client's point). */
  beforeUpgrade?: (req: Request) => Promise<void>;
  /** Reads the point store for `/api/history` (absent: memory only, e.g. a gateway). */
  storeRange?: StoreRangeReader;
  /**
   * The public port speaks TLS but requests arrive in plain text (the front terminates TLS): the
   * server's own origin, for the Origin check, is then `https:`.
   */
  secure?: boolean;
  /** The HTTP front's counters, for `/metrics` (absent with `--no-front`). */
  front?: () => FrontStats | Promise<FrontStats>;
}

/** Which endpoint a check is for (their refusals are counted apart). */

/** The connection details `Deno.serve` passes along (only the peer address is used). */
export interface RequestInfo {
  remoteAddr: Deno.Addr;
}

const text = textResponse;

/** The peer's IP address, the key of the per-IP limits. */
function peerAddress(info: RequestInfo | undefined): string {
  const addr = info?.remoteAddr;
  return addr && "hostname" in addr ? addr.hostname : "local";
}

/** Builds the request handler for `Deno.serve`. */
export function createHandler(
  ctx: HttpContext,
): (req: Request, info?: RequestInfo) => Promise<Response> {
  const { server, uptime, rateLog, authorize, gate, admit } = createAdmission(ctx);

  return async (req, info) => {
    const url = new URL(req.url);
    // HTTP/2 has no Host header: its :authority is the URL's host.
    if (!hostAllowed(ctx.hosts ?? null, req.headers.get("host") ?? url.host)) {
      const ip = peerAddress(info);
      rateLog.log("info", "http", "host", `refused a request from ${ip}: Host not served`);
      return text(421, "this server does not answer to that host name (see --allowed-hosts)\n");
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      const r = text(405, "method not allowed\n");
      r.headers.set("Allow", "GET, HEAD");
      return r;
    }
    switch (url.pathname) {
      case "/ws": {
        if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
          return text(426, "this endpoint speaks WebSocket\n");
        }
        const ip = peerAddress(info);
        const refused = gate("ws", req, ip);
        if (refused) return refused;
        return admit("ws", req, url, ip, (opts) => {
          try {
            return ctx.bridge.accept(req, opts);
          } catch {
            // accept() released the slot; a malformed upgrade is the client's mistake.
            return text(400, "bad WebSocket upgrade request\n");
          }
        });
      }
      case "/events": {
        const ip = peerAddress(info);
        const refused = gate("sse", req, ip);
        if (refused) return refused;
        if (req.method === "HEAD") {
          return new Response(null, { headers: { ...SECURITY_HEADERS, ...EVENT_STREAM_HEADERS } });
        }
        return admit("sse", req, url, ip, (opts) =>
          acceptEventStream(ctx.bridge, req, {
            allowed: opts.series ? new Set(opts.series) : undefined,
            select: opts.select,
            expiresAt: opts.expiresAt,
            onClose: opts.onClose,
          }, SECURITY_HEADERS));
      }
      case "/api/history": {
        const ip = peerAddress(info);
        const refused = gate("history", req, ip);
        if (refused) return refused;
        const q = parseHistoryQuery(url);
        return admit("history", req, url, ip, async (opts) => {
          const allowed = opts.series ? new Set(opts.series) : null;
          const a = await answerHistory(
            q as Exclude<typeof q, string>,
            allowed,
            ctx.bridge,
            ctx.storeRange,
          );
          if (a.status === 200) server.historyRequests++;
          return historyResponse(req, a);
        }, () => (typeof q === "string" ? q : undefined));
      }
      case "/healthz":
        return await healthzResponse(ctx, uptime());
      case "/metrics":
        return await metricsResponse(ctx, {
          ...server,
          relayRestarts: ctx.relayRestarts(),
          uptimeSeconds: uptime(),
          memory: Deno.memoryUsage(),
        });
    }
    return await assetResponse(req, url, ctx, authorize);
  };
}
