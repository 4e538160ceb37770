/**
 * The readout's texts (static/readout.js): the note when the view is not live, the tooltip.
 */
import assert from "node:assert/strict";
import { tooltipText, viewNoteText } from "../../static/readout.js";
import { formatTime } from "../../static/format.js";

Deno.test("readout: the view note says paused, or the range zoomed into and how to come back", () => {
  assert.equal(viewNoteText("live", null, false, null), null);
  assert.equal(viewNoteText("live", { from: 0, to: 1 }, true, "x"), null, "live: never a note");
  assert.equal(
    viewNoteText("paused", { from: 0, to: 1 }, false, null),
    "Paused: data keeps arriving; resume to see it.",
  );
  assert.equal(viewNoteText("zoomed", null, false, null), null, "no range chosen");
  const range = { from: Date.UTC(2026, 0, 1, 12), to: Date.UTC(2026, 0, 1, 12, 1) };
  const head = "Not live: showing " + formatTime(range.from) + " – " + formatTime(range.to) +
    ". Back to live: L or the Live button.";
  assert.equal(viewNoteText("zoomed", range, false, null), head);
  assert.equal(viewNoteText("zoomed", range, true, null), head + " Loading history…");
  assert.equal(
    viewNoteText("zoomed", range, false, "history 503: busy"),
    head + " History unavailable (history 503: busy).",
  );
});

Deno.test("readout: the tooltip is series, value, unit and time", () => {
  const x = Date.UTC(2026, 0, 1, 12, 0, 0, 5);
  assert.equal(tooltipText("cpu/user", x, 12.5, "%"), "cpu/user: 12.5 % at " + formatTime(x));
  assert.equal(tooltipText("load", x, 1 / 3, ""), "load: 0.333333 at " + formatTime(x));
});
