// zws page: receives points over the WebSocket at /ws (same origin), or over Server-Sent Events at
// /events where WebSockets cannot open, and draws them with Flot in stacked panels. Browser
// protocol: the README's "Browser protocol"; the rules the server shares with this page are in
// protocol.js; how to use the page: docs/dashboard.md. No build step: these ES modules are served
// as they are.
//
// Modules: protocol.js (rules shared with the server), store.js (sorted rings per series, the
// bounded set of series), layout.js (which series go on which panel, ?panels=), panels.js (the
// stacked charts, their legends, drag/wheel zoom and pan), chart.js (one Flot chart), legend.js
// (series toggles, filter), history.js (/api/history for zoomed views and CSV), export.js (CSV and
// PNG downloads), rate.js (when to ask for decimated live data), connection.js (WebSocket/SSE,
// reconnect, resume). This file wires them to the controls and owns the view: which series, over
// which time range (live: the clock, corrected by the server's; paused; zoomed into history).
//
// Cheap by design: one frame loop draws every panel, at most one chart per animation frame while
// live (the most overdue panel first; a control that changes the view redraws all at once), each
// only as often as its view moves by a pixel and never more than a fifth of the time, from at
// most ~2 points per pixel column per series; DOM text is written only when it changes.

import { DEFAULT_SERIES, joinSeriesParam, splitSeriesParam } from "./protocol.js";
import { SeriesSet } from "./store.js";
import { createLegend } from "./legend.js";
import { createConnection } from "./connection.js";
import {
  emptyLayout,
  formatPanelsParam,
  groupSeries,
  moveSeries,
  newPanelTitle,
  parsePanelsParam,
} from "./layout.js";
import { createPanels, panelLabel } from "./panels.js";
import { createHistory, historyUrl, MAX_POINTS } from "./history.js";
import { download, exportName, panelsPng } from "./export.js";
import { nextRate, targetRate } from "./rate.js";

/**
 * With viewer auth on, the page is opened as /?token=…: read once, it goes with every stream and
 * history request and stays in the address (which follows the controls).
 */
const TOKEN = new URLSearchParams(location.search).get("token");

/** Time windows offered, in ms. */
const WINDOWS = { "10s": 10e3, "1m": 60e3, "5m": 300e3, "all": Infinity };
/** Most lag samples kept per second. */
const MAX_LAG_SAMPLES = 20000;
/** Seconds over which the page measures how fast a series arrives (decimation on or off). */
const RATE_TICKS = 3;
/** Narrowest zoom, ms. */
const MIN_SPAN_MS = 20;
/** After drawing for d ms, the frame loop draws again no sooner than GAP * d later (<= 20 %). */
const DRAW_GAP = 5;
/**
 * Most live chart draws per second over all panels: a draw costs about as much again in paint
 * and raster as in script, which DRAW_GAP does not see. One panel: 20 frames/s; five: 4 each.
 */
const MAX_LIVE_DRAWS_PER_S = 20;
/** Line colours that read on light and dark backgrounds; more series get generated hues. */
const PALETTE = [
  "#2f81f7",
  "#f0883e",
  "#3fb950",
  "#db61a2",
  "#a371f7",
  "#e5534b",
  "#39c5cf",
  "#d29922",
];

const el = (id) => document.getElementById(id);
const statusEl = el("status");
const sessionEl = el("session");
const rateEl = el("rate");
const lagEl = el("lag");
const countEl = el("count");
const transportEl = el("transport");
const pauseBtn = el("pause");
const liveBtn = el("live");
const viewNote = el("paused-note");
const decimationEl = el("decimation");
const exportNote = el("export-note");
const yminEl = el("ymin");
const ymaxEl = el("ymax");
const tooltip = el("tooltip");

/** Writes `text` into `node` only when it differs (no needless layout or announcements). */
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

// ---- Clock ------------------------------------------------------------------------------------

/** Server clock minus this browser's, in ms, from the hello frame (0 until one came). */
let clockOffset = 0;
/** Now on the server's clock, in epoch ms: the live view ends here. */
const now = () => Date.now() + clockOffset;

// ---- Series -----------------------------------------------------------------------------------

const series = new SeriesSet();
/**
 * name -> colour, assigned when the legend first lists a name, in name order (the first legend
 * usually holds every series, so the same series get the same colours on every page), and kept
 * while the server holds the series, so toggling or new series never repaint the others.
 */
const colors = new Map();
let colorsGiven = 0;
/** Names of every series the server holds (its series_list frames; what this page may see). */
let known = [];
/** name -> unit, from the series_list frames (producers send an optional `unit`). */
let units = new Map();
/** The series this page asked for: null means all of them. */
let selection = parseSeriesParam(location.search);
/** After "Clear": live points older than this are not drawn (the server keeps them). */
let clearedBefore = null;

function colorOf(name) {
  let c = colors.get(name);
  if (!c) {
    const i = colorsGiven++;
    c = i < PALETTE.length ? PALETTE[i] : "hsl(" + Math.round((i * 137.5) % 360) + " 65% 55%)";
    colors.set(name, c);
  }
  return c;
}

function unitOf(name) {
  return units.get(name) || "";
}

/** Reads ?series=a,b like the server does (protocol.js); a malformed name is skipped. */
function parseSeriesParam(search) {
  const p = splitSeriesParam(search);
  return p.found ? new Set(p.names) : null;
}

// ---- Panels -----------------------------------------------------------------------------------

/** Which series go on which panel (?panels=; layout.js). */
let layout = parsePanelsParam(location.search).layout;
let layoutQueued = true;

const panels = createPanels(el("panels"), {
  colorOf: colorOf,
  unitOf: unitOf,
  onMove: moveToPanel,
  viewRange: shownRange,
  onZoom: zoomTo,
  onPan: zoomTo,
  onHover: showTooltip,
  onVisible: requestDirty,
});

/** The series drawn: every one the page knows of (held or listed), within the selection. */
function drawnNames() {
  const names = new Set(known);
  for (const n of series.names()) names.add(n);
  if (selection === null) return Array.from(names);
  return Array.from(names).filter((n) => selection.has(n));
}

/** The panels and their series now; an empty page still shows one (empty) chart. */
function currentGroups() {
  const groups = groupSeries(layout, drawnNames());
  return groups.length ? groups : [{ title: "*", names: [] }];
}

function syncPanels() {
  layoutQueued = false;
  panels.sync(currentGroups());
}

function requestLayout() {
  layoutQueued = true;
  requestDirty();
}

/** Moves a series to panel `title` (null: a new one), from a panel legend's control. */
function moveToPanel(name, title) {
  const groups = currentGroups();
  const shown = groups.map((g) => g.title);
  const to = title === null ? newPanelTitle(shown) : title;
  layout = moveSeries(layout, name, to, shown, drawnNames());
  updateUrl();
  requestLayout();
}

// ---- View -------------------------------------------------------------------------------------

function applyTheme() {
  panels.applyTheme();
  requestDraw(true);
}
globalThis.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", applyTheme);

let windowKey = parseWindowParam(location.search);
/** "live" (follows the clock), "paused" (frozen where it was), "zoomed" (a chosen range). */
let viewMode = "live";
/** The range shown while not live. */
let fixedRange = null;
/** The range of the last draw. */
let lastRange = null;
let shownCount = 0;
/** Render passes (frames that drew at least one panel), and chart draws over all panels. */
let draws = 0;
let chartDraws = 0;
/** Main-thread time spent drawing and handling messages, in ms (for tests and the curious). */
const cost = { renderMs: 0, messageMs: 0 };
let frameQueued = false;
let forceQueued = false;
let dirtyQueued = false;
let frameTimer = null;
/** performance.now() before which the frame loop draws nothing more while live. */
let nextFrameAt = 0;
let countWrittenAt = 0;

function parseWindowParam(search) {
  const m = /(?:^|[?&])window=([^&]*)/.exec(search);
  return m && Object.hasOwn(WINDOWS, m[1]) ? m[1] : "1m";
}

const isLive = () => viewMode === "live";

/**
 * Asks for a draw on an animation frame (so at most one pass per frame). While live, the pass
 * waits until a panel is due and the last pass's cost allows (see render). `force`: every panel,
 * on the next frame, also while not live (a control changed the view).
 */
function requestDraw(force) {
  if (force) {
    forceQueued = true;
    clearTimeout(frameTimer);
    frameTimer = null;
    queueFrame();
    return;
  }
  if (!isLive() || frameTimer !== null || frameQueued) return;
  let due = Infinity;
  for (const p of panels.list) if (p.visible) due = Math.min(due, p.nextDrawAt);
  const wait = Math.max(nextFrameAt, due) - performance.now();
  if (wait > 1) {
    // Wait with a timer, not frame after frame: idle frames cost the browser work too.
    frameTimer = setTimeout(function () {
      frameTimer = null;
      queueFrame();
    }, Math.min(wait, 1000));
  } else queueFrame();
}

/**
 * Asks for the panels whose content changed (layout, series, units) to be drawn, one per frame,
 * also while not live (their range stays what it was).
 */
function requestDirty() {
  dirtyQueued = true;
  clearTimeout(frameTimer);
  frameTimer = null;
  queueFrame();
}

function queueFrame() {
  if (frameQueued) return;
  frameQueued = true;
  requestAnimationFrame(onAnimationFrame);
}

function onAnimationFrame() {
  frameQueued = false;
  const force = forceQueued;
  const dirty = dirtyQueued;
  forceQueued = false;
  dirtyQueued = false;
  if (!isLive() && !force && !dirty) return;
  render(force);
}

/** The oldest point held over the series drawn (Infinity: none). */
function oldestHeld() {
  let from = Infinity;
  for (const s of series.values()) if (s.size) from = Math.min(from, s.x(0));
  return from;
}

/**
 * The live range: it ends now (the clock, not the largest x: one point from the future cannot
 * move it); "all held" starts at the oldest point held.
 */
function liveRange() {
  const to = now();
  if (windowKey !== "all") return { from: to - WINDOWS[windowKey], to: to };
  let from = oldestHeld();
  if (!Number.isFinite(from) || from > to - 1000) from = to - 1000;
  return { from: from, to: to };
}

/** The live window's length now, ms. */
function liveSpan() {
  const r = liveRange();
  return r.to - r.from;
}

/** The time range shown: the live one, or while not live the fixed one. */
function viewRange() {
  if (!isLive() && fixedRange !== null) return { from: fixedRange.from, to: fixedRange.to };
  return liveRange();
}

/** The store a panel draws `name` from: fetched history when it serves the view, else the ring. */
function storeFor(name, range, columns) {
  if (!isLive()) {
    const fetched = historyCache.storeFor(name, range.from, range.to, columns);
    if (fetched) return fetched;
  }
  return series.get(name);
}

function drawPanel(panel, range, columns) {
  const list = [];
  for (const name of panel.names) {
    const store = storeFor(name, range, columns);
    if (store) list.push({ name: name, color: colorOf(name), store: store });
  }
  panel.shown = panel.chart.render(list, range.from, range.to);
  panel.dirty = false;
  chartDraws++;
  // Again once its view would move by a pixel (1 min over 1,000 px: 60 ms; at most 250 ms).
  panel.nextDrawAt = performance.now() + Math.min(250, (range.to - range.from) / columns);
}

/**
 * One pass of the frame loop. `all`: every panel (a control changed the view); else one panel,
 * so a frame never draws more than one chart: a changed one first, else (live) the most overdue.
 */
function render(all) {
  const t0 = performance.now();
  if (legendQueued) renderLegend(); // first: it gives new series their colours
  if (layoutQueued) syncPanels();
  const range = viewRange();
  const columns = panels.width();
  const list = panels.list;
  let drew = false;
  let liveDraw = false;
  if (all) {
    for (const p of list) drawPanel(p, range, columns);
    drew = list.length > 0;
  } else {
    let pick = list.find((p) => p.dirty) || null;
    if (pick === null && isLive()) {
      for (const p of list) {
        if (!p.visible || p.nextDrawAt > t0) continue;
        if (!pick || p.nextDrawAt < pick.nextDrawAt) pick = p;
      }
      liveDraw = pick !== null;
    }
    if (pick) {
      drawPanel(pick, range, columns);
      drew = true;
    }
  }
  lastRange = range;
  if (drew) draws++;
  let shown = 0;
  for (const p of list) shown += p.shown;
  shownCount = shown;
  const t1 = performance.now();
  cost.renderMs += t1 - t0;
  // A slow machine keeps most of its main thread: at most a fifth of the time goes to drawing,
  // and live redraws keep to their rate.
  nextFrameAt = t0 + Math.max(DRAW_GAP * (t1 - t0), liveDraw ? 1000 / MAX_LIVE_DRAWS_PER_S : 0);
  if (t1 - countWrittenAt > 250) {
    countWrittenAt = t1;
    setText(countEl, String(shown));
    showDecimation(range, columns);
  }
  if (list.some((p) => p.dirty)) requestDirty();
  else if (isLive() && series.size) requestDraw(false);
}

/** Shows the range in the address bar's sense: not live, it says so and how to come back. */
function updateViewUi() {
  const live = isLive();
  pauseBtn.setAttribute("aria-pressed", String(!live));
  setText(pauseBtn, live ? "Pause" : "Resume");
  liveBtn.hidden = live;
  document.body.dataset.view = viewMode;
  if (viewMode === "paused") {
    viewNote.hidden = false;
    setText(viewNote, "Paused: data keeps arriving; resume to see it.");
  } else if (viewMode === "zoomed" && fixedRange) {
    viewNote.hidden = false;
    const loading = historyCache.loading ? " Loading history…" : "";
    const failed = historyCache.error ? " History unavailable (" + historyCache.error + ")." : "";
    setText(
      viewNote,
      "Not live: showing " + formatTime(fixedRange.from) + " – " + formatTime(fixedRange.to) +
        ". Back to live: L or the Live button." + loading + failed,
    );
  } else viewNote.hidden = true;
}

/**
 * Fetches history for a range that is not live when the page does not hold it: older than its
 * rings reach, or live data that came decimated.
 */
function wantHistory() {
  if (isLive() || fixedRange === null) return;
  const names = drawnNames().sort();
  if (names.length === 0) return;
  const { from, to } = fixedRange;
  let held = -Infinity;
  for (const n of names) {
    const s = series.get(n);
    held = Math.max(held, s && s.size ? s.x(0) : Infinity);
  }
  const coarse = decimatedSince !== null && to >= decimatedSince;
  if (from < held || coarse) historyCache.want(names, from, to, panels.width());
}

/** Leaves live: shows [from, to] (zoom, pan, keyboard). */
function zoomTo(from, to) {
  if (!Number.isFinite(from) || !Number.isFinite(to)) return;
  if (to - from < MIN_SPAN_MS) {
    const mid = (from + to) / 2;
    from = mid - MIN_SPAN_MS / 2;
    to = mid + MIN_SPAN_MS / 2;
  }
  viewMode = "zoomed";
  fixedRange = { from: from, to: to };
  wantHistory();
  updateViewUi();
  requestDraw(true);
}

/**
 * The range zoom and pan steps start from: not live, the fixed one (so steps that come faster
 * than frames add up); live, the last one drawn (what the user sees).
 */
function shownRange() {
  if (!isLive() && fixedRange !== null) return { from: fixedRange.from, to: fixedRange.to };
  return lastRange || viewRange();
}

/** Zooms by `factor` around the middle (2: out, 0.5: in), or pans by `shift` spans. */
function zoomBy(factor, shift) {
  const r = shownRange();
  const span = r.to - r.from;
  const mid = (r.from + r.to) / 2 + shift * span;
  zoomTo(mid - (span * factor) / 2, mid + (span * factor) / 2);
}

function goLive() {
  viewMode = "live";
  fixedRange = null;
  historyCache.clear();
  updateViewUi();
  requestDraw(true);
}

function setPaused(next) {
  if (next) {
    viewMode = "paused";
    fixedRange = shownRange();
    updateViewUi();
  } else goLive(); // catch up with everything received meanwhile
}

const historyCache = createHistory({
  token: TOKEN,
  onChange() {
    updateViewUi();
    requestDraw(true);
  },
});

// ---- Data -------------------------------------------------------------------------------------

let received = 0;
let receivedAtLastTick = 0;
let lagSamples = [];
let lastLag = null;
let lastRate = 0;
/** Where this page's data stands, to resume after a reconnect without gap or duplicate. */
let epoch = null;
let lastSeq = 0;
let sessionId = null;
/** Live points per series since the last tick, and of the ticks before (RATE_TICKS in all). */
let liveCounts = new Map();
const pastCounts = [];
/** When each of pastCounts began (performance.now()), and when the current one did. */
const pastStarts = [];
let countsSince = performance.now();
/** The fastest series' live points/s over the last ticks (a burst after a stall is averaged). */
let fastest = 0;
/** The rate asked of the server (points/s per series), or null: every point. */
let rateAsked = null;
/** x of the first decimated live point the rings hold (null: they hold exact data only). */
let decimatedSince = null;
/** The rate of the last decimated frame (what the server says it applies). */
let decimatedRate = null;
/** Rate messages sent so far. */
let rateChanges = 0;

function addPoints(points, live) {
  const t = now();
  let added = 0;
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
      requestLegend();
      layoutQueued = true;
    }
    added++;
    if (live) {
      liveCounts.set(name, (liveCounts.get(name) || 0) + 1);
      if (lagSamples.length < MAX_LAG_SAMPLES) lagSamples.push(t - p.x);
    }
  }
  if (live) received += added;
  if (layoutQueued) requestDirty();
  else if (added) requestDraw(false);
}

function onMessage(text) {
  const t0 = performance.now();
  handleMessage(text);
  cost.messageMs += performance.now() - t0;
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
    setText(sessionEl, String(msg.session).slice(0, 8));
    if (msg.epoch !== epoch) lastSeq = 0;
    epoch = msg.epoch;
    if (typeof msg.time === "number" && Number.isFinite(msg.time)) {
      // The estimate is off by the hello's delay (network, a busy page): correct real skew only.
      const offset = msg.time - Date.now();
      clockOffset = Math.abs(offset) > 1000 ? offset : 0;
    }
    // A new connection starts exact: ask again for the rate the view wants.
    if (rateAsked !== null && !connection.send({ type: "rate", max_points_per_s: rateAsked })) {
      rateAsked = null;
    }
  } else if (msg.type === "history" && Array.isArray(msg.points)) {
    // reset: the points do not continue what we hold (new server, gap, new selection, exact again).
    if (msg.reset) {
      series.clear();
      lastSeq = 0;
      decimatedSince = null;
      decimatedRate = null;
      requestDraw(false); // not while paused: the view stays as it was
    }
    addPoints(msg.points, false);
  } else if (msg.type === "points" && Array.isArray(msg.points)) {
    if (msg.decimated === true) {
      decimatedRate = typeof msg.rate === "number" ? msg.rate : rateAsked;
      for (const p of msg.points) {
        if (typeof p.x === "number" && (decimatedSince === null || p.x < decimatedSince)) {
          decimatedSince = p.x;
        }
      }
    }
    addPoints(msg.points, true);
  } else if (msg.type === "series_list" && Array.isArray(msg.series)) {
    known = msg.series.filter((s) => typeof s === "string");
    const u = new Map();
    if (msg.units && typeof msg.units === "object") {
      for (const [name, unit] of Object.entries(msg.units)) {
        if (typeof unit === "string" && unit !== "") u.set(name, unit);
      }
    }
    units = u;
    // What the server no longer holds goes here too (frames arrive in order: a series whose
    // points came before this list and is not on it was dropped by the server).
    const held = new Set(known);
    series.retain((name) => held.has(name));
    for (const name of Array.from(colors.keys())) {
      if (!held.has(name) && !(selection && selection.has(name))) colors.delete(name);
    }
    requestLegend();
    requestLayout();
  }
}

/** Asks the server for the live rate the window wants (rate.js), when it changed. */
function updateRate() {
  const target = connection.transport === "websocket"
    ? targetRate(panels.width(), liveSpan())
    : null;
  const next = nextRate(rateAsked, fastest, target);
  if (next === rateAsked) return;
  if (connection.send({ type: "rate", max_points_per_s: next })) {
    rateAsked = next;
    rateChanges++;
  } else if (connection.transport !== "websocket") rateAsked = null;
}

/** Says when what is drawn is min/max per bucket (the server's, not the page's own thinning). */
function showDecimation(range, columns) {
  const parts = [];
  if (decimatedSince !== null && range.to >= decimatedSince) {
    parts.push(
      "decimated: min/max, at most " + (decimatedRate ?? rateAsked ?? "?") +
        " points/s per series",
    );
  }
  const h = isLive() ? null : historyCache.decimation(drawnNames(), range.from, range.to, columns);
  if (h) parts.push("history: min/max per " + formatSpan(h.bucketMs));
  decimationEl.hidden = parts.length === 0;
  setText(decimationEl, parts.join("; "));
}

/** Live figures, once a second: points/s, median lag over the last second, points shown. */
function tick() {
  lastRate = received - receivedAtLastTick;
  receivedAtLastTick = received;
  setText(rateEl, String(lastRate));
  if (lagSamples.length) {
    const sorted = Float64Array.from(lagSamples).sort();
    const mid = sorted.length >> 1;
    lastLag = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    lagSamples = [];
  } else lastLag = null;
  setText(lagEl, lastLag === null ? "–" : formatLag(lastLag));
  setText(countEl, String(shownCount));
  // Points per second over the last ticks' real time (a late tick covers more than a second).
  const t = performance.now();
  pastCounts.push(liveCounts);
  pastStarts.push(countsSince);
  if (pastCounts.length > RATE_TICKS) {
    pastCounts.shift();
    pastStarts.shift();
  }
  liveCounts = new Map();
  countsSince = t;
  const sums = new Map();
  for (const counts of pastCounts) {
    for (const [name, n] of counts) sums.set(name, (sums.get(name) || 0) + n);
  }
  const seconds = Math.max(0.5, (t - pastStarts[0]) / 1000);
  fastest = 0;
  for (const n of sums.values()) fastest = Math.max(fastest, n / seconds);
  updateRate();
  if (lastRange) showDecimation(lastRange, panels.width());
  series.tickActivity();
  requestLegend(); // the order follows activity
}
setInterval(tick, 1000);

function formatLag(ms) {
  return Math.abs(ms) < 1000 ? Math.round(ms) + " ms" : (ms / 1000).toFixed(1) + " s";
}

function formatSpan(ms) {
  return ms < 1000 ? Math.round(ms) + " ms" : Number((ms / 1000).toPrecision(3)) + " s";
}

function formatTime(x) {
  const d = new Date(x);
  return d.toLocaleTimeString([], { hour12: false }) + "." +
    String(d.getMilliseconds()).padStart(3, "0");
}

// ---- Legend -----------------------------------------------------------------------------------

let legendQueued = false;

const legend = createLegend(el("legend"), el("legend-empty"), el("series-filter"), {
  selection: () => selection,
  allNames: () => legend.shown,
  onChange: setSelection,
  onFilter: renderLegend,
});

/** Asks for a legend update on the next animation frame (also while paused). */
function requestLegend() {
  if (legendQueued) return;
  legendQueued = true;
  requestAnimationFrame(function () {
    if (legendQueued) renderLegend();
  });
}

/** Every name to list, most active first (then by name). */
function legendNames() {
  const names = new Set(known);
  for (const n of series.names()) names.add(n);
  if (selection) { for (const n of selection) names.add(n); }
  const sorted = Array.from(names).sort();
  for (const name of sorted) colorOf(name); // name order: stable colours
  const activity = (n) => {
    const s = series.get(n);
    return s ? s.activity + s.recent : -1;
  };
  const rank = new Map(sorted.map((n) => [n, activity(n)]));
  return sorted.sort((a, b) => rank.get(b) - rank.get(a) || (a < b ? -1 : a > b ? 1 : 0));
}

function renderLegend() {
  legendQueued = false;
  legend.render(legendNames(), selection, colorOf);
}

el("all-series").addEventListener("click", function () {
  setSelection(null);
});

/** Changes the series this page receives: tells the server (or reconnects, over SSE). */
function setSelection(next) {
  selection = next;
  if (selection !== null) series.retain((name) => selection.has(name));
  renderLegend();
  updateUrl();
  requestLayout();
  wantHistory();
  const only = selection === null ? null : Array.from(selection);
  if (!connection.send({ type: "series", only: only })) {
    // The next connection asks for the new selection from scratch (a reset snapshot of it).
    freshNext = true;
    connection.restartStream();
  }
}

/** Keeps the address a deep link to what is shown (?series=a,b&window=10s&panels=…). */
function updateUrl() {
  const q = [];
  if (TOKEN) q.push("token=" + encodeURIComponent(TOKEN));
  if (selection !== null) q.push("series=" + joinSeriesParam(selection));
  if (windowKey !== "1m") q.push("window=" + windowKey);
  const p = formatPanelsParam(layout);
  if (p !== "") q.push("panels=" + p);
  const url = location.pathname + (q.length ? "?" + q.join("&") : "") + location.hash;
  if (url !== location.pathname + location.search + location.hash) {
    history.replaceState(null, "", url);
  }
}

// ---- Controls ---------------------------------------------------------------------------------

const windowRadios = document.querySelectorAll('input[name="window"]');
for (const radio of windowRadios) {
  radio.checked = radio.value === windowKey;
  radio.addEventListener("change", function () {
    if (!radio.checked) return;
    setWindow(radio.value);
  });
}

function setWindow(key) {
  windowKey = key;
  for (const r of windowRadios) r.checked = r.value === key;
  // Not live: the range keeps its end and takes the new length.
  if (!isLive() && fixedRange !== null) {
    const to = fixedRange.to;
    const from = key === "all" ? Math.min(oldestHeld(), to - 1000) : to - WINDOWS[key];
    fixedRange = { from: from, to: to };
    wantHistory();
    updateViewUi();
  }
  updateUrl();
  updateRate();
  requestDraw(true);
}

pauseBtn.addEventListener("click", function () {
  setPaused(isLive());
});
liveBtn.addEventListener("click", goLive);

function applyYAxis() {
  const fixed = document.querySelector('input[name="yscale"]:checked').value === "fixed";
  yminEl.disabled = ymaxEl.disabled = !fixed;
  if (fixed) {
    const lo = parseFloat(yminEl.value);
    const hi = parseFloat(ymaxEl.value);
    const ok = Number.isFinite(lo) && Number.isFinite(hi) && lo < hi;
    yminEl.setAttribute("aria-invalid", String(!ok));
    ymaxEl.setAttribute("aria-invalid", String(!ok));
    if (!ok) return;
    panels.setYRange([lo, hi]);
  } else panels.setYRange(null);
  requestDraw(true);
}
for (const radio of document.querySelectorAll('input[name="yscale"]')) {
  radio.addEventListener("change", applyYAxis);
}
yminEl.addEventListener("input", applyYAxis);
ymaxEl.addEventListener("input", applyYAxis);

/** Clear: the page forgets what it drew and shows what arrives from now on (the server keeps it). */
function clearView() {
  clearedBefore = now();
  series.clear();
  decimatedSince = null;
  goLive();
  requestLegend();
  requestLayout();
}
el("clear").addEventListener("click", clearView);

/** Reset: the page's view as a plain link opens it (panels, window, y axis, every series, live). */
function resetView() {
  layout = emptyLayout();
  clearedBefore = null;
  el("series-filter").value = "";
  document.querySelector('input[name="yscale"][value="auto"]').checked = true;
  applyYAxis();
  windowKey = "1m";
  for (const r of windowRadios) r.checked = r.value === windowKey;
  goLive();
  // Every series again, and what the server holds of them (a reset snapshot refills the view).
  setSelection(null);
  updateRate();
}
el("reset").addEventListener("click", resetView);

/**
 * The visible window of the series drawn, as CSV from /api/history (a download the browser
 * streams to disk, named by the server): every point, up to the API's most per series (beyond
 * it, min/max per bucket).
 */
function exportCsv() {
  const range = shownRange();
  const names = drawnNames().sort();
  if (names.length === 0) {
    showExportNote("nothing to export yet");
    return;
  }
  download(
    historyUrl(names, range.from, range.to, { format: "csv", maxPoints: MAX_POINTS, token: TOKEN }),
    exportName(range.from, range.to, "csv"),
  );
  showExportNote("CSV of " + names.length + " series, " + formatSpan(range.to - range.from));
}
el("export-csv").addEventListener("click", exportCsv);

/** The panels as drawn now, as one PNG (a download). */
async function exportPng() {
  render(true); // every panel as of now (live ones out of view were not redrawn)
  const range = shownRange();
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  try {
    const blob = await panelsPng(
      panels.list.map((p) => ({
        title: panelLabel(p.title),
        unit: p.unit,
        chart: p.chart,
        legend: p.names.map((n) => ({ name: n, color: colorOf(n), unit: unitOf(n) })),
      })),
      { bg: v("--bg"), fg: v("--fg"), muted: v("--muted") },
    );
    const url = URL.createObjectURL(blob);
    download(url, exportName(range.from, range.to, "png"));
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    showExportNote("PNG of " + panels.list.length + " panels");
  } catch (err) {
    showExportNote("PNG failed: " + (err instanceof Error ? err.message : String(err)));
  }
}
el("export-png").addEventListener("click", exportPng);

let exportNoteTimer = null;
function showExportNote(text) {
  exportNote.hidden = false;
  setText(exportNote, text);
  clearTimeout(exportNoteTimer);
  exportNoteTimer = setTimeout(() => exportNote.hidden = true, 4000);
}

// Keyboard, where keys do not belong to a control: ←/→ pan (Shift: a whole window), +/- zoom,
// L or End: back to live.
document.addEventListener("keydown", function (e) {
  const t = e.target;
  const free = t === document.body || t === document.documentElement ||
    (t && t.classList && t.classList.contains("chart"));
  if (!free || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
    zoomBy(1, (e.key === "ArrowLeft" ? -1 : 1) * (e.shiftKey ? 1 : 0.25));
  } else if (e.key === "+" || e.key === "=") zoomBy(0.5, 0);
  else if (e.key === "-" || e.key === "_") zoomBy(2, 0);
  else if (e.key === "l" || e.key === "L" || e.key === "End") goLive();
  else return;
  e.preventDefault();
});

// Hover tooltip: series, value and time of the nearest point.
function showTooltip(item) {
  if (!item) {
    tooltip.hidden = true;
    return;
  }
  const x = item.datapoint[0];
  const y = item.datapoint[1];
  const unit = unitOf(item.series.zwsName);
  tooltip.textContent = item.series.zwsName + ": " + formatValue(y) + (unit ? " " + unit : "") +
    " at " + formatTime(x);
  const flip = item.pageX > globalThis.scrollX + globalThis.innerWidth - 280;
  tooltip.style.transform = flip
    ? "translate(calc(-100% - 12px), -120%)"
    : "translate(12px, -120%)";
  tooltip.style.left = item.pageX + "px";
  tooltip.style.top = item.pageY + "px";
  tooltip.hidden = false;
}

function formatValue(y) {
  return Math.abs(y) >= 1e6 || (y !== 0 && Math.abs(y) < 1e-3)
    ? y.toExponential(4)
    : String(Number(y.toPrecision(6)));
}

globalThis.addEventListener("resize", function () {
  panels.queueResize();
  requestDraw(true);
});

// ---- Connection -------------------------------------------------------------------------------

let state = "connecting";
/** Next connection starts over (no resume): the selection changed while not connected. */
let freshNext = false;

function setState(next, text) {
  state = next;
  statusEl.setAttribute("data-state", next);
  setText(statusEl, text || next);
}

/** The query of the next connection: the selection, and where to resume (unless fresh). */
function connectQuery(kind) {
  const q = [];
  if (TOKEN) q.push("token=" + encodeURIComponent(TOKEN));
  if (selection !== null) q.push("series=" + joinSeriesParam(selection));
  // Decimated frames carry no seq: a decimated page starts over (a reset snapshot) instead.
  if (!freshNext && epoch !== null && rateAsked === null) {
    if (kind === "websocket") q.push("since=" + lastSeq, "epoch=" + encodeURIComponent(epoch));
    else q.push("lastEventId=" + encodeURIComponent(epoch + ":" + lastSeq));
  }
  freshNext = false;
  if (kind !== "websocket") rateAsked = null;
  return q.length ? "?" + q.join("&") : "";
}

const connection = createConnection({
  query: connectQuery,
  onMessage: onMessage,
  onState: setState,
  onTransport(kind) {
    setText(transportEl, kind === "sse" ? "SSE" : "WebSocket");
    transportEl.title = kind === "sse"
      ? "Server-Sent Events (/events): the WebSocket could not open"
      : "WebSocket (/ws)";
  },
});

// For tests and the curious: globalThis.zws.plot.getData(), globalThis.zws.state, ...
globalThis.zws = {
  /** The first panel's Flot plot. */
  get plot() {
    return panels.list[0].chart.plot;
  },
  /** The panels, top to bottom: title, series, unit, plot. */
  get panels() {
    return panels.list.map((p) => ({
      title: p.title,
      names: p.names.slice(),
      unit: p.unit,
      plot: p.chart.plot,
    }));
  },
  /** The layout as `?panels=` writes it ("" for the default grouping). */
  get layout() {
    return formatPanelsParam(layout);
  },
  get state() {
    return state;
  },
  get session() {
    return sessionId;
  },
  get lastSeq() {
    return lastSeq;
  },
  get epoch() {
    return epoch;
  },
  /** "websocket" or "sse". */
  get transport() {
    return connection.transport;
  },
  /** Whether the view is frozen (paused or zoomed): not following the clock. */
  get paused() {
    return !isLive();
  },
  /** "live", "paused" or "zoomed". */
  get viewMode() {
    return viewMode;
  },
  /** "10s", "1m", "5m" or "all". */
  get window() {
    return windowKey;
  },
  /** The series asked for (sorted), or null for all. */
  get selection() {
    return selection === null ? null : Array.from(selection).sort();
  },
  /** Every series the server holds (that this page may see). */
  get known() {
    return known.slice();
  },
  /** name -> unit, as the server's series_list says. */
  get units() {
    return Object.fromEntries(units);
  },
  /** Points held per series. */
  get held() {
    const out = {};
    for (const [name, s] of series.entries()) out[name] = s.size;
    return out;
  },
  /** The points the page holds of `name` with x in [from, to], as [x, y] pairs. */
  points(name, from, to) {
    const s = series.get(name);
    const out = [];
    if (!s) return out;
    for (let i = s.lowerBound(from); i < s.size && s.x(i) <= to; i++) out.push([s.x(i), s.y(i)]);
    return out;
  },
  /** Series held, ring slots allocated, colours kept, legend toggles in the DOM. */
  get sizes() {
    return {
      series: series.size,
      slots: series.slots,
      colors: colors.size,
      toggles: document.querySelectorAll("#legend label.series").length,
    };
  },
  /** The legend's names, in order. */
  get legend() {
    return legend.shown;
  },
  /** Server clock minus this browser's (ms). */
  get clockOffset() {
    return clockOffset;
  },
  /** The time range shown (not live: the range chosen, drawn at the next frame). */
  get view() {
    return viewRange();
  },
  /** Render passes so far (each draws one panel, or every panel after a control changed). */
  get draws() {
    return draws;
  },
  /** Chart draws so far, over every panel. */
  get chartDraws() {
    return chartDraws;
  },
  /** Main-thread ms spent so far drawing and handling messages. */
  get cost() {
    return { renderMs: cost.renderMs, messageMs: cost.messageMs };
  },
  /** Live points received so far. */
  get received() {
    return received;
  },
  /** The last second's figures: points/s, median lag (ms, null without points), points shown. */
  get figures() {
    return { rate: lastRate, lagMs: lastLag, shown: shownCount };
  },
  /** Decimation: the rate asked (null: exact), the server's, since when the rings hold it. */
  get decimation() {
    return {
      asked: rateAsked,
      changes: rateChanges,
      fastest: fastest,
      rate: decimatedRate,
      since: decimatedSince,
      shown: !decimationEl.hidden,
      text: decimationEl.textContent,
    };
  },
  /** The /api/history cache: fetches started, one in progress, the last error. */
  get history() {
    return {
      fetches: historyCache.fetches,
      loading: historyCache.loading,
      error: historyCache.error,
    };
  },
};

connection.useTransport("websocket");
syncPanels();
applyTheme();
renderLegend();
updateUrl();
updateViewUi();
connection.connect();
