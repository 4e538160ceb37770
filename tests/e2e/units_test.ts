/**
 * Units on real servers: a producer's `"unit"` reaches `series_list` on `/ws` and `/events` and
 * the history API (only for series a token may see), the last one sent wins, a bad one drops
 * its point and is counted as `invalid_unit`, and `--data-dir` keeps units across a restart.
 */
import assert from "node:assert/strict";
import { signToken } from "../../src/http/auth.ts";
import {
  connectPublisher,
  metric,
  openClient,
  openEventStream,
  sleep,
  type SseRecorder,
  startForwarder,
  startZws,
  testDataDir,
  waitFor,
  type WsRecorder,
} from "../_helpers.ts";

type Frame = Record<string, unknown>;
const lastList = (frames: Frame[]) =>
  frames.filter((f) => f.type === "series_list").at(-1) as
    | { series: string[]; units: Record<string, string> }
    | undefined;

const SECRET = "units-secret-" + crypto.randomUUID();
const KEY = new TextEncoder().encode(SECRET);

Deno.test("units: series_list names them (within the token's series), the last wins, a bad one is counted", async () => {
  const zws = await startZws(["--no-demo"], { env: { ZWS_AUTH_SECRET: SECRET } });
  const pub = await connectPublisher(zws.ingress);
  const all = await signToken(KEY, { ttlSeconds: 600 });
  const tempOnly = await signToken(KEY, { ttlSeconds: 600, series: ["temp"] });
  const clients: WsRecorder[] = [];
  let sse: SseRecorder | undefined;
  try {
    const full = await openClient(`${zws.wsUrl}?token=${all}`);
    clients.push(full);
    const limited = await openClient(`${zws.wsUrl}?token=${tempOnly}`);
    clients.push(limited);
    sse = await openEventStream(`${zws.base}/events?token=${tempOnly}`);
    await waitFor(() => lastList(full.frames) !== undefined, 5000, "the first series_list");
    assert.deepEqual(lastList(full.frames)?.units, {}, "no unit yet: an empty object");
    const now = Date.now();
    await pub.send(JSON.stringify([
      { x: now, y: 21.5, series: "temp", unit: "°C" },
      { x: now, y: 1013, series: "pressure", unit: "hPa" },
      { x: now, y: 3, series: "plain" },
    ]));
    await waitFor(
      () =>
        lastList(full.frames)?.series.length === 3 && lastList(sse!.frames) !== undefined &&
        lastList(sse!.frames)!.series.length === 1,
      5000,
      "series_list with the new series",
    );
    assert.deepEqual(lastList(full.frames), {
      type: "series_list",
      series: ["plain", "pressure", "temp"],
      units: { pressure: "hPa", temp: "°C" },
    });
    for (const frames of [limited.frames, sse.frames]) {
      assert.deepEqual(lastList(frames)?.units, { temp: "°C" }, "only what the token may see");
    }
    // Points frames are unchanged: no unit in them.
    const pts = full.points();
    assert.ok(pts.length === 3 && pts.every((p) => !("unit" in p)), JSON.stringify(pts));

    // A new unit for temp: told again; bad units drop their point, counted.
    await pub.send(JSON.stringify([
      { x: now + 1, y: 294.6, series: "temp", unit: "K" },
      { x: now + 1, y: 1, series: "temp", unit: "" },
      { x: now + 1, y: 1, series: "temp", unit: "a\u0007b" },
      { x: now + 1, y: 1, series: "temp", unit: "x".repeat(17) },
    ]));
    await waitFor(
      () => lastList(full.frames)?.units.temp === "K",
      5000,
      "the new unit told",
    );
    const text = await (await fetch(`${zws.base}/metrics`)).text();
    assert.equal(metric(text, 'zws_ingress_rejected_total{reason="invalid_unit"}'), 3);
    assert.equal(full.points().length, 4, "the three bad points were dropped");

    // The history API names them too.
    const h = await (await fetch(`${zws.base}/api/history?token=${all}`)).json();
    assert.deepEqual(
      h.series.map((s: { name: string; unit: string | null }) => [s.name, s.unit]),
      [["plain", null], ["pressure", "hPa"], ["temp", "K"]],
    );
  } finally {
    pub.close();
    await sse?.close();
    await Promise.all(clients.map((c) => c.close()));
    await zws.stop();
  }
});

Deno.test("units: --data-dir keeps them across a restart", async () => {
  const data = testDataDir();
  const flags = ["--no-demo", "--data-dir", data.dir];
  let zws = await startZws(flags);
  try {
    const pub = await connectPublisher(zws.ingress);
    try {
      await pub.send(JSON.stringify({ x: Date.now(), y: 1, series: "flow", unit: "l/min" }));
      await waitFor(
        async () => {
          const h = await (await fetch(`${zws.base}/api/history`)).json();
          return h.series[0]?.unit === "l/min";
        },
        5000,
        "the unit held",
      );
    } finally {
      pub.close();
    }
    assert.equal((await zws.stop()).code, 0);
    zws = await startZws(flags);
    const c = await openClient(zws.wsUrl);
    try {
      await waitFor(() => lastList(c.frames) !== undefined, 5000, "the first series_list");
      assert.deepEqual(lastList(c.frames)?.units, { flow: "l/min" });
    } finally {
      await c.close();
    }
  } finally {
    await zws.stop();
    await data.remove();
  }
});

Deno.test({
  name: "units: a gateway that joins after the unit was sent learns it from the forwarder",
  // The forwarder's child process and sockets are the helpers'; each is stopped below.
  fn: async () => {
    const fwd = await startForwarder();
    let gw: Awaited<ReturnType<typeof startZws>> | undefined;
    const pub = await connectPublisher(fwd.ingress);
    let c: WsRecorder | undefined;
    try {
      // Sent before any gateway follows: only the forwarder's relay sees it.
      await pub.send(JSON.stringify({ x: Date.now(), y: 0, series: "rpm", unit: "1/min" }));
      await sleep(300);
      gw = await startZws(["--no-demo", "--upstream", fwd.egress]);
      c = await openClient(gw.wsUrl);
      // Later points carry no unit (the compact fast path); the refresh brings it (<= 10 s).
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && lastList(c.frames)?.units.rpm !== "1/min") {
        await pub.send(`{"x":${Date.now()},"y":1,"series":"rpm"}`);
        await sleep(250);
      }
      assert.deepEqual(lastList(c.frames)?.units, { rpm: "1/min" });
    } finally {
      pub.close();
      await c?.close();
      await gw?.stop();
      await fwd.stop();
    }
  },
});
