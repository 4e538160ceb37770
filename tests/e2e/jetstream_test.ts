/**
 * The JetStream backbone end to end: real nats-server processes (one, or a 3-node cluster) on
 * loopback, JetStream relays (`main.ts relay --nats`) and gateways (`main.ts --nats`) in their own
 * processes as `deno task relay` / `start` run them, real ZeroMQ producers and WebSocket clients.
 * Skipped (with a line saying so) where nats-server is not installed; `.ci/run` installs it.
 */
import assert from "node:assert/strict";
import type * as zmq from "zeromq";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  connectPublisher,
  openClient,
  sleep,
  startZws,
  waitFor,
  withTimeout,
  type WsRecorder,
  type ZwsProcess,
} from "../_helpers.ts";
import {
  freePort,
  type JsRelayProcess,
  natsServerBin,
  startJsRelay,
  startNatsCluster,
  startNatsServer,
} from "../_support/nats.ts";
import { allPoints, getJson, getMetric, produce, type Pt, Viewer } from "../_support/viewer.ts";

const HAVE_NATS = natsServerBin() !== undefined;
if (!HAVE_NATS) {
  console.log("jetstream_test: nats-server not installed; skipping (apt-get install nats-server)");
}

/** Every series' ys are 0..sent-1, once each, in order; seqs strictly increase. */
function assertWhole(pts: Pt[], sent: Record<string, number>, who: string): void {
  const seqs = pts.map((p) => p.seq);
  const dup = seqs.length - new Set(seqs).size;
  assert.equal(dup, 0, `${who}: ${dup} duplicated`);
  for (let i = 1; i < seqs.length; i++) {
    assert(seqs[i] > seqs[i - 1], `${who}: seq ${seqs[i]} after ${seqs[i - 1]}`);
  }
  for (const [series, n] of Object.entries(sent)) {
    const ys = pts.filter((p) => p.series === series).map((p) => p.y);
    const lost = n - new Set(ys).size;
    assert.equal(lost, 0, `${who}: ${lost} of ${n} points of ${series} lost`);
    assert.deepEqual(ys, [...Array(n).keys()], `${who}: all of ${series}, in order`);
  }
}

Deno.test({
  name: "jetstream: 2 relays + 2 gateways on one stream: same seqs in the same order on both; " +
    "a gateway dies, its clients resume exactly on the other (0 lost, 0 duplicated)",
  ignore: !HAVE_NATS,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const nats = await startNatsServer();
    const procs: Array<ZwsProcess | JsRelayProcess> = [];
    const pubs: zmq.Publisher[] = [];
    const viewers: Viewer[] = [];
    try {
      const r1 = await startJsRelay([nats.url]);
      const r2 = await startJsRelay([nats.url]);
      procs.push(r1, r2);
      assert.equal(r1.epoch, r2.epoch, "one stream, one epoch");
      const gwArgs = ["--no-demo", "--nats", nats.url, "--history", "100000"];
      const gA = await startZws(gwArgs);
      const gB = await startZws(gwArgs);
      procs.push(gA, gB);
      for (let i = 0; i < 3; i++) viewers.push(await Viewer.open(gA.wsUrl));
      for (let i = 0; i < 3; i++) viewers.push(await Viewer.open(gB.wsUrl));
      for (const v of viewers) assert.equal(v.epoch, r1.epoch);
      const p1 = await connectPublisher(r1.ingress);
      const p2 = await connectPublisher(r2.ingress);
      pubs.push(p1, p2);
      const s1 = produce(p1, "p1", 4);
      const s2 = produce(p2, "p2", 5);
      await sleep(1200);
      await gA.stop("SIGKILL");
      const onA = viewers.slice(0, 3);
      await Promise.all(onA.map((v) => v.resumeOn(gB.wsUrl)));
      await sleep(800);
      await s1.stop();
      await s2.stop();
      const sent = { p1: s1.sent, p2: s2.sent };
      const total = s1.sent + s2.sent;
      await waitFor(
        () => viewers.every((v) => v.all().length === total),
        10000,
        `every client to get all ${total} points`,
      );
      for (const [i, v] of viewers.entries()) assertWhole(v.all(), sent, `client ${i}`);
      for (const v of onA) assert.deepEqual(v.resumes, [true], "moved clients resumed exactly");
      const ref = viewers[5].all().map((p) => p.seq);
      for (const v of viewers) {
        assert.deepEqual(v.all().map((p) => p.seq), ref, "the same seqs in the same order");
      }
      assert.equal(await getMetric(r1.base, "zws_nats_points_shed_total"), 0);
      assert.equal(
        (await getMetric(r1.base, "zws_nats_points_published_total")) +
          (await getMetric(r2.base, "zws_nats_points_published_total")),
        total,
      );
      assert.equal(await getMetric(gB.base, "zws_nats_gaps_total"), 0);
    } finally {
      await Promise.all(viewers.map((v) => v.close().catch(() => {})));
      pubs.forEach((p) => p.close());
      for (const p of procs) await p.stop("SIGTERM");
      await nats.stop();
    }
  },
});

Deno.test({
  name: "jetstream: a gateway started 10 s after the data serves the stream's history at once",
  ignore: !HAVE_NATS,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const nats = await startNatsServer();
    const procs: Array<ZwsProcess | JsRelayProcess> = [];
    let pub: zmq.Publisher | undefined;
    let client: WsRecorder | undefined;
    try {
      const relay = await startJsRelay([nats.url], ["--nats-keep", "50"]);
      procs.push(relay);
      pub = await connectPublisher(relay.ingress);
      // 300 points of "a" in 30 messages of 10, and 5 of "b": the stream keeps 50 batches of
      // each series (--nats-keep), so all of "b" and the last 500... here all 30 of "a".
      for (let i = 0; i < 30; i++) {
        const batch = Array.from(
          { length: 10 },
          (_, k) => ({ x: i * 10 + k, y: i * 10 + k, series: "a" }),
        );
        await pub.send(JSON.stringify(batch));
        await sleep(30);
      }
      for (let i = 0; i < 5; i++) await pub.send(JSON.stringify({ x: i, y: i, series: "b" }));
      await waitFor(
        async () => (await getMetric(relay.base, "zws_nats_points_published_total")) === 305,
        5000,
        "all points in the stream",
      );
      await sleep(10_000);
      const gw = await startZws(["--no-demo", "--nats", nats.url, "--history", "1000"]);
      procs.push(gw);
      const c = client = await openClient(gw.wsUrl);
      await waitFor(() => c.frames.some((f) => f.type === "series_list"), 5000, "the history");
      const pts = allPoints(client);
      assert.equal(client.frames[1].type, "history");
      assert.equal(pts.filter((p) => p.series === "a").length, 300, "all of a, from the stream");
      assert.deepEqual(pts.filter((p) => p.series === "b").map((p) => p.y), [0, 1, 2, 3, 4]);
      const health = await getJson(`${gw.base}/healthz`);
      assert.equal((health.upstream as Record<string, unknown>).ready, true);
    } finally {
      await client?.close();
      pub?.close();
      for (const p of procs) await p.stop("SIGTERM");
      await nats.stop();
    }
  },
});

Deno.test({
  name: "jetstream: 3-node cluster, stream replicas 3, a node killed mid-stream: 0 lost, " +
    "0 duplicated for a live and a resuming client",
  ignore: !HAVE_NATS,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const cluster = await startNatsCluster(3);
    const procs: Array<ZwsProcess | JsRelayProcess> = [];
    const viewers: Viewer[] = [];
    let pub: zmq.Publisher | undefined;
    try {
      const relay = await startJsRelay(cluster.urls, ["--nats-replicas", "3"]);
      procs.push(relay);
      const gw = await startZws([
        "--no-demo",
        "--nats",
        cluster.urls.join(","),
        "--history",
        "100000",
      ]);
      procs.push(gw);
      viewers.push(await Viewer.open(gw.wsUrl), await Viewer.open(gw.wsUrl));
      pub = await connectPublisher(relay.ingress);
      const s = produce(pub, "c", 5);
      await sleep(1500);
      // The node the relay is connected to: the worst case (its connection moves too).
      const on = String(
        ((await getJson(`${relay.base}/healthz`)).nats as Record<string, unknown>).server,
      );
      const victim = cluster.servers.find((n) => on.endsWith(`:${n.port}`)) ?? cluster.servers[0];
      await victim.kill();
      const resuming = viewers[1];
      await resuming.resumeOn(gw.wsUrl);
      await sleep(3000);
      await resuming.resumeOn(gw.wsUrl);
      await s.stop();
      await waitFor(
        () => viewers.every((v) => v.all().length === s.sent),
        20000,
        `both clients to get all ${s.sent} points`,
      );
      for (const [i, v] of viewers.entries()) assertWhole(v.all(), { c: s.sent }, `client ${i}`);
      assert.deepEqual(resuming.resumes, [true, true], "resumed exactly");
      assert.equal(await getMetric(relay.base, "zws_nats_points_shed_total"), 0);
    } finally {
      await Promise.all(viewers.map((v) => v.close().catch(() => {})));
      pub?.close();
      for (const p of procs) await p.stop("SIGTERM");
      await cluster.stop();
    }
  },
});

Deno.test({
  name: "jetstream: NATS down at start and during the run: clear errors, 503, recovery",
  ignore: !HAVE_NATS,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const nats = await startNatsServer();
    await nats.kill(); // its port and store stay reserved for the restart
    const procs: Array<ZwsProcess | JsRelayProcess> = [];
    let pub: zmq.Publisher | undefined;
    let viewer: Viewer | undefined;
    try {
      // Both roles started while NATS is down; they wait (and say so), they do not exit.
      const relayPort = freePort();
      const relayP = startJsRelay([nats.url], ["--port", String(relayPort)]);
      const gwP = startZws(["--no-demo", "--nats", nats.url]);
      // The relay's /healthz is up at once, and says why it is not ready.
      await waitFor(
        async () => {
          const r = await fetch(`http://127.0.0.1:${relayPort}/healthz`).catch(() => undefined);
          if (!r) return false;
          const body = await r.json();
          return r.status === 503 && /connecting to NATS/.test(body.reason);
        },
        20000,
        "the relay's /healthz to answer 503 while NATS is down",
      );
      await sleep(2000); // the gateway started alongside: let it fail to connect too
      await nats.start();
      const relay = await relayP;
      procs.push(relay);
      const gw = await gwP;
      procs.push(gw);
      for (const p of [relay, gw]) {
        const lines = p.stderr().split("\n").filter((l) => l.includes("cannot reach NATS"));
        assert(lines.length >= 1, `an error line while NATS was down:\n${p.stderr()}`);
        assert(lines.length <= 2, `at most one line per 10 s, got:\n${lines.join("\n")}`);
        assert(!/\bat \S+:\d+:\d+/.test(p.stderr()), "no stack trace");
      }
      viewer = await Viewer.open(gw.wsUrl);
      pub = await connectPublisher(relay.ingress);
      const s = produce(pub, "d", 5);
      await waitFor(() => viewer!.all().length > 20, 5000, "points flow");
      // NATS dies during the run, and comes back on the same port and store.
      await nats.kill();
      await waitFor(
        async () =>
          (await fetch(`${relay.base}/healthz`).then((r) => (r.body?.cancel(), r.status))) === 503,
        5000,
        "the relay's /healthz to answer 503",
      );
      await sleep(1000);
      await nats.start();
      await waitFor(
        async () =>
          (await fetch(`${relay.base}/healthz`).then((r) => (r.body?.cancel(), r.status))) === 200,
        10000,
        "the relay's /healthz to be ok again",
      );
      await sleep(1000);
      await s.stop();
      await waitFor(
        () => viewer!.all().length === s.sent,
        15000,
        `the client to get all ${s.sent} points (queued in the relay while NATS was away)`,
      );
      assertWhole(viewer.all(), { d: s.sent }, "client");
      assert(relay.stderr().includes("reconnected to NATS"), relay.stderr());
    } finally {
      await viewer?.close().catch(() => {});
      pub?.close();
      for (const p of procs) await p.stop("SIGTERM");
      await nats.stop();
    }
  },
});

Deno.test({
  name: "jetstream: the stream deleted and made again is a new epoch: the relay remakes it, " +
    "gateways start over, clients are closed (1012) and come back with a reset",
  ignore: !HAVE_NATS,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const nats = await startNatsServer();
    const procs: Array<ZwsProcess | JsRelayProcess> = [];
    let pub: zmq.Publisher | undefined;
    let client: WsRecorder | undefined;
    let nc: NatsConnection | undefined;
    let s: ReturnType<typeof produce> | undefined;
    try {
      const relay = await startJsRelay([nats.url]);
      procs.push(relay);
      const gw = await startZws(["--no-demo", "--nats", nats.url]);
      procs.push(gw);
      client = await openClient(gw.wsUrl);
      const c = client;
      assert.equal(c.frames[0].epoch, relay.epoch);
      pub = await connectPublisher(relay.ingress);
      s = produce(pub, "e", 10);
      await waitFor(() => allPoints(c).length > 5, 5000, "points flow");
      nc = await connect({ servers: nats.url });
      await (await jetstreamManager(nc)).streams.delete("ZWS");
      const closed = await withTimeout(c.closed, 10000, "the client to be closed");
      assert.equal(closed.code, 1012);
      const last = allPoints(c).at(-1)!.seq;
      await waitFor(
        async () => {
          const h = await getJson(`${gw.base}/healthz`);
          const e = (h.upstream as Record<string, unknown>).epoch;
          return typeof e === "string" && e !== relay.epoch;
        },
        10000,
        "the gateway to follow the new epoch",
      );
      client = await openClient(`${gw.wsUrl}?since=${last}&epoch=${relay.epoch}`);
      const again = client;
      assert.notEqual(again.frames[0].epoch, relay.epoch);
      assert.equal(again.frames[0].resumed, false, "another epoch: a reset, not a resume");
      await waitFor(() => allPoints(again).length > 5, 10000, "points flow in the new epoch");
      await s.stop();
      assert.equal(await getMetric(gw.base, "zws_upstream_epoch_changes_total"), 1);
    } finally {
      await s?.stop();
      await client?.close().catch(() => {});
      pub?.close();
      await nc?.close();
      for (const p of procs) await p.stop("SIGTERM");
      await nats.stop();
    }
  },
});
