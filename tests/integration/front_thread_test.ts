import assert from "node:assert/strict";
import { startFrontThread } from "../../src/http/front_thread.ts";
import { PEER_HEADER } from "../../src/http/front_constants.ts";

const upstream = () =>
  Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    (req) => new Response(req.headers.get(PEER_HEADER)?.split(" ")[0] ?? "no peer header"),
  );

const options = (upstreamPort: number, port = 0) => ({
  bind: { port, hostname: "127.0.0.1", reusePort: false },
  tls: null,
  upstreamPort,
  peerToken: "secret-token",
  requestTimeoutMs: 10_000,
  maxConnections: 100,
  maxWsMessageBytes: 65536,
});

async function get(port: number): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}/`);
  return await r.text();
}

Deno.test("front thread: its worker passes requests on; one that dies is restarted on the same port, counted", async () => {
  const server = upstream();
  const front = await startFrontThread(options(server.addr.port));
  try {
    assert.ok(front.addr.port > 0);
    assert.equal(await get(front.addr.port), "secret-token", "passed on with the peer header");
    assert.equal((await front.freshStats()).accepted, 1);
    front.crashForTest();
    const deadline = Date.now() + 5000;
    while (front.stats().restarts < 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(front.stats().restarts, 1, "the dead worker was restarted");
    let answer = "";
    while (!answer && Date.now() < deadline + 5000) {
      answer = await get(front.addr.port).catch(() => "");
      if (!answer) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(answer, "secret-token", "the new worker serves the same port");
    const s = await front.freshStats();
    assert.equal(s.accepted, 2, "counters carry across the restart");
  } finally {
    await front.close();
    await server.shutdown();
  }
});

Deno.test("front thread: a port it cannot bind rejects with the bind's error", async () => {
  const server = upstream();
  const taken = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  try {
    await assert.rejects(
      startFrontThread(options(server.addr.port, (taken.addr as Deno.NetAddr).port)),
      Deno.errors.AddrInUse,
    );
  } finally {
    taken.close();
    await server.shutdown();
  }
});

Deno.test("front thread: a worker that dies before it listens fails the start (no restart loop)", async () => {
  const server = upstream();
  try {
    await assert.rejects(
      startFrontThread(options(server.addr.port), {
        workerUrl: new URL("../fixtures/broken_front_worker.ts", import.meta.url),
      }),
      /its worker failed: .*dies at load/,
    );
  } finally {
    await server.shutdown();
  }
});
