/**
 * The view's rules (static/view.js): the live range, a range not live under a new window, the
 * narrowest zoom, zoom and pan steps, the clock offset; and the view itself (modes, hooks).
 */
import assert from "node:assert/strict";
import {
  clampedRange,
  clockOffsetOf,
  createView,
  liveRangeAt,
  MIN_SPAN_MS,
  resizedRange,
  steppedRange,
} from "../../static/view.js";

Deno.test("view: the live range ends now and spans the window; 'all' from the oldest point", () => {
  assert.deepEqual(liveRangeAt(100_000, "10s", 0), { from: 90_000, to: 100_000 });
  assert.deepEqual(liveRangeAt(100_000, "1m", 0), { from: 40_000, to: 100_000 });
  assert.deepEqual(liveRangeAt(100_000, "all", 5_000), { from: 5_000, to: 100_000 });
  assert.deepEqual(liveRangeAt(100_000, "all", Infinity), { from: 99_000, to: 100_000 }, "none");
  assert.deepEqual(liveRangeAt(100_000, "all", 99_500), { from: 99_000, to: 100_000 }, "1 s min");
  assert.deepEqual(liveRangeAt(100_000, "all", 200_000), { from: 99_000, to: 100_000 }, "future");
});

Deno.test("view: a range not live keeps its end under a new window", () => {
  assert.deepEqual(resizedRange(50_000, "10s", 0), { from: 40_000, to: 50_000 });
  assert.deepEqual(resizedRange(500_000, "5m", 0), { from: 200_000, to: 500_000 });
  assert.deepEqual(resizedRange(50_000, "all", 7_000), { from: 7_000, to: 50_000 });
  assert.deepEqual(resizedRange(50_000, "all", Infinity), { from: 49_000, to: 50_000 });
});

Deno.test("view: zoom stops at the narrowest span, around the middle", () => {
  assert.equal(MIN_SPAN_MS, 20);
  assert.deepEqual(clampedRange(100, 200), { from: 100, to: 200 });
  assert.deepEqual(clampedRange(100, 120), { from: 100, to: 120 });
  assert.deepEqual(clampedRange(100, 110), { from: 95, to: 115 });
  assert.deepEqual(clampedRange(100, 100), { from: 90, to: 110 });
});

Deno.test("view: steps zoom around the middle and pan by spans", () => {
  const r = { from: 1000, to: 2000 };
  assert.deepEqual(steppedRange(r, 0.5, 0), { from: 1250, to: 1750 }, "in");
  assert.deepEqual(steppedRange(r, 2, 0), { from: 500, to: 2500 }, "out");
  assert.deepEqual(steppedRange(r, 1, 0.25), { from: 1250, to: 2250 }, "a quarter right");
  assert.deepEqual(steppedRange(r, 1, -1), { from: 0, to: 1000 }, "a whole window left");
});

Deno.test("view: the server's clock counts only beyond a second of skew", () => {
  assert.equal(clockOffsetOf(10_500, 10_000), 0, "the hello's own delay");
  assert.equal(clockOffsetOf(9_000, 10_000), 0);
  assert.equal(clockOffsetOf(12_000, 10_000), 2_000);
  assert.equal(clockOffsetOf(4_000, 10_000), -6_000);
});

/** A view over window `key` whose hooks are recorded in `calls`. */
function recorded(key: string, oldest = Infinity) {
  const calls: string[] = [];
  const view = createView(key, {
    oldestHeld: () => oldest,
    onFixed: () => calls.push("fixed"),
    onLive: () => calls.push("live"),
    onChange: (redraw: boolean) => calls.push(redraw ? "change+draw" : "change"),
  });
  return { view, calls };
}

Deno.test("view: zoom, pause, window and live move between the modes, hooks in order", () => {
  const { view, calls } = recorded("10s");
  assert.equal(view.mode, "live");
  assert.equal(view.fixed, null);
  view.drawn({ from: 1000, to: 11_000 });
  view.zoomBy(0.5, 0); // from the range drawn
  assert.equal(view.mode, "zoomed");
  assert.deepEqual(view.fixed, { from: 3500, to: 8500 });
  assert.deepEqual(view.viewRange(), { from: 3500, to: 8500 });
  assert.deepEqual(calls.splice(0), ["fixed", "change+draw"]);
  view.zoomBy(1, 1); // steps add up from the fixed range
  assert.deepEqual(view.shownRange(), { from: 8500, to: 13_500 });
  view.setWindow("1m");
  assert.deepEqual(view.fixed, { from: -46_500, to: 13_500 }, "keeps its end");
  assert.equal(view.windowKey, "1m");
  calls.length = 0;
  view.zoomTo(NaN, 5);
  assert.deepEqual(calls, [], "not a range: ignored");
  view.goLive();
  assert.equal(view.mode, "live");
  assert.equal(view.fixed, null);
  assert.deepEqual(calls.splice(0), ["live", "change+draw"]);
  view.setWindow("5m");
  assert.deepEqual(calls, [], "live: the view only takes the window");
  view.setPaused(true);
  assert.equal(view.mode, "paused");
  assert.deepEqual(view.fixed, { from: 1000, to: 11_000 }, "where it was drawn");
  assert.deepEqual(calls.splice(0), ["change"], "paused: nothing to draw");
  view.setPaused(false);
  assert.equal(view.mode, "live");
  view.reset("1m");
  assert.equal(view.windowKey, "1m");
});

Deno.test("view: live ranges end at the server's clock", () => {
  const { view } = recorded("all", Date.now() - 30_000);
  const before = Date.now();
  view.setClock(before + 3_600_000);
  const r = view.liveRange();
  assert(view.clockOffset >= 3_599_000 && view.clockOffset <= 3_600_000, String(view.clockOffset));
  assert(r.to >= before + 3_599_000, "an hour ahead");
  assert(r.from <= before - 30_000, "'all' from the oldest point held");
  const span = view.liveSpan();
  assert(span >= r.to - r.from && span < r.to - r.from + 1000, "from the oldest point to now");
});
