/**
 * The controls' pure rules (static/controls.js): the key map and the fixed y range.
 */
import assert from "node:assert/strict";
import { keyCommand, parseYRange } from "../../static/controls.js";

Deno.test("controls: arrows pan a quarter window (Shift: a whole one), +/- zoom, L/End live", () => {
  assert.deepEqual(keyCommand("ArrowLeft", false), { factor: 1, shift: -0.25 });
  assert.deepEqual(keyCommand("ArrowRight", false), { factor: 1, shift: 0.25 });
  assert.deepEqual(keyCommand("ArrowLeft", true), { factor: 1, shift: -1 });
  assert.deepEqual(keyCommand("ArrowRight", true), { factor: 1, shift: 1 });
  for (const k of ["+", "="]) assert.deepEqual(keyCommand(k, false), { factor: 0.5, shift: 0 });
  for (const k of ["-", "_"]) assert.deepEqual(keyCommand(k, true), { factor: 2, shift: 0 });
  for (const k of ["l", "L", "End"]) assert.equal(keyCommand(k, false), "live");
  for (const k of ["ArrowUp", "Home", "x", " ", "Enter", "Escape"]) {
    assert.equal(keyCommand(k, false), null, k);
  }
});

Deno.test("controls: a fixed y range needs two numbers, min below max", () => {
  assert.deepEqual(parseYRange("-1", "1"), [-1, 1]);
  assert.deepEqual(parseYRange("0.5", "2e3"), [0.5, 2000]);
  assert.equal(parseYRange("1", "1"), null, "empty range");
  assert.equal(parseYRange("2", "1"), null, "upside down");
  assert.equal(parseYRange("", "1"), null, "a box left empty");
  assert.equal(parseYRange("1", "Infinity"), null);
  assert.equal(parseYRange("abc", "5"), null);
});
