// zws page: receives points over the WebSocket at /ws (same origin), or over Server-Sent Events at
// /events where WebSockets cannot open, and draws them with Flot. Browser protocol: the README's
// "Browser protocol"; the rules the server shares with this page are in protocol.js. No build
// step: these ES modules are served as they are.
//
// Modules: protocol.js (rules shared with the server), store.js (sorted rings per series, the
// bounded set of series), chart.js (one Flot chart over a time range), legend.js (toggles, filter),
// connection.js (WebSocket/SSE, reconnect, resume). This file wires them to the controls and owns
// the view: which series, over which time range (live: the clock, corrected by the server's).
//
// Cheap by design: the chart is redrawn at most once per animation frame, and only as often as
// the view moves by a pixel (less when a draw is slow), from at most ~2 points per pixel column
// per series; DOM text is written only when it changes.

import { DEFAULT_SERIES, joinSeriesParam, splitSeriesParam } from "./protocol.js";
import { SeriesSet } from "./store.js";
import { createChart } from "./chart.js";
import { createLegend } from "./legend.js";
import { createConnection } from "./connection.js";

/**
 * With viewer auth on, the page is opened as /?token=…: read once, it goes with every stream and
 * stays in the address (which follows the controls).
 */
const TOKEN = new URLSearchParams(location.search).get("token");

/** Time windows offered, in ms. */
const WINDOWS = { "10s": 10e3, "1m": 60e3, "5m": 300e3, "all": Infinity };
/** Most lag samples kept per second. */
const MAX_LAG_SAMPLES = 20000;
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
const pausedNote = el("paused-note");
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
/** The series this page asked for: null means all of them. */
let selection = parseSeriesParam(location.search);

function colorOf(name) {
  let c = colors.get(name);
  if (!c) {
    const i = colorsGiven++;
    c = i < PALETTE.length ? PALETTE[i] : "hsl(" + Math.round((i * 137.5) % 360) + " 65% 55%)";
    colors.set(name, c);
  }
  return c;
}

/** Reads ?series=a,b like the server does (protocol.js); a malformed name is skipped. */
function parseSeriesParam(search) {
  const p = splitSeriesParam(search);
  return p.found ? new Set(p.names) : null;
}

// ---- View -------------------------------------------------------------------------------------

const chart = createChart(el("chart"));
const plot = chart.plot;

function applyTheme() {
  chart.applyTheme();
  requestDraw(true);
}
globalThis.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", applyTheme);

let windowKey = parseWindowParam(location.search);
let paused = false;
/** While paused: the end of the view when it froze. */
let frozenTo = null;
/** The end of the view at the last draw. */
let lastTo = null;
let shownCount = 0;
let draws = 0;
/** Main-thread time spent drawing and handling messages, in ms (for tests and the curious). */
const cost = { renderMs: 0, messageMs: 0 };
let drawQueued = false;
let forceQueued = false;
let nextDrawAt = 0;
let countWrittenAt = 0;
let drawTimer = null;

function parseWindowParam(search) {
  const m = /(?:^|[?&])window=([^&]*)/.exec(search);
  return m && Object.hasOwn(WINDOWS, m[1]) ? m[1] : "1m";
}

/**
 * Asks for a draw: on an animation frame (so at most one per frame), once the throttle allows
 * (see render). `force`: draw on the next frame, even while paused (a control changed).
 */
function requestDraw(force) {
  if (force) {
    forceQueued = true;
    clearTimeout(drawTimer);
    drawTimer = null;
  } else if (paused || drawTimer !== null) return;
  if (drawQueued) return;
  const wait = force ? 0 : nextDrawAt - performance.now();
  if (wait > 1) {
    // Wait with a timer, not frame after frame: idle frames cost the browser work too.
    drawTimer = setTimeout(function () {
      drawTimer = null;
      queueFrame();
    }, wait);
  } else queueFrame();
}

function queueFrame() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(onAnimationFrame);
}

function onAnimationFrame() {
  drawQueued = false;
  const force = forceQueued;
  forceQueued = false;
  if (paused && !force) return;
  render();
}

/**
 * The time range shown: it ends now (the clock, not the largest x: one point from the future
 * cannot move it), or where the view froze; "all held" starts at the oldest point held.
 */
function viewRange() {
  const to = paused && frozenTo !== null ? frozenTo : now();
  let from = to - WINDOWS[windowKey];
  if (windowKey === "all") {
    from = Infinity;
    for (const s of series.values()) if (s.size) from = Math.min(from, s.x(0));
    if (!Number.isFinite(from) || from > to - 1000) from = to - 1000;
  }
  return { from: from, to: to };
}

/** Draws the selected series over the view range. */
function render() {
  const t0 = performance.now();
  if (legendQueued) renderLegend(); // first: it gives new series their colours
  const range = viewRange();
  const list = [];
  for (const name of Array.from(series.names()).sort()) {
    list.push({ name: name, color: colorOf(name), store: series.get(name) });
  }
  const shown = chart.render(list, range.from, range.to);
  lastTo = range.to;
  shownCount = shown;
  draws++;
  const t1 = performance.now();
  cost.renderMs += t1 - t0;
  // The next draw waits until the view would move by a pixel (at 1 min over 1,000 px: 60 ms;
  // at most 250 ms), and for 4 times as long as this draw took (a slow machine keeps most of its
  // main thread). The view follows the clock, so it keeps moving while series are held.
  const msPerPixel = Math.min(250, (range.to - range.from) / chart.width());
  nextDrawAt = t0 + Math.max(msPerPixel, 4 * (t1 - t0));
  if (t1 - countWrittenAt > 250) {
    countWrittenAt = t1;
    setText(countEl, String(shown));
  }
  if (series.size) requestDraw(false);
}

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
    if (series.add(name, p.x, p.y)) requestLegend();
    added++;
    if (live && lagSamples.length < MAX_LAG_SAMPLES) lagSamples.push(t - p.x);
  }
  if (live) received += added;
  if (added) requestDraw(false);
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
  } else if (msg.type === "history" && Array.isArray(msg.points)) {
    // reset: the points do not continue what we hold (new server, gap, new selection).
    if (msg.reset) {
      series.clear();
      lastSeq = 0;
      requestDraw(false); // not while paused: the view stays as it was
    }
    addPoints(msg.points, false);
  } else if (msg.type === "points" && Array.isArray(msg.points)) {
    addPoints(msg.points, true);
  } else if (msg.type === "series_list" && Array.isArray(msg.series)) {
    known = msg.series.filter((s) => typeof s === "string");
    // What the server no longer holds goes here too (frames arrive in order: a series whose
    // points came before this list and is not on it was dropped by the server).
    const held = new Set(known);
    if (series.retain((name) => held.has(name))) requestDraw(false);
    for (const name of Array.from(colors.keys())) {
      if (!held.has(name) && !(selection && selection.has(name))) colors.delete(name);
    }
    requestLegend();
  }
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
  series.tickActivity();
  requestLegend(); // the order follows activity
}
setInterval(tick, 1000);

function formatLag(ms) {
  return Math.abs(ms) < 1000 ? Math.round(ms) + " ms" : (ms / 1000).toFixed(1) + " s";
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
  requestDraw(true);
  const only = selection === null ? null : Array.from(selection);
  if (!connection.send({ type: "series", only: only })) {
    // The next connection asks for the new selection from scratch (a reset snapshot of it).
    freshNext = true;
    connection.restartStream();
  }
}

/** Keeps the address a deep link to what is shown (?series=a,b&window=10s). */
function updateUrl() {
  const q = [];
  if (TOKEN) q.push("token=" + encodeURIComponent(TOKEN));
  if (selection !== null) q.push("series=" + joinSeriesParam(selection));
  if (windowKey !== "1m") q.push("window=" + windowKey);
  const url = location.pathname + (q.length ? "?" + q.join("&") : "") + location.hash;
  if (url !== location.pathname + location.search + location.hash) {
    history.replaceState(null, "", url);
  }
}

// ---- Controls ---------------------------------------------------------------------------------

for (const radio of document.querySelectorAll('input[name="window"]')) {
  radio.checked = radio.value === windowKey;
  radio.addEventListener("change", function () {
    if (!radio.checked) return;
    windowKey = radio.value;
    updateUrl();
    requestDraw(true);
  });
}

function setPaused(next) {
  paused = next;
  frozenTo = paused ? lastTo : null;
  pauseBtn.setAttribute("aria-pressed", String(paused));
  setText(pauseBtn, paused ? "Resume" : "Pause");
  pausedNote.hidden = !paused;
  if (!paused) requestDraw(true); // catch up with everything received meanwhile
}
pauseBtn.addEventListener("click", function () {
  setPaused(!paused);
});

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
    chart.setYRange([lo, hi]);
  } else chart.setYRange(null);
  requestDraw(true);
}
for (const radio of document.querySelectorAll('input[name="yscale"]')) {
  radio.addEventListener("change", applyYAxis);
}
yminEl.addEventListener("input", applyYAxis);
ymaxEl.addEventListener("input", applyYAxis);

// Hover tooltip: series, value and time of the nearest point.
globalThis.jQuery("#chart").on("plothover", function (_event, _pos, item) {
  if (!item) {
    tooltip.hidden = true;
    return;
  }
  const x = item.datapoint[0];
  const y = item.datapoint[1];
  const d = new Date(x);
  const time = d.toLocaleTimeString([], { hour12: false }) + "." +
    String(d.getMilliseconds()).padStart(3, "0");
  tooltip.textContent = item.series.zwsName + ": " + formatValue(y) + " at " + time;
  const flip = item.pageX > globalThis.scrollX + globalThis.innerWidth - 280;
  tooltip.style.transform = flip
    ? "translate(calc(-100% - 12px), -120%)"
    : "translate(12px, -120%)";
  tooltip.style.left = item.pageX + "px";
  tooltip.style.top = item.pageY + "px";
  tooltip.hidden = false;
});

function formatValue(y) {
  return Math.abs(y) >= 1e6 || (y !== 0 && Math.abs(y) < 1e-3)
    ? y.toExponential(4)
    : String(Number(y.toPrecision(6)));
}

globalThis.jQuery(globalThis).on("resize", function () {
  chart.queueResize();
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
  if (!freshNext && epoch !== null) {
    if (kind === "websocket") q.push("since=" + lastSeq, "epoch=" + encodeURIComponent(epoch));
    else q.push("lastEventId=" + encodeURIComponent(epoch + ":" + lastSeq));
  }
  freshNext = false;
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
  get plot() {
    return plot;
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
  get paused() {
    return paused;
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
  /** Points held per series. */
  get held() {
    const out = {};
    for (const [name, s] of series.entries()) out[name] = s.size;
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
  /** The time range of the last draw. */
  get view() {
    return viewRange();
  },
  get draws() {
    return draws;
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
};

connection.useTransport("websocket");
applyTheme();
renderLegend();
updateUrl();
connection.connect();
