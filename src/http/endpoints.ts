/**
 * The server's plain endpoints: `/healthz` (JSON, 503 when the data path is down or stalled),
 * `/metrics` (Prometheus text, `metrics.ts`), the headers of `/api/history`'s answers and the page's embedded files (`static_assets.ts`:
 * ETags, `no-store` for the page when its address holds a token). Called by `handler.ts`.
 *
 * @module
 */
import { SERVER_INFO } from "../protocol/frames.ts";
import { persistHealth } from "../store/status.ts";
import type { AuthResult } from "./auth.ts";
import { unauthorized } from "./auth.ts";
import type { HttpContext } from "./handler.ts";
import { METRICS_CONTENT_TYPE, SECURITY_HEADERS, textResponse } from "./headers.ts";
import { renderMetrics } from "./metrics.ts";
import type { ServerStats } from "./metrics_snapshot.ts";
import { findAsset } from "./static_assets.ts";

/** `GET /healthz`: 200 `{"status":"ok",…}`, or 503 with the status and reason. */
export async function healthzResponse(ctx: HttpContext, uptime: number): Promise<Response> {
  const persist = (await ctx.relayStats()).persist;
  const health = ctx.health?.() ?? { ok: true };
  return textResponse(
    health.ok ? 200 : 503,
    JSON.stringify({
      ...(health.ok ? { status: "ok" } : { status: health.status, reason: health.reason }),
      clients: ctx.bridge.clientCount,
      uptime,
      server: SERVER_INFO,
      relayRestarts: ctx.relayRestarts(),
      ...(persist ? { persist: persistHealth(persist) } : {}),
      ...(ctx.upstream ? { upstream: ctx.upstream.health() } : {}),
    }) + "\n",
    "application/json",
  );
}

/** `GET /metrics`: every counter of the relay, the bridge and the HTTP side. */
export async function metricsResponse(ctx: HttpContext, server: ServerStats): Promise<Response> {
  return textResponse(
    200,
    renderMetrics({
      relay: await ctx.relayStats(),
      bridge: ctx.bridge.stats(),
      server,
      upstream: ctx.upstream?.metrics(),
      front: await ctx.front?.(),
    }) + (ctx.extraMetrics?.() ?? ""),
    METRICS_CONTENT_TYPE,
  );
}

/** `GET /api/history`: an answer of `history_api.ts` with its headers (never cached). */
export function historyResponse(
  req: Request,
  a: { status: number; type: string; body: string },
): Response {
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    "Content-Type": a.type,
    // The address may hold a token, and the answer changes with every point.
    "Cache-Control": "no-store",
  };
  if (a.status === 503) headers["Retry-After"] = "1";
  if (a.status === 200 && a.type.startsWith("text/csv")) {
    headers["Content-Disposition"] = 'attachment; filename="zws-history.csv"';
  }
  return new Response(req.method === "HEAD" ? null : a.body, { status: a.status, headers });
}

/**
 * The page's files (404 for any other path). With viewer auth on, the page itself needs a token
 * (`authorize`) and is never cached.
 */
export async function assetResponse(
  req: Request,
  url: URL,
  ctx: HttpContext,
  authorize: (req: Request) => Promise<AuthResult | null>,
): Promise<Response> {
  const asset = findAsset(url.pathname);
  if (!asset) return textResponse(404, "not found\n");
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
}
