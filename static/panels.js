// The stacked panels: one section per group of series (layout.js decides the groups), each with
// its title, its legend (swatch, name, unit, and a control that moves the series to another panel
// or a new one) and its own chart (chart.js: own y axis and unit). Also the mouse side of zoom and
// pan on every chart: drag to zoom into a range, Shift+drag or a horizontal wheel to pan,
// Ctrl/Alt+wheel to zoom around the pointer, double-click to zoom out. It builds DOM only when a
// panel's content changed; drawing is app.js's (one frame loop for every panel).

import { createChart } from "./chart.js";
import { DEFAULT_PANEL } from "./layout.js";

/** The value of the legend's "new panel" choice (no title can be it: titles hold no controls). */
const NEW_PANEL = "\u0000new";
/** Smallest drag that zooms, in pixels (a click is no zoom). */
const MIN_DRAG_PX = 5;

/** How a panel's title reads on the page. */
export function panelLabel(title) {
  return title === DEFAULT_PANEL ? "default" : title;
}

/**
 * Creates the panels in `root`. `hooks`: `colorOf(name)`, `unitOf(name)` ("" for none),
 * `onMove(name, title)` (title null: a new panel), `viewRange()` ({ from, to } drawn now),
 * `onZoom(from, to)`, `onPan(from, to)`, `onHover(item)` (Flot's plothover item, or null),
 * `onVisible()` (a panel came into view: draw the changed ones).
 */
export function createPanels(root, hooks) {
  /** title -> panel, in stacking order. */
  let panels = new Map();
  /** chart box -> panel, for the visibility observer. */
  const byBox = new Map();
  // A panel scrolled out of sight is not redrawn live; back in sight, it is drawn at once.
  const observer = typeof IntersectionObserver === "function"
    ? new IntersectionObserver(function (entries) {
      let shown = false;
      for (const e of entries) {
        const p = byBox.get(e.target);
        if (!p) continue;
        if (e.isIntersecting && !p.visible) {
          p.dirty = true;
          shown = true;
        }
        p.visible = e.isIntersecting;
      }
      if (shown) hooks.onVisible();
    })
    : null;
  let yRange = null;
  let heightKey = "";

  function create(title) {
    const el = document.createElement("section");
    el.className = "panel";
    el.dataset.panel = title;
    el.setAttribute("aria-label", "Panel " + panelLabel(title));
    const head = document.createElement("div");
    head.className = "panel-head";
    const h = document.createElement("h2");
    h.className = "panel-title";
    const legend = document.createElement("ul");
    legend.className = "panel-legend";
    legend.setAttribute("aria-label", "Series in panel " + panelLabel(title));
    head.append(h, legend);
    const box = document.createElement("div");
    box.className = "chart";
    box.tabIndex = 0;
    box.setAttribute("role", "img");
    el.append(head, box);
    root.append(el);
    const chart = createChart(box);
    chart.setYRange(yRange);
    const panel = {
      title,
      el,
      box,
      heading: h,
      legend,
      chart,
      names: [],
      unit: "",
      key: "",
      /** performance.now() after which the frame loop may draw it again. */
      nextDrawAt: 0,
      /** Points shown at its last draw. */
      shown: 0,
      /** Whether it changed since its last draw (series, layout, size). */
      dirty: true,
      /** Whether any of its chart is in the viewport (live redraws skip it otherwise). */
      visible: true,
    };
    byBox.set(box, panel);
    observer?.observe(box);
    wireInteraction(panel);
    globalThis.jQuery(box).on("plothover", function (_e, _pos, item) {
      hooks.onHover(item || null);
    });
    legend.addEventListener("change", function (e) {
      const select = e.target;
      if (!select || !select.classList || !select.classList.contains("move")) return;
      const name = select.dataset.series;
      const to = select.value;
      select.selectedIndex = 0;
      if (to !== "") hooks.onMove(name, to === NEW_PANEL ? null : to);
    });
    return panel;
  }

  function destroy(panel) {
    observer?.unobserve(panel.box);
    byBox.delete(panel.box);
    panel.chart.plot.shutdown();
    globalThis.jQuery(panel.box).off("plothover");
    panel.el.remove();
  }

  /** Builds a panel's heading and legend when its names, units, colours or the panels changed. */
  function fill(panel, titles) {
    const units = panel.names.map(hooks.unitOf);
    const distinct = Array.from(new Set(units.filter((u) => u !== ""))).sort();
    panel.unit = distinct.join(", ");
    const colors = panel.names.map(hooks.colorOf);
    const key = JSON.stringify([panel.names, units, colors, titles]);
    if (key === panel.key) return;
    panel.key = key;
    panel.dirty = true;
    panel.heading.textContent = panelLabel(panel.title);
    panel.chart.setUnit(panel.unit);
    panel.box.setAttribute(
      "aria-label",
      "Chart of panel " + panelLabel(panel.title) + ": " + panel.names.join(", "),
    );
    const focused = document.activeElement;
    const refocus = focused && panel.legend.contains(focused) ? focused.dataset.series : null;
    const frag = document.createDocumentFragment();
    panel.names.forEach((name, i) => {
      const li = document.createElement("li");
      li.dataset.series = name;
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = colors[i];
      const text = document.createElement("span");
      text.className = "series-name";
      text.textContent = name;
      li.title = name;
      li.append(swatch, text);
      if (units[i]) {
        const unit = document.createElement("span");
        unit.className = "unit";
        unit.textContent = units[i];
        li.append(unit);
      }
      li.append(moveSelect(name, panel.title, titles));
      frag.append(li);
    });
    panel.legend.replaceChildren(frag);
    if (refocus !== null) {
      for (const s of panel.legend.querySelectorAll("select.move")) {
        if (s.dataset.series === refocus) s.focus();
      }
    }
  }

  function moveSelect(name, current, titles) {
    const select = document.createElement("select");
    select.className = "move";
    select.dataset.series = name;
    select.setAttribute("aria-label", "Move " + name + " to another panel");
    select.title = "Move " + name + " to another panel";
    const opt = (value, text) => {
      const o = document.createElement("option");
      o.value = value;
      o.textContent = text;
      select.append(o);
    };
    opt("", "move…");
    for (const t of titles) if (t !== current) opt(t, "to " + panelLabel(t));
    opt(NEW_PANEL, "to a new panel");
    return select;
  }

  /**
   * Panel heights: one panel keeps the full chart height (style.css); more share the window's
   * height below the controls, each at least 150 px (a page of many panels scrolls).
   */
  function applyHeights() {
    const n = panels.size;
    const key = String(n);
    if (key === heightKey) return;
    heightKey = key;
    const h = n <= 1 ? "" : "clamp(150px, calc((100vh - 300px) / " + n + " - 40px), 430px)";
    for (const p of panels.values()) {
      p.box.style.height = h;
      p.box.style.minHeight = n <= 1 ? "" : "150px";
      p.chart.queueResize();
      p.dirty = true;
    }
  }

  /** Drag to zoom, Shift+drag to pan, wheel to pan or zoom, double-click to zoom out. */
  function wireInteraction(panel) {
    const { box, chart } = panel;
    const band = document.createElement("div");
    band.className = "zoom-band";
    band.hidden = true;
    box.append(band);
    let drag = null;

    const end = () => {
      drag = null;
      band.hidden = true;
      box.classList.remove("panning");
    };
    box.addEventListener("pointerdown", function (e) {
      if (e.button !== 0 || !chart.inPlot(e.pageX, e.pageY)) return;
      e.preventDefault();
      box.focus({ preventScroll: true });
      // Times come from the range as it was when the drag began (a live view moves meanwhile).
      const range = hooks.viewRange();
      drag = { x: e.pageX, range, pan: e.shiftKey, id: e.pointerId };
      if (drag.pan) box.classList.add("panning");
      box.setPointerCapture(e.pointerId);
    });
    /** Pans to where the pointer is now, from the range the drag began with. */
    const panTo = (d, pageX) => {
      const msPerPx = (d.range.to - d.range.from) / Math.max(1, chart.plot.width());
      const dt = (d.x - pageX) * msPerPx;
      if (dt !== 0) hooks.onPan(d.range.from + dt, d.range.to + dt);
    };
    box.addEventListener("pointermove", function (e) {
      if (!drag || e.pointerId !== drag.id) return;
      if (drag.pan) {
        panTo(drag, e.pageX);
        return;
      }
      const r = box.getBoundingClientRect();
      const off = chart.plot.getPlotOffset();
      const x0 = drag.x - globalThis.scrollX - r.left;
      const x1 = Math.min(
        off.left + chart.plot.width(),
        Math.max(off.left, e.pageX - globalThis.scrollX - r.left),
      );
      band.style.left = Math.min(x0, x1) + "px";
      band.style.width = Math.abs(x1 - x0) + "px";
      band.style.top = off.top + "px";
      band.style.height = chart.plot.height() + "px";
      band.hidden = Math.abs(x1 - x0) < MIN_DRAG_PX;
    });
    box.addEventListener("pointerup", function (e) {
      if (!drag || e.pointerId !== drag.id) return;
      const d = drag;
      end();
      // The release's position counts too (a browser may not send a move for the last step).
      if (d.pan) panTo(d, e.pageX);
      if (d.pan || Math.abs(e.pageX - d.x) < MIN_DRAG_PX) return;
      const a = chart.timeAt(d.x, d.range);
      const b = chart.timeAt(e.pageX, d.range);
      hooks.onZoom(Math.min(a, b), Math.max(a, b));
    });
    box.addEventListener("pointercancel", end);
    box.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && drag) end();
    });
    box.addEventListener("wheel", function (e) {
      const range = hooks.viewRange();
      const span = range.to - range.from;
      const msPerPx = span / Math.max(1, chart.plot.width());
      if (e.ctrlKey || e.altKey) {
        e.preventDefault();
        const at = chart.timeAt(e.pageX);
        const f = Math.exp(Math.max(-1, Math.min(1, e.deltaY * 0.002)));
        hooks.onZoom(at - (at - range.from) * f, at + (range.to - at) * f);
      } else if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
        e.preventDefault();
        const delta = Math.abs(e.deltaX) > Math.abs(e.deltaY) ? e.deltaX : e.deltaY;
        const dt = delta * msPerPx;
        hooks.onPan(range.from + dt, range.to + dt);
      }
    }, { passive: false });
    box.addEventListener("dblclick", function (e) {
      if (!chart.inPlot(e.pageX, e.pageY)) return;
      const range = hooks.viewRange();
      const at = chart.timeAt(e.pageX);
      hooks.onZoom(at - (at - range.from) * 2, at + (range.to - at) * 2);
    });
  }

  return {
    /** The panels, top to bottom. */
    get list() {
      return Array.from(panels.values());
    },

    /** Shows `groups` ([{ title, names }], in order): panels made, filled, moved, removed. */
    sync(groups) {
      const titles = groups.map((g) => g.title);
      const next = new Map();
      for (const g of groups) {
        const panel = panels.get(g.title) || create(g.title);
        panel.names = g.names;
        next.set(g.title, panel);
      }
      for (const [title, panel] of panels) if (!next.has(title)) destroy(panel);
      // Stacking order: move only what is out of place (no needless DOM work).
      let prev = null;
      for (const panel of next.values()) {
        const want = prev ? prev.el.nextElementSibling : root.firstElementChild;
        if (want !== panel.el) root.insertBefore(panel.el, want);
        prev = panel;
      }
      panels = next;
      for (const panel of panels.values()) fill(panel, titles);
      applyHeights();
    },

    /** Every chart resizes at its next draw. */
    queueResize() {
      for (const p of panels.values()) {
        p.chart.queueResize();
        p.dirty = true;
      }
    },

    /** Follows the system's light/dark setting. */
    applyTheme() {
      for (const p of panels.values()) {
        p.chart.applyTheme();
        p.dirty = true;
      }
    },

    /** Fixed y range [lo, hi] for every panel, or null for auto. */
    setYRange(range) {
      yRange = range;
      for (const p of panels.values()) {
        p.chart.setYRange(range);
        p.dirty = true;
      }
    },

    /** Pixel columns of the plot area (every panel has the page's width). */
    width() {
      const first = panels.values().next().value;
      return first ? first.chart.width() : Math.max(50, root.clientWidth - 60);
    },
  };
}
