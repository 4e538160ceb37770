// @ts-self-types="./protocol.d.ts"
/**
 * The rules the page and the server must agree on, in one file both load: the server imports it
 * (src/ingress_protocol.ts, src/client_messages.ts) and serves it to the page as /protocol.js.
 * Plain JavaScript (no build step), pure: no I/O, no DOM. Types: protocol.d.ts next to it.
 *
 * @module
 */

/** The series of points that name none. */
export const DEFAULT_SERIES = "value";
/** Longest series name, in characters (code points). */
export const MAX_SERIES_LENGTH = 64;
/** Most series one connection may select (message or URL). */
export const MAX_SELECTED_SERIES = 100;
/** Default most series the server holds (`maxSeries` of its history); the page holds no more. */
export const MAX_SERIES_HELD = 1000;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Returns why `s` is not a valid series name, or undefined when it is. */
export function seriesProblem(s) {
  if (s.length === 0) return "series is empty";
  // Count code points, not UTF-16 units; avoid spreading huge strings.
  if (s.length > MAX_SERIES_LENGTH * 2 || [...s].length > MAX_SERIES_LENGTH) {
    return "series longer than " + MAX_SERIES_LENGTH + " characters";
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(s)) return "series contains control characters";
  // A lone surrogate is no Unicode text: as UTF-8 (the store, /api/history) it becomes U+FFFD
  // and would be another series' name.
  if (LONE_SURROGATE.test(s)) return "series contains a lone surrogate (not Unicode text)";
  return undefined;
}

/**
 * Reads the `series` parameters of a query string (`?series=a,b`, with or without the "?"):
 * literal commas split, each name percent-decoded ("+" is a space), so a name holding a comma is
 * written `%2C` (what `encodeURIComponent` produces). Several `series` parameters add up; empty
 * parts are skipped, so `?series=` selects no series. `found`: whether any `series` parameter was
 * there (none: every series). `malformed`: parts whose percent-encoding is broken (left out of
 * `names`; the server refuses them, the page skips them). Stops after `limit` names.
 */
export function splitSeriesParam(search, limit = Infinity) {
  const query = search.charAt(0) === "?" ? search.slice(1) : search;
  const out = { found: false, names: [], malformed: 0 };
  if (query === "") return out;
  for (const pair of query.split("&")) {
    const eq = pair.indexOf("=");
    if ((eq < 0 ? pair : pair.slice(0, eq)) !== "series") continue;
    out.found = true;
    const raw = eq < 0 ? "" : pair.slice(eq + 1);
    if (raw === "") continue;
    for (const part of raw.split(",")) {
      if (part === "") continue;
      try {
        out.names.push(decodeURIComponent(part.replaceAll("+", " ")));
      } catch (_err) {
        out.malformed++;
      }
      if (out.names.length > limit) return out;
    }
  }
  return out;
}

/** Writes a selection as the value of `?series=` (the inverse of {@link splitSeriesParam}). */
export function joinSeriesParam(names) {
  return Array.from(names, encodeURIComponent).join(",");
}

/**
 * WebSocket close codes the server uses (the SSE stream's `close` event carries the same), with
 * what a client should do: "resume" (reconnect and resume with since/epoch), "fresh" (reconnect
 * without resuming), "stop" (retrying with the same token or messages will not help).
 */
export const CLOSE_CODES = Object.freeze({
  1001: Object.freeze({ name: "going_away", action: "resume", meaning: "server shutting down" }),
  1003: Object.freeze({
    name: "binary_frame",
    action: "stop",
    meaning: "the client sent a binary frame",
  }),
  1007: Object.freeze({
    name: "invalid_message",
    action: "stop",
    meaning: "the client sent a message that is not one of the protocol's",
  }),
  1008: Object.freeze({
    name: "policy",
    action: "stop",
    meaning: "refused for policy (e.g. a message flood, a series the token does not allow)",
  }),
  1009: Object.freeze({
    name: "message_too_big",
    action: "stop",
    meaning: "the client sent a message over the size limit",
  }),
  1012: Object.freeze({
    name: "restart",
    action: "resume",
    meaning: "the server's data source restarted (a gateway's upstream)",
  }),
  4001: Object.freeze({
    name: "token_expired",
    action: "stop",
    meaning: "the viewer token expired: open the page with a new one",
  }),
  4008: Object.freeze({
    name: "slow_client",
    action: "resume",
    meaning: "the client stayed over its buffer bound too long",
  }),
});

/** The close code of each name in {@link CLOSE_CODES}. */
export const CLOSE = Object.freeze(
  Object.fromEntries(Object.entries(CLOSE_CODES).map(([code, c]) => [c.name, Number(code)])),
);

/** What a client should do after a close with `code`: unknown codes resume (with backoff). */
export function closeAction(code) {
  const c = Object.hasOwn(CLOSE_CODES, code) ? CLOSE_CODES[code] : undefined;
  return c ? c.action : "resume";
}
