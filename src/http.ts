/**
 * The HTTP side of the one port: the page and its scripts, `/healthz`, `/metrics`, and the
 * WebSocket upgrade at `/ws` (handed to `ws_bridge.ts` once its checks pass).
 *
 * @module
 */
import { findAsset } from "./static_assets.ts";
import { renderMetrics, type ServerStats, type UpstreamMetrics } from "./metrics.ts";
import type { RelayStats } from "./relay_messages.ts";
import type { WsBridge } from "../ws_bridge.ts";
import { SERVER_INFO } from "./frames.ts";

/** What the handler needs from the rest of the server. */
export interface HttpContext {
  /** Read on every request, so a getter may hand out a new bridge (a gateway's new epoch). */
  bridge: WsBridge;
  /** The relay's counters. */
  relayStats: () => Promise<RelayStats>;
  /** Relay restarts so far. */
  relayRestarts: () => number;
  /** Extra origins allowed to open `/ws`. */
  allowOrigins: readonly string[];
  /** Most clients at once. */
  maxClients: number;
  /** `performance.now()` at start. */
  startedAt: number;
  /** A gateway's upstream (`--upstream`): its state goes into `/healthz` and `/metrics`. */
  upstream?: {
    /** JSON-ready state for `/healthz`. */
    health(): Record<string, unknown>;
    metrics(): UpstreamMetrics;
  };
  /** Runs after the checks and before the upgrade (a gateway waits for a resuming client's point). */
  beforeUpgrade?: (req: Request) => Promise<void>;
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
 * Whether a WebSocket upgrade with this `Origin` may proceed: no Origin (not a browser), the
 * server's own origin (as the request addressed it), or one of `allow`.
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

/** Builds the request handler for `Deno.serve`. */
export function createHandler(ctx: HttpContext): (req: Request) => Promise<Response> {
  const server: Omit<ServerStats, "uptimeSeconds" | "relayRestarts"> = {
    wsRejected: { origin: 0, capacity: 0 },
  };
  const uptime = () => Math.round((performance.now() - ctx.startedAt) / 100) / 10;

  return async (req) => {
    const url = new URL(req.url);
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
        if (!originAllowed(req.headers.get("origin"), req.url, ctx.allowOrigins)) {
          server.wsRejected.origin++;
          return text(403, "origin not allowed\n");
        }
        if (ctx.bridge.clientCount >= ctx.maxClients) {
          server.wsRejected.capacity++;
          const r = text(503, "too many clients\n");
          r.headers.set("Retry-After", "5");
          return r;
        }
        if (ctx.beforeUpgrade) await ctx.beforeUpgrade(req);
        return ctx.bridge.accept(req);
      }
      case "/healthz":
        return text(
          200,
          JSON.stringify({
            status: "ok",
            clients: ctx.bridge.clientCount,
            uptime: uptime(),
            server: SERVER_INFO,
            relayRestarts: ctx.relayRestarts(),
            ...(ctx.upstream ? { upstream: ctx.upstream.health() } : {}),
          }) + "\n",
          "application/json",
        );
      case "/metrics":
        return text(
          200,
          renderMetrics({
            relay: await ctx.relayStats(),
            bridge: ctx.bridge.stats(),
            server: { ...server, relayRestarts: ctx.relayRestarts(), uptimeSeconds: uptime() },
            upstream: ctx.upstream?.metrics(),
          }),
          "text/plain; version=0.0.4; charset=utf-8",
        );
    }
    const asset = findAsset(url.pathname);
    if (!asset) return text(404, "not found\n");
    const headers = {
      ...SECURITY_HEADERS,
      "Content-Type": asset.contentType,
      "Cache-Control": asset.cacheControl,
      ETag: asset.etag,
    };
    if (req.headers.get("if-none-match") === asset.etag) {
      return new Response(null, { status: 304, headers });
    }
    return new Response(req.method === "HEAD" ? null : asset.body, { headers });
  };
}
