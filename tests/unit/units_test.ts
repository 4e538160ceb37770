import assert from "node:assert/strict";
import { MAX_UNITS, SeriesUnits } from "../../src/hub/units.ts";

Deno.test("SeriesUnits: the last unit per series; the version moves only on a change", () => {
  const u = new SeriesUnits();
  assert.equal(u.version, 0);
  assert.equal(u.merge([["t", "°C"], ["p", "hPa"]]), true);
  assert.equal(u.version, 1);
  assert.equal(u.merge([["t", "°C"]]), false, "the same unit again");
  assert.equal(u.version, 1);
  assert.equal(u.merge([["t", "K"]]), true);
  assert.equal(u.get("t"), "K");
  assert.equal(u.size, 2);
  assert.deepEqual(u.entries(), [["p", "hPa"], ["t", "K"]], "oldest change first");
  assert.deepEqual({ ...u.of(["t", "nothing"]) }, { t: "K" });
  const proto = new SeriesUnits();
  proto.merge([["__proto__", "m"]]);
  assert.equal(JSON.stringify(proto.of(["__proto__"])), '{"__proto__":"m"}');
});

Deno.test("SeriesUnits: at most MAX_UNITS series, the oldest change goes first", () => {
  const u = new SeriesUnits();
  u.merge(Array.from({ length: MAX_UNITS }, (_, i) => [`s${i}`, "m"] as const));
  u.merge([["s0", "km"]]); // s0 becomes the newest
  u.merge([["new", "m"]]);
  assert.equal(u.size, MAX_UNITS);
  assert.equal(u.get("s1"), undefined, "the oldest dropped");
  assert.equal(u.get("s0"), "km");
  assert.equal(u.get("new"), "m");
});
