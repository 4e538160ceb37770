/**
 * Issue 12 items 2 and 3, against `deno task start` in a child process: what Deno cannot bound by
 * itself (docs/upstream/README.md) is bounded by zws's HTTP front (`src/http/front.ts`).
 *
 * - Idle TCP connections past the open-files limit (`ulimit -n 256`): the server survives, refuses
 *   the excess with 503 (counted), closes the idle ones after `--request-timeout`, and a normal
 *   client connects afterwards. A bare `Deno.serve` died there (SIGSEGV or "Too many open files").
 * - `--max-connections`: the connection over the cap gets 503, counted.
 * - A fragmented WebSocket message over `--max-ws-message-bytes` is cut at the frame that crosses
 *   the limit (close 1009) while the other clients keep their data. Deno assembles a message
 *   whole; one of 512 MiB crashed the server.
 */
import assert from "node:assert/strict";
import * as zmq from "zeromq";
import {
  connectPublisher,
  metric,
  openClient,
  rawWsConnect,
  rssBytes,
  sleep,
  startZws,
  waitFor,
  type ZwsProcess,
} from "../_helpers.ts";

async function metrics(zws: ZwsProcess): Promise<string> {
  return await (await fetch(`${zws.base}/metrics`)).text();
}

/** What became of an idle connection: the server's first bytes (or "" for a plain close). */
async function fate(conn: Deno.TcpConn, ms: number): Promise<string> {
  const buf = new Uint8Array(256);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"open">((r) => timer = setTimeout(() => r("open"), ms));
  const read = conn.read(buf).then((n) => new TextDecoder().decode(buf.subarray(0, n ?? 0)))
    .catch(() => "");
  const got = await Promise.race([read, timeout]);
  clearTimeout(timer);
  try {
    conn.close();
  } catch { /* closed */ }
  if (got === "open") await read; // the close above ends it
  return got;
}

/** Publishes one point every 20 ms on `series` until `stop()`; returns how many were sent. */
function steadyProducer(pub: zmq.Publisher, series: string) {
  let sent = 0;
  let on = true;
  const done = (async () => {
    while (on) {
      await pub.send(JSON.stringify({ x: Date.now(), y: sent++, series }));
      await sleep(20);
    }
  })();
  return {
    async stop() {
      on = false;
      await done;
      return sent;
    },
  };
}

Deno.test({
  name:
    "front: idle connections past ulimit -n 256 are refused (503, counted) or timed out; the server survives and serves a new client",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const zws = await startZws(["--no-demo", "--request-timeout", "2"], { openFiles: 256 });
    const { hostname, port } = new URL(zws.base);
    const idle: Deno.TcpConn[] = [];
    let exited = false;
    zws.child.status.then(() => exited = true);
    try {
      const rssBefore = await rssBytes(zws.child.pid);
      // 400 connections that never send a request: more than 256 files could hold.
      for (let i = 0; i < 400; i++) {
        idle.push(await Deno.connect({ hostname, port: Number(port) }));
      }
      const fates = await Promise.all(idle.map((c) => fate(c, 8000)));
      const refused = fates.filter((f) => f.startsWith("HTTP/1.1 503")).length;
      const timedOut = fates.filter((f) => f === "").length;
      const rssPeak = await rssBytes(zws.child.pid);
      assert.equal(exited, false, `the server died:\n${zws.stderr().slice(-1500)}`);
      assert.ok(refused > 100, `refused ${refused} of 400 (about 256 - 32 - open at start)`);
      assert.equal(refused + timedOut, 400, `every connection refused or timed out: ${fates}`);
      // Afterwards: the page, a WebSocket client and a producer's points.
      const page = await fetch(zws.base + "/");
      assert.equal(page.status, 200);
      await page.body?.cancel();
      const client = await openClient(zws.wsUrl);
      const pub = await connectPublisher(zws.ingress);
      try {
        for (let i = 0; i < 10; i++) await pub.send(JSON.stringify({ x: Date.now(), y: i }));
        await waitFor(() => client.points().length === 10, 5000, "10 points after the storm");
      } finally {
        pub.close();
        await client.close();
      }
      const m = await metrics(zws);
      assert.equal(metric(m, 'zws_connections_refused_total{reason="fd_limit"}'), refused);
      assert.equal(metric(m, 'zws_connections_closed_total{reason="request_timeout"}'), timedOut);
      const lines = zws.stderr().split("\n").filter((l) => /refused a connection/.test(l));
      assert.ok(lines.length >= 1 && lines.length <= 3, `refusals logged rate-limited: ${lines}`);
      console.log(
        `ulimit -n 256: ${refused} of 400 idle connections refused (503), ${timedOut} timed ` +
          `out after 2 s; RSS ${(rssBefore / 2 ** 20).toFixed(1)} -> ` +
          `${(rssPeak / 2 ** 20).toFixed(1)} MB`,
      );
    } finally {
      for (const c of idle) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await zws.stop();
    }
  },
});

Deno.test({
  name: "front: the connection over --max-connections gets 503 and is counted; a slot frees up",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const zws = await startZws(["--no-demo", "--max-connections", "5"]);
    const { hostname, port } = new URL(zws.base);
    const held: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < 5; i++) held.push(await Deno.connect({ hostname, port: Number(port) }));
      await sleep(200);
      const sixth = await Deno.connect({ hostname, port: Number(port) });
      assert.match(await fate(sixth, 3000), /^HTTP\/1\.1 503 /);
      held.pop()!.close();
      await sleep(200);
      const m = await metrics(zws); // the freed slot
      assert.equal(metric(m, 'zws_connections_refused_total{reason="capacity"}'), 1);
    } finally {
      for (const c of held) c.close();
      await zws.stop();
    }
  },
});

Deno.test({
  name:
    "front: a fragmented WebSocket message over the limit gets 1009 before the server holds it; other clients keep their data",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const zws = await startZws(["--no-demo"]); // --max-ws-message-bytes 4096
    const client = await openClient(zws.wsUrl);
    const pub = await connectPublisher(zws.ingress);
    const steady = steadyProducer(pub, "steady");
    const attackers = [];
    try {
      const rssBefore = await rssBytes(zws.child.pid);
      // 1: a text message in 1 KiB fragments that never ends (the 512 MiB one crashed Deno).
      const a = await rawWsConnect(zws.base);
      attackers.push(a);
      const chunk = new Uint8Array(1024).fill(0x61);
      let sent = 0;
      let closedWith: number | undefined;
      const reading = a.readFrames((fs) => fs.some((f) => f.opcode === 8), 15000).then((fs) => {
        const close = fs.find((f) => f.opcode === 8);
        closedWith = close ? (close.payload[0] << 8) | close.payload[1] : -1;
      });
      try {
        for (let i = 0; i < 32 * 1024 && closedWith === undefined; i++) {
          await a.sendFrame(i === 0 ? 1 : 0, chunk, { fin: false }); // 32 MiB at most
          sent += chunk.length;
        }
      } catch { /* the server hung up while we were sending */ }
      await reading;
      assert.equal(closedWith, 1009, "close 1009 (message too big)");
      // 2: one frame that declares 2^40 bytes.
      const b = await rawWsConnect(zws.base);
      attackers.push(b);
      const head = Uint8Array.of(0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4);
      await b.conn.write(head);
      const fb = await b.readFrames((fs) => fs.some((f) => f.opcode === 8), 5000);
      const close = fb.find((f) => f.opcode === 8);
      assert.ok(close, "a close frame for a 1 TiB frame header");
      assert.equal((close.payload[0] << 8) | close.payload[1], 1009);
      const rssAfter = await rssBytes(zws.child.pid);

      const n = await steady.stop();
      await waitFor(() => client.points().length === n, 5000, `all ${n} steady points`);
      const ys = client.points().map((p) => p.y);
      assert.deepEqual(ys, Array.from({ length: n }, (_, i) => i), "no gap, no repeat");
      const m = await metrics(zws);
      assert.equal(metric(m, 'zws_connections_closed_total{reason="ws_message_too_big"}'), 2);
      await waitFor(
        async () => metric(await metrics(zws), "zws_clients") === 1,
        5000,
        "the cut clients removed from the hub",
      );
      console.log(
        `fragmented message: close 1009 after ${sent} bytes sent (limit 4096, the rest in ` +
          `kernel buffers); RSS ${(rssBefore / 2 ** 20).toFixed(1)} -> ` +
          `${(rssAfter / 2 ** 20).toFixed(1)} MB`,
      );
      assert.ok(rssAfter - rssBefore < 32 * 2 ** 20, "the message was not held");
    } finally {
      await steady.stop();
      pub.close();
      for (const a of attackers) a.close();
      await client.close();
      await zws.stop();
    }
  },
});
