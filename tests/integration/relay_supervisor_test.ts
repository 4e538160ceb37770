import assert from "node:assert/strict";
import { type RelayReady, RelaySupervisor } from "../../src/relay/supervisor.ts";
import { setLogSink } from "../../src/runtime/log.ts";
import { WsBridge } from "../../ws_bridge.ts";
import { connectPublisher, sleep, waitFor } from "../_helpers.ts";

Deno.test("supervisor: a crashed relay worker is restarted; the bridge keeps receiving, same epoch, seq continues", async () => {
  const logged: string[] = [];
  const restoreSink = setLogSink((l) => logged.push(l));
  const bridge = new WsBridge();
  const readies: RelayReady[] = [];
  const sup = new RelaySupervisor({
    relay: { ingress: "tcp://127.0.0.1:*", maxMessageBytes: 65536, demo: false },
    onReady: (r) => {
      bridge.attach(r.bus, r.epoch, r.lastSeq);
      readies.push(r);
    },
    lastSeqSeen: () => bridge.lastSeq,
    workerUrl: new URL("../fixtures/crashable_relay.ts", import.meta.url),
  });
  try {
    const first = await sup.start();
    await sleep(100);
    let pub = await connectPublisher(first.ingress);
    for (let i = 0; i < 5; i++) await pub.send(JSON.stringify({ x: Date.now(), y: i }));
    await waitFor(() => bridge.stats().pointsReceived >= 5, 5000, "5 points before the crash");
    pub.close();
    assert.equal(bridge.lastSeq, 5);

    sup.postToWorker({ type: "test-crash" }); // an uncaught error inside the worker
    await waitFor(() => readies.length >= 2, 5000, "the worker to be restarted");
    assert.equal(sup.restarts, 1);
    const second = readies[1];
    assert.equal(second.epoch, first.epoch, "same epoch after the restart");
    assert.equal(second.lastSeq, 5, "sequence continues where the bridge stopped");
    await sleep(100);

    pub = await connectPublisher(second.ingress);
    for (let i = 0; i < 5; i++) await pub.send(JSON.stringify({ x: Date.now(), y: i }));
    await waitFor(() => bridge.stats().pointsReceived >= 10, 5000, "5 points after the restart");
    pub.close();
    assert.equal(bridge.lastSeq, 10);
    const stats = await sup.stats();
    assert.equal(stats.points, 10, "counters survive the restart");
    assert.ok(
      logged.some((l) => /worker died: .*injected crash; restarting it/.test(l)),
      logged.join("\n"),
    );
  } finally {
    await sup.stop();
    await bridge.close();
    setLogSink(restoreSink);
  }
});

Deno.test("supervisor with a store: a crashed worker closes it cleanly, the next one continues epoch and seq with no gap", async () => {
  const logged: string[] = [];
  const restoreSink = setLogSink((l) => logged.push(l));
  const dir = await Deno.makeTempDir({ prefix: "zws-sup-store-" });
  const bridge = new WsBridge();
  const readies: RelayReady[] = [];
  const sup = new RelaySupervisor({
    relay: {
      ingress: "tcp://127.0.0.1:*",
      maxMessageBytes: 65536,
      demo: false,
      persist: { dataDir: dir, retention: { count: 1000 }, history: 1000, maxSeries: 1000 },
    },
    onReady: (r, generation) => {
      if (generation === 1 && r.held) bridge.preload(r.held, r.lastSeq);
      bridge.attach(r.bus, r.epoch, r.lastSeq);
      readies.push(r);
    },
    lastSeqSeen: () => bridge.lastSeq,
    workerUrl: new URL("../fixtures/crashable_relay.ts", import.meta.url),
  });
  try {
    const first = await sup.start();
    await sleep(100);
    let pub = await connectPublisher(first.ingress);
    for (let i = 0; i < 5; i++) await pub.send(JSON.stringify({ x: Date.now(), y: i }));
    await waitFor(() => bridge.stats().pointsReceived >= 5, 5000, "5 points before the crash");
    pub.close();

    sup.postToWorker({ type: "test-crash" });
    await waitFor(() => readies.length >= 2, 5000, "the worker to be restarted");
    const second = readies[1];
    assert.equal(second.epoch, first.epoch, "same epoch");
    assert.equal(second.lastSeq, 5, "no seq skipped: the crashed worker stopped the store cleanly");
    // (After an unclean stop it would continue after the reservation: 1,000,005 or more.)
    await sleep(100);
    pub = await connectPublisher(second.ingress);
    for (let i = 0; i < 5; i++) await pub.send(JSON.stringify({ x: Date.now(), y: i }));
    await waitFor(() => bridge.stats().pointsReceived >= 10, 5000, "5 points after the restart");
    pub.close();
    assert.equal(bridge.lastSeq, 10);
    assert.equal((await sup.stats()).persist?.mode, "disk");
  } finally {
    await sup.stop();
    await bridge.close();
    setLogSink(restoreSink);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("supervisor: stop waits for a slow worker to close its sockets (its end-of-stream reaches the bridge)", async () => {
  const logged: string[] = [];
  const restoreSink = setLogSink((l) => logged.push(l));
  const bridge = new WsBridge();
  const sup = new RelaySupervisor({
    relay: { ingress: "tcp://127.0.0.1:*", maxMessageBytes: 65536, demo: false },
    onReady: (r) => bridge.attach(r.bus, r.epoch, r.lastSeq),
    lastSeqSeen: () => bridge.lastSeq,
    workerUrl: new URL("../fixtures/slow_stop_relay.ts", import.meta.url),
  });
  try {
    const ready = await sup.start();
    const pub = await connectPublisher(ready.ingress);
    for (let i = 0; i < 5; i++) await pub.send(JSON.stringify({ x: Date.now(), y: i }));
    await waitFor(() => bridge.stats().pointsReceived >= 5, 5000, "5 points");
    pub.close();
    const t0 = performance.now();
    await sup.stop(); // the worker blocks 3 s before closing
    const took = performance.now() - t0;
    assert.ok(took >= 2900, `stop returned after ${took.toFixed(0)} ms, before the worker closed`);
  } finally {
    await bridge.close();
    setLogSink(restoreSink);
  }
  assert.ok(
    !logged.some((l) => /relay did not end its stream/.test(l)),
    `the relay's end-of-stream never reached the bridge:\n${logged.join("\n")}`,
  );
});
