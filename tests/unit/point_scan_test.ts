import assert from "node:assert/strict";
import { scanPoints, type ScanSpans, SPAN_SLOTS } from "../../src/protocol/point_scan.ts";
import { parseEncoded, parseMessage } from "../../src/protocol/ingress.ts";
import { encodePoint } from "../../src/protocol/frames.ts";
import { encodedJson, encodedSeries, encodedTails } from "../_support/encoded.ts";

const enc = new TextEncoder();
const spans = (): ScanSpans => ({ slots: new Int32Array(SPAN_SLOTS) });
const MAX = 1 << 20;

/** Number texts: valid JSON numbers, and near misses JSON rejects. */
const NUMBERS = [
  "0",
  "-0",
  "1",
  "-1",
  "42.5",
  "1.0",
  "0.001",
  "1e5",
  "1E+5",
  "2e-3",
  "-1.5E-300",
  "1700000000123.456",
  "1700000000",
  "1e400",
  "-1e400",
  "1e-400",
  "123456789012345678901234567890",
  "01",
  "1.",
  ".5",
  "-",
  "+1",
  "1e",
  "1e+",
  "0x10",
  "NaN",
  "Infinity",
  "1_0",
  "--1",
  "",
];
const SERIES = [
  undefined,
  "cpu",
  "temp.1",
  "",
  " sp",
  'a\\"b',
  "é€😀",
  "x".repeat(65),
  "\ufeffbom",
];

/** Compact payloads mixing the above, valid JSON or not. */
function* payloads(): Generator<string> {
  for (const x of NUMBERS) {
    for (const y of ["3", NUMBERS[(x.length * 7) % NUMBERS.length]]) {
      for (const s of SERIES) {
        const one = `{"x":${x},"y":${y}${s === undefined ? "" : `,"series":"${s}"`}}`;
        yield one;
        yield `[${one}]`;
        yield `[${one},{"x":1700000000000,"y":1}]`;
      }
    }
  }
  yield* ["[]", "[{}]", '{"x":1,"y":2', '[{"x":1,"y":2},]', '[{"x":1,"y":2}', '{"x":1,"y":2}]'];
  yield* ['{"x":1,"y":2,"series":"a"', '{"x":1,"y":2,"series":"a\n"}', '{"x":1,"y":2,"s":"a"}'];
}

Deno.test("scanPoints accepts only JSON, and reads its points as JSON.parse does", () => {
  let accepted = 0;
  for (const t of payloads()) {
    const out = spans();
    const n = scanPoints(enc.encode(t), out);
    if (n < 0) continue;
    accepted++;
    const v = JSON.parse(t); // throws if the scanner accepted something that is not JSON
    const items = Array.isArray(v) ? v : [v];
    assert.equal(n, items.length, t);
    items.forEach((p, i) => {
      const s = out.slots.subarray(i * SPAN_SLOTS);
      assert.equal(Object.is(Number(t.slice(s[1], s[2])), p.x), true, t);
      assert.equal(Object.is(Number(t.slice(s[3], s[4])), p.y), true, t);
      assert.equal(s[5] < 0 ? undefined : t.slice(s[5], s[6]), p.series, t);
    });
  }
  assert(accepted > 100, `${accepted} compact payloads accepted`);
});

Deno.test("the scanner's fast path and the general path give the same points and rejections", () => {
  for (const t of payloads()) {
    for (const topic of [undefined, "topic"]) {
      for (const windowMs of [0, 86_400_000]) {
        const fr = (p: string) =>
          topic === undefined ? [enc.encode(p)] : [enc.encode(topic), enc.encode(p)];
        const w = { windowMs, now: () => 1_700_000_000_000 };
        // A space after the first character is valid JSON whitespace the scanner never takes.
        const general = t.length > 1 ? `${t[0]} ${t.slice(1)}` : t;
        const fast = parseMessage(fr(t), MAX, w);
        const slow = parseMessage(fr(general), MAX, w);
        assert.deepEqual(fast.points, slow.points, t);
        const reasons = (m: typeof fast) => m.rejected.map((r) => r.reason);
        if (!reasons(slow).includes("invalid_json")) {
          assert.deepEqual(reasons(fast), reasons(slow), t);
        }
        // The encoded points are the client JSON of the same points.
        const e = parseEncoded(fr(t), MAX, w);
        assert.equal(e.points.length, fast.points.length, t);
        assert.deepEqual(encodedSeries(e.points), fast.points.map((p) => p.series), t);
        encodedJson(e.points, 7).forEach((json, i) => {
          assert.deepEqual(JSON.parse(json), JSON.parse(encodePoint(7 + i, fast.points[i])), t);
        });
      }
    }
  }
});

Deno.test("parseEncoded reuses the producer's number text; seconds and long numbers are formatted", () => {
  const one = (t: string, topic?: string) =>
    encodedTails(
      parseEncoded(topic ? [enc.encode(topic), enc.encode(t)] : [enc.encode(t)], MAX).points,
    )[0];
  assert.equal(
    one('{"x":1700000000123.4560,"y":1.50,"series":"a"}'),
    '"x":1700000000123.4560,"y":1.50,"series":"a"}',
  );
  assert.equal(one('[{"x":1700000000123,"y":2E3}]'), '"x":1700000000123,"y":2E3,"series":"value"}');
  assert.equal(
    one('{"x":1700000000123,"y":2,"series":"a"}', "t"),
    '"x":1700000000123,"y":2,"series":"t"}',
  );
  assert.equal(one('{"x":1700000000.5,"y":2}'), '"x":1700000000500,"y":2,"series":"value"}');
  assert.equal(
    one(`{"x":1e12,"y":1.${"0".repeat(30)}}`),
    '"x":1000000000000,"y":1,"series":"value"}',
  );
});
