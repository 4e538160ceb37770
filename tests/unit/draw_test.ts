/**
 * The frame loop's rules (static/draw.js): which panel a pass draws, when a panel is due again,
 * and how long the loop waits after a pass. Pure.
 */
import assert from "node:assert/strict";
import {
  DRAW_GAP,
  MAX_LIVE_DRAWS_PER_S,
  MAX_PANEL_WAIT_MS,
  nextPassAt,
  panelDueAt,
  pickPanel,
} from "../../static/draw.js";

interface P {
  name: string;
  dirty: boolean;
  visible: boolean;
  nextDrawAt: number;
}

const panel = (name: string, nextDrawAt: number, dirty = false, visible = true): P => ({
  name,
  dirty,
  visible,
  nextDrawAt,
});

Deno.test("draw: a changed panel is drawn first, live or not", () => {
  const list = [panel("a", 0), panel("b", 500, true), panel("c", 0, true)];
  assert.deepEqual(pickPanel(list, true, 100), { pick: list[1], liveDraw: false });
  assert.deepEqual(pickPanel(list, false, 100), { pick: list[1], liveDraw: false });
});

Deno.test("draw: live, the most overdue visible panel that is due; not live, none", () => {
  const list = [panel("a", 90), panel("b", 40, false, false), panel("c", 60), panel("d", 150)];
  const live = pickPanel(list, true, 100);
  assert.equal(live.pick!.name, "c", "b is out of sight, d not due");
  assert.equal(live.liveDraw, true);
  assert.deepEqual(pickPanel(list, true, 50), { pick: null, liveDraw: false }, "none due");
  assert.deepEqual(pickPanel(list, false, 1000), { pick: null, liveDraw: false }, "paused");
  assert.deepEqual(pickPanel([], true, 1000), { pick: null, liveDraw: false });
});

Deno.test("draw: a panel is due again once its view moves a pixel, at most 250 ms later", () => {
  assert.equal(MAX_PANEL_WAIT_MS, 250);
  assert.equal(panelDueAt(1000, { from: 0, to: 60_000 }, 1000), 1060, "1 min over 1,000 px");
  assert.equal(panelDueAt(1000, { from: 0, to: 10_000 }, 1000), 1010);
  assert.equal(panelDueAt(1000, { from: 0, to: 300_000 }, 1000), 1250, "5 min: capped");
});

Deno.test("draw: after a pass the loop keeps drawing to a fifth of the time and 20 live draws/s", () => {
  assert.equal(DRAW_GAP, 5);
  assert.equal(MAX_LIVE_DRAWS_PER_S, 20);
  assert.equal(nextPassAt(1000, 1002, false), 1010, "2 ms of drawing: 10 ms from its start");
  assert.equal(nextPassAt(1000, 1002, true), 1050, "a live draw: 50 ms (20/s)");
  assert.equal(nextPassAt(1000, 1030, true), 1150, "a slow draw: five times its cost");
  assert.equal(nextPassAt(1000, 1000, false), 1000);
});
