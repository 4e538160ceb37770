// The frame loop: when the panels are drawn, and which, and when the legend and the panels'
// layout follow what changed. Cheap by design: at most one chart per animation frame while live
// (the most overdue panel first; a control that changes the view redraws all at once), each only
// as often as its view moves by a pixel and never more than a fifth of the time, from at most ~2
// points per pixel column per series (store.js thins them); a panel out of sight is not redrawn
// live. The rules are pure functions (tests/unit/draw_test.ts).

/** After drawing for d ms, the frame loop draws again no sooner than DRAW_GAP * d later (<= 20 %). */
export const DRAW_GAP = 5;
/**
 * Most live chart draws per second over all panels: a draw costs about as much again in paint
 * and raster as in script, which DRAW_GAP does not see. One panel: 20 frames/s; five: 4 each.
 */
export const MAX_LIVE_DRAWS_PER_S = 20;
/** A panel is drawn again at most this long after its last draw, ms (else: a pixel's worth). */
export const MAX_PANEL_WAIT_MS = 250;
/** The points-shown figure and the decimation note follow the draws at most this often, ms. */
const FIGURES_EVERY_MS = 250;

/**
 * The panel one pass draws (not every panel): a changed (`dirty`) one first, else while `live`
 * the most overdue visible one due by `t`. `liveDraw`: it was picked by the live rule.
 */
export function pickPanel(list, live, t) {
  let pick = list.find((p) => p.dirty) || null;
  let liveDraw = false;
  if (pick === null && live) {
    for (const p of list) {
      if (!p.visible || p.nextDrawAt > t) continue;
      if (!pick || p.nextDrawAt < pick.nextDrawAt) pick = p;
    }
    liveDraw = pick !== null;
  }
  return { pick: pick, liveDraw: liveDraw };
}

/**
 * When a panel drawn at `t` over `range` on `columns` pixel columns is due again: once its view
 * would move by a pixel (1 min over 1,000 px: 60 ms), at most {@link MAX_PANEL_WAIT_MS} later.
 */
export function panelDueAt(t, range, columns) {
  return t + Math.min(MAX_PANEL_WAIT_MS, (range.to - range.from) / columns);
}

/**
 * The earliest the next pass may draw live, after one from `t0` to `t1`: a slow machine keeps
 * most of its main thread (at most a fifth of the time goes to drawing), and live redraws
 * (`liveDraw`) keep to their rate.
 */
export function nextPassAt(t0, t1, liveDraw) {
  return t0 + Math.max(DRAW_GAP * (t1 - t0), liveDraw ? 1000 / MAX_LIVE_DRAWS_PER_S : 0);
}

/**
 * Creates the loop. `deps`: `panels` (panels.js), `view` (view.js), `history` (history.js's
 * cache), `series` (the rings), `colorOf(name)`, `renderLegend()`, `syncPanels()` (the panels
 * follow the layout and the series drawn), `onFigures(range, columns, shown)` (points shown,
 * at most every 250 ms).
 */
export function createDrawLoop(deps) {
  const { panels, view } = deps;
  let frameQueued = false;
  let forceQueued = false;
  let dirtyQueued = false;
  let frameTimer = null;
  /** performance.now() before which the frame loop draws nothing more while live. */
  let nextFrameAt = 0;
  let figuresWrittenAt = 0;
  let legendQueued = false;
  let layoutQueued = true;
  /** Render passes (frames that drew at least one panel), and chart draws over all panels. */
  let draws = 0;
  let chartDraws = 0;
  /** Main-thread time spent drawing, ms. */
  let renderMs = 0;
  let shownCount = 0;

  /**
   * Asks for a draw on an animation frame (so at most one pass per frame). While live, the pass
   * waits until a panel is due and the last pass's cost allows (see render). `force`: every
   * panel, on the next frame, also while not live (a control changed the view).
   */
  function requestDraw(force) {
    if (force) {
      forceQueued = true;
      clearTimeout(frameTimer);
      frameTimer = null;
      queueFrame();
      return;
    }
    if (!view.isLive() || frameTimer !== null || frameQueued) return;
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
   * Asks for the panels whose content changed (layout, series, units) to be drawn, one per
   * frame, also while not live (their range stays what it was).
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
    if (!view.isLive() && !force && !dirty) return;
    render(force);
  }

  /** The store a panel draws `name` from: fetched history when it serves the view, else the ring. */
  function storeFor(name, range, columns) {
    if (!view.isLive()) {
      const fetched = deps.history.storeFor(name, range.from, range.to, columns);
      if (fetched) return fetched;
    }
    return deps.series.get(name);
  }

  function drawPanel(panel, range, columns) {
    const list = [];
    for (const name of panel.names) {
      const store = storeFor(name, range, columns);
      if (store) list.push({ name: name, color: deps.colorOf(name), store: store });
    }
    panel.shown = panel.chart.render(list, range.from, range.to);
    panel.dirty = false;
    chartDraws++;
    panel.nextDrawAt = panelDueAt(performance.now(), range, columns);
  }

  /**
   * One pass of the frame loop. `all`: every panel (a control changed the view); else one panel,
   * so a frame never draws more than one chart: a changed one first, else (live) the most overdue.
   */
  function render(all) {
    const t0 = performance.now();
    if (legendQueued) renderLegend(); // first: it gives new series their colours
    if (layoutQueued) syncPanels();
    const range = view.viewRange();
    const columns = panels.width();
    const list = panels.list;
    let drew = false;
    let liveDraw = false;
    if (all) {
      for (const p of list) drawPanel(p, range, columns);
      drew = list.length > 0;
    } else {
      const next = pickPanel(list, view.isLive(), t0);
      liveDraw = next.liveDraw;
      if (next.pick) {
        drawPanel(next.pick, range, columns);
        drew = true;
      }
    }
    view.drawn(range);
    if (drew) draws++;
    let shown = 0;
    for (const p of list) shown += p.shown;
    shownCount = shown;
    const t1 = performance.now();
    renderMs += t1 - t0;
    nextFrameAt = nextPassAt(t0, t1, liveDraw);
    if (t1 - figuresWrittenAt > FIGURES_EVERY_MS) {
      figuresWrittenAt = t1;
      deps.onFigures(range, columns, shown);
    }
    if (list.some((p) => p.dirty)) requestDirty();
    else if (view.isLive() && deps.series.size) requestDraw(false);
  }

  /** Asks for a legend update on the next animation frame (also while paused). */
  function requestLegend() {
    if (legendQueued) return;
    legendQueued = true;
    requestAnimationFrame(function () {
      if (legendQueued) renderLegend();
    });
  }

  function renderLegend() {
    legendQueued = false;
    deps.renderLegend();
  }

  function syncPanels() {
    layoutQueued = false;
    deps.syncPanels();
  }

  return {
    requestDraw: requestDraw,
    requestDirty: requestDirty,
    render: render,
    requestLegend: requestLegend,
    /** Updates the legend now. */
    renderLegend: renderLegend,
    /** The panels follow the layout and the series drawn, now. */
    syncPanels: syncPanels,
    /** The panels follow at the next pass, drawn at once (layout, series or units changed). */
    requestLayout() {
      layoutQueued = true;
      requestDirty();
    },
    /** `added` points came (`newSeries`: some in series new to the page): draw what they change. */
    pointsAdded(added, newSeries) {
      if (newSeries) layoutQueued = true;
      if (layoutQueued) requestDirty();
      else if (added) requestDraw(false);
    },
    /** Render passes so far. */
    get draws() {
      return draws;
    },
    /** Chart draws so far, over every panel. */
    get chartDraws() {
      return chartDraws;
    },
    /** Main-thread ms spent drawing so far. */
    get renderMs() {
      return renderMs;
    },
    /** Points shown as of the last pass, over every panel. */
    get shown() {
      return shownCount;
    },
  };
}
