// The stream into the page: each frame from the connection (the README's "Browser protocol"):
// hello (session, epoch, the server's clock), history and live points (into the rings, each
// once by its seq), series_list (what the server holds, and units). It owns where the data
// stands (epoch and last seq) so a reconnect resumes without gap or duplicate, the cut-off of
// Clear, and the query of the next connection.

import { DEFAULT_SERIES } from "./protocol.js";
import { streamQuery } from "./address.js";

/**
 * Creates the feed. `deps`: `token` (or null), `series` (the rings), `catalog`, `view`, `loop`
 * (draw.js), `figures`, `decimation`, `readout`.
 */
export function createFeed(deps) {
  const { series, catalog, loop, decimation } = deps;
  /** Where this page's data stands, to resume after a reconnect without gap or duplicate. */
  let epoch = null;
  let lastSeq = 0;
  let sessionId = null;
  /** Next connection starts over (no resume): the selection changed while not connected. */
  let freshNext = false;
  /** After "Clear": live points older than this are not drawn (the server keeps them). */
  let clearedBefore = null;
  /** Main-thread time spent handling messages, ms. */
  let messageMs = 0;

  function addPoints(points, live) {
    const t = deps.view.now();
    const selection = catalog.selection;
    let added = 0;
    let newSeries = false;
    for (let i = 0; i < points.length; i++) {
      const p = points[i];
      if (typeof p.x !== "number" || typeof p.y !== "number") continue;
      if (typeof p.seq === "number") {
        if (p.seq <= lastSeq) continue; // already here
        lastSeq = p.seq;
      }
      const name = typeof p.series === "string" ? p.series : DEFAULT_SERIES;
      // In flight before the server applied a new selection.
      if (selection !== null && !selection.has(name)) continue;
      if (clearedBefore !== null && p.x < clearedBefore) continue;
      if (series.add(name, p.x, p.y)) {
        loop.requestLegend();
        newSeries = true;
      }
      added++;
      if (live) deps.figures.point(name, t - p.x);
    }
    if (live) deps.figures.count(added);
    loop.pointsAdded(added, newSeries);
  }

  function handleMessage(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch (_err) {
      return;
    }
    if (msg.type === "hello") {
      sessionId = msg.session;
      deps.readout.session(msg.session);
      if (msg.epoch !== epoch) lastSeq = 0;
      epoch = msg.epoch;
      if (typeof msg.time === "number" && Number.isFinite(msg.time)) deps.view.setClock(msg.time);
      decimation.onHello();
    } else if (msg.type === "history" && Array.isArray(msg.points)) {
      // reset: the points do not continue what we hold (new server, gap, new selection, exact
      // again).
      if (msg.reset) {
        series.clear();
        lastSeq = 0;
        decimation.reset();
        loop.requestDraw(false); // not while paused: the view stays as it was
      }
      addPoints(msg.points, false);
    } else if (msg.type === "points" && Array.isArray(msg.points)) {
      if (msg.decimated === true) decimation.onFrame(msg);
      addPoints(msg.points, true);
    } else if (msg.type === "series_list" && Array.isArray(msg.series)) {
      catalog.setList(msg);
      loop.requestLegend();
      loop.requestLayout();
    }
  }

  return {
    /** Takes one frame's text. */
    onMessage(text) {
      const t0 = performance.now();
      handleMessage(text);
      messageMs += performance.now() - t0;
    },
    /** The query of the next connection of `kind`: the selection, and where to resume. */
    query(kind) {
      // Decimated frames carry no seq: a decimated page starts over (a reset snapshot) instead.
      const resume = !freshNext && epoch !== null && decimation.asked === null
        ? { epoch: epoch, lastSeq: lastSeq }
        : null;
      freshNext = false;
      if (kind !== "websocket") decimation.dropAsk();
      return streamQuery(kind, deps.token, catalog.selection, resume);
    },
    /** The next connection starts over (a reset snapshot of the new selection). */
    startFresh() {
      freshNext = true;
    },
    /** Clear: forgets what the rings hold; live points from before now are not drawn. */
    clear() {
      clearedBefore = deps.view.now();
      series.clear();
      decimation.emptied();
    },
    /** Reset view: every point drawn again, also from before a Clear. */
    unclear() {
      clearedBefore = null;
    },
    get session() {
      return sessionId;
    },
    get epoch() {
      return epoch;
    },
    get lastSeq() {
      return lastSeq;
    },
    /** Main-thread ms spent handling messages so far. */
    get messageMs() {
      return messageMs;
    },
  };
}
