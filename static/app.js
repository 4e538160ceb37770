// zws page: receives points over the WebSocket at /ws (same origin), or over Server-Sent Events at
// /events where WebSockets cannot open, and draws them with Flot in stacked panels. Browser
// protocol: the README's "Browser protocol"; the rules the server shares with this page are in
// protocol.js; how to use the page: docs/dashboard.md. No build step: these ES modules are served
// as they are, and none keeps state outside its own factory.
//
// This file makes the page's parts and wires them (which part's event calls which others'); it
// holds no state of its own. The parts: connection.js (WebSocket/SSE, reconnect), feed.js
// (frames into the rings, where to resume), store.js (sorted rings per series), figures.js
// (points/s, lag), decimation.js (decimated live data; rate.js decides), history.js
// (/api/history), catalog.js (the series known and selected, units, colours), view.js (live,
// paused or zoomed; the window; the clock), placement.js and layout.js (which series on which
// panel), address.js (the address and the streams' queries), draw.js (the frame loop), panels.js
// and chart.js (the stacked Flot charts, mouse zoom and pan), legend.js, controls.js (buttons,
// radios, keys), readout.js (status, figures, notes), export.js (CSV, PNG), format.js (how
// numbers and times read), debug.js (globalThis.zws for tests).

import { SeriesSet } from "./store.js";
import { createLegend } from "./legend.js";
import { createConnection } from "./connection.js";
import { createPanels } from "./panels.js";
import { createHistory } from "./history.js";
import { createExporter } from "./export.js";
import {
  DEFAULT_WINDOW,
  pageQuery,
  parseSeriesParam,
  parseTokenParam,
  parseWindowParam,
} from "./address.js";
import { createCatalog } from "./catalog.js";
import { createPlacement } from "./placement.js";
import { createView } from "./view.js";
import { createDrawLoop } from "./draw.js";
import { createFigures } from "./figures.js";
import { createDecimation } from "./decimation.js";
import { createFeed } from "./feed.js";
import { createReadout } from "./readout.js";
import { createControls } from "./controls.js";
import { exposeDebug } from "./debug.js";

/**
 * With viewer auth on, the page is opened as /?token=…: read once, it goes with every stream and
 * history request and stays in the address (which follows the controls).
 */
const TOKEN = parseTokenParam(location.search);
const byId = (id) => document.getElementById(id);

const series = new SeriesSet();
const catalog = createCatalog(series, parseSeriesParam(location.search));
const placement = createPlacement(location.search, catalog.drawnNames);
const readout = createReadout(byId);
const figures = createFigures(performance.now());

const view = createView(parseWindowParam(location.search), {
  oldestHeld: () => series.oldest(),
  onFixed: wantHistory,
  onLive() {
    historyCache.clear();
  },
  onChange(redraw) {
    showView();
    if (redraw) loop.requestDraw(true);
  },
});

const historyCache = createHistory({
  token: TOKEN,
  onChange() {
    showView();
    loop.requestDraw(true);
  },
});

const panels = createPanels(byId("panels"), {
  colorOf: catalog.colorOf,
  unitOf: catalog.unitOf,
  onMove: moveToPanel,
  viewRange: view.shownRange,
  onZoom: view.zoomTo,
  onPan: view.zoomTo,
  onHover: (item) => readout.tooltip(item, catalog.unitOf),
  onVisible: () => loop.requestDirty(),
});

const legend = createLegend(byId("legend"), byId("legend-empty"), byId("series-filter"), {
  selection: () => catalog.selection,
  allNames: () => legend.shown,
  onChange: setSelection,
  onFilter: () => loop.renderLegend(),
});

const loop = createDrawLoop({
  panels,
  view,
  history: historyCache,
  series,
  colorOf: catalog.colorOf,
  renderLegend() {
    legend.render(catalog.legendNames(), catalog.selection, catalog.colorOf);
  },
  syncPanels() {
    panels.sync(placement.groups());
  },
  onFigures(range, columns, shown) {
    readout.count(shown);
    showDecimation(range, columns);
  },
});

const decimation = createDecimation({
  send: (msg) => connection.send(msg),
  transport: () => connection.transport,
  columns: () => panels.width(),
  liveSpan: () => view.liveSpan(),
  fastest: () => figures.fastest,
});

const feed = createFeed({
  token: TOKEN,
  series,
  catalog,
  view,
  loop,
  figures,
  decimation,
  readout,
});

const connection = createConnection({
  query: feed.query,
  onMessage: feed.onMessage,
  onState: readout.status,
  onTransport: readout.transport,
});

const exporter = createExporter({
  token: TOKEN,
  panels: panels,
  shownRange: view.shownRange,
  drawnNames: catalog.drawnNames,
  colorOf: catalog.colorOf,
  unitOf: catalog.unitOf,
  drawAll: () => loop.render(true),
  note: readout.exportNote,
});

const controls = createControls(byId, view.windowKey, {
  onWindow: setWindow,
  onPause: () => view.setPaused(view.isLive()),
  onLive: view.goLive,
  onYRange(range) {
    panels.setYRange(range);
    loop.requestDraw(true);
  },
  onClear: clearView,
  onReset: resetView,
  onCsv: exporter.csv,
  onPng: exporter.png,
  onAllSeries: () => setSelection(null),
  onStep: view.zoomBy,
  onResize() {
    panels.queueResize();
    loop.requestDraw(true);
  },
  onTheme: applyTheme,
});

/** Shows the view's mode and range (the buttons, the note). */
function showView() {
  readout.view(view.mode, view.fixed, historyCache);
}

/** Says when what is drawn is min/max per bucket (the server's, not the page's own thinning). */
function showDecimation(range, columns) {
  const h = view.isLive()
    ? null
    : historyCache.decimation(catalog.drawnNames(), range.from, range.to, columns);
  readout.decimation(decimation.text(range.to, h ? h.bucketMs : null));
}

function applyTheme() {
  panels.applyTheme();
  loop.requestDraw(true);
}

/**
 * Fetches history for a range that is not live when the page does not hold it: older than its
 * rings reach, or live data that came decimated.
 */
function wantHistory() {
  const fixed = view.fixed;
  if (view.isLive() || fixed === null) return;
  const names = catalog.drawnNames().sort();
  if (names.length === 0) return;
  let held = -Infinity;
  for (const n of names) {
    const s = series.get(n);
    held = Math.max(held, s && s.size ? s.x(0) : Infinity);
  }
  if (fixed.from < held || decimation.coarseAt(fixed.to)) {
    historyCache.want(names, fixed.from, fixed.to, panels.width());
  }
}

/** Moves a series to panel `title` (null: a new one), from a panel legend's control. */
function moveToPanel(name, title) {
  placement.move(name, title);
  updateUrl();
  loop.requestLayout();
}

/** Changes the series this page receives: tells the server (or reconnects, over SSE). */
function setSelection(next) {
  catalog.select(next);
  loop.renderLegend();
  updateUrl();
  loop.requestLayout();
  wantHistory();
  const only = next === null ? null : Array.from(next);
  if (!connection.send({ type: "series", only: only })) {
    // The next connection asks for the new selection from scratch (a reset snapshot of it).
    feed.startFresh();
    connection.restartStream();
  }
}

function setWindow(key) {
  view.setWindow(key);
  controls.showWindow(key);
  updateUrl();
  decimation.update();
  loop.requestDraw(true);
}

/** Keeps the address a deep link to what is shown (?series=a,b&window=10s&panels=…). */
function updateUrl() {
  const query = pageQuery(TOKEN, catalog.selection, view.windowKey, placement.param);
  const url = location.pathname + query + location.hash;
  if (url !== location.pathname + location.search + location.hash) {
    history.replaceState(null, "", url);
  }
}

/** Clear: the page forgets what it drew and shows what arrives from now on (the server keeps it). */
function clearView() {
  feed.clear();
  view.goLive();
  loop.requestLegend();
  loop.requestLayout();
}

/** Reset: the page's view as a plain link opens it (panels, window, y axis, every series, live). */
function resetView() {
  placement.reset();
  feed.unclear();
  controls.clearFilter();
  controls.resetYAxis();
  controls.showWindow(DEFAULT_WINDOW);
  view.reset(DEFAULT_WINDOW);
  // Every series again, and what the server holds of them (a reset snapshot refills the view).
  setSelection(null);
  decimation.update();
}

/** Live figures, once a second: points/s, median lag over the last second, points shown. */
setInterval(function tick() {
  figures.tick(performance.now());
  readout.figures(figures.rate, figures.lagMs, loop.shown);
  decimation.update();
  if (view.lastDrawn) showDecimation(view.lastDrawn, panels.width());
  series.tickActivity();
  loop.requestLegend(); // the order follows activity
}, 1000);

const parts = { panels, placement, readout, feed, connection, view, catalog, series, legend };
exposeDebug({ ...parts, loop, figures, decimation, history: historyCache });

connection.useTransport("websocket");
loop.syncPanels();
applyTheme();
loop.renderLegend();
updateUrl();
showView();
connection.connect();
