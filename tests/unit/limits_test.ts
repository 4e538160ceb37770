import assert from "node:assert/strict";
import { ConnectionCounter, RateLimiter } from "../../src/http/limits.ts";

/** A clock the test moves by hand. */
function fakeClock(start = 1000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => t += ms };
}

Deno.test("RateLimiter: a burst of `burst` passes, then refills at the rate", () => {
  const clock = fakeClock();
  const rl = new RateLimiter(2, undefined, clock.now);
  assert.equal(rl.burst, 2, "burst defaults to one second's worth");
  assert.equal(rl.take("a"), true);
  assert.equal(rl.take("a"), true);
  assert.equal(rl.take("a"), false, "bucket empty");
  assert.equal(rl.retryAfterSeconds("a"), 1);
  clock.advance(499);
  assert.equal(rl.take("a"), false, "not yet half a second: less than one token");
  clock.advance(1);
  assert.equal(rl.take("a"), true, "500 ms at 2/s: one token");
  assert.equal(rl.take("a"), false);
  clock.advance(10_000);
  assert.equal(rl.take("a"), true);
  assert.equal(rl.take("a"), true);
  assert.equal(rl.take("a"), false, "refill is capped at the burst");
});

Deno.test("RateLimiter: keys are independent", () => {
  const clock = fakeClock();
  const rl = new RateLimiter(1, 1, clock.now);
  assert.equal(rl.take("10.0.0.1"), true);
  assert.equal(rl.take("10.0.0.1"), false);
  assert.equal(rl.take("10.0.0.2"), true, "another key has its own bucket");
  assert.equal(rl.retryAfterSeconds("10.0.0.3"), 0, "an unknown key can go now");
});

Deno.test("RateLimiter: fractional rates and explicit bursts", () => {
  const clock = fakeClock();
  const rl = new RateLimiter(0.5, 3, clock.now);
  for (let i = 0; i < 3; i++) assert.equal(rl.take("k"), true);
  assert.equal(rl.take("k"), false);
  assert.equal(rl.retryAfterSeconds("k"), 2);
  clock.advance(1999);
  assert.equal(rl.take("k"), false);
  clock.advance(1);
  assert.equal(rl.take("k"), true);
  assert.equal(new RateLimiter(0.2).burst, 1, "a rate below 1/s still allows one");
});

Deno.test("RateLimiter: rate 0 is off", () => {
  const rl = new RateLimiter(0);
  assert.equal(rl.enabled, false);
  for (let i = 0; i < 1000; i++) assert.equal(rl.take("k"), true);
  assert.equal(rl.size, 0, "nothing remembered when off");
  assert.equal(rl.retryAfterSeconds("k"), 0);
});

Deno.test("RateLimiter: memory stays bounded; idle keys go first", () => {
  const clock = fakeClock();
  const rl = new RateLimiter(1, 1, clock.now, 100);
  for (let i = 0; i < 100; i++) rl.take(`busy-${i}`);
  assert.equal(rl.size, 100);
  clock.advance(5000); // every bucket is full again: all idle
  rl.take("new");
  assert.equal(rl.size, 1, "idle keys were forgotten to make room");
  // Keys that are not idle: the oldest go.
  for (let i = 0; i < 250; i++) rl.take(`k-${i}`);
  assert(rl.size <= 100, `size ${rl.size} <= 100`);
  assert.equal(rl.take("k-249"), false, "the newest key is still remembered (and empty)");
});

Deno.test("RateLimiter: bad parameters throw", () => {
  assert.throws(() => new RateLimiter(-1), RangeError);
  assert.throws(() => new RateLimiter(Number.NaN), RangeError);
  assert.throws(() => new RateLimiter(Infinity), RangeError);
  assert.throws(() => new RateLimiter(1, 0), RangeError);
});

Deno.test("ConnectionCounter: per-key maximum, idempotent release, totals", () => {
  const cc = new ConnectionCounter(2);
  const a1 = cc.acquire("a");
  const a2 = cc.acquire("a");
  assert(a1 !== null && a2 !== null);
  assert.equal(cc.acquire("a"), null, "third connection from a is refused");
  const b1 = cc.acquire("b")!;
  assert.equal(cc.count("a"), 2);
  assert.equal(cc.total, 3);
  a1();
  a1(); // twice: released once
  assert.equal(cc.count("a"), 1);
  assert.equal(cc.total, 2);
  assert.notEqual(cc.acquire("a"), null, "a has room again");
  a2();
  b1();
  assert.equal(cc.count("b"), 0);
  assert.equal(cc.keys, 1, "keys with no connection are forgotten");
});

Deno.test("ConnectionCounter: 0 means no per-key limit, totals still counted", () => {
  const cc = new ConnectionCounter(0);
  const releases = Array.from({ length: 500 }, () => cc.acquire("same"));
  assert(releases.every((r) => r !== null));
  assert.equal(cc.total, 500);
  releases.forEach((r) => r!());
  assert.equal(cc.total, 0);
  assert.equal(cc.keys, 0);
  assert.throws(() => new ConnectionCounter(-1), RangeError);
  assert.throws(() => new ConnectionCounter(1.5), RangeError);
});
