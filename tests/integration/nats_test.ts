/**
 * The JetStream mode's pure parts (subjects, batches, derived seqs, epochs, flags, the history's
 * `follows`), and its credentials against a real nats-server.
 */
import assert from "node:assert/strict";
import {
  decodeBatch,
  encodeBatch,
  epochOfStream,
  pointBody,
  pointSeq,
  SEQ_STRIDE,
  seriesOfSubject,
  seriesToken,
  streamSeqOf,
  subjectFor,
  tokenSeries,
} from "../../src/nats/codec.ts";
import { parseNatsConfig } from "../../src/nats/config.ts";
import { connectNats } from "../../src/nats/connect.ts";
import { encodePoint } from "../../src/protocol/frames.ts";
import { decodeBus, pointJson, pointSeries } from "../../src/protocol/bus_decode.ts";
import { encodeBus } from "../../src/protocol/bus_encode.ts";
import { History } from "../../src/hub/history.ts";
import { parseConfig, parseForwarderConfig } from "../../src/config/config.ts";
import { setLogSink } from "../../src/runtime/log.ts";
import { natsServerBin, startNatsServer } from "../_support/nats.ts";
import { makeCertificate, sleep, waitFor } from "../_helpers.ts";
import { JetStreamPublisher } from "../../src/nats/publisher.ts";
import { ensureStream, manager } from "../../src/nats/stream.ts";

Deno.test("series tokens: any name makes one valid subject token and decodes back", () => {
  for (const s of ["cpu", "a.b", "x y", "*", ">", "~", "", "temp/°C", "日本", "a-b_c", "%41"]) {
    const t = seriesToken(s);
    assert.match(t, /^[A-Za-z0-9_~-]+$/, `token of ${JSON.stringify(s)}`);
    assert.equal(tokenSeries(t), s);
    assert.equal(seriesOfSubject("zws.points", subjectFor("zws.points", s)), s);
  }
  assert.equal(seriesToken("cpu"), "cpu", "plain names stay readable");
  assert.equal(tokenSeries("a~zz"), undefined);
  assert.equal(tokenSeries("a.b"), undefined);
  assert.equal(tokenSeries("~ff"), undefined, "not UTF-8");
  assert.equal(seriesOfSubject("zws.points", "other.cpu"), undefined);
  assert.equal(seriesOfSubject("zws.points", "zws.points.a.b"), undefined);
});

Deno.test("batches: bodies without seq, seqs derived from the stream sequence", () => {
  const pts = [{ x: 1, y: 2, series: "a" }, { x: 3, y: -4.5, series: "a" }];
  const bodies = pts.map((p, i) => pointBody(encodePoint(77 + i, p))!);
  assert.deepEqual(bodies, ['"x":1,"y":2,"series":"a"}', '"x":3,"y":-4.5,"series":"a"}']);
  assert.equal(pointBody('{"x":1}'), undefined);
  const d = decodeBatch(encodeBatch(bodies), 42, "a", "E")!;
  assert.equal(d.firstSeq, 42 * SEQ_STRIDE);
  assert.equal(d.count, 2);
  assert.equal(d.epoch, "E");
  const jsons = Array.from({ length: d.count }, (_, i) => pointJson(d, i));
  assert.deepEqual(jsons.map((j) => JSON.parse(j)), [
    { seq: 42000, x: 1, y: 2, series: "a" },
    { seq: 42001, x: 3, y: -4.5, series: "a" },
  ]);
  assert.equal(pointSeries(d, 1), "a");
  // The same batch the bus codec would make of these points.
  const bus = decodeBus(encodeBus("E", 42000, jsons.map((json) => ({ json, series: "a" }))));
  assert.deepEqual(bus, { kind: "batch", batch: d });
  assert.equal(streamSeqOf(pointSeq(42, 999)), 42);
  const bad = new TextEncoder().encode('garbage\n"x":1,"y":1,"series":"a"}');
  assert.equal(decodeBatch(bad, 5, "a", "E"), undefined, "not a zws batch: dropped whole");
  assert.equal(decodeBatch(new Uint8Array(0), 1, "a", "E"), undefined);
});

Deno.test("epoch: from the stream's creation time; another creation is another epoch", () => {
  const a = epochOfStream("2026-12-01T20:21:37.397123456Z");
  const b = epochOfStream("2026-12-01T20:21:37.397123457Z");
  assert.match(a, /^js-[0-9a-z]+$/);
  assert.equal(a, epochOfStream("2026-12-01T20:21:37.397123456Z"));
  assert.notEqual(a, b, "streams made 1 ns apart");
  assert.notEqual(epochOfStream("2026-12-01T20:21:38Z"), a);
  assert.throws(() => epochOfStream("yesterday"), /not a date/);
});

Deno.test("history: follows lets derived seqs jump without a gap, and marks a real one", () => {
  const h = new History(10);
  h.add("a", 1000, "p1", true);
  h.add("a", 2000, "p2", true);
  h.add("a", 2001, "p3", true);
  assert.equal(h.canResume(1000), true, "stream seqs 1, 2 follow each other");
  h.add("a", 5000, "p4", false); // stream seq 3 and 4 never seen
  assert.equal(h.canResume(2001), false, "a gap before 5000: resuming from 2001 would skip");
  assert.equal(h.canResume(4999), true);
  // Without follows, the old rule: +1 follows, anything else is a gap.
  const o = new History(10);
  o.add("a", 1, "x");
  o.add("a", 3, "y");
  assert.equal(o.canResume(1), false);
});

Deno.test("nats flags: servers, limits, credentials that go together, no secret in a URL", () => {
  const env = (m: Record<string, string>) => (n: string) => m[n];
  assert.equal(parseNatsConfig({}, env({})), undefined);
  const c = parseNatsConfig({ nats: ["nats://a:4222,nats://b:4222", "c:4222"] }, env({}))!;
  assert.deepEqual(c.servers, ["nats://a:4222", "nats://b:4222", "nats://c:4222"]);
  assert.equal(c.stream, "ZWS");
  assert.equal(c.subjectPrefix, "zws.points");
  assert.equal(c.replicas, 1);
  const e = parseNatsConfig(
    {},
    env({
      ZWS_NATS: "nats://n:4222",
      ZWS_NATS_USER: "u",
      ZWS_NATS_PASSWORD: "p",
      ZWS_NATS_REPLICAS: "3",
    }),
  )!;
  assert.equal(e.user, "u");
  assert.equal(e.password, "p");
  assert.equal(e.replicas, 3);
  const bad: Array<[Record<string, string | string[]>, RegExp]> = [
    [{ nats: ["http://x"] }, /not nats:\/\/host:port/],
    [{ nats: ["nats://u:p@x:4222"] }, /no user or password in the URL/],
    [{ "nats-stream": "S" }, /need --nats/],
    [{ nats: ["x:1"], "nats-stream": "a.b" }, /--nats-stream/],
    [{ nats: ["x:1"], "nats-replicas": "9" }, /between 1 and 5/],
    [{ nats: ["x:1"], "nats-user": "u" }, /go together/],
    [{ nats: ["x:1"], "nats-token-file": "t", "nats-nkey-file": "k" }, /one NATS credential/],
    [{ nats: ["x:1"], "nats-tls-cert": "c" }, /--nats-tls-key go together/],
  ];
  for (const [values, re] of bad) assert.throws(() => parseNatsConfig(values, env({})), re);
  // Both roles take the flags; each excludes what the stream replaces.
  const g = parseConfig(["--nats", "nats://h:4222", "--no-demo"]);
  assert.equal(g.kind === "config" && g.config.nats?.servers[0], "nats://h:4222");
  const gu = parseConfig(["--nats", "nats://h:4222", "--upstream", "tcp://h:5001"]);
  assert.equal(gu.kind, "error");
  const r = parseForwarderConfig(["--nats", "nats://h:4222"]);
  assert.equal(r.kind === "config" && r.config.nats?.stream, "ZWS");
  const re = parseForwarderConfig(["--nats", "nats://h:4222", "--egress", "tcp://*:5001"]);
  assert.equal(re.kind === "error" && /--nats excludes --egress/.test(re.message), true);
});

Deno.test({
  name: "nats credentials: user/password and token accepted; wrong ones refused with one line",
  ignore: natsServerBin() === undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const previous = setLogSink(() => {});
    const dir = await Deno.makeTempDir({ prefix: "zws-nats-cred-" });
    const userSrv = await startNatsServer({ args: ["--user", "zws", "--pass", "s3cret-pass"] });
    const tokenSrv = await startNatsServer({ args: ["--auth", "t0ken-value"] });
    try {
      const base = (url: string) => parseNatsConfig({ nats: [url] }, () => undefined)!;
      await Deno.writeTextFile(`${dir}/pass`, "s3cret-pass\n");
      const ok = await connectNats(
        { ...base(userSrv.url), user: "zws", passwordFile: `${dir}/pass` },
        "t",
        "test",
      );
      assert.equal(ok.state().connected, true);
      await ok.close();
      await assert.rejects(
        connectNats({ ...base(userSrv.url), user: "zws", password: "wrong" }, "t", "test"),
        /refused the credentials/,
      );
      await Deno.writeTextFile(`${dir}/token`, "t0ken-value");
      const tok = await connectNats(
        { ...base(tokenSrv.url), tokenFile: `${dir}/token` },
        "t",
        "test",
      );
      assert.equal(tok.state().connected, true);
      await tok.close();
      await assert.rejects(
        connectNats({ ...base(tokenSrv.url), tokenFile: `${dir}/missing` }, "t", "test"),
        /cannot read the NATS token file/,
      );
      await Deno.writeTextFile(`${dir}/seed`, "not a seed");
      await assert.rejects(
        connectNats({ ...base(tokenSrv.url), nkeyFile: `${dir}/seed` }, "t", "test"),
        /does not hold a seed/,
      );
    } finally {
      await userSrv.stop();
      await tokenSrv.stop();
      await Deno.remove(dir, { recursive: true });
      setLogSink(previous);
    }
  },
});

Deno.test({
  name: "nats TLS: a tls:// server with a private CA; a client without that CA is refused",
  ignore: natsServerBin() === undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const previous = setLogSink(() => {});
    const dir = await Deno.makeTempDir({ prefix: "zws-nats-tls-" });
    await makeCertificate(dir);
    const srv = await startNatsServer({
      args: ["--tls", "--tlscert", `${dir}/zws.crt`, "--tlskey", `${dir}/zws.key`],
    });
    try {
      const url = `tls://127.0.0.1:${srv.port}`;
      const cfg = parseNatsConfig(
        { nats: [url], "nats-tls-ca": `${dir}/zws.crt` },
        () => undefined,
      )!;
      const link = await connectNats(cfg, "t", "test");
      assert.equal(link.state().connected, true);
      await link.close();
      // Without the CA the certificate is not trusted: the attempt fails (and would retry).
      const stop = new AbortController();
      setTimeout(() => stop.abort(), 1500);
      await assert.rejects(
        connectNats({ ...cfg, tlsCa: undefined }, "t", "test", stop.signal),
        /stopped before NATS/,
      );
    } finally {
      await srv.stop();
      await Deno.remove(dir, { recursive: true });
      setLogSink(previous);
    }
  },
});

Deno.test({
  name: "nats publisher: NATS gone -> queues up to the bound, sheds and counts beyond, never " +
    "blocks; NATS back -> the queued points land once, in order",
  ignore: natsServerBin() === undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const previous = setLogSink(() => {});
    const srv = await startNatsServer();
    const cfg = {
      ...parseNatsConfig({ nats: [srv.url] }, () => undefined)!,
      maxPendingPoints: 1000,
    };
    const link = await connectNats(cfg, "t", "test");
    try {
      const jsm = await manager(link.nc, "test");
      await ensureStream(jsm, cfg, "test");
      const pub = new JetStreamPublisher(link.nc, {
        subjectPrefix: cfg.subjectPrefix,
        maxPendingPoints: cfg.maxPendingPoints,
      });
      await srv.kill();
      const t0 = performance.now();
      for (let i = 0; i < 1500; i++) pub.add("s", `"x":${i},"y":${i},"series":"s"}`);
      assert(performance.now() - t0 < 500, "add() never waits");
      assert.equal(pub.stats().pointsShed, 500, "over the bound: shed, counted");
      assert.equal(pub.stats().pendingPoints, 1000);
      await sleep(500);
      await srv.start();
      await waitFor(() => pub.stats().pointsPublished === 1000, 20000, "the queued points to land");
      const info = await jsm.streams.info(cfg.stream);
      assert.equal(info.state.messages, pub.stats().batchesPublished, "no duplicate message");
      const xs: number[] = [];
      for (let seq = 1; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(cfg.stream, { seq });
        const b = decodeBatch(m!.data, seq, "s", "E")!;
        for (let i = 0; i < b.count; i++) xs.push(JSON.parse(pointJson(b, i)).x);
      }
      assert.deepEqual(xs, [...Array(1000).keys()], "every queued point once, in order");
      await pub.close();
    } finally {
      await link.close();
      await srv.stop();
      setLogSink(previous);
    }
  },
});
