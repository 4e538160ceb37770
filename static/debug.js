// globalThis.zws: the page's state, read-only, for tests and the curious
// (globalThis.zws.plot.getData(), globalThis.zws.state, ...). Every figure is read from the
// module that owns it.

/**
 * Sets globalThis.zws over the page's parts: `panels`, `placement`, `readout`, `feed`,
 * `connection`, `view`, `catalog`, `series`, `legend`, `loop`, `figures`, `decimation`,
 * `history`.
 */
export function exposeDebug(m) {
  globalThis.zws = {
    /** The first panel's Flot plot. */
    get plot() {
      return m.panels.list[0].chart.plot;
    },
    /** The panels, top to bottom: title, series, unit, plot. */
    get panels() {
      return m.panels.list.map((p) => ({
        title: p.title,
        names: p.names.slice(),
        unit: p.unit,
        plot: p.chart.plot,
      }));
    },
    /** The layout as `?panels=` writes it ("" for the default grouping). */
    get layout() {
      return m.placement.param;
    },
    get state() {
      return m.readout.state;
    },
    get session() {
      return m.feed.session;
    },
    get lastSeq() {
      return m.feed.lastSeq;
    },
    get epoch() {
      return m.feed.epoch;
    },
    /** "websocket" or "sse". */
    get transport() {
      return m.connection.transport;
    },
    /** Whether the view is frozen (paused or zoomed): not following the clock. */
    get paused() {
      return !m.view.isLive();
    },
    /** "live", "paused" or "zoomed". */
    get viewMode() {
      return m.view.mode;
    },
    /** "10s", "1m", "5m" or "all". */
    get window() {
      return m.view.windowKey;
    },
    /** The series asked for (sorted), or null for all. */
    get selection() {
      const selection = m.catalog.selection;
      return selection === null ? null : Array.from(selection).sort();
    },
    /** Every series the server holds (that this page may see). */
    get known() {
      return m.catalog.known.slice();
    },
    /** name -> unit, as the server's series_list says. */
    get units() {
      return Object.fromEntries(m.catalog.units);
    },
    /** Points held per series. */
    get held() {
      const out = {};
      for (const [name, s] of m.series.entries()) out[name] = s.size;
      return out;
    },
    /** The points the page holds of `name` with x in [from, to], as [x, y] pairs. */
    points(name, from, to) {
      const s = m.series.get(name);
      const out = [];
      if (!s) return out;
      for (let i = s.lowerBound(from); i < s.size && s.x(i) <= to; i++) out.push([s.x(i), s.y(i)]);
      return out;
    },
    /** Series held, ring slots allocated, colours kept, legend toggles in the DOM. */
    get sizes() {
      return {
        series: m.series.size,
        slots: m.series.slots,
        colors: m.catalog.colorCount,
        toggles: document.querySelectorAll("#legend label.series").length,
      };
    },
    /** The legend's names, in order. */
    get legend() {
      return m.legend.shown;
    },
    /** Server clock minus this browser's (ms). */
    get clockOffset() {
      return m.view.clockOffset;
    },
    /** The time range shown (not live: the range chosen, drawn at the next frame). */
    get view() {
      return m.view.viewRange();
    },
    /** Render passes so far (each draws one panel, or every panel after a control changed). */
    get draws() {
      return m.loop.draws;
    },
    /** Chart draws so far, over every panel. */
    get chartDraws() {
      return m.loop.chartDraws;
    },
    /** Main-thread ms spent so far drawing and handling messages. */
    get cost() {
      return { renderMs: m.loop.renderMs, messageMs: m.feed.messageMs };
    },
    /** Live points received so far. */
    get received() {
      return m.figures.received;
    },
    /** The last second's figures: points/s, median lag (ms, null without points), points shown. */
    get figures() {
      return { rate: m.figures.rate, lagMs: m.figures.lagMs, shown: m.loop.shown };
    },
    /** Decimation: the rate asked (null: exact), the server's, since when the rings hold it. */
    get decimation() {
      const note = m.readout.decimationNote;
      return {
        asked: m.decimation.asked,
        changes: m.decimation.changes,
        fastest: m.figures.fastest,
        rate: m.decimation.rate,
        since: m.decimation.since,
        shown: note.shown,
        text: note.text,
      };
    },
    /** The /api/history cache: fetches started, one in progress, the last error. */
    get history() {
      return {
        fetches: m.history.fetches,
        loading: m.history.loading,
        error: m.history.error,
      };
    },
  };
}
