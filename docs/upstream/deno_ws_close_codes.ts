/**
 * Minimal repro for Deno's WebSocket server (Deno.upgradeWebSocket), to report upstream:
 *  1. a text frame with invalid UTF-8: RFC 6455 §8.1 wants a close with 1007;
 *  2. a ping with a 126-byte payload (control frames carry at most 125): §5.5 wants 1002;
 *  3. a close frame with a 200-byte reason (a close payload is at most 125 bytes): the server
 *     should fail the connection (1002), not echo it.
 * Run: deno run --allow-net=127.0.0.1 docs/upstream/deno_ws_close_codes.ts
 */
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
  const { socket, response } = Deno.upgradeWebSocket(req);
  socket.onerror = () => {};
  return response;
});

/** A masked client frame. */
function frame(opcode: number, payload: Uint8Array): Uint8Array {
  const mask = [1, 2, 3, 4];
  const len = payload.length;
  const head = len < 126
    ? [0x80 | opcode, 0x80 | len]
    : [0x80 | opcode, 0x80 | 126, len >> 8, len & 255];
  const out = new Uint8Array(head.length + 4 + len);
  out.set(head);
  out.set(mask, head.length);
  for (let i = 0; i < len; i++) out[head.length + 4 + i] = payload[i] ^ mask[i % 4];
  return out;
}

async function trial(name: string, send: Uint8Array): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  const req = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  await conn.write(new TextEncoder().encode(req));
  const buf = new Uint8Array(65536);
  let got = new Uint8Array(0);
  const read = async () => {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) return false;
    got = new Uint8Array([...got, ...buf.subarray(0, n)]);
    return true;
  };
  while (!new TextDecoder().decode(got).includes("\r\n\r\n")) if (!(await read())) break;
  const headerEnd = new TextDecoder().decode(got).indexOf("\r\n\r\n") + 4;
  got = got.subarray(headerEnd);
  await conn.write(send);
  const timer = setTimeout(() => conn.close(), 1000);
  while (await read());
  clearTimeout(timer);
  let outcome = "connection dropped, no close frame";
  if (got.length >= 2 && (got[0] & 0x0f) === 8) {
    const len = got[1] & 0x7f;
    const ext = len === 126 ? (got[2] << 8) | got[3] : len;
    const off = len === 126 ? 4 : 2;
    const code = ext >= 2 ? (got[off] << 8) | got[off + 1] : "none";
    outcome = `close frame: code ${code}, payload ${ext} bytes` +
      (ext > 125 ? " (over 125: illegal)" : "");
  }
  console.log(`${name}: ${outcome}`);
  try {
    conn.close();
  } catch { /* closed */ }
}

await trial("invalid UTF-8 text frame (want 1007)", frame(1, new Uint8Array([0xc3, 0x28])));
await trial("126-byte ping (want 1002)", frame(9, new Uint8Array(126)));
const reason = new Uint8Array(202);
reason.set([0x03, 0xe8]); // 1000
reason.fill(0x61, 2);
await trial("close with a 200-byte reason (want 1002, no echo)", frame(8, reason));
console.log(`Deno ${Deno.version.deno}`);
await server.shutdown();
