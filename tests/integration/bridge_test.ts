/**
 * The bridge in-process: a real inproc points bus, a real `Deno.serve` and real WebSocket clients,
 * without the relay. Accept options come from the test URL (`?series=a,b&expiresIn=ms`).
 */
import assert from "node:assert/strict";
import * as zmq from "zeromq";
import { type AcceptOptions, WsBridge } from "../../ws_bridge.ts";
import { encodePoint } from "../../src/protocol/frames.ts";
import { encodeBus } from "../../src/protocol/bus_encode.ts";
import { END_OF_STREAM } from "../../src/protocol/bus.ts";
import { openClient, sleep, waitFor, type WsRecorder } from "../_helpers.ts";

interface Harness {
  bridge: WsBridge;
  url: string;
  publish(series: string, y: number): Promise<void>;
  close(): Promise<void>;
}

async function harness(maxMessageBytes?: number): Promise<Harness> {
  const bus = `inproc://bridge-test-${crypto.randomUUID()}`;
  const pub = new zmq.Publisher({ sendHighWaterMark: 100000 });
  await pub.bind(bus);
  const bridge = new WsBridge({ tickMs: 5, maxMessageBytes });
  bridge.attach(bus, "epoch1", 0);
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    const q = new URL(req.url).searchParams;
    const opts: AcceptOptions = {};
    if (q.has("series")) opts.series = q.get("series")!.split(",");
    if (q.has("expiresIn")) opts.expiresAt = Date.now() + Number(q.get("expiresIn"));
    return bridge.accept(req, opts);
  });
  await sleep(50); // the bus subscription reaches the publisher
  let seq = 0;
  return {
    bridge,
    url: `ws://127.0.0.1:${server.addr.port}/ws`,
    async publish(series, y) {
      seq++;
      const json = encodePoint(seq, { x: Date.now(), y, series });
      await pub.send(encodeBus("epoch1", seq, [{ series, json }]));
    },
    async close() {
      await pub.send([...END_OF_STREAM]); // the relay's end-of-stream
      await bridge.close();
      pub.close();
      await server.shutdown();
    },
  };
}

const seriesOf = (c: WsRecorder) => [...new Set(c.points().map((p) => p.series))].sort();
const pointFrames = (c: WsRecorder) => c.frames.filter((f) => f.type === "points");

Deno.test("bridge: series-limited clients get only their series; frames are built once per set", async () => {
  const h = await harness();
  const all1 = await openClient(h.url);
  const all2 = await openClient(h.url);
  const a = await Promise.all([1, 2, 3].map(() => openClient(`${h.url}?series=a`)));
  const ab1 = await openClient(`${h.url}?series=a,b`);
  const ab2 = await openClient(`${h.url}?series=b,a,b`); // same set, other order
  const c = await openClient(`${h.url}?series=c`);
  const everyone = [all1, all2, ...a, ab1, ab2, c];
  try {
    assert.equal(h.bridge.filterCount, 3, "{a}, {a,b} and {c}: shared filters");
    const sent = { a: 0, b: 0, z: 0 };
    for (let i = 0; i < 300; i++) {
      const s = (["a", "b", "z"] as const)[i % 3];
      sent[s]++;
      await h.publish(s, i);
    }
    await waitFor(() => all1.points().length === 300, 5000, "all points at the unfiltered client");
    await waitFor(() => ab2.points().length === 200, 5000, "a and b at the {a,b} clients");
    await waitFor(() => a[2].points().length === 100, 5000, "a at the {a} clients");
    await sleep(50);

    assert.deepEqual(seriesOf(all1), ["a", "b", "z"]);
    assert.deepEqual(all2.points(), all1.points());
    for (const x of a) {
      assert.deepEqual(seriesOf(x), ["a"]);
      assert.deepEqual(pointFrames(x), pointFrames(a[0]), "every {a} client gets the same frames");
    }
    assert.deepEqual(seriesOf(ab1), ["a", "b"]);
    assert.deepEqual(pointFrames(ab1), pointFrames(ab2));
    assert.equal(pointFrames(c).length, 0, "a client limited to an absent series gets nothing");
    const want = all1.points().filter((p) => p.series === "a");
    assert.deepEqual(a[0].points(), want, "the same points, in order");

    // Each frame was built once for its group, not once per client.
    const stats = h.bridge.stats();
    const built = pointFrames(all1).length + pointFrames(a[0]).length + pointFrames(ab1).length;
    assert.equal(stats.framesBuilt, built);
    // Every client received each points frame of its group (frames sent counts history and
    // series_list frames too, so it is checked through what the clients got).
    const received = pointFrames(all1).length * 2 + pointFrames(a[0]).length * 3 +
      pointFrames(ab1).length * 2;
    assert.ok(stats.framesSent >= received);
    assert.equal(stats.pointsSent, 2 * 300 + 3 * 100 + 2 * 200);
  } finally {
    await Promise.all(everyone.map((x) => x.close()));
    await waitFor(() => h.bridge.clientCount === 0, 2000, "clients gone");
    assert.equal(h.bridge.filterCount, 0, "filters are released with their last client");
    await h.close();
  }
});

Deno.test("bridge: a connection is closed with 4001 when its token expires", async () => {
  const h = await harness();
  const soon = await openClient(`${h.url}?expiresIn=300`);
  const later = await openClient(`${h.url}?expiresIn=60000`);
  const past = await openClient(`${h.url}?expiresIn=-1000`);
  try {
    const t0 = Date.now();
    const ev = await soon.closed;
    assert.equal(ev.code, 4001);
    assert.equal(ev.reason, "token expired");
    assert(Date.now() - t0 < 2000, "closed close to its expiry");
    assert.equal((await past.closed).code, 4001, "already expired at open: closed at once");
    assert.equal(later.ws.readyState, WebSocket.OPEN, "a later expiry is still open");
    assert.equal(h.bridge.stats().clientsClosedTokenExpired, 2);
  } finally {
    await later.close();
    await h.close();
  }
});

Deno.test("bridge: a message over the size limit closes with 1009 and is counted", async () => {
  const h = await harness(64);
  const clients: WsRecorder[] = [];
  try {
    const ok = await openClient(h.url);
    clients.push(ok);
    ok.ws.send(JSON.stringify({ type: "ping", pad: "x".repeat(30) })); // < 64 bytes
    await waitFor(() => ok.frames.some((f) => f.type === "pong"), 2000, "pong");

    const big = await openClient(h.url);
    clients.push(big);
    big.ws.send("x".repeat(65));
    assert.equal((await big.closed).code, 1009);

    // 22 characters, 66 bytes in UTF-8: measured in bytes.
    const wide = await openClient(h.url);
    clients.push(wide);
    wide.ws.send("€".repeat(22));
    assert.equal((await wide.closed).code, 1009);

    const bin = await openClient(h.url);
    clients.push(bin);
    bin.ws.send(new Uint8Array(100));
    assert.equal((await bin.closed).code, 1009, "binary over the limit: 1009");

    const smallBin = await openClient(h.url);
    clients.push(smallBin);
    smallBin.ws.send(new Uint8Array(10));
    assert.equal((await smallBin.closed).code, 1003, "binary within the limit: still refused");

    const unknown = await openClient(h.url);
    clients.push(unknown);
    unknown.ws.send('{"type":"nope"}');
    assert.equal((await unknown.closed).code, 1007);

    const s = h.bridge.stats();
    assert.equal(s.clientsClosedTooBig, 3);
    assert.equal(s.clientProtocolErrors, 2);
    assert.equal(ok.ws.readyState, WebSocket.OPEN);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await h.close();
  }
});

Deno.test("bridge: a client that connects while all clients together are at the budget gets its history once there is room", async () => {
  const bridge = new WsBridge({ tickMs: 5, clientsBufferBudget: 10_000 });
  const points = Array.from({ length: 500 }, (_, i) => ({
    series: "a",
    seq: i + 1,
    json: encodePoint(i + 1, { x: 1e12 + i, y: i, series: "a" }),
  }));
  bridge.preload(points, 500);
  /** A transport that records its frames and reports `queued()` bytes unsent. */
  const transport = (queued: () => number) => {
    const frames: string[] = [];
    return {
      frames,
      send: (f: string) => void frames.push(f),
      bufferedAmount: queued,
      close() {},
    };
  };
  let stalledQueued = 50_000;
  const stalled = transport(() => stalledQueued);
  const late = transport(() => 0);
  try {
    bridge.addClient(stalled); // its 500-point snapshot (~30 KB) takes the total over 10 KB
    bridge.addClient(late);
    const history = (t: { frames: string[] }) => t.frames.filter((f) => f.includes('"history"'));
    assert.ok(history(stalled).length > 0, "the first client got its snapshot");
    assert.equal(history(late).length, 0, "over the budget: no snapshot yet");
    assert.ok(late.frames[0].includes('"hello"'), "but its hello");
    await sleep(300);
    assert.equal(history(late).length, 0, "still none while the total stays over the budget");
    stalledQueued = 0; // the stalled client read it all
    await waitFor(() => history(late).length > 0, 3000, "the late client's snapshot");
    const got = history(late).flatMap((f) => JSON.parse(f).points as { seq: number }[]);
    assert.equal(got.length, 500);
    assert.equal(got.at(-1)!.seq, 500);
  } finally {
    await bridge.close();
  }
});
