/**
 * "Securing zws" end to end: the real server in a child process (permissions of `deno task start`),
 * real sockets. Tokens, series-limited tokens, expiry during a connection, limits, TLS, CURVE.
 */
import assert from "node:assert/strict";
import * as zmq from "zeromq";
import { signToken } from "../../src/http/auth.ts";
import { parseKeyFile } from "../../src/zmq/curve.ts";
import {
  connectPublisher,
  handshakeOutcome,
  makeCertificate,
  makeSecretsDir,
  metric,
  openClient,
  runTask,
  sleep,
  startZws,
  taskArgs,
  upgradeStatus,
  waitFor,
  type WsRecorder,
  type ZwsProcess,
} from "../_helpers.ts";

const SECRET = "e2e-secret-" + crypto.randomUUID(); // 47 bytes
const KEY = new TextEncoder().encode(SECRET);
const OTHER_KEY = new TextEncoder().encode("not-the-server-secret-not-the-server-secret");

async function metrics(zws: ZwsProcess, client?: Deno.HttpClient): Promise<string> {
  return await (await fetch(`${zws.base}/metrics`, { client })).text();
}

function assertNoSecretInLog(zws: ZwsProcess, ...secrets: string[]): void {
  const log = zws.stderr();
  for (const s of secrets) assert(!log.includes(s), "a secret or token appears in the log");
  assert(!/\n\s+at /.test(log), "no stack traces in the log");
}

Deno.test("tokens: absent, expired, forged and malformed tokens get 401 before the upgrade", async () => {
  const zws = await startZws(["--no-demo"], { env: { ZWS_AUTH_SECRET: SECRET } });
  const tokens: string[] = [];
  try {
    const expired = await signToken(KEY, { ttlSeconds: 60, now: Date.now() - 600_000 });
    const forged = await signToken(OTHER_KEY, { ttlSeconds: 600 });
    const good = await signToken(KEY, { ttlSeconds: 600 });
    tokens.push(expired, forged, good);
    assert.equal(await upgradeStatus(zws.wsUrl), 401, "absent");
    assert.equal(await upgradeStatus(`${zws.wsUrl}?token=${expired}`), 401, "expired");
    assert.equal(await upgradeStatus(`${zws.wsUrl}?token=${forged}`), 401, "forged");
    assert.equal(await upgradeStatus(zws.wsUrl, { Authorization: `Bearer ${forged}` }), 401);
    assert.equal(await upgradeStatus(`${zws.wsUrl}?token=abc.def.ghi`), 401, "malformed");

    // A good token opens /ws, from the query or the header, and the page.
    const viaQuery = await openClient(`${zws.wsUrl}?token=${good}`);
    const viaHeader = await openClient(zws.wsUrl, { headers: { Authorization: `Bearer ${good}` } });
    await Promise.all([viaQuery.close(), viaHeader.close()]);
    const page = await fetch(`${zws.base}/?token=${good}`);
    assert.equal(page.status, 200);
    await page.body?.cancel();
    const noPage = await fetch(`${zws.base}/`);
    assert.equal(noPage.status, 401);
    assert.match(await noPage.text(), /unauthorized/);

    const m = await metrics(zws);
    assert.equal(metric(m, 'zws_ws_rejected_total{reason="unauthorized"}'), 5);
    assert.equal(metric(m, 'zws_auth_failures_total{reason="missing"}'), 2); // /ws and the page
    assert.equal(metric(m, 'zws_auth_failures_total{reason="expired"}'), 1);
    assert.equal(metric(m, 'zws_auth_failures_total{reason="invalid"}'), 3);
    assert.equal(metric(m, "zws_ws_connections_total"), 2);
  } finally {
    await zws.stop();
  }
  assertNoSecretInLog(zws, SECRET, ...tokens);
});

Deno.test("tokens: a token limited to one series gets only that series; expiry closes with 4001", async () => {
  const secrets = await makeSecretsDir();
  const secretFile = await secrets.write("auth-secret", SECRET + "\n");
  const zws = await startZws(["--no-demo", "--auth-secret-file", secretFile]);
  const clients: WsRecorder[] = [];
  let pub: zmq.Publisher | undefined;
  try {
    // `deno task token` makes tokens the server accepts.
    const made = await runTask("token", ["--series", "alpha", "--ttl", "10m"], {
      ZWS_AUTH_SECRET_FILE: secretFile,
    });
    assert.equal(made.code, 0, made.err);
    const alphaOnly = made.out.trim();
    const everything = await signToken(KEY, { ttlSeconds: 600 });
    const shortLived = await signToken(KEY, { ttlSeconds: 3 });
    const limited = await openClient(`${zws.wsUrl}?token=${alphaOnly}`);
    const full = await openClient(`${zws.wsUrl}?token=${everything}`);
    const brief = await openClient(`${zws.wsUrl}?token=${shortLived}`);
    clients.push(limited, full, brief);

    pub = await connectPublisher(zws.ingress);
    for (let i = 0; i < 30; i++) {
      await pub.send(JSON.stringify({ x: Date.now(), y: i, series: ["alpha", "beta"][i % 2] }));
    }
    await waitFor(() => full.points().length >= 30, 5000, "30 points at the full client");
    await waitFor(() => limited.points().length >= 15, 5000, "15 alpha points");
    await sleep(200);
    assert.deepEqual(new Set(full.points().map((p) => p.series)), new Set(["alpha", "beta"]));
    assert.equal(limited.points().length, 15);
    assert(limited.points().every((p) => p.series === "alpha"), "only alpha");

    const ev = await brief.closed;
    assert.equal(ev.code, 4001, "closed when its token expired");
    assert.equal(ev.reason, "token expired");
    assert.equal(full.ws.readyState, WebSocket.OPEN);
    const m = await metrics(zws);
    assert.equal(metric(m, 'zws_ws_closed_total{reason="token_expired"}'), 1);
  } finally {
    pub?.close();
    await Promise.all(clients.map((c) => c.close()));
    await zws.stop();
    await secrets.remove();
  }
  assertNoSecretInLog(zws, SECRET);
});

Deno.test("limits: clients per IP get 429 and big messages 1009, counted in /metrics", async () => {
  const zws = await startZws([
    "--no-demo",
    "--max-clients-per-ip",
    "2",
    "--max-ws-message-bytes",
    "100",
  ]);
  const clients: WsRecorder[] = [];
  try {
    clients.push(await openClient(zws.wsUrl), await openClient(zws.wsUrl));
    assert.equal(await upgradeStatus(zws.wsUrl), 429, "a third client from this IP");
    await clients.pop()!.close();
    await waitFor(async () => metric(await metrics(zws), "zws_clients") === 1, 2000, "1 client");
    const again = await openClient(zws.wsUrl); // room again
    again.ws.send(JSON.stringify({ type: "ping", pad: "x".repeat(200) }));
    assert.equal((await again.closed).code, 1009);
    const [a] = clients;
    a.ws.send(JSON.stringify({ type: "ping" }));
    await waitFor(() => a.frames.some((f) => f.type === "pong"), 2000, "pong below the limit");
    const m = await metrics(zws);
    assert.equal(metric(m, 'zws_ws_rejected_total{reason="ip_capacity"}'), 1);
    assert.equal(metric(m, 'zws_ws_closed_total{reason="message_too_big"}'), 1);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await zws.stop();
  }
});

Deno.test("limits: upgrade rate per IP gets 429, total clients 503, counted in /metrics", async () => {
  const zws = await startZws(["--no-demo", "--max-clients", "1", "--upgrade-rate", "1"]);
  const c = await openClient(zws.wsUrl);
  try {
    // The bucket holds one upgrade and refills at one per second.
    const r = await fetch(zws.wsUrl.replace(/^ws/, "http"), {
      headers: {
        Upgrade: "websocket",
        Connection: "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
      },
    });
    assert.equal(r.status, 429);
    assert.equal(r.headers.get("retry-after"), "1");
    await r.body?.cancel();
    await sleep(1100);
    const full = await fetch(zws.wsUrl.replace(/^ws/, "http"), {
      headers: {
        Upgrade: "websocket",
        Connection: "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
      },
    });
    assert.equal(full.status, 503, "past the rate limit, at capacity");
    assert.equal(full.headers.get("retry-after"), "5");
    await full.body?.cancel();
    const m = await metrics(zws);
    assert.equal(metric(m, 'zws_ws_rejected_total{reason="rate"}'), 1);
    assert.equal(metric(m, 'zws_ws_rejected_total{reason="capacity"}'), 1);
  } finally {
    await c.close();
    await zws.stop();
  }
});

Deno.test("TLS: --cert/--key serve the page over HTTPS and data over wss:", async () => {
  const secrets = await makeSecretsDir();
  await makeCertificate(secrets.rel);
  const zws = await startZws([
    "--cert",
    `${secrets.rel}/zws.crt`,
    "--key",
    `${secrets.rel}/zws.key`,
  ]); // with the demo producer
  const caCert = await Deno.readTextFile(`${secrets.rel}/zws.crt`);
  const client = Deno.createHttpClient({ caCerts: [caCert] });
  try {
    assert.match(zws.base, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(zws.wsUrl, /^wss:/);
    const page = await fetch(`${zws.base}/`, { client });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /jquery\.flot\.js/);
    const ws = await openClient(zws.wsUrl, { client });
    await waitFor(() => ws.points().length >= 2, 5000, "demo points over wss:");
    await ws.close();
    // Plain HTTP on the TLS port gets nothing useful.
    await assert.rejects(fetch(zws.base.replace("https:", "http:") + "/"));
  } finally {
    client.close();
    await zws.stop();
    await secrets.remove();
  }
});

Deno.test("files outside ./secrets/ or missing exit 2 with one clear line", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${tmp}/secret`, SECRET);
    const run = (flags: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: [...flags],
        cwd: new URL("../../", import.meta.url),
        stdout: "null",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
    const start = await taskArgs("start");
    const outside = await run([...start, "--auth-secret-file", `${tmp}/secret`]);
    const err = new TextDecoder().decode(outside.stderr);
    assert.equal(outside.code, 2);
    assert.match(err, /cannot read --auth-secret-file .*: no read permission: .*\.\/secrets\//);
    assert.equal(err.trim().split("\n").length, 1, "one line");
    assert(!err.includes(SECRET));
    const missing = await run([
      ...start,
      "--cert",
      "secrets/nope.crt",
      "--key",
      "secrets/nope.key",
    ]);
    assert.equal(missing.code, 2);
    assert.match(
      new TextDecoder().decode(missing.stderr),
      /--cert secrets\/nope\.crt: no such file/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("CURVE: an allowed producer delivers; an unknown key and a plain producer deliver nothing", async () => {
  const secrets = await makeSecretsDir();
  const keygen = async (name: string) => {
    const r = await runTask("keygen");
    assert.equal(r.code, 0, r.err);
    const path = await secrets.write(`${name}.keys`, r.out);
    const keys = parseKeyFile(r.out) as { publicKey: string; secretKey: string };
    return { path, ...keys };
  };
  const server = await keygen("server");
  const p1 = await keygen("p1");
  const p2 = await keygen("p2");
  const stranger = zmq.curveKeyPair();
  const allowFile = await secrets.write("producers.allow", `${p1.publicKey}  # sensor one\n`);
  const zws = await startZws([
    "--no-demo",
    "--curve-secret-key-file",
    server.path,
    "--curve-allow-file",
    allowFile,
    `--curve-allow=${p2.publicKey}`,
  ]);
  const pubs: zmq.Publisher[] = [];
  const c = await openClient(zws.wsUrl);
  try {
    assert.match(zws.stderr(), new RegExp(`server public key ${escape(server.publicKey)}`));
    assert.match(zws.stderr(), /2 producer key\(s\) allowed/);
    const as = (k: { publicKey: string; secretKey: string }) => ({
      serverKey: server.publicKey,
      publicKey: k.publicKey,
      secretKey: k.secretKey,
    });
    const good = await connectPublisher(zws.ingress, as(p1));
    pubs.push(good);
    const unknown = await handshakeOutcome(zws.ingress, as(stranger));
    pubs.push(unknown.pub);
    assert.equal(unknown.outcome, "handshake:error:auth");
    const plain = await handshakeOutcome(zws.ingress);
    pubs.push(plain.pub);
    assert.match(plain.outcome, /^handshake:error:/);
    for (let i = 0; i < 10; i++) {
      await good.send(JSON.stringify({ x: Date.now(), y: i, series: "allowed" }));
      await unknown.pub.send(JSON.stringify({ x: Date.now(), y: i, series: "unknown" }));
      await plain.pub.send(JSON.stringify({ x: Date.now(), y: i, series: "plain" }));
    }
    // `deno task produce` as the second allowed producer, from its key file.
    const produced = await runTask("produce", [
      "--ingress",
      zws.ingress,
      `--curve-server-key=${server.publicKey}`,
      "--curve-keys-file",
      p2.path,
      "--rate",
      "50",
      "--count",
      "20",
    ]);
    assert.equal(produced.code, 0, produced.err);
    await waitFor(() => c.points().filter((p) => p.series === "allowed").length >= 10, 5000, "10");
    await waitFor(() => c.points().some((p) => p.series === "sine"), 5000, "the produce task");
    await sleep(200);
    const series = new Set(c.points().map((p) => p.series));
    assert.deepEqual([...series].sort(), ["allowed", "cosine", "sine"]);
    const m = await metrics(zws);
    assert(metric(m, "zws_ingress_producers_refused_total") >= 1);
    assert.match(zws.stderr(), /refused producer .*CURVE key .* is not on the allow-list/);
  } finally {
    pubs.forEach((p) => p.close());
    await c.close();
    await zws.stop();
    await secrets.remove();
  }
  assertNoSecretInLog(zws, server.secretKey, p1.secretKey, p2.secretKey);
  assert(!zws.stderr().includes("exposed"), "no exposure warning");
});

Deno.test("CURVE from env; a non-loopback ingress warns only without CURVE", async () => {
  const server = zmq.curveKeyPair();
  const producer = zmq.curveKeyPair();
  const open = await startZws(["--no-demo", "--ingress", "tcp://0.0.0.0:*"]);
  await open.stop();
  assert.match(
    open.stderr(),
    /WARN relay: ingress tcp:\/\/0\.0\.0\.0:\* is reachable from other hosts without CURVE/,
  );
  const loop = await startZws(["--no-demo"]);
  await loop.stop();
  assert(!loop.stderr().includes("reachable from other hosts"), "loopback: no warning");
  const curve = await startZws(["--no-demo", "--ingress", "tcp://0.0.0.0:*"], {
    env: { ZWS_CURVE_SECRET_KEY: server.secretKey, ZWS_CURVE_ALLOW: producer.publicKey },
  });
  try {
    assert(!curve.stderr().includes("reachable from other hosts"));
    const port = curve.ingress.split(":").pop();
    const c = await openClient(curve.wsUrl);
    const pub = await connectPublisher(`tcp://127.0.0.1:${port}`, {
      serverKey: server.publicKey,
      ...producer,
    });
    await pub.send(JSON.stringify({ x: Date.now(), y: 1, series: "env" }));
    await waitFor(() => c.points().length >= 1, 5000, "a point through the env-configured CURVE");
    pub.close();
    await c.close();
  } finally {
    await curve.stop();
  }
  assertNoSecretInLog(curve, server.secretKey);
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

Deno.test("a secret passed as a flag works but warns, and is not logged by zws", async () => {
  const zws = await startZws(["--no-demo", "--auth-secret", SECRET]);
  try {
    const token = await signToken(KEY, { ttlSeconds: 60 });
    const c = await openClient(`${zws.wsUrl}?token=${token}`);
    await c.close();
  } finally {
    await zws.stop();
  }
  assert.match(
    zws.stderr(),
    /WARN main: --auth-secret on the command line is visible to other users/,
  );
  assertNoSecretInLog(zws, SECRET);
});
