import assert from "node:assert/strict";
import {
  DEFAULT_SERIES,
  MAX_SERIES_LENGTH,
  MAX_UNIT_LENGTH,
  type ParsedMessage,
  parseEncoded,
  parseMessage,
  type Point,
  REJECT_REASONS,
  type RejectReason,
  SECONDS_THRESHOLD,
  seriesProblem,
  toPoint,
  unitProblem,
} from "../../src/protocol/ingress.ts";
import { encodedTails } from "../_support/encoded.ts";

const enc = new TextEncoder();
const MAX = 65536;

/** Frames from strings (UTF-8) or raw bytes. */
function frames(...parts: Array<string | Uint8Array>): Uint8Array[] {
  return parts.map((p) => typeof p === "string" ? enc.encode(p) : p);
}

function parse(...parts: Array<string | Uint8Array>): ParsedMessage {
  return parseMessage(frames(...parts), MAX);
}

function json(v: unknown): string {
  return JSON.stringify(v);
}

/** Insists the message yields exactly one rejection with `reason`; returns its detail. */
function rejectedAs(m: ParsedMessage, reason: RejectReason): string {
  assert.deepEqual(m.points, [], "no points");
  assert.equal(m.rejected.length, 1, `one rejection: ${json(m.rejected)}`);
  assert.equal(m.rejected[0].reason, reason, json(m.rejected));
  assert.equal(typeof m.rejected[0].detail, "string");
  assert(m.rejected[0].detail.length > 0, "detail is not empty");
  return m.rejected[0].detail;
}

Deno.test("ingress: constants", () => {
  assert.equal(DEFAULT_SERIES, "value");
  assert.equal(MAX_SERIES_LENGTH, 64);
  assert.equal(SECONDS_THRESHOLD, 1e11);
  assert.deepEqual([...REJECT_REASONS], [
    "oversize",
    "frame_count",
    "invalid_utf8",
    "invalid_json",
    "not_a_point",
    "empty_batch",
    "invalid_x",
    "invalid_y",
    "invalid_series",
    "invalid_unit",
    "overload",
  ]);
});

Deno.test("ingress: a single point in milliseconds passes unchanged", () => {
  const m = parse(json({ x: 1_700_000_000_123, y: 42.5, series: "temp" }));
  assert.deepEqual(m, {
    points: [{ x: 1_700_000_000_123, y: 42.5, series: "temp" }],
    rejected: [],
  });
});

Deno.test("ingress: a point without series goes to the default series", () => {
  const m = parse(json({ x: 1_700_000_000_000, y: -1 }));
  assert.deepEqual(m.points, [{ x: 1_700_000_000_000, y: -1, series: "value" }]);
  assert.deepEqual(m.rejected, []);
});

Deno.test("ingress: the point holds only x, y and series (extra keys dropped)", () => {
  const m = parse(json({ x: 1e12, y: 0, series: "s", extra: "drop me", seq: 99 }));
  assert.equal(m.points.length, 1);
  assert.deepEqual(Object.keys(m.points[0]).sort(), ["series", "x", "y"]);
});

Deno.test("ingress: y may be any finite number, including 0, negatives and extremes", () => {
  for (const y of [0, -1, 1e-300, -1e300, Number.MAX_VALUE, -Number.MAX_VALUE, 5e-324]) {
    const m = parse(json({ x: 1e12, y }));
    assert.equal(m.points.length, 1, `y=${y}`);
    assert.equal(m.points[0].y, y);
  }
  assert(Object.is(parse('{"x":1e12,"y":-0}').points[0].y, -0), "-0 survives");
});

Deno.test("ingress: a batch yields every point in order", () => {
  const batch = [
    { x: 1e12, y: 1, series: "a" },
    { x: 1e12 + 1, y: 2, series: "b" },
    { x: 1e12 + 2, y: 3 },
  ];
  const m = parse(json(batch));
  assert.deepEqual(m.points, [
    { x: 1e12, y: 1, series: "a" },
    { x: 1e12 + 1, y: 2, series: "b" },
    { x: 1e12 + 2, y: 3, series: "value" },
  ]);
  assert.deepEqual(m.rejected, []);
});

Deno.test("ingress: a large batch within the byte limit is accepted whole", () => {
  const batch = Array.from({ length: 5000 }, (_, i) => ({ x: 1e12 + i, y: i }));
  const m = parseMessage(frames(json(batch)), 1024 * 1024);
  assert.equal(m.points.length, 5000);
  assert.deepEqual(m.points.map((p) => p.y), batch.map((p) => p.y));
});

Deno.test("ingress: two frames [series, json]: the topic names the series of every point", () => {
  const m = parse(
    "cpu",
    json([{ x: 1e12, y: 1, series: "ignored" }, { x: 1e12 + 1, y: 2 }]),
  );
  assert.deepEqual(m.points, [
    { x: 1e12, y: 1, series: "cpu" },
    { x: 1e12 + 1, y: 2, series: "cpu" },
  ]);
  // The topic also overrides a series that would be invalid on its own.
  const m2 = parse("cpu", json({ x: 1e12, y: 1, series: 7 }));
  assert.deepEqual(m2.points, [{ x: 1e12, y: 1, series: "cpu" }]);
  const m3 = parse("cpu", json({ x: 1e12, y: 1, series: "" }));
  assert.deepEqual(m3.points, [{ x: 1e12, y: 1, series: "cpu" }]);
});

Deno.test("ingress: toPoint with a topic series overrides the point's own", () => {
  assert.deepEqual(toPoint({ x: 1e12, y: 1, series: "own" }, "topic"), {
    x: 1e12,
    y: 1,
    series: "topic",
  });
  assert.deepEqual(toPoint({ x: 1e12, y: 1, series: "own" }), { x: 1e12, y: 1, series: "own" });
});

Deno.test("ingress: x below 1e11 is epoch seconds and becomes milliseconds", () => {
  const cases: Array<[number, number]> = [
    [1_700_000_000, 1_700_000_000_000],
    [1_700_000_000.5, 1_700_000_000_500],
    [0, 0],
    [1, 1000],
    [-5, -5000],
    [99_999_999_999, 99_999_999_999_000],
  ];
  for (const [x, ms] of cases) {
    const m = parse(json({ x, y: 0 }));
    assert.equal(m.points.length, 1, `x=${x}`);
    assert.equal(m.points[0].x, ms, `x=${x}`);
  }
});

Deno.test("ingress: x at or above 1e11 is milliseconds and kept as is", () => {
  for (const x of [1e11, 1e11 + 0.5, 1_700_000_000_000, 1_700_000_000_000.25, 1e15, 1e300]) {
    const m = parse(json({ x, y: 0 }));
    assert.equal(m.points[0].x, x, `x=${x}`);
  }
  // Large negative values are milliseconds too (|x| is compared).
  assert.equal(parse(json({ x: -1e12, y: 0 })).points[0].x, -1e12);
});

Deno.test("ingress: seconds are rounded to the microsecond, without float noise", () => {
  // 1.005 * 1000 is 1004.9999999999999 in floating point; the result must be exactly 1005.
  assert.notEqual(1.005 * 1000, 1005, "premise: naive multiplication is noisy");
  assert.equal(parse(json({ x: 1.005, y: 0 })).points[0].x, 1005);
  assert.equal(parse(json({ x: 1.1, y: 0 })).points[0].x, 1100);
  assert.equal(parse(json({ x: 1_700_000_000.001, y: 0 })).points[0].x, 1_700_000_000_001);
  // Below a microsecond is rounded away.
  assert.equal(parse(json({ x: 1.0000004, y: 0 })).points[0].x, 1000);
  assert.equal(parse(json({ x: 1.0000006, y: 0 })).points[0].x, 1000.001);
  assert.equal(parse(json({ x: 1_700_000_000.1234567, y: 0 })).points[0].x, 1_700_000_000_123.457);
  // The same conversion as Python's time.time() values, e.g. 1322225400.123.
  assert.equal(parse(json({ x: 1322225400.123, y: 0 })).points[0].x, 1322225400123);
});

Deno.test("ingress: oversize counts the bytes of all frames together", () => {
  const body = json({ x: 1e12, y: 1 });
  const size = enc.encode("s").byteLength + enc.encode(body).byteLength;
  // Exactly at the limit is fine.
  assert.equal(parseMessage(frames("s", body), size).points.length, 1);
  // One byte over (each frame alone is under the limit) is oversize.
  const d = rejectedAs(parseMessage(frames("s", body), size - 1), "oversize");
  assert.match(d, new RegExp(`${size} bytes > limit ${size - 1}`));
  // A single frame over the limit.
  rejectedAs(parseMessage(frames(body), body.length - 1), "oversize");
  // Oversize is checked before anything else, even the frame count.
  rejectedAs(parseMessage(frames("a", "b", "c"), 2), "oversize");
  rejectedAs(parseMessage([new Uint8Array([0xff, 0xff])], 1), "oversize");
});

Deno.test("ingress: frame_count: zero frames or more than two", () => {
  assert.match(rejectedAs(parseMessage([], MAX), "frame_count"), /0 frames/);
  const body = json({ x: 1e12, y: 1 });
  assert.match(rejectedAs(parse("a", "b", body), "frame_count"), /3 frames/);
  rejectedAs(parse("a", "b", "c", body), "frame_count");
});

Deno.test("ingress: invalid_utf8 in the payload or the series frame", () => {
  const bad = [
    new Uint8Array([0xff]),
    new Uint8Array([0xc3]), // truncated two-byte sequence
    new Uint8Array([0xc0, 0xaf]), // overlong "/"
    new Uint8Array([0xed, 0xa0, 0x80]), // encoded surrogate
    new Uint8Array([0xf4, 0x90, 0x80, 0x80]), // above U+10FFFF
  ];
  for (const b of bad) {
    assert.match(rejectedAs(parseMessage([b], MAX), "invalid_utf8"), /payload/);
    assert.match(
      rejectedAs(parseMessage([b, enc.encode(json({ x: 1e12, y: 1 }))], MAX), "invalid_utf8"),
      /series frame/,
    );
  }
  // Invalid UTF-8 inside a JSON string is still invalid UTF-8 (not silently replaced).
  const payload = new Uint8Array([
    ...enc.encode('{"x":1e12,"y":1,"series":"a'),
    0xff,
    ...enc.encode('"}'),
  ]);
  rejectedAs(parseMessage([payload], MAX), "invalid_utf8");
  // Valid series frame, invalid payload: still the payload's fault.
  assert.match(
    rejectedAs(parseMessage([enc.encode("ok"), new Uint8Array([0x80])], MAX), "invalid_utf8"),
    /payload/,
  );
});

Deno.test("ingress: a UTF-8 byte order mark before the JSON is tolerated", () => {
  const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode(json({ x: 1e12, y: 3 }))]);
  assert.deepEqual(parseMessage([bom], MAX).points, [{ x: 1e12, y: 3, series: "value" }]);
});

Deno.test("ingress: invalid_json", () => {
  for (
    const bad of [
      "",
      " ",
      "{",
      "{x:1,y:2}",
      "{'x':1,'y':2}",
      '{"x":1e12,"y":NaN}',
      '{"x":1e12,"y":Infinity}',
      '{"x":1e12,"y":-Infinity}',
      '{"x":1e12,"y":1,}',
      '{"x":0x10,"y":1}',
      '{"x":1e12,"y":1}{"x":1e12,"y":2}',
      "undefined",
    ]
  ) {
    const d = rejectedAs(parse(bad), "invalid_json");
    assert(d.length <= 120, "detail is capped");
  }
});

Deno.test("ingress: not_a_point for JSON that is not an object", () => {
  for (const v of ["null", "5", '"str"', "true", "false"]) {
    assert.match(rejectedAs(parse(v), "not_a_point"), /expected an object/);
  }
  assert.match(rejectedAs(parse("[[1,2]]"), "not_a_point"), /got array/);
  assert.match(rejectedAs(parse("null"), "not_a_point"), /got null/);
  assert.match(rejectedAs(parse("7"), "not_a_point"), /got number/);
});

Deno.test("ingress: empty_batch", () => {
  assert.match(rejectedAs(parse("[]"), "empty_batch"), /empty/);
  rejectedAs(parse("topic", "[ ]"), "empty_batch");
});

Deno.test("ingress: invalid_x", () => {
  for (
    const p of [
      { y: 1 },
      { x: null, y: 1 },
      { x: "1700000000", y: 1 },
      { x: true, y: 1 },
      { x: [1], y: 1 },
      { x: { v: 1 }, y: 1 },
      { X: 1e12, y: 1 },
    ]
  ) rejectedAs(parse(json(p)), "invalid_x");
  assert.match(rejectedAs(parse(json({ y: 1 })), "invalid_x"), /got undefined/);
  assert.match(rejectedAs(parse(json({ x: "5", y: 1 })), "invalid_x"), /got string/);
  // x is checked before y.
  rejectedAs(parse(json({ x: "a", y: "b" })), "invalid_x");
});

Deno.test("ingress: invalid_y", () => {
  for (
    const p of [
      { x: 1e12 },
      { x: 1e12, y: null },
      { x: 1e12, y: "3.5" },
      { x: 1e12, y: false },
      { x: 1e12, y: [3] },
      { x: 1e12, y: {} },
    ]
  ) rejectedAs(parse(json(p)), "invalid_y");
  assert.match(rejectedAs(parse(json({ x: 1e12, y: null })), "invalid_y"), /got null/);
});

Deno.test("ingress: numbers beyond double range (1e400) are rejected, not Infinity", () => {
  assert.match(rejectedAs(parse('{"x":1e12,"y":1e400}'), "invalid_y"), /Infinity/);
  assert.match(rejectedAs(parse('{"x":1e12,"y":-1e400}'), "invalid_y"), /-Infinity/);
  assert.match(rejectedAs(parse('{"x":1e400,"y":1}'), "invalid_x"), /Infinity/);
  rejectedAs(parse('{"x":-1e400,"y":1}'), "invalid_x");
  // Tiny numbers underflow to 0, which is a valid value.
  assert.equal(parse('{"x":1e12,"y":1e-400}').points[0].y, 0);
  // Many digits are fine.
  const m = parse(`{"x":1e12,"y":${"9".repeat(300)}}`);
  assert.equal(m.points.length, 1);
  assert(Number.isFinite(m.points[0].y));
});

Deno.test("ingress: NaN-like and number-like strings are not numbers", () => {
  for (const s of ["NaN", "Infinity", "-Infinity", "1e3", "0", "", " 1 "]) {
    rejectedAs(parse(json({ x: 1e12, y: s })), "invalid_y");
    rejectedAs(parse(json({ x: s, y: 1 })), "invalid_x");
  }
});

Deno.test("ingress: toPoint rejects non-finite numbers passed directly", () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    const rx = toPoint({ x: bad, y: 1 });
    assert("reason" in rx && rx.reason === "invalid_x", `x=${bad}`);
    const ry = toPoint({ x: 1e12, y: bad });
    assert("reason" in ry && ry.reason === "invalid_y", `y=${bad}`);
  }
  const arr = toPoint([1, 2]);
  assert("reason" in arr && arr.reason === "not_a_point");
  const und = toPoint(undefined);
  assert("reason" in und && und.reason === "not_a_point");
});

Deno.test("ingress: invalid_series in the point", () => {
  for (const s of [5, null, true, ["a"], { name: "a" }]) {
    assert.match(
      rejectedAs(parse(json({ x: 1e12, y: 1, series: s })), "invalid_series"),
      /series must be a string/,
    );
  }
  assert.match(rejectedAs(parse(json({ x: 1e12, y: 1, series: "" })), "invalid_series"), /empty/);
});

Deno.test("ingress: a unit names its series' unit; the point's client JSON has none", () => {
  const m = parse(json([
    { x: 1e12, y: 1, series: "t", unit: "°C" },
    { x: 1e12, y: 2, series: "p", unit: "hPa" },
    { x: 1e12, y: 3, series: "t", unit: "K" },
    { x: 1e12, y: 4, series: "q" },
  ]));
  assert.deepEqual(m.rejected, []);
  assert.equal(m.points.length, 4);
  assert.equal(m.points[0].unit, "°C");
  assert.deepEqual([...m.units!], [["t", "K"], ["p", "hPa"]], "the last unit per series");
  const e = parseEncoded(frames(json({ x: 1e12, y: 1, series: "t", unit: "°C" })), MAX);
  assert.deepEqual(encodedTails(e.points), ['"x":1000000000000,"y":1,"series":"t"}']);
  assert.deepEqual([...e.units!], [["t", "°C"]]);
  // The topic frame names the series a unit belongs to.
  assert.deepEqual([...parse("topic", json({ x: 1e12, y: 1, unit: "m" })).units!], [[
    "topic",
    "m",
  ]]);
  // No unit: no map (and compact payloads take the scanner's path, which never sees one).
  assert.equal(parse(json({ x: 1e12, y: 1, series: "t" })).units, undefined);
  assert.equal(parseEncoded(frames('[{"x":1e12,"y":1,"series":"t"}]'), MAX).units, undefined);
});

Deno.test("ingress: invalid_unit drops the point, not its neighbours", () => {
  assert.equal(MAX_UNIT_LENGTH, 16);
  for (
    const [u, why] of [
      ["", /empty/],
      ["x".repeat(17), /longer than 16/],
      ["a\nb", /control/],
      ["\u0085", /control/],
      [5, /must be a string, got number/],
      [null, /got null/],
      [["m"], /got array/],
    ] as const
  ) {
    assert.match(rejectedAs(parse(json({ x: 1e12, y: 1, unit: u })), "invalid_unit"), why);
  }
  assert.equal(unitProblem("x".repeat(16)), undefined, "16 characters");
  assert.equal(unitProblem("😀".repeat(16)), undefined, "counted in code points");
  const m = parse(json([{ x: 1e12, y: 1, unit: "" }, { x: 1e12, y: 2, unit: "m/s²" }]));
  assert.deepEqual(m.rejected.map((r) => r.reason), ["invalid_unit"]);
  assert.deepEqual(m.points, [{ x: 1e12, y: 2, series: "value", unit: "m/s²" }]);
});

Deno.test("ingress: invalid_series in the topic frame rejects the whole message", () => {
  const body = json([{ x: 1e12, y: 1 }, { x: 1e12, y: 2 }]);
  assert.match(rejectedAs(parse("", body), "invalid_series"), /empty/);
  rejectedAs(parse("a".repeat(65), body), "invalid_series");
  rejectedAs(parse("a\nb", body), "invalid_series");
  // The topic is validated before the payload is parsed.
  rejectedAs(parse("", "not json"), "invalid_series");
});

Deno.test("ingress: series length: 64 characters ok, 65 rejected, counted in code points", () => {
  const ok = (s: string) => {
    assert.equal(seriesProblem(s), undefined, `${[...s].length} code points`);
    assert.deepEqual(parse(json({ x: 1e12, y: 1, series: s })).points[0]?.series, s);
    assert.equal(parse(s, json({ x: 1e12, y: 1 })).points[0]?.series, s);
  };
  const bad = (s: string) => {
    assert.match(seriesProblem(s) ?? "", /longer than 64 characters/);
    rejectedAs(parse(json({ x: 1e12, y: 1, series: s })), "invalid_series");
    rejectedAs(parse(s, json({ x: 1e12, y: 1 })), "invalid_series");
  };
  ok("a");
  ok("a".repeat(64));
  bad("a".repeat(65));
  // Emoji are two UTF-16 units each but one character.
  const emoji = "📈";
  assert.equal(emoji.length, 2);
  ok(emoji.repeat(64));
  bad(emoji.repeat(65));
  ok("a".repeat(63) + emoji);
  bad("a".repeat(64) + emoji);
  // Two-byte and three-byte UTF-8 characters.
  ok("é".repeat(64));
  bad("é".repeat(65));
  ok("温".repeat(64));
  bad("温".repeat(65));
  // Huge names are rejected too.
  const huge = "x".repeat(1_000_000);
  assert.match(seriesProblem(huge) ?? "", /longer than 64/);
  const m = parseMessage(frames(huge, json({ x: 1e12, y: 1 })), 2_000_000);
  rejectedAs(m, "invalid_series");
});

Deno.test("ingress: series with control characters are rejected", () => {
  const controls = [
    "\u0000",
    "\u0001",
    "\t",
    "\n",
    "\r",
    "\u001b",
    "\u001f",
    "\u007f",
    "\u0085",
    "\u009b",
    "\u009f",
  ];
  for (const c of controls) {
    const s = `a${c}b`;
    assert.match(seriesProblem(s) ?? "", /control characters/, json(s));
    rejectedAs(parse(json({ x: 1e12, y: 1, series: s })), "invalid_series");
    rejectedAs(parse(s, json({ x: 1e12, y: 1 })), "invalid_series");
  }
  rejectedAs(parse(json({ x: 1e12, y: 1, series: "\u001b[31mred" })), "invalid_series");
});

Deno.test("ingress: series with a lone surrogate are rejected (UTF-8 would make them U+FFFD)", () => {
  for (const s of ["\ud800", "a\udbffb", "\udc00", "x\udfff", "\udc00\ud800"]) {
    assert.match(seriesProblem(s) ?? "", /lone surrogate/, json(s));
    // JSON escapes reach it as the lone unit; a producer's raw text cannot hold one.
    rejectedAs(parse(json({ x: 1e12, y: 1, series: s })), "invalid_series");
  }
  assert.equal(seriesProblem("\ud83d\ude00"), undefined, "a pair is one code point: fine");
  assert.equal(seriesProblem("\ufffd"), undefined);
});

Deno.test("ingress: printable series names with quotes, spaces and unicode are fine", () => {
  for (
    const s of [
      "cpu load",
      'say "hi"',
      "back\\slash",
      "<b>html</b>",
      "温度",
      "Ωmega",
      "__proto__",
      "constructor",
      " ",
      "\u00a0",
      "\u00a0nbsp",
    ]
  ) {
    assert.equal(seriesProblem(s), undefined, json(s));
    assert.equal(parse(json({ x: 1e12, y: 1, series: s })).points[0]?.series, s, json(s));
  }
});

Deno.test("ingress: a mixed batch keeps the valid points and counts each invalid one", () => {
  const m = parse(json([
    { x: 1e12, y: 1, series: "a" },
    5,
    { x: "no", y: 2 },
    { x: 1e12 + 1 },
    { x: 1e12 + 2, y: 3, series: "" },
    null,
    [],
    { x: 1_700_000_000, y: 4 },
    { x: 1e12 + 3, y: 5, series: 9 },
  ]));
  assert.deepEqual(m.points, [
    { x: 1e12, y: 1, series: "a" },
    { x: 1_700_000_000_000, y: 4, series: "value" },
  ]);
  assert.deepEqual(m.rejected.map((r) => r.reason), [
    "not_a_point",
    "invalid_x",
    "invalid_y",
    "invalid_series",
    "not_a_point",
    "not_a_point",
    "invalid_series",
  ]);
});

Deno.test("ingress: a batch with a topic frame: valid kept, invalid counted", () => {
  const m = parse("t", json([{ x: 1e12, y: 1 }, { x: 1e12 }, { x: 1e12, y: 2 }]));
  assert.deepEqual(m.points, [{ x: 1e12, y: 1, series: "t" }, { x: 1e12, y: 2, series: "t" }]);
  assert.deepEqual(m.rejected.map((r) => r.reason), ["invalid_y"]);
});

Deno.test("ingress: every reject reason is reachable", () => {
  const seen = new Set<RejectReason>();
  const add = (m: ParsedMessage) => m.rejected.forEach((r) => seen.add(r.reason));
  add(parseMessage(frames("x".repeat(100)), 10));
  add(parseMessage([], MAX));
  add(parseMessage([new Uint8Array([0xff])], MAX));
  add(parse("{"));
  add(parse("1"));
  add(parse("[]"));
  add(parse(json({ y: 1 })));
  add(parse(json({ x: 1e12 })));
  add(parse(json({ x: 1e12, y: 1, series: "" })));
  add(parse(json({ x: 1e12, y: 1, unit: "" })));
  // "overload" is the relay's (shed before sequencing; tests/flood_test.ts), not the parser's.
  const parserReasons = REJECT_REASONS.filter((r) => r !== "overload");
  assert.deepEqual([...seen].sort(), [...parserReasons].sort());
});

Deno.test("ingress: deeply nested JSON is rejected without throwing", () => {
  const depth = 200_000;
  const arrays = "[".repeat(depth) + "]".repeat(depth);
  let m = parseMessage(frames(arrays), 1e7);
  rejectedAs(m, "not_a_point");
  const objects = '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
  m = parseMessage(frames(objects), 1e7);
  rejectedAs(m, "invalid_x");
  // Nested inside a point's fields.
  const nestedX = `{"x":${"[".repeat(depth)}${"]".repeat(depth)},"y":1}`;
  rejectedAs(parseMessage(frames(nestedX), 1e7), "invalid_x");
  // Unbalanced nesting is invalid JSON.
  rejectedAs(parseMessage(frames("[".repeat(depth)), 1e7), "invalid_json");
});

Deno.test("ingress: __proto__ keys neither pollute Object.prototype nor supply fields", () => {
  try {
    const m = parse('{"__proto__":{"polluted":true,"x":5,"y":6},"x":1e12,"y":1}');
    assert.deepEqual(m.points, [{ x: 1e12, y: 1, series: "value" }]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(m.points[0]), Object.prototype);
    // x and y must be own properties, not inherited through a JSON "__proto__" key.
    rejectedAs(parse('{"__proto__":{"x":1e12,"y":1}}'), "invalid_x");
    rejectedAs(parse('{"x":1e12,"__proto__":{"y":1}}'), "invalid_y");
    // series too: an inherited series is not used.
    assert.equal(parse('{"x":1e12,"y":1,"__proto__":{"series":"evil"}}').points[0].series, "value");
    // A "constructor"/"prototype" payload is just data.
    parse('{"constructor":{"prototype":{"polluted":true}},"x":1e12,"y":1}');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    // Batches too.
    parse('[{"__proto__":{"polluted":true}},{"x":1e12,"y":1}]');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  } finally {
    delete (Object.prototype as Record<string, unknown>).polluted;
  }
});

Deno.test("ingress: values inherited from Object.prototype are not used as x/y/series", () => {
  const proto = Object.prototype as Record<string, unknown>;
  try {
    proto.x = 1e12;
    proto.y = 1;
    proto.series = "inherited";
    rejectedAs(parse("{}"), "invalid_x");
    rejectedAs(parse('{"x":1e12}'), "invalid_y");
    assert.equal(parse('{"x":1e12,"y":2}').points[0].series, "value");
  } finally {
    delete proto.x;
    delete proto.y;
    delete proto.series;
  }
});

Deno.test("ingress: parseMessage never throws on arbitrary bytes", () => {
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 500; i++) {
    const n = Math.floor(rand() * 64);
    const bytes = new Uint8Array(n);
    for (let j = 0; j < n; j++) bytes[j] = Math.floor(rand() * 256);
    const m = parseMessage([bytes], MAX);
    assert.equal(m.points.length + m.rejected.length >= 1, true);
    for (const r of m.rejected) assert((REJECT_REASONS as readonly string[]).includes(r.reason));
    for (const p of m.points) checkPoint(p);
  }
});

function checkPoint(p: Point): void {
  assert(Number.isFinite(p.x) && Number.isFinite(p.y));
  assert.equal(seriesProblem(p.series), undefined);
}

Deno.test("ingress: a leading U+FEFF in the series frame stays part of the name", () => {
  const enc = new TextEncoder();
  const r = parseMessage([enc.encode("\ufeffcpu"), enc.encode('{"x":1e12,"y":1}')], 65536);
  assert.deepEqual(r.points.map((p) => p.series), ["\ufeffcpu"]);
});

Deno.test("parseMessage: x outside the window around now is invalid_x; inside, late or early, passes", () => {
  const now = 1_780_000_000_000;
  const w = { windowMs: 86_400_000, now: () => now };
  const enc = (v: unknown) => [new TextEncoder().encode(JSON.stringify(v))];
  const bad = [
    { x: 32503680000000, y: 1 }, // the year 3000
    { x: 1e308, y: 1 },
    { x: now * 1e6, y: 1 }, // nanoseconds (time.time_ns())
    { x: 0, y: 1 }, // 1970
    { x: 5, y: 1 }, // 1970, in seconds
    { x: now - 86_400_001, y: 1 },
    { x: now + 86_400_001, y: 1 },
  ];
  const r = parseMessage(enc(bad), 65536, w);
  assert.equal(r.points.length, 0);
  assert.deepEqual(r.rejected.map((j) => j.reason), bad.map(() => "invalid_x"));
  assert.match(r.rejected[0].detail, /after the accepted window .*--x-window/);
  assert.match(r.rejected[3].detail, /before the accepted window/);
  const good = [
    { x: now, y: 1 },
    { x: now - 3_600_000, y: 2 }, // an hour late
    { x: now - 86_400_000, y: 3 },
    { x: now + 86_400_000, y: 4 },
    { x: now / 1000 - 10, y: 5 }, // seconds
  ];
  const g = parseMessage(enc(good), 65536, w);
  assert.deepEqual(g.rejected, []);
  assert.deepEqual(g.points.map((p) => p.y), [1, 2, 3, 4, 5]);
  // 0 turns the check off; so does leaving the window out.
  assert.equal(parseMessage(enc(bad.slice(0, 4)), 65536, { windowMs: 0 }).points.length, 4);
  assert.equal(parseMessage(enc(bad.slice(0, 4)), 65536).points.length, 4);
});
