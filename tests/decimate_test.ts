import assert from "node:assert/strict";
import "../static/decimate.js";

type Pt = [number, number];
const decimate = (globalThis as unknown as {
  zwsDecimate: (d: Pt[], xmin: number, xmax: number, w: number) => Pt[];
}).zwsDecimate;

Deno.test("decimate: small series are returned as they are", () => {
  const data: Pt[] = [[0, 1], [1, 2], [2, 3]];
  assert.equal(decimate(data, 0, 2, 100), data);
});

Deno.test("decimate: at most 4 points per pixel column, keeping first, min, max, last", () => {
  const data: Pt[] = [];
  for (let i = 0; i < 100_000; i++) data.push([i, Math.sin(i / 50) * 10 + (i % 7 === 0 ? 5 : 0)]);
  const out = decimate(data, 0, 99_999, 500);
  assert.ok(out.length <= 4 * 500, `${out.length} points`);
  assert.ok(out.length >= 500);
  // x stays in order.
  for (let i = 1; i < out.length; i++) assert.ok(out[i][0] > out[i - 1][0]);
  // Every column's extremes survive: the global min and max are kept.
  const ys = data.map((p) => p[1]);
  assert.equal(Math.max(...out.map((p) => p[1])), Math.max(...ys));
  assert.equal(Math.min(...out.map((p) => p[1])), Math.min(...ys));
  // First and last points are kept.
  assert.deepEqual(out[0], data[0]);
  assert.deepEqual(out.at(-1), data.at(-1));
  // A spike in one column is not lost.
  const spiky = data.map((p): Pt => [p[0], 0]);
  spiky[54_321] = [54_321, 1000];
  assert.ok(decimate(spiky, 0, 99_999, 500).some((p) => p[1] === 1000));
});

Deno.test("decimate: points outside the range are dropped but for one on each side", () => {
  const data: Pt[] = [];
  for (let i = 0; i < 10_000; i++) data.push([i, i]);
  const out = decimate(data, 5000, 6000, 100);
  assert.deepEqual(out[0], [4999, 4999]);
  assert.deepEqual(out.at(-1), [6001, 6001]);
  assert.ok(out.length <= 4 * 100 + 2);
});
