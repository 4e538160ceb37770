/**
 * Never wedged: each data-path loop (the relay's receive and bus send loops, the bridge's bus
 * receive loop, the ZAP handler) made to fail on purpose is restarted by its owner, counted in
 * `/metrics`, and points flow again with seq continuing; `/healthz` tells a stalled path (503)
 * from an idle one (200, heartbeats). A real server in this process (main.ts `startServer`), real
 * ZeroMQ producers, real WebSocket clients.
 */
import assert from "node:assert/strict";
import * as zmq from "zeromq";
import { startServer } from "../../main.ts";
import { parseConfig } from "../../src/config/config.ts";
import { setLogSink } from "../../src/runtime/log.ts";
import { faults } from "../../src/runtime/loop.ts";
import { startRelay } from "../../relay.ts";
import { decodeBus } from "../../src/protocol/bus_decode.ts";
import {
  connectPublisher,
  metric,
  openClient,
  sleep,
  waitFor,
  type WsRecorder,
} from "../_helpers.ts";

async function server() {
  const parsed = parseConfig([
    "--port",
    "0",
    "--hostname",
    "127.0.0.1",
    "--ingress",
    "tcp://127.0.0.1:*",
    "--no-demo",
    "--no-persist", // the checkout's ./data is not for tests (tests/_helpers.ts persistFlags)
  ]);
  if (parsed.kind !== "config") throw new Error("bad test config");
  const s = await startServer(parsed.config);
  const base = s.url.replace(/\/$/, "");
  return {
    s,
    base,
    wsUrl: base.replace(/^http/, "ws") + "/ws",
    metrics: async () => await (await fetch(`${base}/metrics`)).text(),
    healthz: async () => {
      const r = await fetch(`${base}/healthz`);
      return { status: r.status, body: await r.json() };
    },
  };
}

/** Publishes `n` points (one message of `n`), y from `from`. */
async function publish(pub: zmq.Publisher, n: number, from: number) {
  const batch = Array.from({ length: n }, (_, i) => ({ x: Date.now(), y: from + i, series: "s" }));
  await pub.send(JSON.stringify(batch));
}

/** Asserts the client saw seqs 1..n with no gap and no repeat. */
function assertNoGap(c: WsRecorder, n: number) {
  const seqs = c.points().map((p) => p.seq);
  assert.deepEqual(seqs, Array.from({ length: n }, (_, i) => i + 1));
}

Deno.test({
  name:
    "loops: the relay's receive and send loops and the bridge's receive loop, failed on purpose, restart; seq continues",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const logged: string[] = [];
    const restore = setLogSink((l) => logged.push(l));
    const srv = await server();
    const pub = await connectPublisher(srv.s.ingress!);
    const client = await openClient(srv.wsUrl);
    try {
      await sleep(100);
      let sent = 0;
      const round = async () => {
        await publish(pub, 10, sent);
        sent += 10;
        await waitFor(() => client.points().length === sent, 5000, `${sent} points delivered`);
      };
      await round();
      const cases: Array<[string, () => void, string]> = [
        ["relay.receive", () => srv.s.injectRelayFault!("relay.receive"), "relay"],
        ["relay.send", () => srv.s.injectRelayFault!("relay.send"), "relay"],
        ["bridge.receive", () => faults.arm("bridge.receive"), "bridge"],
      ];
      let restarts = { relay: 0, bridge: 0 };
      for (const [name, arm, stage] of cases) {
        arm();
        await sleep(50);
        await publish(pub, 1, sent); // trips the receive faults (the send one trips on its own)
        sent += 1;
        await waitFor(
          async () => {
            const m = await srv.metrics();
            return metric(m, `zws_loop_restarts_total{stage="${stage}"}`) >
              restarts[stage as "relay" | "bridge"];
          },
          5000,
          `${name} restart counted`,
        );
        const m = await srv.metrics();
        restarts = {
          relay: metric(m, `zws_loop_restarts_total{stage="relay"}`),
          bridge: metric(m, `zws_loop_restarts_total{stage="bridge"}`),
        };
        // A message the failing receive loop was handling when it threw may be lost (it never
        // got a seq: no gap); a new round must flow in full.
        const before = client.points().length;
        await publish(pub, 10, sent);
        sent += 10;
        await waitFor(() => client.points().length >= before + 10, 5000, `points after ${name}`);
        sent = client.points().length;
      }
      assert.deepEqual(restarts, { relay: 2, bridge: 1 });
      assertNoGap(client, client.points().length);
      // (The relay's own lines are printed by its worker, outside this log sink.)
      assert.ok(
        logged.some((l) => /bus receive loop ended \(fault injected in bridge/.test(l)),
        logged.join("\n"),
      );
      const h = await srv.healthz();
      assert.equal(h.status, 200);
    } finally {
      pub.close();
      await client.close();
      await srv.s.shutdown();
      setLogSink(restore);
    }
  },
});

Deno.test({
  name: "healthz: ok while idle (heartbeats), 503 with the reason once the bus send loop is wedged",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const restore = setLogSink(() => {});
    const srv = await server();
    try {
      await sleep(4000); // idle longer than the stall threshold: heartbeats keep it ok
      let h = await srv.healthz();
      assert.equal(h.status, 200, JSON.stringify(h.body));
      assert.equal(h.body.status, "ok");
      srv.s.injectRelayFault!("relay.send", "hang");
      await waitFor(async () => (await srv.healthz()).status === 503, 8000, "503 once stalled");
      h = await srv.healthz();
      assert.equal(h.body.status, "stalled");
      assert.match(h.body.reason, /no points or heartbeat from the relay for \d/);
    } finally {
      await srv.s.shutdown();
      setLogSink(restore);
    }
  },
});

Deno.test({
  name: "loops: the ZAP handler's loop, failed on purpose, restarts; an allowed producer gets in",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const restore = setLogSink(() => {});
    const serverKey = zmq.curveKeyPair();
    const producer = zmq.curveKeyPair();
    const bus = `inproc://loops-test-${crypto.randomUUID()}`;
    const relay = await startRelay({
      ingress: "tcp://127.0.0.1:*",
      maxMessageBytes: 65536,
      demo: false,
      bus,
      curve: { secretKey: serverKey.secretKey, allow: [producer.publicKey] },
    });
    const sub = new zmq.Subscriber();
    sub.connect(bus);
    sub.subscribe();
    let points = 0;
    const loop = (async () => {
      for await (const frames of sub) {
        const m = decodeBus(frames);
        if (m.kind === "end") break;
        if (m.kind === "batch") points += m.batch.count;
      }
    })();
    let pub: zmq.Publisher | undefined;
    try {
      faults.arm("zap.loop"); // the handler's loop throws on its next turn
      pub = new zmq.Publisher({
        curveServerKey: serverKey.publicKey,
        curvePublicKey: producer.publicKey,
        curveSecretKey: producer.secretKey,
        linger: 0,
      });
      pub.connect(relay.ingress);
      await waitFor(() => (relay.stats().loopRestarts ?? 0) >= 1, 5000, "the ZAP loop restarted");
      // The peer retries its handshake; the restarted handler lets it in.
      await waitFor(
        async () => {
          await pub!.send(JSON.stringify({ x: Date.now(), y: 1 }));
          await sleep(100);
          return points > 0;
        },
        10000,
        "points from the allowed producer after the restart",
      );
    } finally {
      pub?.close();
      await relay.close();
      await loop;
      sub.close();
      setLogSink(restore);
    }
  },
});
