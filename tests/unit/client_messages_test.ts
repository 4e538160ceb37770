import assert from "node:assert/strict";
import {
  MAX_CLIENT_MESSAGE_BYTES,
  MAX_RATE,
  MAX_SELECTED_SERIES,
  parseClientMessage,
  seriesFromUrl,
} from "../../src/protocol/client_messages.ts";

Deno.test("client messages: ping", () => {
  assert.deepEqual(parseClientMessage('{"type":"ping"}'), { type: "ping" });
  assert.deepEqual(parseClientMessage('{"type":"ping","extra":1}'), { type: "ping" });
});

Deno.test("client messages: series selects names (deduplicated, in order), [] or null", () => {
  assert.deepEqual(parseClientMessage('{"type":"series","only":["b","a","b"]}'), {
    type: "series",
    only: ["b", "a"],
  });
  assert.deepEqual(parseClientMessage('{"type":"series","only":[]}'), { type: "series", only: [] });
  assert.deepEqual(parseClientMessage('{"type":"series","only":null}'), {
    type: "series",
    only: null,
  });
  const odd = ["温度", "a,b", 'say "hi"', "x".repeat(64), "📈".repeat(64)];
  assert.deepEqual(parseClientMessage(JSON.stringify({ type: "series", only: odd })), {
    type: "series",
    only: odd,
  });
  const max = Array.from({ length: MAX_SELECTED_SERIES }, (_, i) => `s${i}`);
  const ok = parseClientMessage(JSON.stringify({ type: "series", only: max }));
  assert.ok("only" in ok && ok.only?.length === MAX_SELECTED_SERIES);
});

Deno.test("client messages: invalid series selections are refused with 1007 and a reason", () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ type: "series" }, /only must be an array of names or null/],
    [{ type: "series", only: "a" }, /only must be an array/],
    [{ type: "series", only: { a: 1 } }, /only must be an array/],
    [{ type: "series", only: [1] }, /must be a string/],
    [{ type: "series", only: [null] }, /must be a string/],
    [{ type: "series", only: [""] }, /empty/],
    [{ type: "series", only: ["x".repeat(65)] }, /longer than 64/],
    [{ type: "series", only: ["a\nb"] }, /control characters/],
    [{ type: "series", only: ["a\u0085"] }, /control characters/],
    [
      { type: "series", only: Array.from({ length: MAX_SELECTED_SERIES + 1 }, (_, i) => `s${i}`) },
      /more than 100 series/,
    ],
    [{ type: "subscribe", series: ["a"] }, /unknown message type/],
  ];
  for (const [msg, reason] of cases) {
    const r = parseClientMessage(JSON.stringify(msg));
    assert.ok("code" in r, JSON.stringify(msg));
    assert.equal(r.code, 1007, JSON.stringify(msg));
    assert.match(r.reason, reason, JSON.stringify(msg));
  }
  // Over the size limit (101 names of 40 characters) it is a 1009 before anything else.
  const big = JSON.stringify({ type: "series", only: Array(120).fill("y".repeat(40)) });
  assert.ok(big.length > MAX_CLIENT_MESSAGE_BYTES);
  assert.deepEqual(parseClientMessage(big), { code: 1009, reason: "message too big" });
});

Deno.test("client messages: non-JSON, non-objects and binary frames", () => {
  assert.equal((parseClientMessage("{nope") as { code: number }).code, 1007);
  assert.equal((parseClientMessage("[1]") as { code: number }).code, 1007);
  assert.equal((parseClientMessage("null") as { code: number }).code, 1007);
  assert.equal((parseClientMessage(new Uint8Array(2)) as { code: number }).code, 1003);
});

const url = (q: string) => new URL(`http://localhost:8000/ws${q}`);

Deno.test("seriesFromUrl: absent means every series", () => {
  assert.equal(seriesFromUrl(url("")), undefined);
  assert.equal(seriesFromUrl(url("?since=4&epoch=e")), undefined);
  assert.equal(seriesFromUrl(url("?seriesx=a")), undefined);
});

Deno.test("seriesFromUrl: comma-separated names, percent-decoded one by one", () => {
  assert.deepEqual(seriesFromUrl(url("?series=a,b")), new Set(["a", "b"]));
  assert.deepEqual(
    seriesFromUrl(url("?since=1&series=cpu%20load,b&epoch=x")),
    new Set([
      "cpu load",
      "b",
    ]),
  );
  assert.deepEqual(seriesFromUrl(url("?series=a%2Cb,c")), new Set(["a,b", "c"]));
  assert.deepEqual(seriesFromUrl(url("?series=%E6%B8%A9%E5%BA%A6")), new Set(["温度"]));
  assert.deepEqual(seriesFromUrl(url("?series=a+b")), new Set(["a b"]));
  assert.deepEqual(seriesFromUrl(url("?series=a&series=b,a")), new Set(["a", "b"]));
  const names = ["a,b", "x y", "50%", "&=?", "温度"];
  const q = "?series=" + names.map(encodeURIComponent).join(",");
  assert.deepEqual(seriesFromUrl(url(q)), new Set(names), "what the page builds round-trips");
});

Deno.test("seriesFromUrl: empty selects none", () => {
  assert.deepEqual(seriesFromUrl(url("?series=")), new Set());
  assert.deepEqual(seriesFromUrl(url("?series")), new Set());
  assert.deepEqual(seriesFromUrl(url("?series=,,")), new Set());
});

Deno.test("seriesFromUrl: invalid names or too many are an error", () => {
  for (
    const q of [
      "?series=%ZZ",
      "?series=a%0Ab",
      "?series=" + "x".repeat(65),
      "?series=" + Array.from({ length: 101 }, (_, i) => `s${i}`).join(","),
      "?series=" + Array.from({ length: 1000 }, (_, i) => `s${i}`).join(","),
    ]
  ) {
    const r = seriesFromUrl(url(q));
    assert.ok(r && "error" in r, q.slice(0, 40));
  }
  const max = Array.from({ length: 100 }, (_, i) => `s${i}`).join(",");
  assert.equal((seriesFromUrl(url("?series=" + max)) as Set<string>).size, 100);
});

Deno.test("parseClientMessage: rate takes 1..1e6 points/s; null or 0 is the exact stream", () => {
  const rate = (v: unknown) =>
    parseClientMessage(JSON.stringify({ type: "rate", max_points_per_s: v }));
  assert.deepEqual(rate(200), { type: "rate", maxPointsPerS: 200 });
  assert.deepEqual(rate(1), { type: "rate", maxPointsPerS: 1 });
  assert.deepEqual(rate(MAX_RATE), { type: "rate", maxPointsPerS: 1_000_000 });
  assert.deepEqual(rate(null), { type: "rate", maxPointsPerS: null });
  assert.deepEqual(rate(0), { type: "rate", maxPointsPerS: null });
  for (const bad of [-1, 2.5, 1_000_001, "200", true, [200], {}, undefined]) {
    const r = rate(bad);
    assert.ok("code" in r && r.code === 1007, String(bad));
    assert.match(
      r.reason,
      /^rate: max_points_per_s must be an integer from 1 to 1000000, 0 or null$/,
    );
  }
});
