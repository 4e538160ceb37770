import assert from "node:assert/strict";
import { bucketWidth, decimate, MinMaxStream } from "../../src/protocol/buckets.ts";

/** A stream of `[x, y]` items whose emitted buckets are collected. */
function collecting(bucketMs: number, origin = 0) {
  const out: [number, number][][] = [];
  const s = new MinMaxStream<[number, number]>(bucketMs, (items) => out.push(items), origin);
  return { s, out, push: (x: number, y: number, now = 0) => s.push(x, y, [x, y], now) };
}

Deno.test("MinMaxStream: each bucket comes out as its min and max, in x order", () => {
  const { s, out, push } = collecting(10);
  // Bucket 0: the max (x 3) before the min (x 7).
  for (const [x, y] of [[0, 5], [3, 9], [5, 4], [7, 1], [9, 6]]) push(x, y);
  assert.deepEqual(out, [], "bucket 0 stays open until a later bucket starts");
  push(12, 2); // bucket 1 opens: bucket 0 closes
  assert.deepEqual(out, [[[3, 9], [7, 1]]]);
  // Bucket 1: the min first this time.
  push(14, 8);
  push(25, 0);
  assert.deepEqual(out[1], [[12, 2], [14, 8]]);
  s.flush();
  assert.deepEqual(out[2], [[25, 0]], "a bucket of one point emits it once");
  assert.equal(s.buckets, 3);
  assert.equal(s.pending, 0);
  s.flush();
  assert.equal(out.length, 3, "flush with nothing open emits nothing");
});

Deno.test("MinMaxStream: equal y keeps the first point; a flat bucket emits one point", () => {
  const { s, out, push } = collecting(100);
  push(1, 7);
  push(2, 7);
  push(3, 7);
  s.flush();
  assert.deepEqual(out, [[[1, 7]]]);
  push(10, 7);
  push(20, 3);
  push(30, 3);
  push(40, 9);
  push(50, 9);
  s.flush();
  assert.deepEqual(out[1], [[20, 3], [40, 9]], "first min and first max");
});

Deno.test("MinMaxStream: a late point counts in the open bucket; empty buckets emit nothing", () => {
  const { s, out, push } = collecting(10);
  push(31, 1);
  push(5, 100); // late: bucket 0 < open bucket 3
  push(95, 2); // buckets 4..8 skipped
  assert.deepEqual(out, [[[5, 100], [31, 1]]], "the late point is the open bucket's max");
  s.flush();
  assert.deepEqual(out[1], [[95, 2]]);
});

Deno.test("MinMaxStream: buckets align on the origin; negative offsets floor", () => {
  const { s, out, push } = collecting(10, 1000);
  assert.equal(s.indexOf(1000), 0);
  assert.equal(s.indexOf(1009.999), 0);
  assert.equal(s.indexOf(1010), 1);
  assert.equal(s.indexOf(999), -1);
  push(1009, 1);
  push(1010, 2);
  assert.deepEqual(out, [[[1009, 1]]]);
});

Deno.test("MinMaxStream.flushIfOlder closes a bucket open at least ageMs, not before", () => {
  const { s, out, push } = collecting(10);
  push(1, 1, 500);
  push(2, 2, 505); // `now` counts only when a bucket opens
  assert.equal(s.flushIfOlder(519, 20), false);
  assert.equal(out.length, 0);
  assert.equal(s.flushIfOlder(520, 20), true);
  assert.deepEqual(out, [[[1, 1], [2, 2]]]);
  assert.equal(s.flushIfOlder(10_000, 20), false, "nothing open");
  // A point of the same bucket after a timed flush opens it again (at most 2 more points).
  push(3, 0, 600);
  s.flush();
  assert.deepEqual(out[1], [[3, 0]]);
});

Deno.test("MinMaxStream refuses a width that is not a finite number > 0", () => {
  for (const w of [0, -1, NaN, Infinity]) {
    assert.throws(() => new MinMaxStream(w, () => {}), RangeError, String(w));
  }
});

Deno.test("bucketWidth: whole ms, at least 1, and the range's end falls in the last bucket", () => {
  assert.equal(bucketWidth(0, 10), 1);
  assert.equal(bucketWidth(5, 10), 1);
  assert.equal(bucketWidth(1000, 10), 101);
  assert.equal(bucketWidth(999, 10), 100);
  for (const [span, n] of [[1000, 10], [999, 10], [10_000, 1000], [7, 3], [123_456, 1]]) {
    const w = bucketWidth(span, n);
    assert.ok(Number.isInteger(w) && w >= 1);
    assert.ok(Math.floor(span / w) < n, `span ${span} in ${n} buckets of ${w}`);
  }
});

Deno.test("decimate: everything when it fits, else min and max per bucket within maxPoints", () => {
  const xs = Array.from({ length: 1000 }, (_, i) => 10_000 + i);
  const ys = xs.map((x) => Math.sin(x / 7) * 10);
  // A spike and a dip that must survive decimation.
  ys[423] = 1000;
  ys[777] = -1000;
  const all = decimate(xs, ys, 10_000, 10_999, 1000);
  assert.equal(all.decimated, false);
  assert.equal(all.bucketMs, undefined);
  assert.equal(all.points.length, 1000);
  assert.deepEqual(all.points[5], [10_005, ys[5]]);

  const d = decimate(xs, ys, 10_000, 10_999, 100);
  assert.equal(d.decimated, true);
  assert.equal(d.bucketMs, 20);
  assert.ok(d.points.length <= 100, `${d.points.length} points`);
  assert.ok(d.points.some(([x, y]) => x === 10_423 && y === 1000), "the spike stays");
  assert.ok(d.points.some(([x, y]) => x === 10_777 && y === -1000), "the dip stays");
  for (let i = 1; i < d.points.length; i++) {
    assert.ok(d.points[i][0] > d.points[i - 1][0], "x order");
  }
  // Each bucket's min and max are exactly those of the input's points in it.
  for (let k = 0; k < 50; k++) {
    const lo = 10_000 + k * 20;
    const inBucket = ys.filter((_, i) => xs[i] >= lo && xs[i] < lo + 20);
    const outBucket = d.points.filter(([x]) => x >= lo && x < lo + 20).map(([, y]) => y);
    assert.deepEqual(
      [...outBucket].sort((a, b) => a - b),
      [Math.min(...inBucket), Math.max(...inBucket)],
      `bucket ${k}`,
    );
  }
});

Deno.test("decimate: an odd maxPoints uses floor(maxPoints / 2) buckets", () => {
  const xs = Array.from({ length: 100 }, (_, i) => i);
  const ys = xs.map((x) => (x % 2 ? x : -x));
  const d = decimate(xs, ys, 0, 99, 5);
  assert.equal(d.bucketMs, 50);
  assert.equal(d.points.length, 4);
});
