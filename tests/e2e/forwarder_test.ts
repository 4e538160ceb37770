/**
 * The forwarder and its gateways over real ZeroMQ TCP and WebSockets on loopback, each role in its
 * own process (`main.ts relay`, `main.ts --upstream`), as `deno task relay` / `start` run them.
 */
import assert from "node:assert/strict";
import type * as zmq from "zeromq";
import { readState, writeState } from "../../forwarder.ts";
import {
  connectPublisher,
  type ForwarderProcess,
  openClient,
  sleep,
  startForwarder,
  startZws,
  taskArgs,
  waitFor,
  type WsRecorder,
  type ZwsProcess,
} from "../_helpers.ts";
import { allPoints, getJson, getMetric, produce, type Pt, Viewer } from "../_support/viewer.ts";

/** Asserts `pts` are exactly seq first..last, once each, in order. */
function assertContiguous(pts: Pt[], first: number, last: number, who: string): void {
  const seqs = pts.map((p) => p.seq);
  const dup = seqs.length - new Set(seqs).size;
  assert.equal(dup, 0, `${who}: ${dup} duplicated`);
  const expected = Array.from({ length: last - first + 1 }, (_, i) => first + i);
  const missing = expected.filter((s) => !seqs.includes(s)).length;
  assert.equal(missing, 0, `${who}: ${missing} lost`);
  assert.deepEqual(seqs, expected, `${who}: in order`);
}

Deno.test({
  name: "forwarder + 2 gateways + 2 producers: same order everywhere; a gateway dies, its " +
    "clients resume on the other (0 lost, 0 duplicated); the forwarder restarts, delivery resumes",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "zws-fwd-" });
    const state = `${dir}/forwarder.json`;
    const perms = [`--allow-read=${dir}`, `--allow-write=${dir}`];
    const procs: Array<ZwsProcess | ForwarderProcess> = [];
    const pubs: zmq.Publisher[] = [];
    const followers: Viewer[] = [];
    let fwd = await startForwarder(["--state-file", state], perms);
    procs.push(fwd);
    try {
      const gwArgs = ["--no-demo", "--upstream", fwd.egress, "--history", "100000"];
      const gA = await startZws(gwArgs);
      const gB = await startZws(gwArgs);
      procs.push(gA, gB);
      await waitFor(
        async () => (await getMetric(fwd.base, "zws_forwarder_gateways_connected")) === 2,
        5000,
        "2 gateways connected to the forwarder",
      );
      const p1 = await connectPublisher(fwd.ingress);
      const p2 = await connectPublisher(fwd.ingress);
      pubs.push(p1, p2);
      // A first point tells both gateways the epoch (clients need it to resume elsewhere). Repeat
      // it until both have one: a subscription may still be on its way up the first time.
      await waitFor(
        async () => {
          await p1.send(JSON.stringify({ x: Date.now(), y: -1, series: "probe" }));
          await sleep(100);
          const [a, b] = await Promise.all([gA, gB].map((g) => getJson(`${g.base}/healthz`)));
          const ua = a.upstream as Record<string, unknown>;
          const ub = b.upstream as Record<string, unknown>;
          return ua.epoch === fwd.epoch && ub.epoch === fwd.epoch;
        },
        5000,
        "both gateways to learn the epoch",
      );
      const health = await getJson(`${gA.base}/healthz`);
      const up = health.upstream as Record<string, unknown>;
      assert.equal(up.endpoint, fwd.egress);
      assert.equal(up.connected, true);
      assert.match(String(up.since), /^\d{4}-\d\d-\d\dT/);

      for (let i = 0; i < 3; i++) followers.push(await Viewer.open(gA.wsUrl));
      for (let i = 0; i < 3; i++) followers.push(await Viewer.open(gB.wsUrl));
      const onA = followers.slice(0, 3);
      for (const f of followers) assert.equal(f.epoch, fwd.epoch);

      const s1 = produce(p1, "p1", 4);
      const s2 = produce(p2, "p2", 5);
      await sleep(1200);
      // A gateway dies mid-stream.
      await gA.stop("SIGKILL");
      await Promise.all(onA.map((f) => f.resumeOn(gB.wsUrl)));
      await sleep(800);
      await s1.stop();
      await s2.stop();
      const lastBefore = await getMetric(fwd.base, "zws_forwarder_last_seq");
      await waitFor(
        () => followers.every((f) => f.all().at(-1)?.seq === lastBefore),
        10000,
        `every client to reach seq ${lastBefore}`,
      );
      for (const [i, f] of followers.entries()) {
        assertContiguous(f.all(), 1, lastBefore, `client ${i}`);
      }
      for (const f of onA) assert.deepEqual(f.resumes, [true], "moved clients resumed exactly");
      // Every point both producers sent arrived, each producer's in its order.
      for (const [name, s] of [["p1", s1], ["p2", s2]] as const) {
        const ys = followers[0].all().filter((p) => p.series === name).map((p) => p.y);
        assert.deepEqual(ys, [...Array(s.sent).keys()], `all of ${name}, in order`);
      }
      const ref = followers[5].all();
      for (const f of followers) assert.deepEqual(f.all(), ref, "the same points everywhere");

      // The forwarder restarts (a deploy: SIGTERM, then the same endpoints and state file).
      assert.equal((await fwd.stop()).code, 0);
      const upstreamOf = async (g: ZwsProcess) =>
        (await getJson(`${g.base}/healthz`)).upstream as Record<string, unknown>;
      await waitFor(
        async () => (await upstreamOf(gB)).connected === false,
        5000,
        "the gateway to report its upstream lost",
      );
      fwd = await startForwarder(
        ["--state-file", state, "--ingress", fwd.ingress, "--egress", fwd.egress],
        perms,
      );
      procs.push(fwd);
      assert.equal(fwd.epoch, followers[0].epoch, "same epoch after a clean restart");
      await waitFor(
        async () => {
          const u = await upstreamOf(gB);
          return u.connected === true && u.connects === 2;
        },
        10000,
        "the gateway to reconnect by itself",
      );
      // Producers reconnect by themselves too; points sent before that are dropped by their PUB
      // (never sequenced, so no gap): keep sending until points flow again.
      const s3 = produce(p1, "p1-after", 4);
      await waitFor(
        () => followers.every((f) => f.all().some((p) => p.series === "p1-after")),
        10000,
        "delivery to resume on every client",
      );
      await sleep(300);
      await s3.stop();
      const lastAfter = await getMetric(fwd.base, "zws_forwarder_last_seq");
      assert(lastAfter > lastBefore, "seq continues after the restart");
      await waitFor(
        () => followers.every((f) => f.all().at(-1)?.seq === lastAfter),
        10000,
        `every client to reach seq ${lastAfter}`,
      );
      for (const [i, f] of followers.entries()) {
        assertContiguous(f.all(), 1, lastAfter, `client ${i} after the restart`);
      }
      assert.equal(await getMetric(gB.base, "zws_upstream_epoch_changes_total"), 0);
      assert.equal(await getMetric(gB.base, "zws_upstream_disconnects_total"), 1);
      assert.equal(await getMetric(fwd.base, "zws_forwarder_gateways_connected"), 1);
    } finally {
      await Promise.all(followers.map((f) => f.close().catch(() => {})));
      pubs.forEach((p) => p.close());
      for (const p of procs) await p.stop("SIGTERM");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "clean forwarder restart under a steady stream: it waits for its gateways before " +
    "sequencing, so live clients see every seq, no gap and no reset",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "zws-fwd-restart-" });
    const state = `${dir}/forwarder.json`;
    const perms = [`--allow-read=${dir}`, `--allow-write=${dir}`];
    const procs: Array<ZwsProcess | ForwarderProcess> = [];
    let pub: zmq.Publisher | undefined;
    const followers: Viewer[] = [];
    let fwd = await startForwarder(["--state-file", state], perms);
    procs.push(fwd);
    try {
      const gw = await startZws(["--no-demo", "--upstream", fwd.egress, "--history", "100000"]);
      procs.push(gw);
      pub = await connectPublisher(fwd.ingress);
      const p = pub;
      await waitFor(
        async () => {
          await p.send(JSON.stringify({ x: Date.now(), y: -1, series: "probe" }));
          await sleep(100);
          return (await getMetric(gw.base, "zws_points_received_total")) > 0;
        },
        5000,
        "a first point through",
      );
      for (let i = 0; i < 2; i++) followers.push(await Viewer.open(gw.wsUrl));
      // A steady producer across the restart: what it sends while no forwarder runs is dropped
      // by its PUB (never sequenced); everything sequenced must reach the clients.
      const s = produce(p, "steady", 3);
      await sleep(500);
      assert.equal((await fwd.stop()).code, 0);
      const saved = await readState(state);
      assert.equal(saved?.gateways, 1, "the state file records the gateway connected at the stop");
      await sleep(300);
      fwd = await startForwarder(
        ["--state-file", state, "--ingress", fwd.ingress, "--egress", fwd.egress],
        perms,
      );
      procs.push(fwd);
      assert.match(fwd.stderr(), /1 of 1 gateway\(s\) back before sequencing/);
      const lastBefore = saved!.lastSeq;
      await waitFor(
        () => followers.every((f) => (f.all().at(-1)?.seq ?? 0) > lastBefore + 100),
        10000,
        "points of the new run on every client",
      );
      await s.stop();
      const last = await getMetric(fwd.base, "zws_forwarder_last_seq");
      await waitFor(
        () => followers.every((f) => f.all().at(-1)?.seq === last),
        10000,
        `every client to reach seq ${last}`,
      );
      for (const [i, f] of followers.entries()) assertContiguous(f.all(), 1, last, `client ${i}`);
      assert.equal(await getMetric(gw.base, "zws_seq_gaps_total"), 0, "no gap at the gateway");
    } finally {
      await Promise.all(followers.map((f) => f.close().catch(() => {})));
      pub?.close();
      for (const p of procs) await p.stop("SIGTERM");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "forwarder restart without a state file: new epoch, clients are closed (1012) and get a " +
    "reset snapshot, delivery resumes",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const procs: Array<ZwsProcess | ForwarderProcess> = [];
    let pub: zmq.Publisher | undefined;
    let client: WsRecorder | undefined;
    let fwd = await startForwarder();
    procs.push(fwd);
    try {
      const gw = await startZws(["--no-demo", "--upstream", fwd.egress]);
      procs.push(gw);
      pub = await connectPublisher(fwd.ingress);
      const p = pub;
      await waitFor(
        async () => {
          await p.send(JSON.stringify({ x: Date.now(), y: 1, series: "a" }));
          await sleep(100);
          return (await getMetric(gw.base, "zws_points_received_total")) > 0;
        },
        5000,
        "a first point through",
      );
      client = await openClient(gw.wsUrl);
      const c = client;
      const epoch1 = c.frames[0].epoch as string;
      assert.equal(epoch1, fwd.epoch);
      await fwd.stop();
      fwd = await startForwarder(["--ingress", fwd.ingress, "--egress", fwd.egress]);
      procs.push(fwd);
      assert.notEqual(fwd.epoch, epoch1, "a new epoch");
      await waitFor(
        async () => {
          await p.send(JSON.stringify({ x: Date.now(), y: 2, series: "a" }));
          await sleep(100);
          return c.ws.readyState === WebSocket.CLOSED;
        },
        10000,
        "the client to be closed when the epoch changes",
      );
      assert.equal((await c.closed).code, 1012);
      const since = allPoints(c).at(-1)!.seq;
      client = await openClient(`${gw.wsUrl}?since=${since}&epoch=${epoch1}`);
      const n = client;
      assert.equal(n.frames[0].epoch, fwd.epoch);
      assert.equal(n.frames[0].resumed, false);
      await waitFor(() => n.frames.length >= 2, 5000, "history");
      assert.equal(n.frames[1].type, "history");
      assert.equal(n.frames[1].reset, true);
      const before = n.points().length;
      await p.send(JSON.stringify({ x: Date.now(), y: 3, series: "a" }));
      await waitFor(() => n.points().length > before, 5000, "live points again");
      assert.equal(await getMetric(gw.base, "zws_upstream_epoch_changes_total"), 1);
    } finally {
      await client?.close();
      pub?.close();
      for (const p of procs) await p.stop("SIGTERM");
    }
  },
});

Deno.test({
  name: "chained forwarders (a tree): root -> mid -> gateway delivers the root's sequence",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const procs: Array<ZwsProcess | ForwarderProcess> = [];
    let pub: zmq.Publisher | undefined;
    let client: WsRecorder | undefined;
    try {
      const root = await startForwarder();
      procs.push(root);
      const mid = await startForwarder(["--upstream", root.egress]);
      procs.push(mid);
      assert.equal(mid.ingress, "");
      const gw = await startZws(["--no-demo", "--upstream", mid.egress]);
      procs.push(gw);
      await waitFor(
        async () => (await getMetric(mid.base, "zws_forwarder_gateways_connected")) === 1,
        5000,
        "the gateway connected to the mid forwarder",
      );
      const midHealth = await getJson(`${mid.base}/healthz`);
      assert.equal(midHealth.role, "chained");
      assert.equal((midHealth.upstream as Record<string, unknown>).connected, true);
      assert.equal(await getMetric(root.base, "zws_forwarder_gateways_connected"), 1);
      pub = await connectPublisher(root.ingress);
      const p = pub;
      await waitFor(
        async () => {
          await p.send(JSON.stringify({ x: Date.now(), y: 0, series: "probe" }));
          await sleep(100);
          return (await getMetric(gw.base, "zws_points_received_total")) > 0;
        },
        5000,
        "a first point through two levels",
      );
      client = await openClient(gw.wsUrl);
      const c = client;
      assert.equal(c.frames[0].epoch, root.epoch, "the root's epoch");
      for (let i = 0; i < 50; i++) {
        await p.send(JSON.stringify({ x: Date.now(), y: i, series: "t" }));
      }
      await waitFor(() => c.points().length >= 50, 5000, "50 points");
      const seqs = c.points().map((q) => q.seq);
      const last = await getMetric(root.base, "zws_forwarder_last_seq");
      assert.deepEqual(seqs, Array.from({ length: 50 }, (_, i) => last - 49 + i));
      assert.equal(await getMetric(mid.base, "zws_forwarder_upstream_connected"), 1);
    } finally {
      await client?.close();
      pub?.close();
      for (const p of procs.reverse()) await p.stop("SIGTERM");
    }
  },
});

Deno.test({
  name: "--reuse-port: two gateway processes listen on one port and both serve",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const procs: Array<ZwsProcess | ForwarderProcess> = [];
    try {
      const fwd = await startForwarder();
      procs.push(fwd);
      const a = await startZws(["--no-demo", "--upstream", fwd.egress, "--reuse-port"]);
      procs.push(a);
      const port = new URL(a.base).port;
      const b = await startZws([
        "--no-demo",
        "--upstream",
        fwd.egress,
        "--reuse-port",
        "--port",
        port,
      ]);
      procs.push(b);
      assert.equal(b.base, a.base, "the same address");
      // Without SO_REUSEPORT the second bind fails ("already in use", see main_test.ts). With it,
      // both listen, and the kernel spreads connections over them.
      const clients: WsRecorder[] = [];
      try {
        for (let i = 0; i < 10; i++) clients.push(await openClient(a.wsUrl));
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }
      await a.stop("SIGTERM");
      const c = await openClient(b.wsUrl);
      assert.equal(c.frames[0].type, "hello", "the other process still serves the port");
      await c.close();
    } finally {
      for (const p of procs.reverse()) await p.stop("SIGTERM");
    }
  },
});

Deno.test("state file: written atomically, read back, bad content named by path", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zws-state-" });
  try {
    const path = `${dir}/s.json`;
    assert.equal(await readState(path), undefined, "no file yet");
    await writeState(path, { epoch: "abc", lastSeq: 42, clean: true });
    assert.deepEqual(await readState(path), { epoch: "abc", lastSeq: 42, clean: true });
    await Deno.writeTextFile(path, "{not json");
    await assert.rejects(readState(path), new RegExp(`${path} is not JSON`));
    await Deno.writeTextFile(path, JSON.stringify({ epoch: "", lastSeq: -1, clean: true }));
    await assert.rejects(readState(path), /does not hold/);
    await writeState(`${dir}/new/dir/s.json`, { epoch: "a", lastSeq: 1, clean: false });
    assert.equal((await readState(`${dir}/new/dir/s.json`))?.epoch, "a", "its directory is made");
    await Deno.writeTextFile(`${dir}/file`, "");
    await assert.rejects(
      writeState(`${dir}/file/s.json`, { epoch: "a", lastSeq: 1, clean: false }),
      /cannot write state file/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "state file: a clean stop keeps epoch and seq; after a crash a new epoch starts",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "zws-state-" });
    const state = `${dir}/forwarder.json`;
    const perms = [`--allow-read=${dir}`, `--allow-write=${dir}`];
    let fwd: ForwarderProcess | undefined;
    let pub: zmq.Publisher | undefined;
    try {
      fwd = await startForwarder(["--state-file", state], perms);
      const first = fwd.epoch;
      assert.deepEqual(await readState(state), { epoch: first, lastSeq: 0, clean: false });
      pub = await connectPublisher(fwd.ingress);
      for (let i = 0; i < 7; i++) await pub.send(JSON.stringify({ x: 1, y: i }));
      const f = fwd;
      await waitFor(
        async () => (await getMetric(f.base, "zws_forwarder_last_seq")) === 7,
        5000,
        "7 points sequenced",
      );
      pub.close();
      pub = undefined;
      assert.equal((await fwd.stop()).code, 0);
      assert.deepEqual(await readState(state), { epoch: first, lastSeq: 7, clean: true });
      fwd = await startForwarder(["--state-file", state], perms);
      assert.equal(fwd.epoch, first, "continued after a clean stop");
      assert.equal(await getMetric(fwd.base, "zws_forwarder_last_seq"), 7);
      await fwd.stop("SIGKILL"); // a crash: the state still says "running"
      fwd = await startForwarder(["--state-file", state], perms);
      assert.notEqual(fwd.epoch, first, "a new epoch after a crash");
      assert.match(fwd.stderr(), /did not stop cleanly/);
      assert.equal(await getMetric(fwd.base, "zws_forwarder_last_seq"), 0);
    } finally {
      pub?.close();
      await fwd?.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("zws relay: --help exits 0, bad flags exit 2, a taken egress exits 1 naming it", async () => {
  const run = async (args: string[]) => {
    const task = await taskArgs("relay");
    const out = await new Deno.Command(Deno.execPath(), {
      args: [...task, ...args],
      cwd: new URL("../../", import.meta.url),
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const text = new TextDecoder();
    return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
  };
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /zws relay — the forwarder/);
  const bad = await run(["--bogus"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /zws relay: .*bogus/);
  const holder = await startForwarder();
  try {
    const taken = await run([
      "--no-demo",
      "--ingress",
      "tcp://127.0.0.1:*",
      "--egress",
      holder.egress,
    ]);
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, new RegExp(`cannot bind egress ${holder.egress}`));
  } finally {
    await holder.stop();
  }
});
