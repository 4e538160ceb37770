// One Flot chart: draws the series it is given over a time range [from, to], each decimated to
// about two points per pixel column (Store.window), with its own y axis and its unit. Knows
// nothing of connections or controls, so a page can hold several (panels) and choose the range
// itself (live, paused, zoomed).

/** Series names come from producers: never markup (Flot may put labels into it). */
export function escapeHtml(s) {
  return s.replace(/[&<>"']/g, function (c) {
    return "&#" + c.charCodeAt(0) + ";";
  });
}

/** Creates a time chart in `container` (a DOM element); Flot and jQuery are page globals. */
export function createChart(container) {
  const $ = globalThis.jQuery;
  const css = getComputedStyle(document.documentElement);
  const themeColor = (name) => css.getPropertyValue(name).trim();
  const plot = $.plot($(container), [], {
    xaxis: {
      mode: "time",
      timeBase: "milliseconds",
      timezone: "browser",
      timeformat: "%H:%M:%S",
      autoScale: "none",
    },
    // "all": Flot's "major" draws the end ticks' labels but leaves them out when it measures the
    // axis, so a wider top label ("100" over "90") was cut off at the left edge.
    yaxis: { autoScale: "loose", showTickLabels: "all" },
    series: { lines: { show: true, lineWidth: 1.5 }, shadowSize: 0 },
    legend: { show: false },
    grid: {
      margin: { top: 14 },
      borderWidth: 1,
      hoverable: true,
      mouseActiveRadius: 12,
      color: themeColor("--muted"),
      borderColor: themeColor("--border"),
      tickColor: themeColor("--grid"),
    },
  });
  // End ticks in the same precision as the others (Flot gives them more digits: "100.0").
  const yaxis = plot.getYAxes()[0];
  const format = yaxis.tickFormatter;
  yaxis.tickFormatter = (v, axis) => format(v, axis);
  let resizeQueued = false;
  // The y axis' unit, above its tick labels (HTML: it changes when a producer sends a new unit).
  const unitEl = document.createElement("span");
  unitEl.className = "y-unit";
  unitEl.hidden = true;
  container.append(unitEl);

  return {
    plot: plot,

    /** Follows the system's light/dark setting (the page's colours are CSS variables). */
    applyTheme() {
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
    },

    /** The next render resizes the canvas first. */
    queueResize() {
      resizeQueued = true;
    },

    /** Pixel columns of the plot area. */
    width() {
      return Math.max(50, plot.width());
    },

    /** The unit written on the y axis ("" for none). */
    setUnit(text) {
      if (unitEl.textContent !== text) unitEl.textContent = text;
      unitEl.hidden = text === "";
    },

    /**
     * The time (ms) under a page x coordinate, clamped to the plot area: on the axis as drawn,
     * or on `range` ({ from, to }) spread over the plot's width.
     */
    timeAt(pageX, range) {
      const left = container.getBoundingClientRect().left + globalThis.scrollX +
        plot.getPlotOffset().left;
      const px = Math.min(plot.width(), Math.max(0, pageX - left));
      if (range) return range.from + (px / Math.max(1, plot.width())) * (range.to - range.from);
      return plot.getXAxes()[0].c2p(px);
    },

    /** Whether a page point lies within the plot area (not on the axes' labels). */
    inPlot(pageX, pageY) {
      const r = container.getBoundingClientRect();
      const off = plot.getPlotOffset();
      const x = pageX - globalThis.scrollX - r.left - off.left;
      const y = pageY - globalThis.scrollY - r.top - off.top;
      return x >= 0 && x <= plot.width() && y >= 0 && y <= plot.height();
    },

    /** Fixed y range [lo, hi], or null for auto. */
    setYRange(range) {
      const yo = plot.getYAxes()[0].options;
      if (range) {
        yo.autoScale = "none";
        yo.min = range[0];
        yo.max = range[1];
      } else {
        yo.autoScale = "loose";
        yo.min = null;
        yo.max = null;
      }
    },

    /**
     * Draws `series` ([{ name, color, store }]) over [from, to] (ms; not finite: nothing held).
     * Returns the number of points within the range.
     */
    render(series, from, to) {
      if (resizeQueued) {
        resizeQueued = false;
        plot.resize();
      }
      const ranged = Number.isFinite(from) && Number.isFinite(to);
      const px = this.width();
      const list = [];
      let shown = 0;
      if (ranged) {
        for (const s of series) {
          const w = s.store.window(from, to, px);
          shown += w.count;
          list.push({ label: escapeHtml(s.name), zwsName: s.name, color: s.color, data: w.data });
        }
      }
      const xo = plot.getXAxes()[0].options;
      xo.min = ranged ? from : null;
      xo.max = ranged ? Math.max(to, from + 1) : null;
      plot.setData(list);
      plot.setupGrid(true); // true: recompute axis ranges (Flot >= 3 keeps the first ones otherwise)
      plot.draw();
      return shown;
    },
  };
}
