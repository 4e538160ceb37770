import assert from "node:assert/strict";
import * as zmq from "zeromq";
import { startUpstream, type UpstreamGeneration, waitUntilHeld } from "../src/upstream.ts";
import { setLogSink } from "../src/log.ts";
import { sleep, waitFor } from "./_helpers.ts";

/** Records what the follower publishes on each generation's bus. */
function busRecorder() {
  const got: Array<{ bus: string; series: string; seq: number; frames: number }> = [];
  const loops: Promise<void>[] = [];
  const gens: Array<{ gen: UpstreamGeneration; previous?: UpstreamGeneration }> = [];
  return {
    got,
    gens,
    onGeneration(gen: UpstreamGeneration, previous: UpstreamGeneration | undefined) {
      gens.push({ gen, previous });
      const sub = new zmq.Subscriber();
      sub.subscribe();
      sub.connect(gen.bus);
      loops.push((async () => {
        for await (const frames of sub) {
          if (frames[1].length === 0) break; // end-of-stream
          got.push({
            bus: gen.bus,
            series: frames[0].toString(),
            seq: Number(frames[1].toString()),
            frames: frames.length,
          });
        }
        sub.close();
      })());
    },
    /** Every loop ended with an end-of-stream (the follower closed or moved on). */
    ended: () => Promise.all(loops),
  };
}

const msg = (series: string, seq: number, epoch: string) => [
  series,
  String(seq),
  `{"seq":${seq},"x":1,"y":1,"series":"${series}"}`,
  epoch,
];

Deno.test({
  name: "upstream: passes points on, learns and follows the epoch, counts gaps and bad messages",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const lines: string[] = [];
    const previousSink = setLogSink((l) => lines.push(l));
    const fwd = new zmq.Publisher({ linger: 0 });
    await fwd.bind("tcp://127.0.0.1:*");
    const rec = busRecorder();
    const up = await startUpstream({
      endpoint: fwd.lastEndpoint!,
      onGeneration: (g, p) => rec.onGeneration(g, p),
    });
    try {
      await waitFor(() => up.health().connected, 5000, "connected");
      await sleep(200); // the subscription travels up after the handshake
      assert.equal(up.health().epoch, null);
      await fwd.send(msg("a", 41, "E1")); // joins mid-stream
      await fwd.send(msg("b", 42, "E1"));
      await fwd.send(["a", "43", "{}"]); // 3 frames: malformed
      await fwd.send(["a", "x43", "{}", "E1"]); // bad seq
      await fwd.send(["a", "43", "{}", ""]); // bad epoch
      await fwd.send(msg("a", 42, "E1")); // not after 42
      await fwd.send(msg("a", 45, "E1")); // 43, 44 missed
      await fwd.send(["", "", ""]); // the forwarder's end-of-stream: ignored
      await fwd.send(msg("a", 46, "E1"));
      await waitFor(() => rec.got.length >= 4, 5000, "4 points");
      assert.deepEqual(rec.got.map((g) => g.seq), [41, 42, 45, 46]);
      assert(rec.got.every((g) => g.frames === 3), "the bus carries [series, seq, pointJson]");
      assert.deepEqual(rec.gens.map((g) => [g.gen.epoch, g.gen.lastSeq, g.previous]), [
        ["E1", 40, undefined],
      ]);
      const s = up.stats();
      assert.equal(s.points, 4);
      assert.equal(s.malformed, 3);
      assert.equal(s.outOfOrder, 1);
      assert.equal(s.gaps, 1);
      assert.equal(s.missedPoints, 2);
      assert.equal(s.lastSeq, 46);
      assert.deepEqual(up.health().epoch, "E1");

      // A restarted forwarder without its state: a new epoch, a new bus; the old one is ended.
      await fwd.send(msg("a", 1, "E2"));
      await fwd.send(msg("a", 2, "E2"));
      await waitFor(() => rec.got.length >= 6, 5000, "2 points of the new epoch");
      assert.equal(rec.gens.length, 2);
      assert.equal(rec.gens[1].gen.epoch, "E2");
      assert.equal(rec.gens[1].gen.lastSeq, 0);
      assert.equal(rec.gens[1].previous?.epoch, "E1");
      assert.notEqual(rec.gens[1].gen.bus, rec.gens[0].gen.bus);
      assert.deepEqual(rec.got.slice(4).map((g) => [g.bus, g.seq]), [
        [rec.gens[1].gen.bus, 1],
        [rec.gens[1].gen.bus, 2],
      ]);
      assert.equal(up.stats().epochChanges, 1);
      assert(lines.some((l) => l.includes("epoch changed E1 -> E2")), "logged once");
    } finally {
      await up.close();
      await rec.ended();
      fwd.close();
      setLogSink(previousSink);
    }
    assert(
      lines.filter((l) => l.includes("malformed") || l.includes("dropped upstream")).length <= 1,
    );
  },
});

Deno.test({
  name: "upstream: reports the link lost and back when the forwarder restarts",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const previousSink = setLogSink(() => {});
    let fwd = new zmq.Publisher({ linger: 0 });
    await fwd.bind("tcp://127.0.0.1:*");
    const endpoint = fwd.lastEndpoint!;
    const rec = busRecorder();
    const up = await startUpstream({ endpoint, onGeneration: (g, p) => rec.onGeneration(g, p) });
    try {
      await waitFor(() => up.health().connected, 5000, "connected");
      const t0 = up.health().since;
      fwd.close();
      await waitFor(() => !up.health().connected, 5000, "disconnected");
      assert(up.health().since >= t0);
      fwd = new zmq.Publisher({ linger: 0 });
      await fwd.bind(endpoint);
      await waitFor(() => up.health().connected, 5000, "reconnected");
      const s = up.stats().link;
      assert.equal(s.connects, 2);
      assert.equal(s.disconnects, 1);
      await sleep(200);
      await fwd.send(msg("a", 1, "E"));
      await waitFor(() => rec.got.length === 1, 5000, "a point after the reconnect");
    } finally {
      await up.close();
      await rec.ended();
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
