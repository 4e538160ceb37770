/**
 * The HTTP front cuts a connection whose client reads nothing of what is written to it for
 * `writeStallMs` (`WRITE_STALL_MS` by default), both sides: Deno frees what it queued for that
 * client only when its connection ends. A client that reads, however slowly, is never cut.
 */
import assert from "node:assert/strict";
import { startFront } from "../../src/http/front.ts";
import { waitFor } from "../_helpers.ts";

Deno.test("front: a client that reads nothing of a write for writeStallMs is cut, both sides; one that reads stays", async () => {
  let cancelled = 0;
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  // An endless answer: what a stream of frames to a client that stopped reading looks like.
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull: (c) => c.enqueue(chunk),
          cancel: () => void cancelled++,
        }, { highWaterMark: 0 }),
      ),
  );
  const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const front = startFront({
    listener,
    tls: false,
    upstream: { port: server.addr.port },
    peerToken: "secret-token",
    requestTimeoutMs: 10_000,
    maxConnections: 10,
    maxWsMessageBytes: 65536,
    writeStallMs: 500,
  });
  const port = (listener.addr as Deno.NetAddr).port;
  const request = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  const stalled = await Deno.connect({ hostname: "127.0.0.1", port });
  const reader = await Deno.connect({ hostname: "127.0.0.1", port });
  let readerOn = true;
  let readerBytes = 0;
  try {
    await stalled.write(request); // and never reads
    await reader.write(request);
    const reading = (async () => {
      const buf = new Uint8Array(16 * 1024);
      while (readerOn) {
        const n = await reader.read(buf).catch(() => null);
        if (n === null) return;
        readerBytes += n;
      }
    })();
    await waitFor(() => front.stats().closed.write_stall >= 1, 10_000, "the stalled client cut");
    await waitFor(() => cancelled === 1, 5000, "the server's side of it ended");
    const before = readerBytes;
    await new Promise((r) => setTimeout(r, 1500)); // three stall periods
    assert.equal(front.stats().closed.write_stall, 1, "the reading client is not cut");
    assert.ok(readerBytes > before, "and it still gets bytes");
    readerOn = false;
    reader.close();
    await reading;
  } finally {
    try {
      stalled.close();
    } catch { /* closed */ }
    try {
      reader.close();
    } catch { /* closed */ }
    await front.close();
    await server.shutdown();
  }
});
