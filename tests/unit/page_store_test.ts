/**
 * The page's rings (static/store.js): the oldest point held over every series (the live "all
 * held" window starts there).
 */
import assert from "node:assert/strict";
import { SeriesSet } from "../../static/store.js";

Deno.test("page store: oldest() is the smallest x over every series, Infinity when none", () => {
  const set = new SeriesSet();
  assert.equal(set.oldest(), Infinity);
  set.add("a", 500, 1);
  set.add("b", 300, 1);
  set.add("a", 100, 1); // late: sorted in
  assert.equal(set.oldest(), 100);
  set.drop("a");
  assert.equal(set.oldest(), 300);
  set.clear();
  assert.equal(set.oldest(), Infinity);
});
