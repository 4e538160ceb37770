// Every text the page writes outside the charts and the legend: the connection status, the
// transport and session, the figures (points/s, lag, points shown), the Pause/Live buttons and
// the note saying the view is not live, the decimation note, the export note and the hover
// tooltip. A node is written only when its text changed (no needless layout or screen-reader
// announcements). The texts are pure functions (tests/unit/readout_test.ts).

import { formatLag, formatTime, formatValue } from "./format.js";

/** How long the export note stays, ms. */
const EXPORT_NOTE_MS = 4000;

/** Writes `text` into `node` only when it differs. */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/**
 * The note for view `mode` ("live", "paused", "zoomed"), or null for none: zoomed into `range`
 * ({ from, to }), it says how to come back, and whether history is `loading` or failed
 * (`error`, or null).
 */
export function viewNoteText(mode, range, loading, error) {
  if (mode === "paused") return "Paused: data keeps arriving; resume to see it.";
  if (mode !== "zoomed" || !range) return null;
  return "Not live: showing " + formatTime(range.from) + " – " + formatTime(range.to) +
    ". Back to live: L or the Live button." + (loading ? " Loading history…" : "") +
    (error ? " History unavailable (" + error + ")." : "");
}

/** The tooltip of series `name`'s point (x, y), with its `unit` ("" for none). */
export function tooltipText(name, x, y, unit) {
  return name + ": " + formatValue(y) + (unit ? " " + unit : "") + " at " + formatTime(x);
}

/** Creates the readout over the page's elements (`byId(id)`). */
export function createReadout(byId) {
  const statusEl = byId("status");
  const sessionEl = byId("session");
  const rateEl = byId("rate");
  const lagEl = byId("lag");
  const countEl = byId("count");
  const transportEl = byId("transport");
  const pauseBtn = byId("pause");
  const liveBtn = byId("live");
  const viewNote = byId("paused-note");
  const decimationEl = byId("decimation");
  const exportNote = byId("export-note");
  const tooltip = byId("tooltip");
  let state = "connecting";
  let exportNoteTimer = null;

  return {
    /** The connection's state ("connecting", "connected", "reconnecting", "closed"), shown. */
    status(next, text) {
      state = next;
      statusEl.setAttribute("data-state", next);
      setText(statusEl, text || next);
    },
    /** The session id of the hello frame (its first 8 characters shown). */
    session(id) {
      setText(sessionEl, String(id).slice(0, 8));
    },
    /** The transport in use: "websocket" or "sse". */
    transport(kind) {
      setText(transportEl, kind === "sse" ? "SSE" : "WebSocket");
      transportEl.title = kind === "sse"
        ? "Server-Sent Events (/events): the WebSocket could not open"
        : "WebSocket (/ws)";
    },
    /** The last second's figures: points/s, median lag (ms, null: none), points shown. */
    figures(rate, lagMs, shown) {
      setText(rateEl, String(rate));
      setText(lagEl, lagMs === null ? "–" : formatLag(lagMs));
      setText(countEl, String(shown));
    },
    /** Points shown over every panel. */
    count(shown) {
      setText(countEl, String(shown));
    },
    /** The decimation note ("": hidden). */
    decimation(text) {
      decimationEl.hidden = text === "";
      setText(decimationEl, text);
    },
    /** The decimation note as shown. */
    get decimationNote() {
      return { shown: !decimationEl.hidden, text: decimationEl.textContent };
    },
    /**
     * Shows the view's `mode` and (not live) its `range` on the buttons and the note; `history`:
     * the history cache (loading, error).
     */
    view(mode, range, history) {
      const live = mode === "live";
      pauseBtn.setAttribute("aria-pressed", String(!live));
      setText(pauseBtn, live ? "Pause" : "Resume");
      liveBtn.hidden = live;
      document.body.dataset.view = mode;
      const note = viewNoteText(mode, range, history.loading, history.error);
      viewNote.hidden = note === null;
      if (note !== null) setText(viewNote, note);
    },
    /** Says what an export did, for a few seconds. */
    exportNote(text) {
      exportNote.hidden = false;
      setText(exportNote, text);
      clearTimeout(exportNoteTimer);
      exportNoteTimer = setTimeout(() => exportNote.hidden = true, EXPORT_NOTE_MS);
    },
    /** The hover tooltip: series, value and time of Flot's `item` (null: hidden). */
    tooltip(item, unitOf) {
      if (!item) {
        tooltip.hidden = true;
        return;
      }
      const name = item.series.zwsName;
      tooltip.textContent = tooltipText(name, item.datapoint[0], item.datapoint[1], unitOf(name));
      const flip = item.pageX > globalThis.scrollX + globalThis.innerWidth - 280;
      tooltip.style.transform = flip
        ? "translate(calc(-100% - 12px), -120%)"
        : "translate(12px, -120%)";
      tooltip.style.left = item.pageX + "px";
      tooltip.style.top = item.pageY + "px";
      tooltip.hidden = false;
    },
    /** The connection's state as last shown. */
    get state() {
      return state;
    },
  };
}
