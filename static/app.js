// zws page: receives points over the WebSocket at /ws (same origin), or over Server-Sent Events at
// /events where WebSockets cannot open, and draws them with Flot. Browser protocol: the module
// docs of src/frames.ts (server frames), src/client_messages.ts (client messages, ?series=) and
// src/sse.ts (/events). No build step: this file is served as is.
//
// Cheap by design: points go into fixed-capacity typed-array rings per series; the chart is redrawn
// at most once per animation frame, and only as often as the view moves by a pixel (less when a
// draw is slow), from at most ~2 points per pixel column per series (min/max decimation); DOM text
// is written only when it changes.
(function () {
  "use strict";

  /**
   * With viewer auth on, the page is opened as /?token=…: read once, it goes with every stream and
   * stays in the address (which follows the controls).
   */
  const TOKEN = new URLSearchParams(location.search).get("token");

  /** Time windows offered, in ms. */
  const WINDOWS = { "10s": 10e3, "1m": 60e3, "5m": 300e3, "all": Infinity };
  /** Most points kept per series (bounded memory whatever the rate): 5 min at 333 points/s. */
  const MAX_POINTS = 100000;
  /** Most points kept over all series (32 MB of x and y); a full budget stops rings growing. */
  const MAX_TOTAL_POINTS = 2000000;
  /** Most series one connection may select (the server's limit). */
  const MAX_SELECTED = 100;
  /** Reconnect backoff: first delay and ceiling, in ms. */
  const BACKOFF_MIN = 500;
  const BACKOFF_MAX = 15000;
  /** WebSocket opens that fail in a row before falling back to SSE (none opened yet / some did). */
  const WS_FAILS_BEFORE_SSE = 2;
  const WS_FAILS_AFTER_OPEN = 6;
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
  const legendEl = el("legend");
  const legendEmpty = el("legend-empty");
  const pauseBtn = el("pause");
  const pausedNote = el("paused-note");
  const yminEl = el("ymin");
  const ymaxEl = el("ymax");
  const tooltip = el("tooltip");

  /** Writes `text` into `node` only when it differs (no needless layout or announcements). */
  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }

  // ---- Series storage -------------------------------------------------------------------------

  /** Ring slots allocated over all series. */
  let totalCap = 0;

  /** The points of one series: a ring of x and y, oldest first, growing up to MAX_POINTS. */
  class Store {
    constructor() {
      this.cap = 1024;
      this.xs = new Float64Array(this.cap);
      this.ys = new Float64Array(this.cap);
      this.start = 0;
      this.size = 0;
      totalCap += this.cap;
      /** Reused [x, y] pairs handed to Flot (no garbage per frame). */
      this.pool = [];
    }

    push(x, y) {
      if (this.size === this.cap) {
        if (this.cap < MAX_POINTS && totalCap + this.cap <= MAX_TOTAL_POINTS) this.grow();
        else {
          this.xs[this.start] = x;
          this.ys[this.start] = y;
          this.start = (this.start + 1) % this.cap;
          return;
        }
      }
      const k = (this.start + this.size) % this.cap;
      this.xs[k] = x;
      this.ys[k] = y;
      this.size++;
    }

    grow() {
      const cap = Math.min(MAX_POINTS, this.cap * 2);
      const xs = new Float64Array(cap);
      const ys = new Float64Array(cap);
      for (let i = 0; i < this.size; i++) {
        xs[i] = this.x(i);
        ys[i] = this.y(i);
      }
      this.xs = xs;
      this.ys = ys;
      totalCap += cap - this.cap;
      this.cap = cap;
      this.start = 0;
    }

    x(i) {
      return this.xs[(this.start + i) % this.cap];
    }

    y(i) {
      return this.ys[(this.start + i) % this.cap];
    }

    /** First index with x >= v (x ascending), or size. */
    lowerBound(v) {
      let lo = 0;
      let hi = this.size;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.x(mid) < v) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    }

    /** First index with x > v, or size. */
    upperBound(v) {
      let lo = 0;
      let hi = this.size;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.x(mid) <= v) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    }
  }

  /** name -> Store, for the series this page receives. */
  const series = new Map();

  function dropSeries(name) {
    const s = series.get(name);
    if (!s) return;
    totalCap -= s.cap;
    series.delete(name);
  }
  /**
   * name -> colour, assigned when the legend first lists a name, in name order (the first legend
   * usually holds every series, so the same series get the same colours on every page), and never
   * changed after, so toggling or new series never repaint the others.
   */
  const colors = new Map();
  /** Names of every series the server holds (its series_list frames). */
  let known = [];
  /** The series this page asked for: null means all of them. */
  let selection = parseSeriesParam(location.search);

  function colorOf(name) {
    let c = colors.get(name);
    if (!c) {
      const i = colors.size;
      c = i < PALETTE.length ? PALETTE[i] : "hsl(" + Math.round((i * 137.5) % 360) + " 65% 55%)";
      colors.set(name, c);
    }
    return c;
  }

  /** Reads ?series=a,b like the server does: literal commas split, each name percent-decoded. */
  function parseSeriesParam(search) {
    let found = false;
    const names = new Set();
    for (const pair of search.replace(/^\?/, "").split("&")) {
      const eq = pair.indexOf("=");
      if ((eq < 0 ? pair : pair.slice(0, eq)) !== "series") continue;
      found = true;
      for (const part of (eq < 0 ? "" : pair.slice(eq + 1)).split(",")) {
        if (part === "") continue;
        try {
          names.add(decodeURIComponent(part.replace(/\+/g, " ")));
        } catch (_err) {
          // A malformed name in a hand-written link: skip it.
        }
      }
    }
    return found ? names : null;
  }

  function seriesParam(set) {
    return Array.from(set, encodeURIComponent).join(",");
  }

  // ---- Chart ----------------------------------------------------------------------------------

  const css = getComputedStyle(document.documentElement);
  const themeColor = (name) => css.getPropertyValue(name).trim();
  const plot = $.plot($("#chart"), [], {
    xaxis: {
      mode: "time",
      timeBase: "milliseconds",
      timezone: "browser",
      timeformat: "%H:%M:%S",
      autoScale: "none",
    },
    yaxis: { autoScale: "loose" },
    series: { lines: { show: true, lineWidth: 1.5 }, shadowSize: 0 },
    legend: { show: false },
    grid: {
      borderWidth: 1,
      hoverable: true,
      mouseActiveRadius: 12,
      color: themeColor("--muted"),
      borderColor: themeColor("--border"),
      tickColor: themeColor("--grid"),
    },
  });

  /** Follows the system's light/dark setting (the page's colours are CSS variables). */
  function applyTheme() {
    const muted = themeColor("--muted");
    const grid = themeColor("--grid");
    const o = plot.getOptions();
    o.grid.color = muted;
    o.grid.borderColor = themeColor("--border");
    o.grid.tickColor = grid;
    for (const axis of plot.getXAxes().concat(plot.getYAxes())) {
      axis.options.color = muted;
      axis.options.tickColor = grid;
    }
    requestDraw(true);
  }
  globalThis.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", applyTheme);

  let windowKey = parseWindowParam(location.search);
  let paused = false;
  /** While paused: the newest x shown when the view froze. */
  let frozenTo = null;
  /** The newest x of the last draw. */
  let lastTo = null;
  let shownCount = 0;
  let draws = 0;
  /** Main-thread time spent drawing and handling messages, in ms (for tests and the curious). */
  const cost = { renderMs: 0, messageMs: 0 };
  let drawQueued = false;
  let forceQueued = false;
  let resizeQueued = false;
  let nextDrawAt = 0;
  let countWrittenAt = 0;

  function parseWindowParam(search) {
    const m = /(?:^|[?&])window=([^&]*)/.exec(search);
    return m && Object.hasOwn(WINDOWS, m[1]) ? m[1] : "1m";
  }

  let drawTimer = null;

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

  /** Copies [x, y] into the pool slot k (reusing the pair), returns k + 1. */
  function put(pool, k, x, y) {
    let p = pool[k];
    if (p === undefined) pool[k] = p = [0, 0];
    p[0] = x;
    p[1] = y;
    return k + 1;
  }

  /**
   * The points of `s` within [from, to] for Flot, plus one before `from` so the line enters at the
   * left edge. More than 2 per pixel column: each column keeps its lowest and highest point, in x
   * order (what a line at this width shows anyway). `count`: the points in the window.
   */
  function windowData(s, from, to, px) {
    let lo = s.lowerBound(from);
    const hi = s.upperBound(to);
    const count = hi - lo;
    if (lo > 0) lo--;
    const pool = s.pool;
    let k = 0;
    if (hi - lo <= 2 * px) {
      for (let i = lo; i < hi; i++) k = put(pool, k, s.x(i), s.y(i));
    } else {
      const scale = px / Math.max(1, to - from);
      let column = NaN;
      let minI = -1;
      let maxI = -1;
      const flush = () => {
        if (minI < 0) return;
        const a = Math.min(minI, maxI);
        const b = Math.max(minI, maxI);
        k = put(pool, k, s.x(a), s.y(a));
        if (b !== a) k = put(pool, k, s.x(b), s.y(b));
      };
      for (let i = lo; i < hi; i++) {
        const c = Math.floor((s.x(i) - from) * scale);
        if (c !== column) {
          flush();
          column = c;
          minI = maxI = i;
        } else {
          const y = s.y(i);
          if (y < s.y(minI)) minI = i;
          if (y > s.y(maxI)) maxI = i;
        }
      }
      flush();
    }
    return { data: pool.slice(0, k), count: count };
  }

  /** Draws the selected series over the chosen window (frozen at `frozenTo` while paused). */
  function render() {
    const t0 = performance.now();
    if (legendQueued) renderLegend(); // first: it gives new series their colours
    if (resizeQueued) {
      resizeQueued = false;
      plot.resize();
    }
    const names = Array.from(series.keys()).sort();
    let to = -Infinity;
    if (paused && frozenTo !== null) to = frozenTo;
    else {
      for (const s of series.values()) if (s.size) to = Math.max(to, s.x(s.size - 1));
    }
    let from = to - WINDOWS[windowKey];
    if (windowKey === "all") {
      from = Infinity;
      for (const s of series.values()) if (s.size) from = Math.min(from, s.x(0));
    }
    const px = Math.max(50, plot.width());
    const list = [];
    let shown = 0;
    if (Number.isFinite(to)) {
      for (const name of names) {
        const w = windowData(series.get(name), from, to, px);
        shown += w.count;
        list.push({ label: escapeHtml(name), zwsName: name, color: colorOf(name), data: w.data });
      }
    }
    const xo = plot.getXAxes()[0].options;
    const ranged = Number.isFinite(from) && Number.isFinite(to);
    xo.min = ranged ? from : null;
    xo.max = ranged ? Math.max(to, from + 1) : null;
    plot.setData(list);
    plot.setupGrid(true); // true: recompute axis ranges (Flot >= 3 keeps the first ones otherwise)
    plot.draw();
    lastTo = Number.isFinite(to) ? to : null;
    shownCount = shown;
    draws++;
    const now = performance.now();
    cost.renderMs += now - t0;
    // The next draw waits until the view would move by a pixel (at 1 min over 1,000 px: 60 ms;
    // at most 250 ms, so new points still show promptly), and for 4 times as long as this draw
    // took (a slow machine keeps most of its main thread).
    const msPerPixel = ranged ? Math.min(250, (to - from) / px) : 0;
    nextDrawAt = t0 + Math.max(msPerPixel, 4 * (now - t0));
    if (now - countWrittenAt > 250) {
      countWrittenAt = now;
      setText(countEl, String(shown));
    }
  }

  /** Series names come from producers: never markup (Flot may put labels into it). */
  function escapeHtml(s) {
    return s.replace(/[&<>"']/g, function (c) {
      return "&#" + c.charCodeAt(0) + ";";
    });
  }

  // ---- Data -----------------------------------------------------------------------------------

  let received = 0;
  let receivedAtLastTick = 0;
  let lagSamples = [];
  let lastLag = null;
  let lastRate = 0;
  /** Where this page's data stands, to resume after a reconnect without gap or duplicate. */
  let epoch = null;
  let lastSeq = 0;

  function addPoints(points, live) {
    const now = Date.now();
    let added = 0;
    for (let i = 0; i < points.length; i++) {
      const p = points[i];
      if (typeof p.x !== "number" || typeof p.y !== "number") continue;
      if (typeof p.seq === "number") {
        if (p.seq <= lastSeq) continue; // already here
        lastSeq = p.seq;
      }
      const name = typeof p.series === "string" ? p.series : "value";
      // In flight before the server applied a new selection.
      if (selection !== null && !selection.has(name)) continue;
      let s = series.get(name);
      if (!s) {
        s = new Store();
        series.set(name, s);
        requestLegend();
      }
      s.push(p.x, p.y);
      added++;
      if (live && lagSamples.length < MAX_LAG_SAMPLES) lagSamples.push(now - p.x);
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
    } else if (msg.type === "history" && Array.isArray(msg.points)) {
      // reset: the points do not continue what we hold (new server, gap, new selection).
      if (msg.reset) {
        for (const name of Array.from(series.keys())) dropSeries(name);
        lastSeq = 0;
        requestDraw(false); // not while paused: the view stays as it was
      }
      addPoints(msg.points, false);
    } else if (msg.type === "points" && Array.isArray(msg.points)) {
      addPoints(msg.points, true);
    } else if (msg.type === "series_list" && Array.isArray(msg.series)) {
      known = msg.series.filter((s) => typeof s === "string");
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
  }
  setInterval(tick, 1000);

  function formatLag(ms) {
    return Math.abs(ms) < 1000 ? Math.round(ms) + " ms" : (ms / 1000).toFixed(1) + " s";
  }

  // ---- Legend: a toggle per series ------------------------------------------------------------

  let legendKey = "";
  let legendQueued = false;

  /** Asks for a legend update on the next animation frame (also while paused). */
  function requestLegend() {
    if (legendQueued) return;
    legendQueued = true;
    requestAnimationFrame(function () {
      legendQueued = false;
      renderLegend();
    });
  }
  const legendNote = document.createElement("span");
  legendNote.className = "muted";

  /** Rebuilds the toggles when the names or the selection changed (rarely: at most 1/s). */
  function renderLegend() {
    const names = new Set(known);
    for (const n of series.keys()) names.add(n);
    if (selection) { for (const n of selection) names.add(n); }
    const sorted = Array.from(names).sort();
    for (const name of sorted) colorOf(name);
    const key = JSON.stringify([sorted, selection && Array.from(selection).sort()]);
    if (key === legendKey) return;
    legendKey = key;
    const focused = document.activeElement;
    const focusedName = focused && focused.name === "series" ? focused.value : null;
    for (const node of Array.from(legendEl.querySelectorAll("label.series"))) node.remove();
    legendEmpty.hidden = sorted.length > 0;
    const frag = document.createDocumentFragment();
    for (const name of sorted) {
      const on = selection === null || selection.has(name);
      const label = document.createElement("label");
      label.className = on ? "series" : "series off";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = "series";
      box.value = name;
      box.checked = on;
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = colorOf(name);
      const text = document.createElement("span");
      text.className = "series-name";
      text.textContent = name;
      label.title = name;
      label.append(box, swatch, text);
      frag.append(label);
    }
    legendEl.insertBefore(frag, legendNote.parentNode === legendEl ? legendNote : null);
    if (focusedName !== null) {
      for (const box of legendEl.querySelectorAll('input[name="series"]')) {
        if (box.value === focusedName) box.focus();
      }
    }
  }

  legendEl.addEventListener("change", function (e) {
    const box = e.target;
    if (!box || box.name !== "series") return;
    let next;
    if (box.checked) {
      next = selection === null ? null : new Set(selection).add(box.value);
    } else {
      next = new Set(
        selection === null
          ? Array.from(legendEl.querySelectorAll('input[name="series"]'), (b) => b.value)
          : selection,
      );
      next.delete(box.value);
    }
    if (next !== null && next.size > MAX_SELECTED) {
      box.checked = !box.checked;
      legendNote.textContent = "at most " + MAX_SELECTED + " series one by one: use show all";
      legendEl.append(legendNote);
      return;
    }
    legendNote.remove();
    setSelection(next);
  });

  el("all-series").addEventListener("click", function () {
    setSelection(null);
  });

  /** Changes the series this page receives: tells the server (or reconnects, over SSE). */
  function setSelection(next) {
    selection = next;
    if (selection !== null) {
      for (const name of Array.from(series.keys())) if (!selection.has(name)) dropSeries(name);
    }
    renderLegend();
    updateUrl();
    requestDraw(true);
    const only = selection === null ? null : Array.from(selection);
    if (conn && transport === "websocket" && conn.readyState === WebSocket.OPEN) {
      conn.send(JSON.stringify({ type: "series", only: only }));
    } else {
      // The next connection asks for the new selection from scratch (a reset snapshot of it).
      freshNext = true;
      if (conn && transport === "sse") {
        conn.close();
        conn = null;
        attempt = 0;
        connect();
      }
    }
  }

  /** Keeps the address a deep link to what is shown (?series=a,b&window=10s). */
  function updateUrl() {
    const q = [];
    if (TOKEN) q.push("token=" + encodeURIComponent(TOKEN));
    if (selection !== null) q.push("series=" + seriesParam(selection));
    if (windowKey !== "1m") q.push("window=" + windowKey);
    const url = location.pathname + (q.length ? "?" + q.join("&") : "") + location.hash;
    if (url !== location.pathname + location.search + location.hash) {
      history.replaceState(null, "", url);
    }
  }

  // ---- Controls -------------------------------------------------------------------------------

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
    const yo = plot.getYAxes()[0].options;
    if (fixed) {
      const lo = parseFloat(yminEl.value);
      const hi = parseFloat(ymaxEl.value);
      const ok = Number.isFinite(lo) && Number.isFinite(hi) && lo < hi;
      yminEl.setAttribute("aria-invalid", String(!ok));
      ymaxEl.setAttribute("aria-invalid", String(!ok));
      if (!ok) return;
      yo.autoScale = "none";
      yo.min = lo;
      yo.max = hi;
    } else {
      yo.autoScale = "loose";
      yo.min = null;
      yo.max = null;
    }
    requestDraw(true);
  }
  for (const radio of document.querySelectorAll('input[name="yscale"]')) {
    radio.addEventListener("change", applyYAxis);
  }
  yminEl.addEventListener("input", applyYAxis);
  ymaxEl.addEventListener("input", applyYAxis);

  // Hover tooltip: series, value and time of the nearest point.
  $("#chart").on("plothover", function (_event, _pos, item) {
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

  $(globalThis).on("resize", function () {
    resizeQueued = true;
    requestDraw(true);
  });

  // ---- Connection: WebSocket, or SSE where WebSockets fail --------------------------------------

  let state = "connecting";
  let sessionId = null;
  let transport = "websocket";
  /** The open connection: a WebSocket or an EventSource. */
  let conn = null;
  let attempt = 0;
  let wsFailures = 0;
  let wsEverOpened = false;
  /** Next connection starts over (no resume): the selection changed while not connected. */
  let freshNext = false;
  let reconnectTimer = null;
  let countdownTimer = null;

  function setState(next, text) {
    state = next;
    statusEl.setAttribute("data-state", next);
    setText(statusEl, text || next);
  }

  function useTransport(kind) {
    transport = kind;
    setText(transportEl, kind === "sse" ? "SSE" : "WebSocket");
    transportEl.title = kind === "sse"
      ? "Server-Sent Events (/events): the WebSocket could not open"
      : "WebSocket (/ws)";
  }

  /** The query of the next connection: the selection, and where to resume (unless fresh). */
  function connectQuery(kind) {
    const q = [];
    if (TOKEN) q.push("token=" + encodeURIComponent(TOKEN));
    if (selection !== null) q.push("series=" + seriesParam(selection));
    if (!freshNext && epoch !== null) {
      if (kind === "websocket") q.push("since=" + lastSeq, "epoch=" + encodeURIComponent(epoch));
      else q.push("lastEventId=" + encodeURIComponent(epoch + ":" + lastSeq));
    }
    freshNext = false;
    return q.length ? "?" + q.join("&") : "";
  }

  function connect() {
    clearTimeout(reconnectTimer);
    clearInterval(countdownTimer);
    setState(attempt === 0 ? "connecting" : "reconnecting");
    if (transport === "websocket") openWebSocket();
    else openEventSource();
  }

  function openWebSocket() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(proto + "//" + location.host + "/ws" + connectQuery("websocket"));
    conn = ws;
    let opened = false;
    ws.onopen = function () {
      opened = true;
      wsEverOpened = true;
      wsFailures = 0;
      attempt = 0;
      setState("connected");
    };
    ws.onmessage = function (e) {
      onMessage(e.data);
    };
    ws.onclose = function (e) {
      if (conn !== ws) return;
      conn = null;
      // 1008: refused for policy; 4001: token expired. Retrying with the same token will not help.
      if (e.code === 1008 || e.code === 4001) {
        setState("closed", "closed (" + (e.reason || "refused") + ")");
        return;
      }
      if (!opened) {
        wsFailures++;
        // Proxies and some networks break WebSockets: after failed opens in a row (more of them
        // once a WebSocket has worked here, since a restarting server looks the same), use SSE.
        if (wsFailures >= (wsEverOpened ? WS_FAILS_AFTER_OPEN : WS_FAILS_BEFORE_SSE)) {
          useTransport("sse");
          attempt = 0;
          connect();
          return;
        }
      }
      scheduleReconnect();
    };
  }

  function openEventSource() {
    const es = new EventSource("/events" + connectQuery("sse"));
    conn = es;
    es.onopen = function () {
      attempt = 0;
      setState("connected");
    };
    es.onmessage = function (e) {
      onMessage(e.data);
    };
    // The server ends the stream (shutting down, slow client): reconnect on our own schedule.
    es.addEventListener("close", function (e) {
      if (conn !== es) return;
      es.close();
      conn = null;
      let info = {};
      try {
        info = JSON.parse(e.data);
      } catch (_err) {
        // no details
      }
      if (info.code === 1008 || info.code === 4001) {
        setState("closed", "closed (" + (info.reason || "refused") + ")");
        return;
      }
      scheduleReconnect();
    });
    // EventSource would retry by itself (with Last-Event-ID), but without a countdown to show and
    // not after an HTTP error: take over, and resume with ?lastEventId=.
    es.onerror = function () {
      if (conn !== es) return;
      es.close();
      conn = null;
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    const base = Math.min(BACKOFF_MAX, BACKOFF_MIN * Math.pow(2, attempt));
    const delay = base / 2 + Math.random() * base / 2; // jitter: [base/2, base)
    attempt++;
    const until = Date.now() + delay;
    const countdown = function () {
      const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      setState("reconnecting", "reconnecting in " + left + " s");
    };
    countdown();
    clearInterval(countdownTimer);
    countdownTimer = setInterval(countdown, 250);
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(connect, delay);
  }

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
      return transport;
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
    /** Every series the server holds. */
    get known() {
      return known.slice();
    },
    /** Points held per series. */
    get held() {
      const out = {};
      for (const [name, s] of series) out[name] = s.size;
      return out;
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
    /** The last second's figures: points/s and median lag (ms, null without points). */
    get figures() {
      return { rate: lastRate, lagMs: lastLag, shown: shownCount };
    },
  };

  useTransport("websocket");
  applyTheme();
  renderLegend();
  updateUrl();
  connect();
})();
