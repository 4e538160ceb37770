import assert from "node:assert/strict";
import * as zmq from "zeromq";
import { startUpstream, waitUntilHeld } from "../../src/sources/upstream_link.ts";
import { setLogSink } from "../../src/runtime/log.ts";
import { sleep, waitFor } from "../_helpers.ts";
import { WsBridge } from "../../ws_bridge.ts";
import { decodeBus, encodeBus } from "../../src/protocol/bus.ts";

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
