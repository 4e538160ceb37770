import assert from "node:assert/strict";
import {
  createHandler,
  type HttpContext,
  originAllowed,
  SECURITY_HEADERS,
} from "../../src/http/handler.ts";
import { findAsset } from "../../src/http/static_assets.ts";
import type { RelayStats } from "../../src/relay/worker_messages.ts";
import { type AcceptOptions, type BridgeStats, WsBridge } from "../../ws_bridge.ts";
import { createTokenVerifier, signToken, type TokenVerifier } from "../../src/http/auth.ts";

const REQ = "http://localhost:8000/ws";

Deno.test("originAllowed: no Origin header (not a browser) is allowed", () => {
  assert.equal(originAllowed(null, REQ, []), true);
  assert.equal(originAllowed(null, "http://10.0.0.5:1234/ws", ["https://x.example"]), true);
});

Deno.test("originAllowed: the server's own origin is allowed", () => {
  assert.equal(originAllowed("http://localhost:8000", REQ, []), true);
  assert.equal(originAllowed("http://127.0.0.1:9999", "http://127.0.0.1:9999/ws", []), true);
  assert.equal(originAllowed("http://[::1]:8000", "http://[::1]:8000/ws?x=1", []), true);
  // Default ports: the request URL normalizes :80 away, as browsers do in Origin.
  assert.equal(originAllowed("http://example.com", "http://example.com:80/ws", []), true);
  assert.equal(originAllowed("https://example.com", "https://example.com/ws", []), true);
  // Host names compare case-insensitively through URL normalization of the request.
  assert.equal(originAllowed("http://example.com:8000", "http://EXAMPLE.com:8000/ws", []), true);
});

Deno.test("originAllowed: origins on the allow-list are allowed", () => {
  const allow = ["https://dashboard.example", "http://localhost:3000"];
  assert.equal(originAllowed("https://dashboard.example", REQ, allow), true);
  assert.equal(originAllowed("http://localhost:3000", REQ, allow), true);
});

Deno.test("originAllowed: other origins are refused", () => {
  const allow = ["https://dashboard.example"];
  for (
    const origin of [
      "http://evil.example",
      "https://evil.example",
      "https://dashboard.example.evil.example",
      "https://evil-dashboard.example",
      "http://localhost.evil.example:8000",
      "null",
      "",
      "*",
      "http://localhost:8000/", // not how browsers send it; exact match only
      "HTTP://LOCALHOST:8000",
    ]
  ) {
    assert.equal(originAllowed(origin, REQ, allow), false, JSON.stringify(origin));
  }
});

Deno.test("originAllowed: a scheme or port mismatch is refused", () => {
  // Own origin with another scheme or port.
  assert.equal(originAllowed("https://localhost:8000", REQ, []), false);
  assert.equal(originAllowed("http://localhost:8001", REQ, []), false);
  assert.equal(originAllowed("http://localhost", REQ, []), false);
  assert.equal(originAllowed("http://127.0.0.1:8000", REQ, []), false, "another host name");
  // Allow-listed host with another scheme or port.
  const allow = ["https://dashboard.example"];
  assert.equal(originAllowed("http://dashboard.example", REQ, allow), false);
  assert.equal(originAllowed("https://dashboard.example:8443", REQ, allow), false);
  assert.equal(originAllowed("wss://dashboard.example", REQ, allow), false);
});

// --- The request handler, with a fake bridge (no sockets). ---

interface FakeBridge {
  clientCount: number;
  accepted: Request[];
  options: AcceptOptions[];
}

interface HandlerOptions {
  clients?: number;
  maxClients?: number;
  allow?: string[];
  auth?: TokenVerifier;
  maxClientsPerIp?: number;
  upgradeRate?: number;
  now?: () => number;
}

function makeHandler(opts: HandlerOptions = {}) {
  const fake: FakeBridge = { clientCount: opts.clients ?? 0, accepted: [], options: [] };
  const bridgeStats: BridgeStats = {
    clients: fake.clientCount,
    connectionsTotal: 3,
    pointsSent: 30,
    framesSent: 10,
    pointsReceived: 40,
    pointsDroppedSlow: 0,
    clientProtocolErrors: 0,
    slowClients: 0,
    slowClientsClosed: 0,
    resumesExact: 0,
    resumesReset: 0,
    historyPoints: 0,
    clientsClosedTooBig: 0,
    clientsClosedTokenExpired: 0,
    framesBuilt: 10,
    sseClients: 0,
  };
  const bridge = {
    get clientCount() {
      return fake.clientCount;
    },
    accept(req: Request, options: AcceptOptions = {}): Response {
      fake.accepted.push(req);
      fake.options.push(options);
      return new Response("accepted", { status: 200 });
    },
    stats: () => bridgeStats,
  } as unknown as WsBridge;
  const relay: RelayStats = { messages: 5, points: 40, rejected: { invalid_json: 2 }, lastSeq: 40 };
  const ctx: HttpContext = {
    bridge,
    relayStats: () => Promise.resolve(relay),
    relayRestarts: () => 0,
    allowOrigins: opts.allow ?? [],
    maxClients: opts.maxClients ?? 10,
    startedAt: performance.now(),
    auth: opts.auth,
    maxClientsPerIp: opts.maxClientsPerIp,
    upgradeRate: opts.upgradeRate,
    now: opts.now,
  };
  return { handler: createHandler(ctx), fake };
}

function wsRequest(origin?: string, path = "/ws"): Request {
  const headers: Record<string, string> = {
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    "sec-websocket-version": "13",
  };
  if (origin) headers.origin = origin;
  return new Request(new URL(path, REQ), { headers });
}

/** What `Deno.serve` passes as the second argument, for a peer at `ip`. */
function from(ip: string) {
  return { remoteAddr: { transport: "tcp" as const, hostname: ip, port: 40000 } };
}

function assertSecurityHeaders(r: Response): void {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) assert.equal(r.headers.get(k), v, k);
}

Deno.test("handler: /ws refuses a foreign origin with 403 and counts it", async () => {
  const { handler, fake } = makeHandler();
  const r = await handler(wsRequest("http://evil.example"));
  assert.equal(r.status, 403);
  assert.match(await r.text(), /origin not allowed/);
  assertSecurityHeaders(r);
  assert.equal(fake.accepted.length, 0, "not handed to the bridge");
  const m = await (await handler(new Request("http://localhost:8000/metrics"))).text();
  assert.match(m, /^zws_ws_rejected_total\{reason="origin"\} 1$/m);
  assert.match(m, /^zws_ws_rejected_total\{reason="capacity"\} 0$/m);
});

Deno.test("handler: /ws hands same-origin, allow-listed and Origin-less upgrades to the bridge", async () => {
  const { handler, fake } = makeHandler({ allow: ["https://dash.example"] });
  for (const origin of ["http://localhost:8000", "https://dash.example", undefined]) {
    const r = await handler(wsRequest(origin));
    assert.equal(await r.text(), "accepted", String(origin));
  }
  assert.equal(fake.accepted.length, 3);
});

Deno.test("handler: /ws without an upgrade header gets 426", async () => {
  const { handler, fake } = makeHandler();
  const r = await handler(new Request(REQ));
  assert.equal(r.status, 426);
  await r.body?.cancel();
  assert.equal(fake.accepted.length, 0);
});

Deno.test("handler: /ws at capacity gets 503 with Retry-After and is counted", async () => {
  const { handler, fake } = makeHandler({ clients: 2, maxClients: 2 });
  const r = await handler(wsRequest("http://localhost:8000"));
  assert.equal(r.status, 503);
  assert.equal(r.headers.get("retry-after"), "5");
  await r.body?.cancel();
  assert.equal(fake.accepted.length, 0);
  const m = await (await handler(new Request("http://localhost:8000/metrics"))).text();
  assert.match(m, /^zws_ws_rejected_total\{reason="capacity"\} 1$/m);
  // The origin check comes first: a foreign origin at capacity is an origin rejection.
  const r2 = await handler(wsRequest("http://evil.example"));
  assert.equal(r2.status, 403);
  await r2.body?.cancel();
});

Deno.test("handler: methods other than GET and HEAD get 405 with Allow", async () => {
  const { handler } = makeHandler();
  for (const method of ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"]) {
    const r = await handler(new Request("http://localhost:8000/", { method }));
    assert.equal(r.status, 405, method);
    assert.equal(r.headers.get("allow"), "GET, HEAD");
    assertSecurityHeaders(r);
    await r.body?.cancel();
  }
});

Deno.test("handler: /healthz and /metrics", async () => {
  const { handler } = makeHandler({ clients: 4 });
  const h = await handler(new Request("http://localhost:8000/healthz"));
  assert.equal(h.status, 200);
  assert.equal(h.headers.get("content-type"), "application/json");
  const body = await h.json();
  assert.equal(body.status, "ok");
  assert.equal(body.clients, 4);
  assert.equal(body.relayRestarts, 0);
  assert.equal(body.server.name, "zws");
  assert.equal(typeof body.uptime, "number");
  const m = await handler(new Request("http://localhost:8000/metrics"));
  assert.equal(m.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await m.text();
  assert.match(text, /^zws_ingress_messages_total 5$/m);
  assert.match(text, /^zws_ingress_rejected_total\{reason="invalid_json"\} 2$/m);
  assert.match(text, /^zws_points_sent_total 30$/m);
});

Deno.test("handler: assets with ETag revalidation, HEAD without body, 404 otherwise", async () => {
  const { handler } = makeHandler();
  const asset = findAsset("/app.js")!;
  const r = await handler(new Request("http://localhost:8000/app.js"));
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), asset.contentType);
  assert.equal(r.headers.get("etag"), asset.etag);
  assert.equal(r.headers.get("cache-control"), asset.cacheControl);
  assertSecurityHeaders(r);
  assert.equal(await r.text(), asset.body);

  const cached = await handler(
    new Request("http://localhost:8000/app.js", { headers: { "if-none-match": asset.etag } }),
  );
  assert.equal(cached.status, 304);
  assert.equal(cached.body, null);

  const head = await handler(new Request("http://localhost:8000/", { method: "HEAD" }));
  assert.equal(head.status, 200);
  assert.equal(head.body, null);

  for (const path of ["/nope", "/%2e%2e/deno.json", "/static/index.html", "/../deno.json"]) {
    const nf = await handler(new Request(`http://localhost:8000${path}`));
    assert.equal(nf.status, 404, path);
    assertSecurityHeaders(nf);
    await nf.body?.cancel();
  }
});

const SECRET = new TextEncoder().encode("http-test-secret-http-test-secret!!");

async function metricsOf(handler: ReturnType<typeof makeHandler>["handler"]): Promise<string> {
  return await (await handler(new Request("http://localhost:8000/metrics"))).text();
}

Deno.test("handler: with auth on, /ws needs a valid token (401 otherwise, counted by reason)", async () => {
  const { handler, fake } = makeHandler({ auth: createTokenVerifier(SECRET) });
  const good = await signToken(SECRET, { ttlSeconds: 60, series: ["a"] });
  const expired = await signToken(SECRET, { ttlSeconds: 60, now: Date.now() - 3_600_000 });
  const forged = await signToken(
    new TextEncoder().encode("not-the-secret-not-the-secret-not!!"),
    { ttlSeconds: 60 },
  );
  const cases: Array<[string, number]> = [
    ["/ws", 401],
    [`/ws?token=${expired}`, 401],
    [`/ws?token=${forged}`, 401],
    ["/ws?token=garbage", 401],
  ];
  for (const [path, status] of cases) {
    const r = await handler(wsRequest(undefined, path), from("192.0.2.1"));
    assert.equal(r.status, status, path);
    assert.match(r.headers.get("www-authenticate")!, /^Bearer realm="zws"/);
    assertSecurityHeaders(r);
    await r.body?.cancel();
  }
  assert.equal(fake.accepted.length, 0);
  const ok = await handler(wsRequest(undefined, `/ws?token=${good}`), from("192.0.2.1"));
  assert.equal(await ok.text(), "accepted");
  assert.deepEqual(fake.options[0].series, ["a"], "the token's series go to the bridge");
  assert(Math.abs(fake.options[0].expiresAt! - (Date.now() + 60_000)) < 2000);
  const m = await metricsOf(handler);
  assert.match(m, /^zws_ws_rejected_total\{reason="unauthorized"\} 4$/m);
  assert.match(m, /^zws_auth_failures_total\{reason="missing"\} 1$/m);
  assert.match(m, /^zws_auth_failures_total\{reason="expired"\} 1$/m);
  assert.match(m, /^zws_auth_failures_total\{reason="invalid"\} 2$/m);
});

Deno.test("handler: with auth on, the page needs a token; assets, /healthz, /metrics do not", async () => {
  const { handler } = makeHandler({ auth: createTokenVerifier(SECRET) });
  const token = await signToken(SECRET, { ttlSeconds: 60 });
  for (const path of ["/", "/index.html"]) {
    const r = await handler(new Request(`http://localhost:8000${path}`));
    assert.equal(r.status, 401, path);
    assert.match(await r.text(), /token/);
    const ok = await handler(new Request(`http://localhost:8000${path}?token=${token}`));
    assert.equal(ok.status, 200, `${path} with a token`);
    await ok.body?.cancel();
  }
  const bearer = await handler(
    new Request("http://localhost:8000/", { headers: { Authorization: `Bearer ${token}` } }),
  );
  assert.equal(bearer.status, 200);
  await bearer.body?.cancel();
  for (const path of ["/app.js", "/style.css", "/vendor/jquery.min.js", "/healthz", "/metrics"]) {
    const r = await handler(new Request(`http://localhost:8000${path}`));
    assert.equal(r.status, 200, path);
    await r.body?.cancel();
  }
});

Deno.test("handler: without auth, tokens are ignored and everything is open", async () => {
  const { handler, fake } = makeHandler();
  const r = await handler(wsRequest(undefined, "/ws?token=whatever"));
  assert.equal(await r.text(), "accepted");
  assert.equal(fake.options[0].series, null);
  assert.equal(fake.options[0].expiresAt, undefined);
  const page = await handler(new Request("http://localhost:8000/"));
  assert.equal(page.status, 200);
  await page.body?.cancel();
});

Deno.test("handler: upgrade rate per IP gets 429 with Retry-After and is counted", async () => {
  let t = 0;
  const { handler, fake } = makeHandler({ upgradeRate: 2, now: () => t });
  const status = async (ip: string) => {
    const r = await handler(wsRequest(), from(ip));
    const retry = r.headers.get("retry-after");
    await r.body?.cancel();
    return { status: r.status, retry };
  };
  assert.equal((await status("192.0.2.1")).status, 200);
  assert.equal((await status("192.0.2.1")).status, 200);
  assert.deepEqual(await status("192.0.2.1"), { status: 429, retry: "1" });
  assert.equal((await status("192.0.2.2")).status, 200, "another address is not affected");
  t += 1000;
  assert.equal((await status("192.0.2.1")).status, 200, "refilled after a second");
  assert.equal(fake.accepted.length, 4);
  assert.match(await metricsOf(handler), /^zws_ws_rejected_total\{reason="rate"\} 1$/m);
});

Deno.test("handler: clients per IP get 429 until one of them leaves", async () => {
  const { handler, fake } = makeHandler({ maxClientsPerIp: 2 });
  const open = async (ip: string) => {
    const r = await handler(wsRequest(), from(ip));
    await r.body?.cancel();
    return r.status;
  };
  assert.equal(await open("192.0.2.1"), 200);
  assert.equal(await open("192.0.2.1"), 200);
  assert.equal(await open("192.0.2.1"), 429);
  assert.equal(await open("192.0.2.2"), 200);
  fake.options[0].onClose!(); // the first client disconnects
  assert.equal(await open("192.0.2.1"), 200);
  assert.equal(await open("192.0.2.1"), 429);
  assert.match(await metricsOf(handler), /^zws_ws_rejected_total\{reason="ip_capacity"\} 2$/m);
});

Deno.test("handler: accepted-but-not-yet-open clients count against --max-clients", async () => {
  const { handler } = makeHandler({ maxClients: 2 });
  const statuses = [];
  for (let i = 0; i < 3; i++) {
    const r = await handler(wsRequest(), from(`192.0.2.${i}`));
    statuses.push(r.status);
    await r.body?.cancel();
  }
  assert.deepEqual(statuses, [200, 200, 503]);
});

Deno.test("handler: a malformed upgrade gets 400 and releases its per-IP slot", async () => {
  const bridge = new WsBridge();
  const handler = createHandler({
    bridge,
    relayStats: () => Promise.resolve({ messages: 0, points: 0, rejected: {}, lastSeq: 0 }),
    relayRestarts: () => 0,
    allowOrigins: [],
    maxClients: 10,
    startedAt: performance.now(),
    maxClientsPerIp: 1,
  });
  try {
    for (let i = 0; i < 3; i++) {
      // No Sec-WebSocket-Key: Deno.upgradeWebSocket refuses it.
      const req = new Request(REQ, { headers: { upgrade: "websocket", connection: "Upgrade" } });
      const r = await handler(req, from("192.0.2.1"));
      assert.equal(r.status, 400, `attempt ${i + 1}: 400, not 429 (the slot was released)`);
      assert.match(await r.text(), /bad WebSocket upgrade/);
    }
  } finally {
    await bridge.close();
  }
});

Deno.test("handler: /events has the checks of /ws: origin 403, capacity 503, bad series 400", async () => {
  const { handler, fake } = makeHandler({ clients: 2, maxClients: 2 });
  const events = (headers: Record<string, string> = {}, q = "") =>
    handler(new Request(`http://localhost:8000/events${q}`, { headers }));
  const foreign = await events({ origin: "http://evil.example" });
  assert.equal(foreign.status, 403);
  assertSecurityHeaders(foreign);
  await foreign.body?.cancel();
  const full = await events({ origin: "http://localhost:8000" });
  assert.equal(full.status, 503);
  assert.equal(full.headers.get("retry-after"), "5");
  await full.body?.cancel();
  const m = await (await handler(new Request("http://localhost:8000/metrics"))).text();
  assert.match(m, /^zws_sse_rejected_total\{reason="origin"\} 1$/m);
  assert.match(m, /^zws_sse_rejected_total\{reason="capacity"\} 1$/m);
  assert.match(m, /^zws_ws_rejected_total\{reason="origin"\} 0$/m);

  const roomy = makeHandler();
  const bad = await roomy.handler(new Request("http://localhost:8000/events?series=%0A"));
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /control characters/);
  const badWs = await roomy.handler(
    new Request("http://localhost:8000/ws?series=" + "x".repeat(65), {
      headers: wsRequest().headers,
    }),
  );
  assert.equal(badWs.status, 400);
  await badWs.body?.cancel();
  const head = await roomy.handler(new Request("http://localhost:8000/events", { method: "HEAD" }));
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.equal(head.body, null);
  assert.equal(fake.accepted.length + roomy.fake.accepted.length, 0);
});
