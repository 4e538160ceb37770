// Decimated live data, the page's side: asks the server for the rate the window wants (rate.js
// decides when and which), again on each new connection, and keeps what the server applies and
// since when the rings hold min/max data instead of every point (a zoomed view then fetches exact
// history; the page says so). The note's text is pure (tests/unit/decimation_test.ts).

import { formatSpan } from "./format.js";
import { nextRate, targetRate } from "./rate.js";

/**
 * The decimation note ("" for none): live data drawn over a range ending at `to` is min/max per
 * bucket when the rings hold decimated points from `state.since` (x; null: exact only) at
 * `state.rate` (the server's, else `state.asked`); `historyBucketMs` (null: none): the history
 * drawn is min/max per bucket of that many ms.
 */
export function decimationText(state, to, historyBucketMs) {
  const parts = [];
  if (state.since !== null && to >= state.since) {
    parts.push(
      "decimated: min/max, at most " + (state.rate ?? state.asked ?? "?") +
        " points/s per series",
    );
  }
  if (historyBucketMs !== null) parts.push("history: min/max per " + formatSpan(historyBucketMs));
  return parts.join("; ");
}

/**
 * Creates the decimation state. `deps`: `send(msg)` (over the WebSocket; false when not sent),
 * `transport()` ("websocket" or "sse"), `columns()` (pixel columns), `liveSpan()` (the live
 * window, ms), `fastest()` (the fastest series' live points/s).
 */
export function createDecimation(deps) {
  /** The rate asked of the server (points/s per series), or null: every point. */
  let asked = null;
  /** Rate messages sent so far. */
  let changes = 0;
  /** x of the first decimated live point the rings hold (null: they hold exact data only). */
  let since = null;
  /** The rate of the last decimated frame (what the server says it applies). */
  let rate = null;

  return {
    /** Asks the server for the live rate the window wants (rate.js), when it changed. */
    update() {
      const target = deps.transport() === "websocket"
        ? targetRate(deps.columns(), deps.liveSpan())
        : null;
      const next = nextRate(asked, deps.fastest(), target);
      if (next === asked) return;
      if (deps.send({ type: "rate", max_points_per_s: next })) {
        asked = next;
        changes++;
      } else if (deps.transport() !== "websocket") asked = null;
    },
    /** A new connection starts exact: ask again for the rate the view wants. */
    onHello() {
      if (asked !== null && !deps.send({ type: "rate", max_points_per_s: asked })) asked = null;
    },
    /** A decimated points frame came (`rate`: what the server applies). */
    onFrame(msg) {
      rate = typeof msg.rate === "number" ? msg.rate : asked;
      for (const p of msg.points) {
        if (typeof p.x === "number" && (since === null || p.x < since)) since = p.x;
      }
    },
    /** The rings start over (a reset snapshot): exact again, no rate seen. */
    reset() {
      since = null;
      rate = null;
    },
    /** The rings were emptied (Clear): what they hold next is exact until a decimated frame. */
    emptied() {
      since = null;
    },
    /** A stream that cannot carry rate messages (SSE) starts exact. */
    dropAsk() {
      asked = null;
    },
    /** Whether live data drawn up to `to` came decimated. */
    coarseAt(to) {
      return since !== null && to >= since;
    },
    /** The note for a range ending at `to` (see {@link decimationText}). */
    text(to, historyBucketMs) {
      return decimationText({ since: since, rate: rate, asked: asked }, to, historyBucketMs);
    },
    /** The rate asked (null: exact). */
    get asked() {
      return asked;
    },
    /** Rate messages sent so far. */
    get changes() {
      return changes;
    },
    /** The server's rate of the last decimated frame. */
    get rate() {
      return rate;
    },
    /** x of the first decimated point held, or null. */
    get since() {
      return since;
    },
  };
}
