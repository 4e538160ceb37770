/**
 * Never wedged, scaled out: the forwarder's egress proxy and monitor loops, and a gateway's
 * upstream link (its proxy and monitor), each made to fail on purpose, are restarted by their
 * owner within 1 s and counted in `/metrics`, and points flow again to live clients, never with a
 * silent jump in seq. A real forwarder and a real gateway in this process, real ZeroMQ over TCP,
 * real WebSocket clients.
 */
import assert from "node:assert/strict";
import type * as zmq from "zeromq";
import { type Forwarder, startForwarder } from "../../forwarder.ts";
import { type RunningServer, startServer } from "../../main.ts";
import { parseConfig, parseForwarderConfig } from "../../src/config/config.ts";
import { setLogSink } from "../../src/runtime/log.ts";
import { faults } from "../../src/runtime/loop.ts";
import {
  connectPublisher,
  metric,
  openClient,
  sleep,
  waitFor,
  type WsRecorder,
} from "../_helpers.ts";

/** Throws at the first jump in seq that no reset snapshot announced (see upstream_test.ts). */
function assertNoSilentJump(c: WsRecorder): number {
  let prev: number | undefined;
  let snapshot = false;
  for (const f of c.frames) {
    if (f.type !== "points" && f.type !== "history") continue;
    if (f.type === "history" && f.reset === true) snapshot = true;
    else if (f.type === "points") snapshot = false;
    for (const p of f.points as Array<{ seq: number }>) {
      if (prev !== undefined && !snapshot) {
        assert.equal(p.seq, prev + 1, `seq ${prev} -> ${p.seq} without a reset`);
      }
      prev = p.seq;
    }
  }
  return prev ?? 0;
}

async function scrape(url: string, name: string): Promise<number> {
  return metric(await (await fetch(`${url}metrics`)).text(), name);
}

/** A forwarder and a gateway in this process, a producer, a client that has seen points. */
async function setUp() {
  const fc = parseForwarderConfig([
    "--ingress",
    "tcp://127.0.0.1:*",
    "--egress",
    "tcp://127.0.0.1:*",
    "--port",
    "0",
    "--no-demo",
  ], () => undefined);
  if (fc.kind !== "config") throw new Error("bad forwarder config");
  const fwd = await startForwarder(fc.config);
  const gc = parseConfig(
    ["--port", "0", "--hostname", "127.0.0.1", "--no-demo", "--upstream", fwd.egress],
    () => undefined,
  );
  if (gc.kind !== "config") throw new Error("bad gateway config");
  const gw = await startServer(gc.config);
  const pub = await connectPublisher(fwd.ingress!);
  let y = 0;
  const send = async () => {
    await pub.send(JSON.stringify({ x: Date.now(), y: y++, series: "s" }));
    await sleep(5);
  };
  await waitFor(
    async () => {
      await send();
      return (await scrape(gw.url, "zws_points_received_total")) > 0;
    },
    10000,
    "a first point through forwarder and gateway",
  );
  const client = await openClient(gw.url.replace(/^http/, "ws") + "ws");
  return { fwd, gw, pub, client, send };
}

async function tearDown(s: {
  fwd: Forwarder;
  gw: RunningServer;
  pub: zmq.Publisher;
  client: WsRecorder;
}) {
  await s.client.close();
  s.pub.close();
  await s.gw.shutdown();
  await s.fwd.shutdown();
}

/** Sends points until the client has one past `after`. */
async function flowsAgain(s: Awaited<ReturnType<typeof setUp>>, what: string) {
  const after = assertNoSilentJump(s.client);
  await waitFor(
    async () => {
      await s.send();
      return assertNoSilentJump(s.client) > after;
    },
    10000,
    what,
  );
}

Deno.test({
  name: "forwarder: its egress proxy and its monitor loop, failed on purpose, restart within 1 s " +
    "(counted); the gateway follows and points flow again, no silent jump",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const previousSink = setLogSink(() => {});
    const s = await setUp();
    try {
      const restarts = (loop: string) =>
        scrape(s.fwd.url, `zws_forwarder_loop_restarts_total{loop="${loop}"}`);
      assert.equal(await restarts("egress_proxy"), 0);
      s.fwd.injectFault();
      const t0 = performance.now();
      await waitFor(async () => (await restarts("egress_proxy")) === 1, 1000, "proxy restart");
      assert(performance.now() - t0 < 1000);
      await flowsAgain(s, "points through the rebuilt egress");
      assert.equal(await scrape(s.fwd.url, "zws_forwarder_gateways_connected"), 1);

      // The egress monitor: its next event (the gateway's reconnect after the next fault) fails.
      faults.arm("forwarder.monitor");
      s.fwd.injectFault();
      await waitFor(async () => (await restarts("monitor")) === 1, 3000, "monitor restart");
      await flowsAgain(s, "points after the monitor's restart");
      assert.equal(await restarts("egress_proxy"), 2);
      // The monitor lost no event: the one gateway is counted once.
      await waitFor(
        async () => (await scrape(s.fwd.url, "zws_forwarder_gateways_connected")) === 1,
        3000,
        "one gateway connected",
      );
    } finally {
      await tearDown(s);
      setLogSink(previousSink);
    }
  },
});

Deno.test({
  name: "gateway: its upstream link's proxy and monitor, failed on purpose, restart within 1 s " +
    "(counted); points flow again to live clients, no silent jump",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const previousSink = setLogSink(() => {});
    const s = await setUp();
    try {
      const restarts = (loop: string) =>
        scrape(s.gw.url, `zws_upstream_link_restarts_total{loop="${loop}"}`);
      assert.equal(await restarts("proxy"), 0);
      s.gw.injectRelayFault!("upstream");
      const t0 = performance.now();
      await waitFor(async () => (await restarts("proxy")) === 1, 1000, "link restart");
      assert(performance.now() - t0 < 1000);
      await flowsAgain(s, "points through the rebuilt link");

      // The link's monitor: its next event fails (the reconnect after the next proxy fault).
      faults.arm("upstream.monitor");
      s.gw.injectRelayFault!("upstream");
      await waitFor(async () => (await restarts("monitor")) === 1, 3000, "monitor restart");
      await flowsAgain(s, "points after the monitor's restart");
      // Points may flow before the restarted monitor has read the handshake event.
      await waitFor(
        async () => (await scrape(s.gw.url, "zws_upstream_connected")) === 1,
        3000,
        "the link reported up",
      );
    } finally {
      await tearDown(s);
      setLogSink(previousSink);
    }
  },
});
