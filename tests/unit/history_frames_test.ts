import assert from "node:assert/strict";
import { History } from "../../src/hub/history.ts";
import { HistoryFrameCache, MAX_CACHED_CATCH_UPS } from "../../src/hub/history_frames.ts";

/** A history of `n` points of series "a" (seq 1..n) and its frame cache. */
function held(n: number): { history: History; cache: HistoryFrameCache } {
  const history = new History(1000, 10);
  for (let seq = 1; seq <= n; seq++) history.add("a", seq, `{"seq":${seq},"x":${seq},"y":0}`);
  return { history, cache: new HistoryFrameCache(history) };
}

/** The seqs a set of frames carries, in order. */
function seqs(frames: readonly string[]): number[] {
  return frames.flatMap((f) => JSON.parse(f).points.map((p: { seq: number }) => p.seq));
}

Deno.test("HistoryFrameCache: a catch-up is exactly the points after since, not a reset", () => {
  const { cache } = held(10);
  const h = cache.for(7, undefined, "*");
  assert.equal(h.reset, false);
  assert.deepEqual(seqs(h.frames), [8, 9, 10]);
  assert.equal(h.points, 3);
});

Deno.test("HistoryFrameCache: clients resuming from the same seq share one catch-up until the history changes", () => {
  const { history, cache } = held(10);
  const first = cache.for(5, undefined, "*");
  assert.equal(cache.for(5, undefined, "*"), first, "the same frames, not built again");
  assert.notEqual(cache.for(6, undefined, "*"), first, "another since: its own frames");
  assert.deepEqual(seqs(cache.for(6, undefined, "*").frames), [7, 8, 9, 10]);
  // Another series set from the same seq is its own catch-up.
  const onlyB = cache.for(5, new Set(["b"]), "b");
  assert.notEqual(onlyB, first);
  assert.equal(onlyB.points, 0);
  // The history changes: a catch-up from the same seq holds the new point.
  history.add("a", 11, `{"seq":11,"x":11,"y":0}`);
  cache.clear();
  assert.deepEqual(seqs(cache.for(5, undefined, "*").frames), [6, 7, 8, 9, 10, 11]);
});

Deno.test("HistoryFrameCache: past MAX_CACHED_CATCH_UPS distinct catch-ups, the rest are built, still right", () => {
  const n = MAX_CACHED_CATCH_UPS + 20;
  const { cache } = held(n + 5);
  for (let since = 1; since <= n; since++) cache.for(since, undefined, "*");
  const beyond = cache.for(n, undefined, "*");
  assert.notEqual(cache.for(n, undefined, "*"), beyond, "not cached: built each time");
  assert.deepEqual(seqs(beyond.frames), [n + 1, n + 2, n + 3, n + 4, n + 5]);
  const within = cache.for(1, undefined, "*");
  assert.equal(cache.for(1, undefined, "*"), within, "the first ones stay cached");
});
