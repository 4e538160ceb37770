import assert from "node:assert/strict";
import { fastNumber, scanPoints, SPAN_SLOTS, X0, X1 } from "../../src/protocol/point_scan.ts";
import { isPacked, type PackedPoints, parseEncoded } from "../../src/protocol/ingress.ts";
import { HELD_BYTES_PER_POINT } from "../../src/protocol/packed_points.ts";
import { encodePoint } from "../../src/protocol/frames.ts";
import { decodeBus, pointJson, pointSeries } from "../../src/protocol/bus_decode.ts";
import { Sequencer } from "../../src/relay/sequencer.ts";
import type { SinkPoints } from "../../src/relay/sink.ts";
import { ChunkBuilder } from "../../src/store/chunks.ts";
import { BUS_BATCH_POINTS } from "../../src/protocol/bus.ts";
import { encodedJson } from "../_support/encoded.ts";

const enc = new TextEncoder();
const MAX = 1 << 20;

/** A deterministic stream of pseudo-random numbers in [0, 1). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The number text `{"x":…}` holds, read back by the scanner and {@link fastNumber}. */
function readBack(text: string): number {
  const bytes = enc.encode(`{"x":${text},"y":1}`);
  const out = { slots: new Int32Array(SPAN_SLOTS) };
  assert.equal(scanPoints(bytes, out), 1, text);
  const v = fastNumber(bytes, out.slots[X0], out.slots[X1]);
  return Number.isNaN(v) ? Number(text) : v;
}

Deno.test("fastNumber reads every number as Number does, or says it cannot (NaN)", () => {
  const next = random(7);
  const texts: string[] = ["0", "-0", "1", "-1", "0.1", "0.3", "1.005", "9007199254740991"];
  texts.push("9007199254740993", "123456789012345678", "1e5", "2E-3", "0.0000000000000000000001");
  for (let i = 0; i < 20_000; i++) {
    const r = next();
    // Clock-like, sensor-like and counter-like values, with up to 17 significant digits.
    const v = i % 3 === 0
      ? 1.7e12 + r * 1e11
      : i % 3 === 1
      ? (r - 0.5) * 10 ** Math.floor(next() * 12)
      : Math.floor(r * 2 ** 53);
    texts.push(String(v), v.toFixed(Math.floor(next() * 8)));
  }
  let fast = 0;
  for (const t of texts) {
    const bytes = enc.encode(`{"x":${t},"y":1}`);
    const out = { slots: new Int32Array(SPAN_SLOTS) };
    if (scanPoints(bytes, out) !== 1) continue; // toFixed of a huge value may use an exponent
    const v = fastNumber(bytes, out.slots[X0], out.slots[X1]);
    if (Number.isNaN(v)) continue;
    fast++;
    assert.ok(Object.is(v, Number(t)), `${t}: ${v} != ${Number(t)}`);
  }
  assert.ok(fast > texts.length / 2, `${fast} of ${texts.length} read without Number`);
  assert.ok(Object.is(readBack("-0"), -0));
  assert.equal(readBack("1e400"), Infinity, "beyond a double: Number's answer");
});

/** Compact messages as producers send them: several series taking turns, a topic or not. */
function* messages(): Generator<{ frames: Uint8Array[]; label: string }> {
  const next = random(11);
  for (let m = 0; m < 300; m++) {
    const nSeries = 1 + (m % 24); // past the 16 names the packed path remembers
    const parts: string[] = [];
    const count = 1 + Math.floor(next() * 120);
    for (let k = 0; k < count; k++) {
      // Every eighth message: one sample of several series (one x); else an x per point.
      const x = m % 8 === 2
        ? 1_700_000_000_123.4567 + m
        : m % 7 === 0
        ? 1_700_000_000 + next()
        : 1_700_000_000_000 + next() * 1e9;
      const y = m % 5 === 0 && k % 9 === 0 ? (k % 2 ? "-0" : "0.0") : String((next() - 0.5) * 1e4);
      const s = m % 4 === 3 ? "" : `,"series":"s${(k * 7 + m) % nSeries}"`;
      parts.push(`{"x":${x},"y":${y}${s}}`);
    }
    const body = enc.encode(count === 1 && m % 2 ? parts[0] : `[${parts.join(",")}]`);
    const label = `message ${m}`;
    yield { frames: m % 6 === 5 ? [enc.encode(`topic${m % 3}`), body] : [body], label };
  }
}

Deno.test("packed points are the general path's points: same client JSON, series and numbers", () => {
  const w = { windowMs: 86_400_000 * 365 * 30, now: () => 1_700_000_000_000 };
  let packed = 0;
  for (const { frames, label } of messages()) {
    const fast = parseEncoded(frames, MAX, w);
    // A space after the payload's first character: valid JSON the scanner never takes.
    const text = new TextDecoder().decode(frames[frames.length - 1]);
    const spaced = enc.encode(`${text[0]} ${text.slice(1)}`);
    const general = parseEncoded([...frames.slice(0, -1), spaced], MAX, w);
    assert.ok(!isPacked(general.points), label);
    if (isPacked(fast.points)) packed++;
    assert.deepEqual(fast.rejected, general.rejected, label);
    assert.deepEqual(
      encodedJson(fast.points, 40).map((j) => JSON.parse(j)),
      encodedJson(general.points, 40).map((j) => JSON.parse(j)),
      label,
    );
  }
  assert.ok(packed > 250, `${packed} messages packed`);
});

/** A packed message of `n` points of series taking turns. */
function packedOf(n: number, series = 3): PackedPoints {
  const parts = Array.from(
    { length: n },
    (_, i) => `{"x":${1.7e12 + i},"y":${i + 0.5},"series":"s${i % series}"}`,
  );
  const m = parseEncoded([enc.encode(`[${parts.join(",")}]`)], MAX);
  assert.ok(isPacked(m.points));
  return m.points;
}

Deno.test("Sequencer: packed messages are cut into full batches, seqs and series in order", () => {
  const seq = new Sequencer("ep", 99);
  assert.ok(seq.offer(packedOf(300)));
  assert.ok(seq.offer(packedOf(400)));
  const seen: { seq: number; series: string; x: number }[] = [];
  for (let b = seq.cut(); b; b = seq.cut()) {
    const m = decodeBus(b.frames);
    assert.ok(m.kind === "batch");
    assert.ok(m.batch.count <= BUS_BATCH_POINTS);
    for (let i = 0; i < m.batch.count; i++) {
      const p = JSON.parse(pointJson(m.batch, i));
      assert.equal(p.series, pointSeries(m.batch, i));
      seen.push({ seq: p.seq, series: p.series, x: p.x });
    }
  }
  assert.equal(seen.length, 700);
  seen.forEach((p, i) => {
    assert.equal(p.seq, 100 + i);
    const k = i < 300 ? i : i - 300;
    assert.deepEqual([p.series, p.x], [`s${k % 3}`, 1.7e12 + k]);
  });
});

Deno.test("Sequencer: a sink gets packed points as columns, and the store's chunk keeps them", () => {
  const chunk = new ChunkBuilder(1000);
  const got: number[] = [];
  const sink = {
    reserve: () => true,
    reservedUpTo: () => Infinity,
    append: () => assert.fail("runs only"),
    appendRun: (ps: SinkPoints, from: number, to: number, firstSeq: number) => {
      got.push(to - from);
      chunk.addRun(ps, from, to, firstSeq);
    },
  };
  const seq = new Sequencer("ep", 0, 10_000, sink);
  seq.offer(packedOf(5, 2));
  seq.cut();
  const c = chunk.take()!;
  assert.deepEqual(got, [5]);
  assert.deepEqual(c.names, ["s0", "s1"]);
  assert.deepEqual([...c.series], [0, 1, 0, 1, 0]);
  assert.deepEqual([...c.seqs], [1, 2, 3, 4, 5]);
  assert.deepEqual([...c.xy], [
    1.7e12,
    0.5,
    1.7e12 + 1,
    1.5,
    1.7e12 + 2,
    2.5,
    1.7e12 + 3,
    3.5,
    1.7e12 + 4,
    4.5,
  ]);
});

Deno.test("packed client JSON is the point's JSON: encodePoint of the same point", () => {
  const p = packedOf(4, 2);
  encodedJson(p, 7).forEach((json, i) => {
    assert.equal(json, encodePoint(7 + i, { x: 1.7e12 + i, y: i + 0.5, series: `s${i % 2}` }));
  });
});

Deno.test("a payload mostly of rejected points is not held whole: only the valid points' bytes", () => {
  const long = `{"x":1.7e12,"y":1,"series":"${"a".repeat(20_000)}"}`;
  const text =
    `[${long},{"x":1700000000001,"y":2.5,"series":"ok"},${long},{"x":1700000000002,"y":3}]`;
  const m = parseEncoded([enc.encode(text)], MAX);
  assert.deepEqual(m.rejected.map((r) => r.reason), ["invalid_series", "invalid_series"]);
  assert.ok(isPacked(m.points));
  assert.ok(
    m.points.bytes.length <= HELD_BYTES_PER_POINT * 2,
    `${m.points.bytes.length} bytes held`,
  );
  assert.deepEqual(encodedJson(m.points, 5), [
    '{"seq":5,"x":1700000000001,"y":2.5,"series":"ok"}',
    '{"seq":6,"x":1700000000002,"y":3,"series":"value"}',
  ]);
});
