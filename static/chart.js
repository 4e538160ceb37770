// One Flot chart: draws the series it is given over a time range [from, to], each decimated to
// about two points per pixel column (Store.window). Knows nothing of connections or controls, so
// a page can hold several (panels) and choose the range itself (live, paused, zoomed).

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
  let resizeQueued = false;

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
