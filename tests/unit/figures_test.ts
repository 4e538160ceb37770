/**
 * The page's live figures (static/figures.js): points/s, the median lag, the fastest series over
 * the last seconds of real time. No DOM.
 */
import assert from "node:assert/strict";
import { createFigures, MAX_LAG_SAMPLES, median, RATE_TICKS } from "../../static/figures.js";

Deno.test("figures: median() of odd and even counts, in numeric order", () => {
  assert.equal(median([5]), 5);
  assert.equal(median([9, 1, 5]), 5);
  assert.equal(median([10, 2, 4, 100]), 7);
  assert.equal(median([-3, 20, 100]), 20, "numbers, not strings");
});

Deno.test("figures: a tick gives the last second's points/s and median lag", () => {
  const f = createFigures(0);
  for (const lag of [10, 30, 20]) f.point("a", lag);
  f.count(3);
  f.tick(1000);
  assert.equal(f.rate, 3);
  assert.equal(f.lagMs, 20);
  assert.equal(f.received, 3);
  f.tick(2000);
  assert.equal(f.rate, 0, "nothing in the second second");
  assert.equal(f.lagMs, null);
  f.count(5);
  f.tick(3000);
  assert.equal(f.rate, 5);
  assert.equal(f.received, 8);
});

Deno.test("figures: the fastest series is judged over the last ticks' real time", () => {
  assert.equal(RATE_TICKS, 3);
  const f = createFigures(0);
  for (let i = 0; i < 300; i++) f.point("fast", 1);
  for (let i = 0; i < 10; i++) f.point("slow", 1);
  f.tick(1000);
  assert.equal(f.fastest, 300);
  f.tick(2000);
  assert.equal(f.fastest, 150, "averaged over two seconds");
  f.tick(4000); // a late tick covers two seconds
  assert.equal(f.fastest, 75);
  f.tick(5000);
  assert.equal(f.fastest, 0, "the burst left the last three ticks");
  const g = createFigures(0);
  for (let i = 0; i < 100; i++) g.point("a", 1);
  g.tick(100);
  assert.equal(g.fastest, 200, "at least half a second");
});

Deno.test("figures: at most MAX_LAG_SAMPLES lags are kept per second", () => {
  const f = createFigures(0);
  for (let i = 0; i < MAX_LAG_SAMPLES; i++) f.point("a", 1);
  for (let i = 0; i < 1000; i++) f.point("a", 1e9);
  f.tick(1000);
  assert.equal(f.lagMs, 1, "the samples past the limit are not counted");
  assert.equal(f.fastest, MAX_LAG_SAMPLES + 1000, "every point is counted for the rate");
});
