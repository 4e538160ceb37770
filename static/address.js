// The page's address and its streams' queries: what ?token=, ?window= and ?series= ask for, the
// deep link the address keeps to what is shown (?series=a,b&window=10s&panels=…), and the query
// of a /ws or /events connection (the selection, and where to resume). Series names are read and
// written by protocol.js's rules, the server's own. Pure: no DOM (tests/unit/address_test.ts).

import { joinSeriesParam, splitSeriesParam } from "./protocol.js";

/** Time windows offered, in ms. */
export const WINDOWS = Object.freeze({ "10s": 10e3, "1m": 60e3, "5m": 300e3, "all": Infinity });
/** The window of a plain link (not written to the address). */
export const DEFAULT_WINDOW = "1m";

/**
 * The viewer token of `search` (the page opened as /?token=…), or null: it goes with every
 * stream and history request and stays in the address.
 */
export function parseTokenParam(search) {
  return new URLSearchParams(search).get("token");
}

/** The window `search` asks for (?window=10s), {@link DEFAULT_WINDOW} when none or unknown. */
export function parseWindowParam(search) {
  const m = /(?:^|[?&])window=([^&]*)/.exec(search);
  return m && Object.hasOwn(WINDOWS, m[1]) ? m[1] : DEFAULT_WINDOW;
}

/**
 * The series `search` asks for (?series=a,b, read like the server does; a malformed name is
 * skipped) as a Set, or null (no ?series=: every series).
 */
export function parseSeriesParam(search) {
  const p = splitSeriesParam(search);
  return p.found ? new Set(p.names) : null;
}

/**
 * The page's own query ("" or "?…"): `token` (or null), `selection` (a Set, null: every
 * series), `windowKey`, `panels` (the ?panels= value, "" for the default grouping).
 */
export function pageQuery(token, selection, windowKey, panels) {
  const q = [];
  if (token) q.push("token=" + encodeURIComponent(token));
  if (selection !== null) q.push("series=" + joinSeriesParam(selection));
  if (windowKey !== DEFAULT_WINDOW) q.push("window=" + windowKey);
  if (panels !== "") q.push("panels=" + panels);
  return q.length ? "?" + q.join("&") : "";
}

/**
 * The query ("" or "?…") of a connection of `kind` ("websocket" or "sse"): `token`, `selection`
 * (a Set or null), and `resume` ({ epoch, lastSeq }: where the data stands; null: start over).
 */
export function streamQuery(kind, token, selection, resume) {
  const q = [];
  if (token) q.push("token=" + encodeURIComponent(token));
  if (selection !== null) q.push("series=" + joinSeriesParam(selection));
  if (resume !== null) {
    if (kind === "websocket") {
      q.push("since=" + resume.lastSeq, "epoch=" + encodeURIComponent(resume.epoch));
    } else q.push("lastEventId=" + encodeURIComponent(resume.epoch + ":" + resume.lastSeq));
  }
  return q.length ? "?" + q.join("&") : "";
}
