import assert from "node:assert/strict";
import {
  encodePoint,
  helloFrame,
  pointsFrame,
  readXY,
  seriesListFrame,
  SERVER_INFO,
} from "../../src/protocol/frames.ts";
import type { Point } from "../../src/protocol/ingress.ts";

Deno.test("frames: encodePoint is exactly the documented JSON object", () => {
  assert.equal(
    encodePoint(7, { x: 1_700_000_000_123, y: 1.5, series: "cpu" }),
    '{"seq":7,"x":1700000000123,"y":1.5,"series":"cpu"}',
  );
});

Deno.test("frames: encodePoint parses back to the same values", () => {
  const cases: Array<[number, Point]> = [
    [0, { x: 0, y: 0, series: "value" }],
    [1, { x: 1_700_000_000_000.5, y: -3.25, series: "a" }],
    [2, { x: 1e21, y: 1e-7, series: "tiny" }],
    [3, { x: -1e12, y: Number.MAX_VALUE, series: "max" }],
    [4, { x: 1e12, y: -Number.MAX_VALUE, series: "min" }],
    [5, { x: 1e12, y: 5e-324, series: "denormal" }],
    [Number.MAX_SAFE_INTEGER, { x: 1e12, y: 0.1 + 0.2, series: "float" }],
  ];
  for (const [seq, p] of cases) {
    const s = encodePoint(seq, p);
    const back = JSON.parse(s);
    assert.deepEqual(back, { seq, ...p }, s);
    assert.deepEqual(Object.keys(back), ["seq", "x", "y", "series"]);
  }
});

Deno.test("frames: encodePoint escapes series names that need it", () => {
  const names = [
    'say "hi"',
    "back\\slash",
    "slash/",
    "</script><script>alert(1)</script>",
    "温度",
    "📈 rate",
    "\u00e9\u0301", // combining accent
    "\u2028line\u2029sep",
    "\ud800 lone surrogate",
    "\u007f\u0085",
    "\n\t\r\u0000",
    "'single'",
    '{"x":1}',
    "__proto__",
  ];
  for (const series of names) {
    const s = encodePoint(1, { x: 1e12, y: 2, series });
    const back = JSON.parse(s);
    assert.equal(back.series, series, JSON.stringify(series));
    assert.equal(back.x, 1e12);
    assert.equal(back.y, 2);
    assert.equal(back.seq, 1);
    assert.deepEqual(Object.keys(back), ["seq", "x", "y", "series"], "no injected keys");
  }
  // A lone surrogate is escaped, so the frame is valid UTF-8 when sent.
  assert(encodePoint(1, { x: 1, y: 1, series: "\ud800" }).includes("\\ud800"));
});

Deno.test("frames: negative zero encodes as a number", () => {
  const back = JSON.parse(encodePoint(1, { x: -0, y: -0, series: "z" }));
  assert.equal(back.x, 0);
  assert.equal(back.y, 0);
});

Deno.test("frames: pointsFrame wraps encoded points in order", () => {
  const encoded = [
    encodePoint(1, { x: 1e12, y: 1, series: "a" }),
    encodePoint(2, { x: 1e12 + 1, y: 2, series: 'b"' }),
    encodePoint(3, { x: 1e12 + 2, y: 3, series: "a" }),
  ];
  const frame = pointsFrame(encoded);
  const back = JSON.parse(frame);
  assert.deepEqual(back, {
    type: "points",
    points: [
      { seq: 1, x: 1e12, y: 1, series: "a" },
      { seq: 2, x: 1e12 + 1, y: 2, series: 'b"' },
      { seq: 3, x: 1e12 + 2, y: 3, series: "a" },
    ],
  });
  assert.deepEqual(Object.keys(back), ["type", "points"]);
  assert.equal(
    frame,
    `{"type":"points","points":[${encoded[0]},${encoded[1]},${encoded[2]}]}`,
  );
});

Deno.test("frames: pointsFrame of one point and of none", () => {
  const one = encodePoint(9, { x: 1e12, y: 9, series: "s" });
  assert.deepEqual(JSON.parse(pointsFrame([one])), {
    type: "points",
    points: [{ seq: 9, x: 1e12, y: 9, series: "s" }],
  });
  assert.deepEqual(JSON.parse(pointsFrame([])), { type: "points", points: [] });
});

Deno.test("frames: pointsFrame does not modify its input", () => {
  const encoded = Object.freeze([encodePoint(1, { x: 1, y: 1, series: "a" })]);
  pointsFrame(encoded);
  assert.equal(encoded.length, 1);
});

Deno.test("frames: helloFrame carries session, epoch, seq and the server info", () => {
  const frame = helloFrame({ session: "s-1", epoch: "e-42", seq: 123, resumed: false }, 1.7e12);
  const back = JSON.parse(frame);
  assert.deepEqual(back, {
    type: "hello",
    session: "s-1",
    epoch: "e-42",
    seq: 123,
    resumed: false,
    server: { name: "zws", version: "0.1.0" },
    time: 1.7e12,
  });
  assert.equal(Object.keys(back)[0], "type", "type comes first");
  assert.deepEqual(back.server, SERVER_INFO);
});

Deno.test("frames: helloFrame escapes odd session and epoch strings", () => {
  const h = { session: 'a"b\\c\n', epoch: "温📈", seq: 0, resumed: true };
  const back = JSON.parse(helloFrame(h));
  assert.equal(back.session, h.session);
  assert.equal(back.epoch, h.epoch);
  assert.equal(back.seq, 0);
  assert.equal(back.type, "hello");
});

Deno.test("frames: SERVER_INFO is frozen", () => {
  assert(Object.isFrozen(SERVER_INFO));
  assert.equal(SERVER_INFO.name, "zws");
  assert.match(SERVER_INFO.version, /^\d+\.\d+\.\d+/);
});

Deno.test("seriesListFrame(): names sorted, units of those that have one", () => {
  assert.equal(
    seriesListFrame(["b", "a"], { a: "°C" }),
    '{"type":"series_list","series":["a","b"],"units":{"a":"°C"}}',
  );
  assert.equal(seriesListFrame([]), '{"type":"series_list","series":[],"units":{}}');
});

Deno.test("readXY(): x and y of a point's client JSON, whatever the series holds", () => {
  assert.deepEqual(readXY(encodePoint(3, { x: 1.5e12, y: -0.25, series: 'a,"y":9' })), {
    x: 1.5e12,
    y: -0.25,
  });
  assert.deepEqual(readXY('{"seq":1,"x":1700000000000,"y":1e-7,"series":"s"}'), {
    x: 1700000000000,
    y: 1e-7,
  });
});
