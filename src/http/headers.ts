/**
 * Headers every zws response carries, from either role's HTTP server. Pure.
 *
 * @module
 */

/** Headers on every response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self' " +
    "'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; " +
    "form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
});

/** The `Content-Type` of Prometheus' text format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A response with a text body (plain text by default) and the security headers. */
export function textResponse(
  status: number,
  body: string,
  type = "text/plain; charset=utf-8",
): Response {
  return new Response(body, { status, headers: { ...SECURITY_HEADERS, "Content-Type": type } });
}

/** A JSON response (`/healthz`) with the security headers. */
export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body) + "\n", {
    status,
    headers: { ...SECURITY_HEADERS, "Content-Type": "application/json" },
  });
}

/** The answer to a method other than GET and HEAD. */
export function methodNotAllowed(): Response {
  return new Response("method not allowed\n", {
    status: 405,
    headers: { ...SECURITY_HEADERS, Allow: "GET, HEAD" },
  });
}
