/**
 * `GET /api/history` on real servers: ranges, min/max buckets, CSV, every 400, the same origin,
 * host, token and limit checks as `/ws`, and a range beyond memory read from the store after a
 * restart (`--data-dir`).
 */
import assert from "node:assert/strict";
import type * as zmq from "zeromq";
import { signToken } from "../../src/http/auth.ts";
import {
  connectPublisher,
  metric,
  openClient,
  startZws,
  testDataDir,
  waitFor,
  type ZwsProcess,
} from "../_helpers.ts";

interface Series {
  name: string;
  unit: string | null;
  decimated: boolean;
  bucket_ms?: number;
  points: [number, number][];
}
interface Answer {
  from: number | null;
  to: number | null;
  series: Series[];
}

/** A round number of ms a minute ago: x values within the default --x-window. */
const T0 = Math.floor((Date.now() - 60_000) / 1000) * 1000;

async function get(base: string, query: string, init?: RequestInit) {
  const r = await fetch(`${base}/api/history${query}`, init);
  return { status: r.status, type: r.headers.get("content-type") ?? "", text: await r.text() };
}

async function history(base: string, query = "", init?: RequestInit): Promise<Answer> {
  const r = await get(base, query, init);
  assert.equal(r.status, 200, `${query}: ${r.text}`);
  assert.equal(r.type, "application/json");
  return JSON.parse(r.text);
}

/** Sends points in messages of up to 100 and waits until the server holds `total` of `series`. */
async function publish(
  zws: ZwsProcess,
  pub: zmq.Publisher,
  points: object[],
  wait: { series: string; total: number },
): Promise<void> {
  for (let i = 0; i < points.length; i += 100) {
    await pub.send(JSON.stringify(points.slice(i, i + 100)));
  }
  await waitFor(
    async () => {
      const a = await history(
        zws.base,
        `?series=${encodeURIComponent(wait.series)}&max_points=100000`,
      );
      return a.series[0]?.points.length === wait.total;
    },
    10_000,
    `${wait.total} points of ${wait.series} held`,
  );
}

/** Sends one raw HTTP/1.1 request (fetch sets Host itself); returns the status code. */
async function rawStatus(base: string, path: string, headers: Record<string, string>) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(base).port) });
  try {
    const head = [`GET ${path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    await conn.write(new TextEncoder().encode(head.join("\r\n") + "\r\n\r\n"));
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    const m = /^HTTP\/1\.1 (\d{3})/.exec(new TextDecoder().decode(buf.subarray(0, n ?? 0)));
    assert.ok(m, "a status line");
    return Number(m[1]);
  } finally {
    conn.close();
  }
}

Deno.test("history API: ranges, buckets, CSV, every 400, origin and host checks", async () => {
  const zws = await startZws(["--no-demo", "--history", "5000"]);
  const pub = await connectPublisher(zws.ingress);
  try {
    // "wave": 1,000 points 1 ms apart, sent out of x order (late halves), with one spike and
    // one dip; "b,c": 3 points (a name that CSV must quote).
    const wave = Array.from({ length: 1000 }, (_, i) => ({
      x: T0 + i,
      y: i === 423 ? 1000 : i === 777 ? -1000 : Math.sin(i / 9),
      series: "wave",
    }));
    const shuffled = [...wave.slice(500), ...wave.slice(0, 500)];
    await publish(zws, pub, shuffled, { series: "wave", total: 1000 });
    const bc = [0, 1, 2].map((i) => ({ x: T0 + 10 * i, y: i * 1.5, series: 'b,"c"' }));
    await publish(zws, pub, bc, { series: 'b,"c"', total: 3 });

    // Everything held, sorted by name, each series in x order, from/to the first and last x.
    const all = await history(zws.base, "?max_points=5000");
    assert.deepEqual(all.series.map((s) => s.name), ['b,"c"', "wave"]);
    assert.equal(all.from, T0);
    assert.equal(all.to, T0 + 999);
    const w = all.series[1];
    assert.equal(w.decimated, false);
    assert.equal(w.unit, null);
    assert.deepEqual(w.points, wave.map((p) => [p.x, p.y]), "every point, in x order");

    // A range: both ends included; the default max_points (2000) fits.
    const mid = await history(zws.base, `?series=wave&from=${T0 + 100}&to=${T0 + 199}`);
    assert.equal(mid.from, T0 + 100);
    assert.equal(mid.to, T0 + 199);
    assert.deepEqual(mid.series[0].points, wave.slice(100, 200).map((p) => [p.x, p.y]));
    const tail = await history(zws.base, `?series=wave&from=${T0 + 990}`);
    assert.equal(tail.series[0].points.length, 10);
    assert.equal(tail.to, T0 + 999);
    const head = await history(zws.base, `?series=wave&to=${T0 + 4.5}`);
    assert.deepEqual(head.series[0].points.map((p) => p[0]), [0, 1, 2, 3, 4].map((i) => T0 + i));
    // A series asked for but not held: an empty entry; ?series= (none): no series.
    const none = await history(zws.base, "?series=wave,nothing&from=0&to=1");
    assert.deepEqual(none.series.map((s) => [s.name, s.points.length]), [["nothing", 0], [
      "wave",
      0,
    ]]);
    assert.deepEqual((await history(zws.base, "?series=")).series, []);

    // Buckets: 1,000 points into max_points 100: 50 buckets of 20 ms, each its min and max.
    const d = await history(zws.base, `?series=wave&from=${T0}&to=${T0 + 999}&max_points=100`);
    const dw = d.series[0];
    assert.equal(dw.decimated, true);
    assert.equal(dw.bucket_ms, 20);
    assert.ok(dw.points.length <= 100);
    assert.ok(dw.points.some(([x, y]) => x === T0 + 423 && y === 1000), "the spike stays");
    assert.ok(dw.points.some(([x, y]) => x === T0 + 777 && y === -1000), "the dip stays");
    for (let k = 0; k < 50; k++) {
      const inB = wave.filter((p) => p.x >= T0 + 20 * k && p.x < T0 + 20 * (k + 1));
      const outB = dw.points.filter(([x]) => x >= T0 + 20 * k && x < T0 + 20 * (k + 1));
      const ys = inB.map((p) => p.y);
      assert.deepEqual(
        outB.map(([, y]) => y).sort((a, b) => a - b),
        [Math.min(...ys), Math.max(...ys)],
        `bucket ${k}`,
      );
      assert.ok(outB[0][0] < outB[1][0], `bucket ${k} in x order`);
    }
    // The same range with room for all: not decimated, no bucket_ms.
    const exact = await history(zws.base, `?series=wave&max_points=1000`);
    assert.equal(exact.series[0].decimated, false);
    assert.equal("bucket_ms" in exact.series[0], false);

    // CSV: a header, one line per point, the name quoted.
    const csvAsked = await get(
      zws.base,
      `?series=${encodeURIComponent('b,"c"')},wave&to=${T0 + 10}&format=csv`,
    );
    assert.equal(csvAsked.status, 200);
    assert.equal(csvAsked.type, "text/csv; charset=utf-8");
    const waveLines = wave.slice(0, 11).map((p) => `wave,${p.x},${p.y}`);
    assert.equal(
      csvAsked.text,
      ["series,x,y", `"b,""c""",${T0},0`, `"b,""c""",${T0 + 10},1.5`, ...waveLines].join("\n") +
        "\n",
    );

    // Every 400, with its reason on one line.
    const bad: [string, RegExp][] = [
      ["?bogus=1", /^unknown parameter "bogus"\n$/],
      ["?from=1&from=2", /^parameter "from" given twice\n$/],
      ["?from=abc", /^from must be a time in epoch ms/],
      ["?to=1e3", /^to must be a time in epoch ms/],
      ["?from=", /^from must be a time in epoch ms/],
      ["?from=5&to=4", /^from \(5\) is after to \(4\)\n$/],
      ["?max_points=1", /^max_points must be an integer from 2 to 100000/],
      ["?max_points=100001", /^max_points must be an integer from 2 to 100000/],
      ["?max_points=2.5", /^max_points must be an integer/],
      ["?format=xml", /^format must be json or csv/],
      ["?series=%ZZ", /^series: malformed percent-encoding\n$/],
      [`?series=${"a".repeat(65)}`, /^series: series longer than 64 characters\n$/],
      [
        `?series=${Array.from({ length: 101 }, (_, i) => `s${i}`).join(",")}`,
        /^series: more than 100 series\n$/,
      ],
    ];
    for (const [q, reason] of bad) {
      const r = await get(zws.base, q);
      assert.equal(r.status, 400, q);
      assert.equal(r.type, "text/plain; charset=utf-8", q);
      assert.match(r.text, reason, q);
      assert.equal(r.text.trimEnd().includes("\n"), false, `${q}: one line`);
    }

    // Origin: another site's page may not read it; the server's own origin may.
    const foreign = await get(zws.base, "", { headers: { Origin: "http://evil.example" } });
    assert.equal(foreign.status, 403);
    assert.equal((await get(zws.base, "", { headers: { Origin: zws.base } })).status, 200);
    // Host: a foreign name is refused (DNS rebinding), a loopback one served.
    const port = new URL(zws.base).port;
    assert.equal(await rawStatus(zws.base, "/api/history", { Host: `evil.example:${port}` }), 421);
    assert.equal(await rawStatus(zws.base, "/api/history", { Host: `localhost:${port}` }), 200);
    // Only GET and HEAD.
    const post = await fetch(`${zws.base}/api/history`, { method: "POST", body: "x" });
    await post.body?.cancel();
    assert.equal(post.status, 405);

    const m = await (await fetch(`${zws.base}/metrics`)).text();
    assert.ok(metric(m, "zws_history_requests_total") >= 10);
    assert.equal(metric(m, 'zws_history_rejected_total{reason="origin"}'), 1);
  } finally {
    pub.close();
    await zws.stop();
  }
});

const SECRET = "history-api-secret-" + crypto.randomUUID();
const KEY = new TextEncoder().encode(SECRET);

Deno.test("history API: token required and its series claim applies; capacity as for /ws", async () => {
  const zws = await startZws(["--no-demo", "--max-clients", "1"], {
    env: { ZWS_AUTH_SECRET: SECRET },
  });
  const pub = await connectPublisher(zws.ingress);
  const all = await signToken(KEY, { ttlSeconds: 600 });
  const alphaOnly = await signToken(KEY, { ttlSeconds: 600, series: ["alpha"] });
  try {
    for (const series of ["alpha", "secret"]) {
      await pub.send(JSON.stringify({ x: T0, y: 1, series }));
    }
    await waitFor(
      async () => (await history(zws.base, `?token=${all}`)).series.length === 2,
      10_000,
      "both series held",
    );
    assert.equal((await get(zws.base, "")).status, 401, "no token");
    assert.equal((await get(zws.base, "?token=nonsense")).status, 401, "a bad token");
    const expired = await signToken(KEY, { ttlSeconds: 60, now: Date.now() - 3_600_000 });
    assert.equal((await get(zws.base, `?token=${expired}`)).status, 401, "an expired token");
    // The claim: alpha only, whether all or secret is asked for; by header too.
    const limited = await history(zws.base, `?token=${alphaOnly}`);
    assert.deepEqual(limited.series.map((s) => s.name), ["alpha"]);
    const asked = await history(zws.base, `?token=${alphaOnly}&series=secret,alpha`);
    assert.deepEqual(asked.series.map((s) => s.name), ["alpha"]);
    const byHeader = await history(zws.base, "?series=secret", {
      headers: { Authorization: `Bearer ${alphaOnly}` },
    });
    assert.deepEqual(byHeader.series, []);
    // Parameters are checked before the token, as ?series= on /ws.
    assert.equal((await get(zws.base, "?from=x")).status, 400);
    // Capacity: with the one client slot taken, a history request waits its turn (503).
    const ws = await openClient(`${zws.wsUrl}?token=${all}`);
    try {
      const busy = await get(zws.base, `?token=${all}`);
      assert.equal(busy.status, 503);
      assert.equal(busy.text, "too many clients\n");
    } finally {
      await ws.close();
    }
    await waitFor(
      async () => (await get(zws.base, `?token=${all}`)).status === 200,
      5000,
      "the slot back",
    );
    const m = await (await fetch(`${zws.base}/metrics`)).text();
    assert.equal(metric(m, 'zws_history_rejected_total{reason="unauthorized"}'), 3);
    assert.ok(metric(m, 'zws_history_rejected_total{reason="capacity"}') >= 1);
  } finally {
    pub.close();
    await zws.stop();
  }
});

Deno.test("history API: a request rate per IP of its own (429), not the upgrades'", async () => {
  const zws = await startZws(["--no-demo", "--upgrade-rate", "1"]);
  try {
    assert.equal((await get(zws.base, "")).status, 200);
    const second = await fetch(`${zws.base}/api/history`);
    await second.body?.cancel();
    assert.equal(second.status, 429);
    assert.ok(Number(second.headers.get("retry-after")) >= 1);
    // The WebSocket upgrade bucket is untouched.
    const ws = await openClient(zws.wsUrl);
    await ws.close();
  } finally {
    await zws.stop();
  }
});

Deno.test("history API: with --data-dir, a range beyond memory comes from the store after a restart", async () => {
  const data = testDataDir();
  const flags = ["--no-demo", "--data-dir", data.dir, "--history", "10", "--retention", "100000"];
  let zws = await startZws(flags);
  try {
    const pub = await connectPublisher(zws.ingress);
    const pts = Array.from({ length: 500 }, (_, i) => ({ x: T0 + i, y: i, series: "kept" }));
    try {
      for (let i = 0; i < pts.length; i += 100) {
        await pub.send(JSON.stringify(pts.slice(i, i + 100)));
      }
      // Memory holds the last 10; the store has all 500 once written (every 100 ms).
      await waitFor(
        async () => {
          const a = await history(zws.base, "?series=kept&max_points=1000");
          return a.series[0].points.length === 500;
        },
        10_000,
        "500 points from memory and store",
      );
    } finally {
      pub.close();
    }
    assert.equal((await zws.stop()).code, 0);
    zws = await startZws(flags);
    const a = await history(zws.base, "?series=kept&max_points=1000");
    assert.deepEqual(a.series[0].points, pts.map((p) => [p.x, p.y]), "once each, in x order");
    const range = await history(zws.base, `?series=kept&from=${T0 + 5}&to=${T0 + 14}`);
    assert.deepEqual(range.series[0].points.map((p) => p[1]), [5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    // Bucketed over store and memory together.
    const d = await history(zws.base, `?max_points=50`);
    assert.equal(d.series[0].decimated, true);
    assert.deepEqual(d.series[0].points.at(-1), [T0 + 499, 499]);
    assert.deepEqual(d.series[0].points[0], [T0, 0]);
  } finally {
    await zws.stop();
    await data.remove();
  }
});
