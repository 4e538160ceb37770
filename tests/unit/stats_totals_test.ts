import assert from "node:assert/strict";
import { carryStats, EMPTY_STATS, totalStats } from "../../src/relay/stats_totals.ts";
import type { RelayStats } from "../../src/relay/worker_messages.ts";

const generation = (n: number, lastSeq: number): RelayStats => ({
  messages: 10 * n,
  points: 100 * n,
  rejected: { invalid_json: n },
  lastSeq,
  pending: n,
  loopRestarts: n,
  busWaitMs: 5 * n,
  producersRefused: n,
  ingress: { connections: n, accepted: 2 * n, protocolErrors: n, refused: n },
});

Deno.test("totalStats() adds the counters carried from dead workers; gauges are the current one's", () => {
  const carried = structuredClone(EMPTY_STATS);
  carryStats(carried, generation(1, 100));
  carryStats(carried, generation(2, 300));
  const now = { ...generation(4, 700), rejected: { oversize: 3 }, persist: undefined };
  const t = totalStats(carried, now);
  assert.equal(t.messages, 70);
  assert.equal(t.points, 700);
  assert.deepEqual(t.rejected, { invalid_json: 3, oversize: 3 });
  assert.equal(t.producersRefused, 7);
  assert.equal(t.loopRestarts, 7);
  assert.equal(t.busWaitMs, 35);
  // Gauges: the current generation's only.
  assert.equal(t.lastSeq, 700);
  assert.equal(t.pending, 4);
  assert.deepEqual(t.ingress, { connections: 4, accepted: 14, protocolErrors: 7, refused: 7 });
  assert.equal("persist" in t, false);
});

Deno.test("carryStats() drops a dead worker's open connections; totalStats() keeps the carried ingress", () => {
  const carried = structuredClone(EMPTY_STATS);
  carryStats(carried, generation(3, 10));
  assert.equal(carried.ingress?.connections, 0, "a dead worker's connections are gone");
  // A generation with no ingress counters yet (just started) still shows the carried ones.
  const t = totalStats(carried, structuredClone(EMPTY_STATS));
  assert.deepEqual(t.ingress, { connections: 0, accepted: 6, protocolErrors: 3, refused: 3 });
  assert.equal(t.pending, 0);
  assert.deepEqual(EMPTY_STATS.rejected, {}, "EMPTY_STATS itself is never written");
});
