/**
 * Decimated live streams on a real server: a client that sends `{"type":"rate"}` gets, per series
 * and bucket of 2/N s, the bucket's min and max point; clients at the same rate share one stream
 * (`zws_decimated_streams`); a selection and a token's series still apply; going back to exact
 * starts with a reset snapshot; a bad rate closes with 1007; exact clients see every point.
 */
import assert from "node:assert/strict";
import type * as zmq from "zeromq";
import { signToken } from "../../src/http/auth.ts";
import {
  connectPublisher,
  metric,
  openClient,
  startZws,
  waitFor,
  type WsRecorder,
  type ZwsProcess,
} from "../_helpers.ts";

type P = { x: number; y: number; series: string; seq?: number };
type Frame = Record<string, unknown>;

const decimatedPoints = (frames: Frame[]) =>
  frames.flatMap((f) => (f.type === "points" && f.decimated === true ? f.points as P[] : []));

async function metrics(zws: ZwsProcess): Promise<string> {
  return await (await fetch(`${zws.base}/metrics`)).text();
}

/** Sends `points` in messages of 100. */
async function send(pub: zmq.Publisher, points: P[]): Promise<void> {
  for (let i = 0; i < points.length; i += 100) {
    await pub.send(JSON.stringify(points.slice(i, i + 100)));
  }
}

/** Asks `c` for a rate and waits until the server counts it. */
async function askRate(zws: ZwsProcess, c: WsRecorder, rate: number, clients: number) {
  c.ws.send(JSON.stringify({ type: "rate", max_points_per_s: rate }));
  await waitFor(
    async () => metric(await metrics(zws), "zws_decimated_clients") === clients,
    5000,
    `${clients} decimated clients`,
  );
}

const SECRET = "decimated-secret-" + crypto.randomUUID();
const KEY = new TextEncoder().encode(SECRET);

Deno.test("decimated stream: each bucket's min and max, one stream per series and rate", async () => {
  const zws = await startZws(["--no-demo"], { env: { ZWS_AUTH_SECRET: SECRET } });
  const pub = await connectPublisher(zws.ingress);
  const all = await signToken(KEY, { ttlSeconds: 600 });
  const clients: WsRecorder[] = [];
  const open = async (token = all) => {
    const c = await openClient(`${zws.wsUrl}?token=${token}`);
    clients.push(c);
    return c;
  };
  try {
    const exact = await open();
    const d1 = await open();
    const d2 = await open();
    await askRate(zws, d1, 100, 1); // buckets of 20 ms
    await askRate(zws, d2, 100, 2);

    // 2,000 points of "w", 0.5 ms apart (1 s of x: 50 buckets), with a spike and a dip.
    const base = Math.floor(Date.now() / 1000) * 1000 - 5000;
    const input: P[] = Array.from({ length: 2000 }, (_, i) => ({
      x: base + i / 2,
      y: i === 777 ? 1e6 : i === 1333 ? -1e6 : Math.round(Math.sin(i / 11) * 1000 + (i % 7)),
      series: "w",
    }));
    await send(pub, input);
    await waitFor(
      () => exact.points().length === 2000,
      10_000,
      "the exact client gets every point",
    );
    // The last bucket closes on time (no later point comes).
    await waitFor(
      () => decimatedPoints(d1.frames).some((p) => p.x === base + 999.5 || p.x >= base + 980),
      5000,
      "the last bucket",
    );
    const m = await metrics(zws);
    assert.equal(metric(m, "zws_decimated_streams"), 1, "two clients at one rate: one stream");
    assert.equal(metric(m, "zws_decimated_clients"), 2);

    const got = decimatedPoints(d1.frames);
    assert.deepEqual(decimatedPoints(d2.frames), got, "the same points to both");
    assert.ok(got.length >= 50 && got.length <= 110, `about 2 per bucket: ${got.length}`);
    for (const f of d1.frames.filter((f) => f.type === "points")) {
      assert.equal(f.decimated, true, "no exact frames once decimated");
      assert.equal(f.rate, 100);
    }
    const key = (p: P) => `${p.x}:${p.y}`;
    const inputs = new Set(input.map(key));
    for (const p of got) {
      assert.equal(p.series, "w");
      assert.equal("seq" in p, false, "no seq in decimated points");
      assert.ok(inputs.has(key(p)), `an input point: ${key(p)}`);
    }
    for (let k = 0; k < 50; k++) {
      const lo = base + 20 * k;
      const ys = input.filter((p) => p.x >= lo && p.x < lo + 20).map((p) => p.y);
      const out = got.filter((p) => p.x >= lo && p.x < lo + 20).map((p) => p.y);
      assert.ok(out.includes(Math.min(...ys)), `bucket ${k}: its min`);
      assert.ok(out.includes(Math.max(...ys)), `bucket ${k}: its max`);
    }
    assert.ok(got.some((p) => p.y === 1e6) && got.some((p) => p.y === -1e6), "peaks stay");
    assert.ok(exact.points().every((p) => typeof p.seq === "number"));
    assert.equal(decimatedPoints(exact.frames).length, 0, "exact clients: today's frames");

    // Another rate: a stream of its own. Back to exact: a reset snapshot, then every point.
    const d3 = await open();
    await askRate(zws, d3, 10, 3);
    await send(pub, [{ x: base + 2000, y: 1, series: "w" }]);
    await waitFor(
      async () => metric(await metrics(zws), "zws_decimated_streams") === 2,
      5000,
      "a stream per rate",
    );
    const before = d1.frames.length;
    d1.ws.send(JSON.stringify({ type: "rate", max_points_per_s: null }));
    await waitFor(() => d1.frames.length > before, 5000, "the reset snapshot");
    const reset = d1.frames[before];
    assert.equal(reset.type, "history");
    assert.equal(reset.reset, true);
    assert.equal((reset.points as P[]).length, 1000, "what the server holds (--history 1000)");
    await send(pub, [{ x: base + 2001, y: 2, series: "w" }]);
    await waitFor(() => d1.points().some((p) => p.x === base + 2001), 5000, "exact again");
    assert.equal(typeof d1.points().at(-1)!.seq, "number");
    await waitFor(
      async () => metric(await metrics(zws), "zws_decimated_clients") === 2,
      5000,
      "d1 exact again",
    );
  } finally {
    pub.close();
    await Promise.all(clients.map((c) => c.close()));
    await zws.stop();
  }
});

Deno.test("decimated stream: the selection and the token's series apply; a bad rate is 1007", async () => {
  const zws = await startZws(["--no-demo"], { env: { ZWS_AUTH_SECRET: SECRET } });
  const pub = await connectPublisher(zws.ingress);
  const clients: WsRecorder[] = [];
  try {
    const onlyA = await signToken(KEY, { ttlSeconds: 600, series: ["a"] });
    const all = await signToken(KEY, { ttlSeconds: 600 });
    const limited = await openClient(`${zws.wsUrl}?token=${onlyA}`);
    clients.push(limited);
    const selecting = await openClient(`${zws.wsUrl}?token=${all}`);
    clients.push(selecting);
    selecting.ws.send(JSON.stringify({ type: "series", only: ["b"] }));
    await askRate(zws, limited, 50, 1);
    await askRate(zws, selecting, 50, 2);
    const now = Date.now();
    const pts: P[] = [];
    for (let i = 0; i < 300; i++) {
      for (const series of ["a", "b", "c"]) pts.push({ x: now - 3000 + i * 10, y: i, series });
    }
    await send(pub, pts);
    await waitFor(
      () =>
        decimatedPoints(limited.frames).length > 20 &&
        decimatedPoints(selecting.frames).length > 20,
      10_000,
      "decimated points for both",
    );
    assert.ok(decimatedPoints(limited.frames).every((p) => p.series === "a"), "the token's series");
    assert.ok(decimatedPoints(selecting.frames).every((p) => p.series === "b"), "the selection");
    const m = await metrics(zws);
    assert.equal(metric(m, "zws_decimated_streams"), 2, "a and b: c feeds no one");

    for (const bad of [-1, 1.5, 1_000_001, "10", true, undefined]) {
      const c = await openClient(`${zws.wsUrl}?token=${all}`);
      c.ws.send(JSON.stringify({ type: "rate", max_points_per_s: bad }));
      const ev = await c.closed;
      assert.equal(ev.code, 1007, String(bad));
      assert.match(ev.reason, /^rate: max_points_per_s must be an integer from 1 to 1000000/);
    }
  } finally {
    pub.close();
    await Promise.all(clients.map((c) => c.close()));
    await zws.stop();
  }
});
