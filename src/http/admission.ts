/**
 * The checks in front of `/ws`, `/events` and `/api/history` (`handler.ts` routes to them), in
 * order: rate per IP (429), origin (403), the request's parameters (400), the viewer token (401),
 * total clients (503), clients per IP (429); each refusal counted by reason for `/metrics` and
 * logged at most once per 5 s per kind and reason.
 *
 * @module
 */
import type { AcceptOptions } from "../hub/client.ts";
import { seriesFromUrl } from "../protocol/client_messages.ts";
import { RateLimitedLog } from "../runtime/log.ts";
import {
  type AuthFailureReason,
  type AuthResult,
  unauthorized,
  verifyRequestToken,
} from "./auth.ts";
import type { HttpContext } from "./handler.ts";
import { SECURITY_HEADERS, textResponse } from "./headers.ts";
import { ConnectionCounter, RateLimiter } from "./limits.ts";
import type { ServerStats, WsRejectReason } from "./metrics_snapshot.ts";

/** What is being admitted: a WebSocket, an event stream or a history request. */
export type Kind = "ws" | "sse" | "history";

/** The HTTP side's own counters (refusals by reason, token failures, history answers). */
export type ServerCounters = Omit<ServerStats, "uptimeSeconds" | "relayRestarts"> & {
  wsRejected: Record<WsRejectReason, number>;
  sseRejected: Record<WsRejectReason, number>;
  historyRejected: Record<WsRejectReason, number>;
  authFailures: Record<AuthFailureReason, number>;
  historyRequests: number;
};

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

const text = textResponse;

function tooMany(status: 429 | 503, body: string, retryAfter: number): Response {
  const r = text(status, body);
  r.headers.set("Retry-After", String(Math.max(1, retryAfter)));
  return r;
}

/** The checks of one server, with their counters. */
export interface Admission {
  server: ServerCounters;
  /** Seconds since start, to a tenth. */
  uptime(): number;
  rateLog: RateLimitedLog;
  /** Checks the token of `req` when auth is on (null: off); a failure is counted. */
  authorize(req: Request): Promise<AuthResult | null>;
  /** Rate per IP (429) and origin (403); null when both pass. */
  gate(kind: Kind, req: Request, ip: string): Response | null;
  /** The checks after the gate, then `open` with what they found (see `handler.ts`). */
  admit(
    kind: Kind,
    req: Request,
    url: URL,
    ip: string,
    open: (opts: AcceptOptions) => Response | Promise<Response>,
    check?: () => string | undefined,
  ): Promise<Response>;
}

/** The checks for the server `ctx` describes. */
export function createAdmission(ctx: HttpContext): Admission {
  const zero = (): Record<WsRejectReason, number> => ({
    origin: 0,
    capacity: 0,
    ip_capacity: 0,
    rate: 0,
    unauthorized: 0,
  });
  const server: Omit<ServerStats, "uptimeSeconds" | "relayRestarts"> & {
    wsRejected: Record<WsRejectReason, number>;
    sseRejected: Record<WsRejectReason, number>;
    historyRejected: Record<WsRejectReason, number>;
    authFailures: Record<AuthFailureReason, number>;
    historyRequests: number;
  } = {
    wsRejected: zero(),
    sseRejected: zero(),
    historyRejected: zero(),
    authFailures: { missing: 0, invalid: 0, expired: 0 },
    historyRequests: 0,
  };
  const uptime = () => Math.round((performance.now() - ctx.startedAt) / 100) / 10;
  const upgrades = new RateLimiter(ctx.upgradeRate ?? 0, undefined, ctx.now);
  /** History requests have a bucket of their own: zooming must not use up reconnects. */
  const historyRate = new RateLimiter(ctx.upgradeRate ?? 0, undefined, ctx.now);
  const perIp = new ConnectionCounter(ctx.maxClientsPerIp ?? 0);
  const rateLog = new RateLimitedLog(5000);
  const what = { ws: "a WebSocket upgrade", sse: "an event stream", history: "a history request" };
  const reject = (kind: Kind, reason: WsRejectReason, ip: string, response: Response) => {
    const counts = kind === "ws"
      ? server.wsRejected
      : kind === "sse"
      ? server.sseRejected
      : server.historyRejected;
    counts[reason]++;
    rateLog.log("info", "http", `${kind}-${reason}`, `refused ${what[kind]} from ${ip}: ${reason}`);
    return response;
  };
  /** Checks the token of `req` when auth is on; a failure is counted and answered with 401. */
  const authorize = async (req: Request): Promise<AuthResult | null> => {
    if (!ctx.auth) return null;
    const result = await verifyRequestToken(req, ctx.auth);
    if (!result.ok) server.authFailures[result.reason]++;
    return result;
  };

  /** The first checks of `/ws`, `/events` and `/api/history`: rate per IP (429), origin (403). */
  const gate = (kind: Kind, req: Request, ip: string): Response | null => {
    const limiter = kind === "history" ? historyRate : upgrades;
    if (!limiter.take(ip)) {
      return reject(
        kind,
        "rate",
        ip,
        tooMany(
          429,
          kind === "history" ? "too many requests\n" : "too many connection attempts\n",
          limiter.retryAfterSeconds(ip),
        ),
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
    kind: Kind,
    req: Request,
    url: URL,
    ip: string,
    open: (opts: AcceptOptions) => Response | Promise<Response>,
    /** A history request's parameters are checked instead of `?series=` (400 either way). */
    check: () => string | undefined = () => {
      const select = seriesFromUrl(url);
      return select && "error" in select ? select.error : undefined;
    },
  ): Promise<Response> => {
    const problem = check();
    if (problem !== undefined) return text(400, `${problem}\n`);
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
    if (kind === "history") {
      // Answered at once: the request holds its slot until then.
      try {
        return await open({ series: claims?.series ?? null });
      } finally {
        release();
      }
    }
    if (ctx.beforeUpgrade) await ctx.beforeUpgrade(req);
    // Checked above (`check`): a set of names, or undefined for all.
    const select = seriesFromUrl(url) as ReadonlySet<string> | undefined;
    return open({
      series: claims?.series ?? null,
      select,
      expiresAt: claims?.expiresAt,
      onClose: release,
    });
  };

  return { server, uptime, rateLog, authorize, gate, admit };
}
