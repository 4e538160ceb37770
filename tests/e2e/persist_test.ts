/**
 * Durable history (src/store/, `--data-dir`) on real servers: restarts (SIGTERM and SIGKILL) of
 * `deno task start` and of the forwarder, retention on disk, and a corrupt or unwritable data
 * directory. Each test has a data directory of its own under ./data (the tasks' permissions).
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type * as zmq from "zeromq";
import {
  connectPublisher,
  metric,
  openClient,
  sleep,
  startForwarder,
  startZws,
  streamPoints,
  testDataDir,
  waitFor,
  type WsRecorder,
} from "../_helpers.ts";

type Pt = { seq: number; x: number; y: number; series: string };

/** History and live points of a connection, in order of arrival. */
function allPoints(c: WsRecorder): Pt[] {
  return c.frames.flatMap((f) =>
    f.type === "points" || f.type === "history" ? f.points as Pt[] : []
  );
}

/** Asserts the seqs are exactly first..last, once each, in order. */
function assertContiguous(pts: Pt[], who: string): void {
  const seqs = pts.map((p) => p.seq);
  const dup = seqs.length - new Set(seqs).size;
  assert.equal(dup, 0, `${who}: ${dup} duplicated`);
  const gaps = seqs.flatMap((q, i) =>
    i > 0 && q !== seqs[i - 1] + 1 ? [`${seqs[i - 1]}->${q}`] : []
  );
  assert.deepEqual(gaps, [], `${who}: contiguous, in order (0 lost)`);
}

async function healthz(base: string): Promise<Record<string, unknown>> {
  return await (await fetch(`${base}/healthz`)).json();
}

/** A producer streaming into `ingress` (2,000 points/s over two series) until stopped. */
async function stream(ingress: string) {
  const pub: zmq.Publisher = await connectPublisher(ingress);
  const s = streamPoints(pub, 5, 10);
  return {
    async stop() {
      await s.stop();
      pub.close();
    },
  };
}

const OPTS = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "persist: SIGTERM mid-stream and restart: same epoch, the client resumes with 0 lost, " +
    "0 duplicated, the points it missed served from disk",
  ...OPTS,
  fn: async () => {
    const data = testDataDir();
    const flags = ["--no-demo", "--data-dir", data.dir];
    let z = await startZws(flags);
    try {
      let producer = await stream(z.ingress);
      const c1 = await openClient(z.wsUrl);
      const epoch = c1.frames[0].epoch as string;
      await waitFor(() => c1.points().length >= 300, 10000, "300 points live");
      // The client goes away; the stream goes on; then the server is stopped mid-stream.
      await c1.close();
      const seen = allPoints(c1);
      await sleep(300);
      assert.equal((await z.stop("SIGTERM")).code, 0);
      await producer.stop();

      z = await startZws(flags);
      assert.match(z.stderr(), /continuing epoch/);
      const last = seen.at(-1)!.seq;
      const c2 = await openClient(`${z.wsUrl}?since=${last}&epoch=${epoch}`);
      const hello = c2.frames[0];
      assert.equal(hello.epoch, epoch, "same epoch after a clean restart");
      assert.equal(hello.resumed, true, "an exact resume");
      producer = await stream(z.ingress);
      await waitFor(() => c2.points().length >= 100, 10000, "live points after the restart");
      await producer.stop();
      const history = c2.frames.find((f) => f.type === "history")!;
      assert.equal(history.reset, false);
      assert((history.points as Pt[]).length > 0, "what was sequenced while away, from disk");
      const all = [...seen, ...allPoints(c2)];
      assertContiguous(all, "client across the restart");
      // A new client gets the held history, old points included.
      const c3 = await openClient(z.wsUrl);
      await waitFor(() => c3.frames.some((f) => f.type === "history"), 5000, "history frame");
      const held = allPoints(c3).map((p) => p.seq);
      assert(held.includes(seen[0].seq), "points from before the restart are held");
      await c2.close();
      await c3.close();
    } finally {
      await z.stop("SIGTERM");
      await data.remove();
    }
  },
});

Deno.test({
  name: "persist: SIGKILL and restart: no (epoch, seq) is reused for another point; a client " +
    "resuming into the lost window gets a reset",
  ...OPTS,
  fn: async () => {
    const data = testDataDir();
    const flags = ["--no-demo", "--data-dir", data.dir];
    let z = await startZws(flags);
    try {
      let producer = await stream(z.ingress);
      const c1 = await openClient(z.wsUrl);
      const epoch = c1.frames[0].epoch as string;
      await waitFor(() => c1.points().length >= 500, 10000, "500 points live");
      await z.stop("SIGKILL");
      await producer.stop();
      await c1.closed;
      const seen = allPoints(c1);
      const bySeq = new Map(seen.map((p) => [p.seq, p]));
      const maxSeen = seen.at(-1)!.seq;

      z = await startZws(flags);
      assert.match(z.stderr(), /did not stop cleanly/);
      const c2 = await openClient(`${z.wsUrl}?since=${maxSeen}&epoch=${epoch}`);
      assert.equal(c2.frames[0].epoch, epoch, "the epoch continues (seqs were reserved ahead)");
      assert.equal(c2.frames[0].resumed, false, "a reset, never a silent gap");
      await waitFor(() => c2.frames.some((f) => f.type === "history"), 5000, "history frame");
      const history = c2.frames.find((f) => f.type === "history")!;
      assert.equal(history.reset, true);
      const kept = history.points as Pt[];
      assert(kept.length > 0, "what was written before the kill is served");
      for (const p of kept) {
        assert.deepEqual(p, bySeq.get(p.seq), `seq ${p.seq} is the point clients saw`);
      }
      producer = await stream(z.ingress);
      await waitFor(() => c2.points().length >= 100, 10000, "live points after the restart");
      await producer.stop();
      const fresh = c2.points();
      assert(
        fresh[0].seq > maxSeen,
        `new seqs (${fresh[0].seq}) after every seq seen (${maxSeen})`,
      );
      assertContiguous(fresh, "live after the restart");
      await c2.close();
    } finally {
      await z.stop("SIGTERM");
      await data.remove();
    }
  },
});

Deno.test({
  name: "persist: the forwarder keeps epoch and seq across SIGTERM and SIGKILL; a gateway's " +
    "client sees every point once, in order, across a clean restart",
  ...OPTS,
  fn: async () => {
    const data = testDataDir();
    let fwd = await startForwarder(["--data-dir", data.dir]);
    const endpoints = ["--ingress", fwd.ingress, "--egress", fwd.egress];
    const gw = await startZws(["--no-demo", "--upstream", fwd.egress, "--history", "100000"]);
    let client: WsRecorder | undefined;
    try {
      let producer = await stream(fwd.ingress);
      await waitFor(
        async () => ((await healthz(gw.base)).upstream as Record<string, unknown>).epoch !== null,
        10000,
        "the gateway to learn the epoch",
      );
      client = await openClient(gw.wsUrl);
      await waitFor(() => client!.points().length >= 200, 10000, "points through the gateway");
      // Mid-stream: the producer is still sending when the forwarder stops.
      assert.equal((await fwd.stop("SIGTERM")).code, 0);
      await producer.stop();
      const epoch = fwd.epoch;
      fwd = await startForwarder(["--data-dir", data.dir, ...endpoints]);
      assert.equal(fwd.epoch, epoch, "same epoch after a clean restart");
      // Points the forwarder publishes before the gateway is back are not for it (PUB/SUB).
      await waitFor(
        async () => {
          const u = (await healthz(gw.base)).upstream as Record<string, unknown>;
          return u.connected === true && u.connects === 2;
        },
        10000,
        "the gateway to reconnect",
      );
      const before = client.points().length;
      producer = await stream(fwd.ingress);
      await waitFor(() => client!.points().length >= before + 200, 15000, "points after restart");
      await producer.stop();
      await sleep(200);
      assertContiguous(allPoints(client), "gateway client across the forwarder's restart");

      const lastSeq = metric(
        await (await fetch(`${fwd.base}/metrics`)).text(),
        "zws_forwarder_last_seq",
      );
      await fwd.stop("SIGKILL");
      fwd = await startForwarder(["--data-dir", data.dir, ...endpoints]);
      assert.equal(fwd.epoch, epoch, "the epoch continues after a crash");
      assert.match(fwd.stderr(), /did not stop cleanly/);
      const h = await healthz(fwd.base);
      assert((h.lastSeq as number) > lastSeq, "seq continues past every seq handed out");
      assert.deepEqual(h.persist, { mode: "disk" });
    } finally {
      await client?.close();
      await gw.stop("SIGTERM");
      await fwd.stop("SIGTERM");
      await data.remove();
    }
  },
});

Deno.test({
  name: "persist: --retention trims each series on disk; a restart loads what is kept",
  ...OPTS,
  fn: async () => {
    const data = testDataDir();
    const flags = ["--no-demo", "--data-dir", data.dir, "--retention", "50"];
    let z = await startZws(flags);
    try {
      const producer = await stream(z.ingress);
      await waitFor(
        async () => metric(await (await fetch(`${z.base}/metrics`)).text(), "zws_last_seq") >= 2000,
        15000,
        "2,000 points",
      );
      await producer.stop();
      // Writes (and the trims they do) run in the store's worker, one flush behind the relay:
      // wait for them, in bounded time, instead of a fixed pause.
      let trimmed = 0;
      await waitFor(
        async () => {
          trimmed = metric(
            await (await fetch(`${z.base}/metrics`)).text(),
            "zws_store_points_trimmed_total",
          );
          return trimmed >= 1800;
        },
        5000,
        `at least 1,800 of 2,000 points trimmed (${trimmed} so far)`,
      ).catch((err) => {
        throw new Error(`${err.message}; trimmed ${trimmed}`);
      });
      assert.equal((await z.stop("SIGTERM")).code, 0);
      const db = new DatabaseSync(new URL("points.db", data.url).pathname, { readOnly: true });
      const rows = db.prepare("SELECT series, sum(n) AS n FROM batches GROUP BY series").all();
      db.close();
      assert.equal(rows.length, 2);
      // Rows are dropped whole: at most 50 plus one flush's worth (~100 ms at 1,000/s a series).
      for (const r of rows) assert((r.n as number) <= 50 + 150, `${r.series}: ${r.n} on disk`);
      z = await startZws(flags);
      const c = await openClient(z.wsUrl);
      await waitFor(() => c.frames.some((f) => f.type === "history"), 5000, "history frame");
      const held = allPoints(c);
      for (const s of ["a", "b"]) {
        assert.equal(held.filter((p) => p.series === s).length, 50, `${s}: the count kept`);
      }
      await c.close();
    } finally {
      await z.stop("SIGTERM");
      await data.remove();
    }
  },
});

Deno.test({
  name: "persist: a corrupt store file or an unwritable data directory: the server starts, says " +
    "so (log and /healthz), and serves live data in memory",
  ...OPTS,
  fn: async () => {
    const data = testDataDir();
    await Deno.mkdir(data.url, { recursive: true });
    await Deno.writeTextFile(new URL("points.db", data.url), "not a database ".repeat(500));
    await Deno.writeTextFile(new URL("file", data.url), "a file where a directory should be");
    for (
      const [dir, said] of [
        [data.dir, /corrupt store file/],
        [`${data.dir}/file/sub`, /data directory not writable/],
      ] as const
    ) {
      const z = await startZws(["--no-demo", "--data-dir", dir]);
      try {
        assert.match(z.stderr(), said);
        assert.equal(z.stderr().split("\n").filter((l) => said.test(l)).length, 1, "one line");
        const h = await healthz(z.base);
        const persist = h.persist as Record<string, unknown>;
        assert.equal(persist.mode, "memory");
        assert.match(String(persist.error), said);
        const producer = await stream(z.ingress);
        const c = await openClient(z.wsUrl);
        await waitFor(() => c.points().length >= 50, 10000, "live points in memory");
        await producer.stop();
        await c.close();
        const m = await (await fetch(`${z.base}/metrics`)).text();
        assert.equal(metric(m, "zws_store_up"), 0);
        assert(metric(m, "zws_store_points_not_written_total") >= 50);
      } finally {
        await z.stop("SIGTERM");
      }
    }
    // The corrupt file was left as it was (never read, never overwritten).
    assert.equal(
      await Deno.readTextFile(new URL("points.db", data.url)),
      "not a database ".repeat(500),
    );
    await data.remove();
  },
});
