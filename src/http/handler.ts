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
 * clients per IP (429). With auth on, the page itself
 * (`/`, `/index.html`) needs a token too; its scripts and styles, `/healthz` and `/metrics` do not.
 *
 * @module
 */
import { findAsset } from "./static_assets.ts";
import {
  renderMetrics,
  type ServerStats,
  type UpstreamMetrics,
  type WsRejectReason,
} from "./metrics.ts";
import {
  type AuthFailureReason,
  type AuthResult,
  type TokenVerifier,
  unauthorized,
  verifyRequestToken,
} from "./auth.ts";
import { ConnectionCounter, RateLimiter } from "./limits.ts";
import { RateLimitedLog } from "../runtime/log.ts";
import type { RelayStats } from "../relay/worker_messages.ts";
import type { AcceptOptions } from "../hub/client.ts";
import type { BridgeStats } from "../protocol/stats.ts";
import { SERVER_INFO } from "../protocol/frames.ts";
import { persistHealth } from "../store/writer.ts";
import type { Health } from "../runtime/health.ts";
import { seriesFromUrl } from "../protocol/client_messages.ts";
import { acceptEventStream, EVENT_STREAM_HEADERS, type EventStreamBridge } from "./sse.ts";
import { hostAllowed, type HostPolicy } from "./host_check.ts";
import type { FrontStats } from "./front.ts";

/** What the HTTP side needs from the hub (`WsBridge` in `ws_bridge.ts`). */
export interface Hub extends EventStreamBridge {
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
  /**
   * The public port speaks TLS but requests arrive in plain text (the front terminates TLS): the
   * server's own origin, for the Origin check, is then `https:`.
   */
  secure?: boolean;
  /** The HTTP front's counters, for `/metrics` (absent with `--no-front`). */
  front?: () => FrontStats;
}

/** The connection details `Deno.serve` passes along (only the peer address is used). */
export interface RequestInfo {
  remoteAddr: Deno.Addr;
}

/** Headers on every response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self' " +
    "'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; " +
    "form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
});

/**
 * Whether a WebSocket upgrade or event stream with this `Origin` may proceed: no Origin (not a
 * browser, or a same-origin EventSource, which sends none), the server's own origin (as the request
 * addressed it), or one of `allow`.
 */
export function originAllowed(
  origin: string | null,
  requestUrl: string,
  allow: readonly string[],
): boolean {
  if (origin === null) return true;
  const own = new URL(requestUrl);
  if (origin === own.origin) return true;
  return allow.includes(origin);
}

function text(status: number, body: string, type = "text/plain; charset=utf-8"): Response {
  return new Response(body, { status, headers: { ...SECURITY_HEADERS, "Content-Type": type } });
}

function tooMany(status: 429 | 503, body: string, retryAfter: number): Response {
  const r = text(status, body);
  r.headers.set("Retry-After", String(Math.max(1, retryAfter)));
  return r;
}

/** The peer's IP address, the key of the per-IP limits. */
function peerAddress(info: RequestInfo | undefined): string {
  const addr = info?.remoteAddr;
  return addr && "hostname" in addr ? addr.hostname : "local";
}

/** Builds the request handler for `Deno.serve`. */
export function createHandler(
  ctx: HttpContext,
): (req: Request, info?: RequestInfo) => Promise<Response> {
  const server: Omit<ServerStats, "uptimeSeconds" | "relayRestarts"> & {
    wsRejected: Record<WsRejectReason, number>;
    sseRejected: Record<WsRejectReason, number>;
    authFailures: Record<AuthFailureReason, number>;
  } = {
    wsRejected: { origin: 0, capacity: 0, ip_capacity: 0, rate: 0, unauthorized: 0 },
    sseRejected: { origin: 0, capacity: 0, ip_capacity: 0, rate: 0, unauthorized: 0 },
    authFailures: { missing: 0, invalid: 0, expired: 0 },
  };
  const uptime = () => Math.round((performance.now() - ctx.startedAt) / 100) / 10;
  const upgrades = new RateLimiter(ctx.upgradeRate ?? 0, undefined, ctx.now);
  const perIp = new ConnectionCounter(ctx.maxClientsPerIp ?? 0);
  const rateLog = new RateLimitedLog(5000);
  const reject = (kind: "ws" | "sse", reason: WsRejectReason, ip: string, response: Response) => {
    (kind === "ws" ? server.wsRejected : server.sseRejected)[reason]++;
    rateLog.log(
      "info",
      "http",
      `${kind}-${reason}`,
      `refused ${kind === "ws" ? "a WebSocket upgrade" : "an event stream"} from ${ip}: ${reason}`,
    );
    return response;
  };
  /** Checks the token of `req` when auth is on; a failure is counted and answered with 401. */
  const authorize = async (req: Request): Promise<AuthResult | null> => {
    if (!ctx.auth) return null;
    const result = await verifyRequestToken(req, ctx.auth);
    if (!result.ok) server.authFailures[result.reason]++;
    return result;
  };

  /** The first checks of `/ws` and `/events`: upgrade rate per IP (429), origin (403). */
  const gate = (kind: "ws" | "sse", req: Request, ip: string): Response | null => {
    if (!upgrades.take(ip)) {
      return reject(
        kind,
        "rate",
        ip,
        tooMany(429, "too many connection attempts\n", upgrades.retryAfterSeconds(ip)),
      );
    }
    const own = ctx.secure ? req.url.replace(/^http:/, "https:") : req.url;
    if (!originAllowed(req.headers.get("origin"), own, ctx.allowOrigins)) {
      return reject(kind, "origin", ip, text(403, "origin not allowed\n"));
    }
    return null;
  };
  /**
   * The checks `/ws` and `/events` share after rate and origin: a valid `?series=` (400), the
   * token (401), total clients (503), clients per IP (429); then `open` with what they found.
   */
  const admit = async (
    kind: "ws" | "sse",
    req: Request,
    url: URL,
    ip: string,
    open: (opts: AcceptOptions) => Response,
  ): Promise<Response> => {
    const select = seriesFromUrl(url);
    if (select && "error" in select) return text(400, `${select.error}\n`);
    const auth = await authorize(req);
    if (auth && !auth.ok) {
      return reject(kind, "unauthorized", ip, unauthorized(auth, SECURITY_HEADERS));
    }
    if (Math.max(ctx.bridge.clientCount, perIp.total) >= ctx.maxClients) {
      return reject(kind, "capacity", ip, tooMany(503, "too many clients\n", 5));
    }
    const release = perIp.acquire(ip);
    if (!release) {
      return reject(
        kind,
        "ip_capacity",
        ip,
        tooMany(429, "too many clients from your address\n", 5),
      );
    }
    const claims = auth?.ok ? auth.claims : undefined;
    if (ctx.beforeUpgrade) await ctx.beforeUpgrade(req);
    return open({
      series: claims?.series ?? null,
      select,
      expiresAt: claims?.expiresAt,
      onClose: release,
    });
  };

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
      case "/healthz": {
        const persist = (await ctx.relayStats()).persist;
        const health = ctx.health?.() ?? { ok: true };
        return text(
          health.ok ? 200 : 503,
          JSON.stringify({
            ...(health.ok ? { status: "ok" } : { status: health.status, reason: health.reason }),
            clients: ctx.bridge.clientCount,
            uptime: uptime(),
            server: SERVER_INFO,
            relayRestarts: ctx.relayRestarts(),
            ...(persist ? { persist: persistHealth(persist) } : {}),
            ...(ctx.upstream ? { upstream: ctx.upstream.health() } : {}),
          }) + "\n",
          "application/json",
        );
      }
      case "/metrics":
        return text(
          200,
          renderMetrics({
            relay: await ctx.relayStats(),
            bridge: ctx.bridge.stats(),
            server: { ...server, relayRestarts: ctx.relayRestarts(), uptimeSeconds: uptime() },
            upstream: ctx.upstream?.metrics(),
            front: ctx.front?.(),
          }) + (ctx.extraMetrics?.() ?? ""),
          "text/plain; version=0.0.4; charset=utf-8",
        );
    }
    const asset = findAsset(url.pathname);
    if (!asset) return text(404, "not found\n");
    if (ctx.auth && asset.contentType.startsWith("text/html")) {
      const auth = await authorize(req);
      if (auth && !auth.ok) return unauthorized(auth, SECURITY_HEADERS);
    }
    const headers = {
      ...SECURITY_HEADERS,
      "Content-Type": asset.contentType,
      // With auth on, the page's address holds a token: no copy of it may stay in a cache.
      "Cache-Control": ctx.auth && asset.contentType.startsWith("text/html")
        ? "no-store"
        : asset.cacheControl,
      ETag: asset.etag,
    };
    if (req.headers.get("if-none-match") === asset.etag) {
      return new Response(null, { status: 304, headers });
    }
    return new Response(req.method === "HEAD" ? null : asset.body, { headers });
  };
}
