/**
 * When the page asks for decimated live data, and at which rate (static/rate.js). Pure.
 */
import assert from "node:assert/strict";
import { MAX_RATE, nextRate, ON_FACTOR, targetRate } from "../../static/rate.js";

Deno.test("rate: targetRate() is two points per pixel column per second of the window", () => {
  assert.equal(targetRate(1000, 10_000), 200);
  assert.equal(targetRate(1000, 60_000), 33);
  assert.equal(targetRate(1100, 300_000), 7);
  assert.equal(targetRate(50, 3_600_000), 1, "at least one point per second");
  assert.equal(targetRate(1e6, 1), MAX_RATE);
  assert.equal(targetRate(1000, Infinity), null);
  assert.equal(targetRate(0, 10_000), null);
});

Deno.test("rate: nextRate() turns decimation on for a fast series only", () => {
  assert.equal(nextRate(null, 100, 200), null, "slower than the window needs");
  assert.equal(nextRate(null, 200 * ON_FACTOR, 200), null, "at the threshold");
  assert.equal(nextRate(null, 10_000, 200), 200);
  assert.equal(nextRate(null, 10_000, null), null, "no target (SSE): exact");
  assert.equal(nextRate(200, 10_000, null), null);
});

Deno.test("rate: nextRate() follows the window, and goes exact when the stream slowed", () => {
  assert.equal(nextRate(200, 200, 33), 33, "a longer window: fewer points");
  assert.equal(nextRate(33, 33, 200), 200, "a shorter one: more, before judging the speed");
  assert.equal(nextRate(200, 195, 205), 200, "a small change is not worth a message");
  assert.equal(nextRate(200, 50, 200), null, "a quarter of the rate: the stream is slow");
  assert.equal(nextRate(200, 120, 200), 200);
});
