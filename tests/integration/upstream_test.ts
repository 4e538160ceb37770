import assert from "node:assert/strict";
import * as zmq from "zeromq";
import { startUpstream, waitUntilHeld } from "../../src/sources/upstream_link.ts";
import { setLogSink } from "../../src/runtime/log.ts";
import { metric, openClient, sleep, startZws, waitFor, type WsRecorder } from "../_helpers.ts";
import { WsBridge } from "../../ws_bridge.ts";
import { decodeBus } from "../../src/protocol/bus_decode.ts";
import { encodeBus } from "../../src/protocol/bus_encode.ts";

/** A subscriber on the upstream's bus that records each batch's topic, first seq and epoch. */
function busRecorder(bus: string) {
  const got: Array<{ series: string; seq: number; epoch: string; frames: number }> = [];
  const sub = new zmq.Subscriber();
  sub.subscribe();
  sub.connect(bus);
  const loop = (async () => {
    for await (const frames of sub) {
      const m = decodeBus(frames);
      if (m.kind === "end") break;
      if (m.kind === "invalid") throw new Error(m.reason);
      if (m.kind === "units") continue;
      got.push({
        series: frames[0].toString(),
        seq: m.batch.firstSeq,
        epoch: m.batch.epoch,
        frames: frames.length,
      });
    }
    sub.close();
  })();
  return { got, loop };
}

/** A bus batch of one point. */
const msg = (series: string, seq: number, epoch: string) =>
  encodeBus(epoch, seq, [{ series, json: `{"seq":${seq},"x":1,"y":1,"series":"${series}"}` }]);

Deno.test({
  name: "upstream: the forwarder's messages reach the bus as they are; close ends the stream first",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const previousSink = setLogSink(() => {});
    const fwd = new zmq.Publisher({ linger: 0 });
    await fwd.bind("tcp://127.0.0.1:*");
    const up = await startUpstream({ endpoint: fwd.lastEndpoint! });
    const rec = busRecorder(up.bus);
    try {
      await waitFor(() => up.link().connected, 5000, "connected");
      assert.equal(up.link().endpoint, fwd.lastEndpoint);
      await sleep(200); // the subscription travels up after the handshake
      await fwd.send(msg("a", 41, "E1"));
      await fwd.send(msg("b", 42, "E1"));
      await waitFor(() => rec.got.length >= 2, 5000, "2 points");
      assert.deepEqual(rec.got, [
        { series: "a", seq: 41, epoch: "E1", frames: 4 },
        { series: "b", seq: 42, epoch: "E1", frames: 4 },
      ]);
    } finally {
      await up.close(rec.loop);
      fwd.close();
      setLogSink(previousSink);
    }
    // The recorder's loop ended on the in-band end-of-stream, before the sockets were closed.
    await rec.loop;
  },
});

Deno.test({
  name: "upstream: reports the link lost and back when the forwarder restarts",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const lines: string[] = [];
    const previousSink = setLogSink((l) => lines.push(l));
    let fwd = new zmq.Publisher({ linger: 0 });
    await fwd.bind("tcp://127.0.0.1:*");
    const endpoint = fwd.lastEndpoint!;
    const up = await startUpstream({ endpoint });
    const rec = busRecorder(up.bus);
    try {
      await waitFor(() => up.link().connected, 5000, "connected");
      const t0 = up.link().since;
      fwd.close();
      await waitFor(() => !up.link().connected, 5000, "disconnected");
      assert(up.link().since >= t0);
      fwd = new zmq.Publisher({ linger: 0 });
      await fwd.bind(endpoint);
      await waitFor(() => up.link().connected, 5000, "reconnected");
      const s = up.link();
      assert.equal(s.connects, 2);
      assert.equal(s.disconnects, 1);
      await sleep(200);
      await fwd.send(msg("a", 1, "E"));
      await waitFor(() => rec.got.length === 1, 5000, "a point after the reconnect");
      // One line when lost, one when back: the retries in between are not logged.
      assert.equal(lines.filter((l) => l.includes("lost; reconnecting")).length, 1);
      assert.equal(lines.filter((l) => l.includes("reconnected")).length, 1);
    } finally {
      await up.close(rec.loop);
      fwd.close();
      setLogSink(previousSink);
    }
  },
});

Deno.test("waitUntilHeld: waits for the client's point, not for another epoch, and not forever", async () => {
  let held = 10;
  const cur = () => ({ epoch: "E", heldSeq: held });
  let t = performance.now();
  await waitUntilHeld({}, cur, 1000);
  await waitUntilHeld({ since: 5, epoch: "E" }, cur, 1000);
  await waitUntilHeld({ since: 50, epoch: "other" }, cur, 1000);
  assert(performance.now() - t < 100, "nothing to wait for");
  t = performance.now();
  setTimeout(() => held = 12, 100);
  await waitUntilHeld({ since: 12, epoch: "E" }, cur, 2000);
  const waited = performance.now() - t;
  assert(waited >= 90 && waited < 1000, `waited ${waited} ms for seq 12`);
  t = performance.now();
  await waitUntilHeld({ since: 99, epoch: "E" }, cur, 200);
  assert(performance.now() - t < 500, "gives up after the timeout");
});

Deno.test({
  name: "bridge on a forwarder's stream: learns the epoch from the first point, stops at a change",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const bus = `inproc://bridge-epoch-${crypto.randomUUID()}`;
    const pub = new zmq.Publisher({ sendHighWaterMark: 1000 });
    await pub.bind(bus);
    const changes: Array<[string, number]> = [];
    const bridge = new WsBridge({ tickMs: 1, onEpochChange: (e, s) => changes.push([e, s]) });
    const sent: string[] = [];
    bridge.attach(bus, "", 0);
    assert.equal(bridge.epoch, "");
    try {
      await sleep(50);
      await pub.send(msg("a", 7, "E1"));
      await pub.send(msg("a", 8, "E1"));
      await waitFor(() => bridge.heldSeq === 8, 5000, "2 points held");
      assert.equal(bridge.epoch, "E1", "learnt from the stream");
      const hello = (frames: string[]) => JSON.parse(frames[0]);
      bridge.addClient({
        send: (f) => sent.push(f),
        bufferedAmount: () => 0,
        close: () => {},
      }, { since: 7, epoch: "E1" });
      assert.equal(hello(sent).resumed, true, "a client resumes within the learnt epoch");
      await pub.send(msg("a", 1, "E2")); // the forwarder restarted without its state
      await waitFor(() => changes.length === 1, 5000, "the change reported");
      assert.deepEqual(changes, [["E2", 1]]);
      await pub.send(msg("a", 2, "E2"));
      await sleep(100);
      assert.equal(bridge.heldSeq, 8, "nothing of the new epoch entered the old history");
      assert.equal(bridge.stats().pointsReceived, 2);
    } finally {
      await bridge.close(); // its loop already ended at the change: no wait, no warning
      pub.close();
    }
  },
});

/**
 * Walks what a client received, in order, and throws at the first silent jump in seq: each point
 * must follow the one before it, unless a reset snapshot (history with `reset: true`) came between.
 */
function assertNoSilentJump(c: WsRecorder, who: string): { resets: number; last: number } {
  let prev: number | undefined;
  let resets = 0;
  // A reset snapshot is what the gateway holds (it may hold a gap: the page starts over from it).
  let snapshot = false;
  for (const f of c.frames) {
    if (f.type !== "points" && f.type !== "history") continue;
    if (f.type === "history" && f.reset === true) {
      snapshot = true;
      resets++;
    } else if (f.type === "points") snapshot = false;
    for (const p of f.points as Array<{ seq: number }>) {
      if (prev !== undefined && !snapshot) {
        assert.equal(p.seq, prev + 1, `${who}: seq ${prev} -> ${p.seq} without a reset`);
      }
      prev = p.seq;
    }
  }
  return { resets, last: prev ?? 0 };
}

Deno.test({
  name: "gateway: a jump in the forwarder's seq reaches live clients as a reset snapshot, never " +
    "as a silent jump",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const fwd = new zmq.Publisher({ linger: 0 });
    await fwd.bind("tcp://127.0.0.1:*");
    const gw = await startZws(["--no-demo", "--upstream", fwd.lastEndpoint!]);
    const clients: WsRecorder[] = [];
    const metricOf = async (name: string) =>
      metric(await (await fetch(`${gw.base}/metrics`)).text(), name);
    try {
      let seq = 0;
      // Until the gateway's subscription has reached this publisher, points go nowhere (a gap
      // at the start, before any client: not a loss).
      await waitFor(
        async () => {
          await fwd.send(msg("a", ++seq, "E"));
          await sleep(50);
          return (await metricOf("zws_points_received_total")) > 0;
        },
        10000,
        "a first point through the gateway",
      );
      for (let i = 0; i < 3; i++) clients.push(await openClient(gw.wsUrl));
      for (let i = 0; i < 20; i++) await fwd.send(msg(i % 2 ? "a" : "b", ++seq, "E"));
      await sleep(200);
      // The gateway missed 500 points (its link was down, or it fell behind): seq jumps.
      seq += 500;
      for (let i = 0; i < 20; i++) await fwd.send(msg("a", ++seq, "E"));
      const last = seq;
      await waitFor(
        () => clients.every((c) => assertNoSilentJump(c, "client").last === last),
        5000,
        `every client to reach seq ${last}`,
      );
      for (const [i, c] of clients.entries()) {
        const r = assertNoSilentJump(c, `client ${i}`);
        // The first reset is the snapshot on connecting; the second is the gap's.
        assert.equal(r.resets, 2, `client ${i}: a reset snapshot after the gap`);
      }
      assert.equal(await metricOf("zws_seq_gaps_total"), 1);
      // Live again after the reset: contiguous points reach the clients as points frames.
      for (let i = 0; i < 5; i++) await fwd.send(msg("a", ++seq, "E"));
      await waitFor(() => clients.every((c) => c.points().at(-1)?.seq === seq), 5000, "live");
      for (const c of clients) assertNoSilentJump(c, "client");
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await gw.stop("SIGTERM");
      fwd.close();
    }
  },
});
