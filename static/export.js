// Exports: a file download (the visible window as CSV comes straight from /api/history), and the
// panels as one PNG drawn from their canvases, with the titles, legends, units and tick labels
// that Flot keeps outside the canvas (as SVG text); createExporter() is what the CSV and PNG
// buttons do.

import { formatSpan } from "./format.js";
import { historyUrl, MAX_POINTS } from "./history.js";
import { panelLabel } from "./panels.js";

/** Starts the download of `href` (same origin, or a blob: URL) as `filename`. */
export function download(href, filename) {
  const a = document.createElement("a");
  a.href = href;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
}

/** A file name for the window [from, to]: `zws-20260101T120000Z-10s.<ext>`. */
export function exportName(from, to, ext) {
  const stamp = new Date(from).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const span = (to - from) / 1000;
  const len = span >= 1 ? Math.round(span) + "s" : Math.round(span * 1000) + "ms";
  return "zws-" + stamp + "-" + len + "." + ext;
}

/**
 * Draws `panels` ([{ title, unit, chart, legend: [{ name, color, unit }] }], top to bottom) into
 * one canvas at the device's pixel ratio and resolves with its PNG. `colors`: { bg, fg, muted }.
 */
export function panelsPng(panels, colors) {
  const ratio = globalThis.devicePixelRatio || 1;
  const HEAD = 44;
  const GAP = 12;
  const width = Math.max(320, ...panels.map((p) => p.chart.plot.getPlaceholder()[0].clientWidth));
  const heights = panels.map((p) => p.chart.plot.getPlaceholder()[0].clientHeight);
  const height = heights.reduce((a, h) => a + HEAD + h + GAP, GAP);
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  ctx.fillStyle = colors.bg;
  ctx.fillRect(0, 0, width, height);
  ctx.textBaseline = "middle";
  let top = GAP;
  panels.forEach((p, i) => {
    ctx.fillStyle = colors.fg;
    ctx.font = "600 14px system-ui, sans-serif";
    ctx.textAlign = "left";
    const title = p.title + (p.unit ? " (" + p.unit + ")" : "");
    ctx.fillText(title, 8, top + 10);
    let x = 8;
    ctx.font = "12px system-ui, sans-serif";
    for (const s of p.legend) {
      const text = s.name + (s.unit ? " (" + s.unit + ")" : "");
      const w = ctx.measureText(text).width;
      if (x + 28 + w > width) break;
      ctx.fillStyle = s.color;
      ctx.fillRect(x, top + 29, 18, 4);
      ctx.fillStyle = colors.fg;
      ctx.fillText(text, x + 22, top + 31);
      x += 22 + w + 16;
    }
    top += HEAD;
    const plot = p.chart.plot;
    ctx.drawImage(plot.getCanvas(), 0, top, plot.getCanvas().width / ratio, heights[i]);
    drawTicks(ctx, plot, top, colors.muted);
    if (p.unit) {
      ctx.fillStyle = colors.muted;
      ctx.textAlign = "left";
      ctx.fillText(p.unit, 4, top + 6);
    }
    top += heights[i] + GAP;
  });
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => blob ? resolve(blob) : reject(new Error("canvas gave no PNG")));
  });
}

/** Writes the tick labels of the plot's x and y axes (Flot draws them as SVG, not on canvas). */
function drawTicks(ctx, plot, top, color) {
  const off = plot.getPlotOffset();
  ctx.fillStyle = color;
  ctx.font = "11px system-ui, sans-serif";
  for (const axis of plot.getXAxes()) {
    ctx.textAlign = "center";
    for (const t of axis.ticks || []) {
      if (t.v < axis.min || t.v > axis.max) continue;
      ctx.fillText(t.label, off.left + axis.p2c(t.v), top + off.top + plot.height() + 10);
    }
  }
  for (const axis of plot.getYAxes()) {
    ctx.textAlign = "right";
    for (const t of axis.ticks || []) {
      if (t.v < axis.min || t.v > axis.max) continue;
      ctx.fillText(t.label, off.left - 4, top + off.top + axis.p2c(t.v));
    }
  }
}

/**
 * The CSV and PNG exports of what is shown. `deps`: `token` (the viewer token, or null),
 * `panels` (panels.js), `shownRange()`, `drawnNames()`, `colorOf(name)`, `unitOf(name)`,
 * `drawAll()` (every panel drawn as of now), `note(text)` (says what the export did).
 */
export function createExporter(deps) {
  return {
    /**
     * The visible window of the series drawn, as CSV from /api/history (a download the browser
     * streams to disk, named by the server): every point, up to the API's most per series
     * (beyond it, min/max per bucket).
     */
    csv() {
      const range = deps.shownRange();
      const names = deps.drawnNames().sort();
      if (names.length === 0) {
        deps.note("nothing to export yet");
        return;
      }
      download(
        historyUrl(names, range.from, range.to, {
          format: "csv",
          maxPoints: MAX_POINTS,
          token: deps.token,
        }),
        exportName(range.from, range.to, "csv"),
      );
      deps.note("CSV of " + names.length + " series, " + formatSpan(range.to - range.from));
    },
    /** The panels as drawn now, as one PNG (a download). */
    async png() {
      deps.drawAll(); // every panel as of now (live ones out of view were not redrawn)
      const range = deps.shownRange();
      const css = getComputedStyle(document.documentElement);
      const v = (name) => css.getPropertyValue(name).trim();
      try {
        const blob = await panelsPng(
          deps.panels.list.map((p) => ({
            title: panelLabel(p.title),
            unit: p.unit,
            chart: p.chart,
            legend: p.names.map((n) => ({ name: n, color: deps.colorOf(n), unit: deps.unitOf(n) })),
          })),
          { bg: v("--bg"), fg: v("--fg"), muted: v("--muted") },
        );
        const url = URL.createObjectURL(blob);
        download(url, exportName(range.from, range.to, "png"));
        setTimeout(() => URL.revokeObjectURL(url), 60000);
        deps.note("PNG of " + deps.panels.list.length + " panels");
      } catch (err) {
        deps.note("PNG failed: " + (err instanceof Error ? err.message : String(err)));
      }
    },
  };
}
