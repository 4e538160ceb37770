/** Unit tests of the clients' memory budget: who is held back (no sockets). */
import assert from "node:assert/strict";
import { budgetLevel, heldBackForBudget } from "../../src/hub/budget.ts";

Deno.test("heldBackForBudget() holds back no one while all clients together fit", () => {
  assert.deepEqual(heldBackForBudget([], 100), []);
  assert.deepEqual(heldBackForBudget([10, 20, 70], 100), []);
  assert.equal(budgetLevel([10, 20, 70], 3, 100), Infinity);
});

Deno.test("heldBackForBudget() holds back the clients with the most queued, most first", () => {
  // 5 stalled clients with 50 each and 3 that keep up: 250 + 3 > 100.
  const queued = [50, 1, 50, 0, 50, 2, 50, 50];
  const held = heldBackForBudget(queued, 100);
  assert.deepEqual(held.sort((a, b) => a - b), [0, 2, 4, 6, 7], "exactly the stalled ones");
  // 136 > 100: the level is 54 (1 + 5 + 40 + 54 = 100), so only the 90 is held back.
  assert.deepEqual(heldBackForBudget([5, 90, 40, 1], 100), [1]);
  // Most first: 500 and 300 over a level of about 47.
  assert.deepEqual(heldBackForBudget([300, 5, 500, 1], 100), [2, 0]);
});

Deno.test("budgetLevel() is the water level: what is not held back fits in the budget", () => {
  const queued = [5, 90, 40, 1, 300, 7];
  const level = budgetLevel(queued, queued.length, 100);
  const capped = queued.reduce((s, q) => s + Math.min(q, level), 0);
  assert.ok(Math.abs(capped - 100) < 1e-9, `sum of min(q, level) = ${capped}`);
  // Clients under the fair share (budget / clients) are never held back.
  assert.ok(level >= 100 / queued.length);
  for (const i of heldBackForBudget(queued, 100)) assert.ok(queued[i] > level);
});

Deno.test("budgetLevel() spares the clients that keep up even when stalled ones fill the budget", () => {
  // 1,000 stalled at 1 MiB each, 100 that keep up with a frame in flight, budget 64 MiB.
  const queued = [...Array(1000).fill(1 << 20), ...Array(100).fill(4000)];
  const held = new Set(heldBackForBudget(queued, 64 << 20));
  assert.equal(held.size, 1000);
  for (let i = 1000; i < 1100; i++) assert.ok(!held.has(i), `client ${i} keeps up`);
});

Deno.test("budgetLevel() uses the scratch array and only the first count entries", () => {
  const scratch = new Float64Array(8);
  assert.equal(budgetLevel([60, 60, 1e9], 2, 100, scratch), 50);
  assert.equal(budgetLevel([60, 60, 1e9], 1, 100, scratch), Infinity);
});
