/**
 * Issue 12 item 6: `--max-message-bytes` bounds a whole producer message before the server holds
 * it. libzmq's own limit is per frame, so 200 frames of 1 MiB - 1 used to be assembled whole
 * (RSS +200 MB) before the relay counted the message as `oversize`. The server here is
 * `deno task start` in a child process (its RSS is measured), with real ZeroMQ producers: this
 * process's zeromq.js and, when `node` is on PATH, Node's.
 */
import assert from "node:assert/strict";
import * as zmq from "zeromq";
import {
  connectPublisher,
  metric,
  openClient,
  rssBytes,
  sleep,
  startZws,
  waitFor,
  type ZwsProcess,
} from "../_helpers.ts";

const MB = 1024 * 1024;
const FRAMES = 200;

async function metrics(zws: ZwsProcess): Promise<string> {
  return await (await fetch(`${zws.base}/metrics`)).text();
}

/** RSS of the server before, at its peak while `during` runs (sampled every 50 ms), and after. */
async function rssAround(
  pid: number,
  during: () => Promise<void>,
  settleMs: number,
): Promise<{ before: number; peak: number; after: number }> {
  const before = await rssBytes(pid);
  let peak = before;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await rssBytes(pid));
      await sleep(50);
    }
  })();
  try {
    await during();
    await sleep(settleMs);
  } finally {
    sampling = false;
    await sampler;
  }
  return { before, peak, after: await rssBytes(pid) };
}

const mb = (b: number) => (b / MB).toFixed(1);

Deno.test({
  name:
    "ingress: a 200-frame message (1 MiB - 1 each) is counted oversize without being held; others' points keep flowing",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const zws = await startZws(["--no-demo"]);
    const client = await openClient(zws.wsUrl);
    let good: zmq.Publisher | undefined;
    let bad: zmq.Publisher | undefined;
    try {
      good = await connectPublisher(zws.ingress);
      bad = await connectPublisher(zws.ingress);
      const goodPub = good;
      let sent = 0;
      let sending = true;
      const steady = (async () => {
        while (sending && sent < 400) {
          await goodPub.send(JSON.stringify({ x: Date.now(), y: sent++, series: "good" }));
          await sleep(10);
        }
      })();
      await sleep(300);
      const frame = new Uint8Array(MB - 1).fill(0x20); // below libzmq's per-frame cap of 1 MiB
      const badPub = bad;
      const rss = await rssAround(zws.child.pid, async () => {
        await badPub.send(Array.from({ length: FRAMES }, () => frame));
        await waitFor(
          async () =>
            metric(await metrics(zws), 'zws_ingress_rejected_total{reason="oversize"}') >= 1,
          20_000,
          "the 200-frame message counted oversize",
        );
      }, 2000);
      sending = false;
      await steady;
      console.log(
        `RSS before ${mb(rss.before)} MB, peak ${mb(rss.peak)} MB, 2 s after ${mb(rss.after)} MB ` +
          `(one message of ${FRAMES} frames of 1 MiB - 1, ${FRAMES} MiB in all)`,
      );
      assert.ok(
        rss.peak - rss.before < 50 * MB,
        `RSS grew ${mb(rss.peak - rss.before)} MB for a message that was not held (before the ` +
          `ZMTP reader: +200 MB)`,
      );
      // The same producer is not cut: its next message arrives.
      await badPub.send(JSON.stringify({ x: Date.now(), y: -1, series: "after" }));
      await waitFor(
        () => client.points().some((p) => p.series === "after"),
        5000,
        "the oversize producer's next message",
      );
      await waitFor(
        () => client.points().filter((p) => p.series === "good").length === sent,
        5000,
        `all ${sent} points of the other producer`,
      );
      const ys = client.points().filter((p) => p.series === "good").map((p) => p.y);
      assert.deepEqual(ys, Array.from({ length: sent }, (_, i) => i), "in order, none lost");
      const m = await metrics(zws);
      assert.equal(metric(m, 'zws_ingress_rejected_total{reason="oversize"}'), 1);
      assert.equal(metric(m, "zws_producer_connections"), 2, "neither producer was cut");
    } finally {
      good?.close();
      bad?.close();
      await client.close();
      await zws.stop();
    }
  },
});

/** Whether `node` runs here (it loads this checkout's npm:zeromq). */
async function haveNode(): Promise<boolean> {
  try {
    const out = await new Deno.Command("node", { args: ["--version"], stdout: "null" }).output();
    return out.success;
  } catch {
    return false;
  }
}

Deno.test({
  name:
    "ingress: producers on Node's zeromq (libzmq 4.3) get through, PUB with heartbeats and XPUB",
  sanitizeResources: false,
  sanitizeOps: false,
  ignore: !(await haveNode()),
  fn: async () => {
    const zws = await startZws(["--no-demo"]);
    const client = await openClient(zws.wsUrl);
    // A PUB with ZMTP heartbeats (PING every 100 ms, which the ingress must answer with PONG or
    // libzmq drops the connection after 300 ms) and an XPUB, each sending 20 points in 2 s.
    const script = `
      const zmq = require("zeromq");
      (async () => {
        const pub = new zmq.Publisher({ heartbeatInterval: 100, heartbeatTimeout: 300 });
        const xpub = new zmq.XPublisher();
        let disconnects = 0;
        (async () => { for await (const ev of pub.events) if (ev.type === "disconnect") disconnects++; })();
        pub.connect(process.argv[1]);
        xpub.connect(process.argv[1]);
        await new Promise((r) => setTimeout(r, 300));
        for (let i = 0; i < 20; i++) {
          await pub.send(["node-pub", JSON.stringify({ x: Date.now(), y: i })]);
          await xpub.send(JSON.stringify({ x: Date.now(), y: i, series: "node-xpub" }));
          await new Promise((r) => setTimeout(r, 100));
        }
        console.log("disconnects " + disconnects);
        pub.close();
        xpub.close();
      })();`;
    try {
      const out = await new Deno.Command("node", {
        args: ["-e", script, zws.ingress],
        cwd: new URL("../../", import.meta.url),
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      assert.match(text, /disconnects 0/, "heartbeats answered: the PUB was never dropped");
      const count = (s: string) => client.points().filter((p) => p.series === s).length;
      await waitFor(() => count("node-pub") === 20 && count("node-xpub") === 20, 5000, "40 points");
      assert.deepEqual(
        client.points().filter((p) => p.series === "node-pub").map((p) => p.y),
        Array.from({ length: 20 }, (_, i) => i),
      );
    } finally {
      await client.close();
      await zws.stop();
    }
  },
});

/** A Python that has pyzmq (Debian's python3-zmq; the project does not install it), or null. */
async function pythonWithZmq(): Promise<string | null> {
  for (const python of ["python3", "/usr/bin/python3"]) {
    try {
      const out = await new Deno.Command(python, {
        args: ["-c", "import zmq"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (out.success) return python;
    } catch { /* not there */ }
  }
  return null;
}
const PYTHON = await pythonWithZmq();

Deno.test({
  name: "ingress: a pyzmq producer with heartbeats gets through; its 50-frame message is oversize",
  sanitizeResources: false,
  sanitizeOps: false,
  ignore: PYTHON === null,
  fn: async () => {
    const zws = await startZws(["--no-demo"]);
    const client = await openClient(zws.wsUrl);
    const script = `
import json, sys, time, zmq
pub = zmq.Context().socket(zmq.PUB)
pub.setsockopt(zmq.HEARTBEAT_IVL, 100)
pub.setsockopt(zmq.HEARTBEAT_TIMEOUT, 300)
pub.connect(sys.argv[1])
time.sleep(0.5)
for i in range(20):
    pub.send_multipart([b"py", json.dumps({"x": time.time() * 1000, "y": i}).encode()])
    time.sleep(0.05)
pub.send_multipart([b" " * (1024 * 1024 - 1)] * 50)
pub.send_multipart([b"py", json.dumps({"x": time.time() * 1000, "y": 20}).encode()])
time.sleep(0.5)
pub.close(500)
`;
    try {
      const out = await new Deno.Command(PYTHON!, {
        args: ["-c", script, zws.ingress],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      await waitFor(() => client.points().length === 21, 5000, "21 points from Python");
      assert.deepEqual(client.points().map((p) => p.y), Array.from({ length: 21 }, (_, i) => i));
      const m = await metrics(zws);
      assert.equal(metric(m, 'zws_ingress_rejected_total{reason="oversize"}'), 1);
      assert.equal(metric(m, 'zws_producer_connections_dropped_total{reason="protocol"}'), 0);
    } finally {
      await client.close();
      await zws.stop();
    }
  },
});
