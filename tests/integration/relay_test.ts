import assert from "node:assert/strict";
import * as zmq from "zeromq";
import { startRelay } from "../../relay.ts";
import { decodeBus, pointJson, pointSeries } from "../../src/protocol/bus_decode.ts";
import { connectPublisher, handshakeOutcome, sleep, waitFor } from "../_helpers.ts";
import { greeting, readyCommand } from "../../src/zmq/zmtp_frames.ts";
import { setLogSink } from "../../src/runtime/log.ts";

/** Subscribes to a relay's points bus and records each point of its batches, and heartbeats. */
function busRecorder(bus: string) {
  const sub = new zmq.Subscriber();
  sub.connect(bus);
  sub.subscribe();
  const got: Array<
    { series: string; seq: number; point: Record<string, unknown>; epoch: string }
  > = [];
  let heartbeats = 0;
  const units: [string, string][] = [];
  const loop = (async () => {
    for await (const frames of sub) {
      const m = decodeBus(frames);
      if (m.kind === "end") break; // the relay's end-of-stream
      if (m.kind === "invalid") throw new Error(`invalid bus message: ${m.reason}`);
      if (m.kind === "units") {
        units.push(...m.units);
        continue;
      }
      const b = m.batch;
      if (b.count === 0) heartbeats++;
      for (let i = 0; i < b.count; i++) {
        got.push({
          series: pointSeries(b, i),
          seq: b.firstSeq + i,
          point: JSON.parse(pointJson(b, i)),
          epoch: b.epoch,
        });
      }
    }
  })();
  return {
    got,
    units,
    get heartbeats() {
      return heartbeats;
    },
    async close() {
      await loop;
      sub.close();
    },
  };
}

Deno.test("relay: producers that connect after start, and one that restarts, all get through", async () => {
  // The regression behind the relay's design (docs/architecture.md, "ZeroMQ under Deno"): under Deno a JS
  // socket receiving on TCP loses everything once peers connect later or restart.
  const bus = `inproc://relay-test-${crypto.randomUUID()}`;
  const relay = await startRelay({
    ingress: "tcp://127.0.0.1:*",
    maxMessageBytes: 65536,
    demo: false,
    bus,
  });
  const rec = busRecorder(bus);
  try {
    assert.match(relay.ingress, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    await sleep(100);
    const send = async (pub: zmq.Publisher, tag: string, n: number) => {
      for (let i = 0; i < n; i++) {
        await pub.send(JSON.stringify({ x: Date.now(), y: i, series: tag }));
      }
    };
    const p1 = await connectPublisher(relay.ingress);
    await send(p1, "p1", 20);
    const p2 = await connectPublisher(relay.ingress); // a second peer, later
    await send(p1, "p1", 20);
    await send(p2, "p2", 20);
    p1.close(); // a producer restarts: goes away, a new socket comes back
    const p1b = await connectPublisher(relay.ingress);
    await send(p1b, "p1", 20);
    await send(p2, "p2", 20);
    await waitFor(() => rec.got.length >= 100, 5000, "100 points on the bus");
    await sleep(100);
    p2.close();
    p1b.close();
    const count = (s: string) => rec.got.filter((g) => g.series === s).length;
    assert.equal(count("p1"), 60);
    assert.equal(count("p2"), 40);
    assert.deepEqual(rec.got.map((g) => g.seq), [...Array(100).keys()].map((i) => i + 1));
    for (const g of rec.got) assert.equal(g.point.seq, g.seq);
    const stats = relay.stats();
    assert.equal(stats.messages, 100);
    assert.equal(stats.points, 100);
    assert.equal(stats.lastSeq, 100);
  } finally {
    await relay.close();
    await rec.close();
  }
});

Deno.test("relay: continues a given epoch and sequence (restart after a crash)", async () => {
  const bus = `inproc://relay-test-${crypto.randomUUID()}`;
  const relay = await startRelay({
    ingress: "tcp://127.0.0.1:*",
    maxMessageBytes: 65536,
    demo: false,
    bus,
    epoch: "e1",
    lastSeq: 41,
  });
  const rec = busRecorder(bus);
  try {
    assert.equal(relay.epoch, "e1");
    const pub = await connectPublisher(relay.ingress);
    await pub.send(JSON.stringify([{ x: 1, y: 1 }, { x: 2, y: 2, series: "b" }]));
    await waitFor(() => rec.got.length >= 2, 5000, "2 points");
    pub.close();
    assert.deepEqual(rec.got.map((g) => g.seq), [42, 43]);
    assert.deepEqual(rec.got.map((g) => g.series), ["value", "b"]);
    assert.deepEqual(rec.got.map((g) => g.epoch), ["e1", "e1"], "4th frame: the epoch");
    assert.equal(rec.got[0].point.x, 1000, "x in seconds became ms");
  } finally {
    await relay.close();
    await rec.close();
  }
});

Deno.test("relay: plain producers: a message over the limit, in one frame or many, is counted and the peer stays", async () => {
  const bus = `inproc://relay-test-${crypto.randomUUID()}`;
  const relay = await startRelay({
    ingress: "tcp://127.0.0.1:*",
    maxMessageBytes: 1024,
    demo: false,
    bus,
  });
  const rec = busRecorder(bus);
  try {
    const good = await connectPublisher(relay.ingress);
    const bad = await connectPublisher(relay.ingress);
    await bad.send("x".repeat(2 * 1024 * 1024)); // beyond libzmq's cap: no cut here
    await bad.send(Array.from({ length: 10 }, () => "y".repeat(200))); // 2,000 bytes in 10 frames
    await bad.send(Array.from({ length: 100 }, () => "")); // 100 frames: too many
    for (let i = 0; i < 10; i++) await good.send(JSON.stringify({ x: Date.now(), y: i }));
    await bad.send(JSON.stringify({ x: Date.now(), y: 99, series: "bad" }));
    await waitFor(() => rec.got.length >= 11, 5000, "10 points from the good peer, 1 from the bad");
    assert.equal(
      rec.got.filter((g) => g.series === "bad").length,
      1,
      "the bad peer is still served",
    );
    const s = relay.stats();
    assert.deepEqual(s.rejected, { oversize: 2, frame_count: 1 });
    assert.equal(s.messages, 14);
    assert.deepEqual(s.ingress, { connections: 2, accepted: 2, protocolErrors: 0, refused: 0 });
    good.close();
    bad.close();
  } finally {
    await relay.close();
    await rec.close();
  }
});

Deno.test("relay: plain ingress: a peer that is not ZeroMQ, or not a PUB, is disconnected and counted", async () => {
  const bus = `inproc://relay-test-${crypto.randomUUID()}`;
  const relay = await startRelay({
    ingress: "tcp://127.0.0.1:*",
    maxMessageBytes: 1024,
    demo: false,
    bus,
  });
  const rec = busRecorder(bus);
  const push = new zmq.Push({ linger: 0 });
  try {
    const { port } = new URL(relay.ingress.replace("tcp:", "http:"));
    const http = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
    await http.write(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"));
    const buf = new Uint8Array(1024);
    let n: number | null = 0;
    while (n !== null) n = await http.read(buf).catch(() => null); // the ingress hangs up
    http.close();
    push.connect(relay.ingress); // a PUSH socket: READY says so
    await waitFor(() => (relay.stats().ingress?.protocolErrors ?? 0) >= 2, 5000, "2 refused");
    const pub = await connectPublisher(relay.ingress);
    await pub.send(JSON.stringify({ x: Date.now(), y: 1 }));
    await waitFor(() => rec.got.length === 1, 5000, "a PUB still gets through");
    pub.close();
  } finally {
    push.close();
    await relay.close();
    await rec.close();
  }
});

Deno.test("relay: plain ingress: refusals in the peer's own words are one log line per 5 s, and forge no line", async () => {
  const bus = `inproc://relay-test-${crypto.randomUUID()}`;
  const lines: string[] = [];
  const previousSink = setLogSink((line) => lines.push(line));
  const relay = await startRelay({
    ingress: "tcp://127.0.0.1:*",
    maxMessageBytes: 1024,
    demo: false,
    bus,
  });
  try {
    const { port } = new URL(relay.ingress.replace("tcp:", "http:"));
    const n = 20;
    for (let i = 0; i < n; i++) {
      // Each peer names its own socket type, with a log line of its own inside.
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
      await conn.write(greeting());
      await conn.write(readyCommand(`X${i}\n2026-01-01T00:00:00.000Z ERROR main: FORGED ${i}`));
      const buf = new Uint8Array(1024);
      let got: number | null = 0;
      while (got !== null) got = await conn.read(buf).catch(() => null); // the ingress hangs up
      conn.close();
    }
    await waitFor(() => (relay.stats().ingress?.protocolErrors ?? 0) >= n, 5000, `${n} refused`);
    const refusals = lines.filter((l) => l.includes("socket; producers publish with PUB"));
    assert.equal(refusals.length, 1, lines.join("\n"));
    assert.ok(lines.every((l) => !l.includes("\n")), "no line holds a line break: none is forged");
  } finally {
    setLogSink(previousSink);
    await relay.close();
  }
});

Deno.test("relay (native ingress): a message over the native cap cuts only that peer; others keep flowing", async () => {
  const bus = `inproc://relay-test-${crypto.randomUUID()}`;
  const relay = await startRelay({
    ingress: "tcp://127.0.0.1:*",
    maxMessageBytes: 1024,
    nativeIngress: true,
    demo: false,
    bus,
  });
  const rec = busRecorder(bus);
  try {
    const good = await connectPublisher(relay.ingress);
    const bad = await connectPublisher(relay.ingress);
    await bad.send("x".repeat(2 * 1024 * 1024)); // beyond the native cap: ZeroMQ drops the peer
    await bad.send(JSON.stringify({ x: 1, y: 1, pad: "p".repeat(2000) })); // counted oversize
    for (let i = 0; i < 10; i++) await good.send(JSON.stringify({ x: Date.now(), y: i }));
    await waitFor(() => rec.got.length >= 10, 5000, "10 points from the good peer");
    // The bad peer reconnects by itself and is served again.
    await waitFor(
      async () => {
        await bad.send(JSON.stringify({ x: Date.now(), y: 99, series: "bad" }));
        await sleep(50);
        return rec.got.some((g) => g.series === "bad");
      },
      5000,
      "the cut peer to be served again after reconnecting",
    );
    good.close();
    bad.close();
  } finally {
    await relay.close();
    await rec.close();
  }
});

Deno.test("relay: CURVE ingress lets allowed keys in, refuses unknown keys and plain producers", async () => {
  const server = zmq.curveKeyPair();
  const allowed = [zmq.curveKeyPair(), zmq.curveKeyPair()];
  const stranger = zmq.curveKeyPair();
  const bus = `inproc://relay-test-${crypto.randomUUID()}`;
  const relay = await startRelay({
    ingress: "tcp://127.0.0.1:*",
    maxMessageBytes: 65536,
    demo: false,
    bus,
    curve: { secretKey: server.secretKey, allow: allowed.map((k) => k.publicKey) },
  });
  const rec = busRecorder(bus);
  const client = (k: { publicKey: string; secretKey: string }) => ({
    serverKey: server.publicKey,
    ...k,
  });
  const pubs: zmq.Publisher[] = [];
  try {
    const send = async (pub: zmq.Publisher, tag: string) => {
      for (let i = 0; i < 5; i++) {
        await pub.send(JSON.stringify({ x: Date.now(), y: i, series: tag }));
      }
    };
    // Several handshakes one after the other: the ZAP handler must answer every one of them
    // (a blocking JS Router stops receiving after its first reply under Deno).
    for (let round = 0; round < 3; round++) {
      const ok = await connectPublisher(relay.ingress, client(allowed[round % 2]));
      pubs.push(ok);
      const unknown = await handshakeOutcome(relay.ingress, client(stranger));
      pubs.push(unknown.pub);
      assert.equal(unknown.outcome, "handshake:error:auth", "unknown key refused");
      const plain = await handshakeOutcome(relay.ingress);
      pubs.push(plain.pub);
      assert.match(plain.outcome, /^handshake:error:/, "plain producer refused");
      await send(ok, `ok${round}`);
      await send(unknown.pub, "stranger").catch(() => {});
      await send(plain.pub, "plain").catch(() => {});
    }
    await waitFor(() => rec.got.length >= 15, 5000, "15 points from the allowed producers");
    await sleep(200);
    assert.deepEqual(
      [...new Set(rec.got.map((g) => g.series))].sort(),
      ["ok0", "ok1", "ok2"],
      "only allowed producers deliver",
    );
    assert.equal(rec.got.length, 15);
    assert(relay.stats().producersRefused! >= 3, `refused ${relay.stats().producersRefused}`);
  } finally {
    pubs.forEach((p) => p.close());
    await relay.close();
    await rec.close();
  }
});

Deno.test("relay: a second CURVE relay in one process cannot take the ZAP endpoint", async () => {
  const server = zmq.curveKeyPair();
  const curve = { secretKey: server.secretKey, allow: [zmq.curveKeyPair().publicKey] };
  const opts = { ingress: "tcp://127.0.0.1:*", maxMessageBytes: 65536, demo: false, curve };
  const bus1 = `inproc://relay-test-${crypto.randomUUID()}`;
  const first = await startRelay({ ...opts, bus: bus1 });
  const rec = busRecorder(bus1);
  try {
    await assert.rejects(
      startRelay({ ...opts, bus: `inproc://relay-test-${crypto.randomUUID()}` }),
      /cannot start the CURVE allow-list \(ZAP handler\)/,
    );
  } finally {
    await first.close();
    await rec.close();
  }
  // Once the first has closed, the endpoint is free again.
  const bus2 = `inproc://relay-test-${crypto.randomUUID()}`;
  const again = await startRelay({ ...opts, bus: bus2 });
  const rec2 = busRecorder(bus2);
  await again.close();
  await rec2.close();
});
