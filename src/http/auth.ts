/**
 * Viewer tokens: HS256 JSON Web Tokens (verified with `jose`) that let a browser open `/ws` (and,
 * later, `/events`) and load the page when zws runs with `--auth-secret`.
 *
 * A token must carry `exp` (seconds since the epoch). It may carry `series`: a list of series
 * names, and then its holder receives only those series. `sub` is optional and only shown (shortened)
 * in debug logs. Tokens are taken from the `token` query parameter (browsers cannot set headers on
 * a WebSocket) or an `Authorization: Bearer` header (the header wins when both are present).
 *
 * A connection whose token expires is closed with {@link TOKEN_EXPIRED_CLOSE_CODE} (4001).
 *
 * The secret never leaves this module in any message: errors name what is wrong, not the value.
 *
 * @module
 */
import { errors, jwtVerify, SignJWT } from "jose";
import { seriesProblem } from "../protocol/ingress.ts";
import { CLOSE } from "../protocol/close_codes.ts";

/** WebSocket close code sent when a connection's token expires ("token expired"). */
export const TOKEN_EXPIRED_CLOSE_CODE = CLOSE.token_expired;

/** Shortest accepted secret, in bytes (RFC 7518: an HS256 key at least as long as the hash). */
export const MIN_SECRET_BYTES = 32;

/** Longest token looked at, in characters; longer ones are invalid without being parsed. */
export const MAX_TOKEN_LENGTH = 8192;

/** Most series names one token may list. */
export const MAX_TOKEN_SERIES = 1000;

/** What a valid token grants. */
export interface TokenClaims {
  /** The token's subject (`sub`), if any. */
  subject?: string;
  /** When the token expires, in ms since the epoch. */
  expiresAt: number;
  /** The series the holder may see (sorted, unique), or `null` for all of them. */
  series: readonly string[] | null;
}

/** Why a request was refused. */
export type AuthFailureReason = "missing" | "invalid" | "expired";

/** Every {@link AuthFailureReason}, for metrics. */
export const AUTH_FAILURE_REASONS: readonly AuthFailureReason[] = ["missing", "invalid", "expired"];

/** The outcome of checking a token. */
export type AuthResult =
  | { ok: true; claims: TokenClaims }
  | { ok: false; status: 401; reason: AuthFailureReason; message: string };

/** Checks tokens against one secret. */
export interface TokenVerifier {
  /** Verifies one token (signature, algorithm, `exp`, `nbf`, and the `series` claim's shape). */
  verify(token: string): Promise<AuthResult>;
}

const fail = (reason: AuthFailureReason, message: string): AuthResult => ({
  ok: false,
  status: 401,
  reason,
  message,
});

/**
 * A verifier for HS256 tokens signed with `secret` (at least {@link MIN_SECRET_BYTES} bytes).
 *
 * @param now clock in ms, injectable for tests
 */
export function createTokenVerifier(
  secret: Uint8Array,
  now: () => number = Date.now,
): TokenVerifier {
  if (secret.length < MIN_SECRET_BYTES) {
    throw new RangeError(`the auth secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  const key = secret.slice();
  return {
    async verify(token) {
      if (token === "") return fail("missing", "no token");
      if (token.length > MAX_TOKEN_LENGTH) return fail("invalid", "token too long");
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: ["HS256"],
          requiredClaims: ["exp"],
          currentDate: new Date(now()),
        }));
      } catch (err) {
        if (err instanceof errors.JWTExpired) return fail("expired", "token expired");
        if (err instanceof errors.JWTClaimValidationFailed) {
          return fail("invalid", `token claim "${err.claim}" is not acceptable`);
        }
        if (err instanceof errors.JWSSignatureVerificationFailed) {
          return fail("invalid", "token signature does not match");
        }
        if (err instanceof errors.JOSEAlgNotAllowed) {
          return fail("invalid", "token algorithm not allowed (HS256 only)");
        }
        return fail("invalid", "token is malformed");
      }
      const exp = payload.exp;
      if (typeof exp !== "number" || !Number.isFinite(exp)) {
        return fail("invalid", 'token claim "exp" is not a number');
      }
      const series = seriesClaim(payload.series);
      if (series === "bad") {
        return fail(
          "invalid",
          `token claim "series" must be a list of 1 to ${MAX_TOKEN_SERIES} series names`,
        );
      }
      const sub = typeof payload.sub === "string" ? payload.sub : undefined;
      return { ok: true, claims: { subject: sub, expiresAt: exp * 1000, series } };
    },
  };
}

function seriesClaim(v: unknown): string[] | null | "bad" {
  if (v === undefined) return null;
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_TOKEN_SERIES) return "bad";
  for (const s of v) if (typeof s !== "string" || seriesProblem(s)) return "bad";
  return [...new Set(v as string[])].sort();
}

/**
 * The token a request carries: `Authorization: Bearer <token>` or else the `token` query
 * parameter; `null` when there is none.
 */
export function tokenFromRequest(req: Request): string | null {
  const auth = req.headers.get("authorization");
  if (auth !== null) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const q = new URL(req.url).searchParams.get("token");
  return q === null || q === "" ? null : q;
}

/**
 * Checks the token of `req`: the one call an endpoint makes (`/ws` now; `/events` too). A failure
 * carries the HTTP status to answer (401) and a reason for metrics; see {@link unauthorized}.
 */
export async function verifyRequestToken(
  req: Request,
  verifier: TokenVerifier,
): Promise<AuthResult> {
  const token = tokenFromRequest(req);
  if (token === null) return fail("missing", "no token (use ?token=… or Authorization: Bearer)");
  return await verifier.verify(token);
}

/** The 401 answer for a failed check: a one-line text body and a `WWW-Authenticate` challenge. */
export function unauthorized(
  result: Extract<AuthResult, { ok: false }>,
  headers: Record<string, string> = {},
): Response {
  const challenge = result.reason === "missing"
    ? 'Bearer realm="zws"'
    : `Bearer realm="zws", error="invalid_token", error_description="${
      result.message.replace(/["\\]/g, "'")
    }"`;
  return new Response(`unauthorized: ${result.message}\n`, {
    status: result.status,
    headers: {
      ...headers,
      "Content-Type": "text/plain; charset=utf-8",
      "WWW-Authenticate": challenge,
      "Cache-Control": "no-store",
    },
  });
}

/** What {@link signToken} puts in a token. */
export interface TokenRequest {
  /** Lifetime in seconds from `now`. */
  ttlSeconds: number;
  /** Series the holder may see (all when absent). */
  series?: readonly string[];
  /** Subject (`sub`), e.g. a user name. */
  subject?: string;
  /** Clock in ms (default `Date.now`). */
  now?: number;
}

/** Signs an HS256 viewer token (used by `deno task token` and the tests). */
export async function signToken(secret: Uint8Array, req: TokenRequest): Promise<string> {
  const iat = Math.floor((req.now ?? Date.now()) / 1000);
  const claims: Record<string, unknown> = {};
  if (req.series) claims.series = [...req.series];
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt(iat)
    .setExpirationTime(iat + req.ttlSeconds);
  if (req.subject !== undefined) jwt.setSubject(req.subject);
  return await jwt.sign(secret);
}
