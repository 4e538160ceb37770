/**
 * A WebSocket client on a raw TCP connection, for clients a browser API cannot model.
 *
 * @module
 */

/**
 * A WebSocket client on a raw TCP connection, for clients a browser API cannot model: one that
 * stops reading (stalled), one that sends malformed frames. Reads only when asked to.
 */
export interface RawWsClient {
  conn: Deno.TcpConn;
  /** Reads and decodes server frames until `until` returns true or `ms` pass. */
  readFrames(until: (frames: RawFrame[]) => boolean, ms: number): Promise<RawFrame[]>;
  /** Sends one masked frame (opcode 1 text, 2 binary, 8 close, 9 ping). */
  sendFrame(
    opcode: number,
    payload: Uint8Array,
    opts?: { fin?: boolean; mask?: boolean },
  ): Promise<void>;
  close(): void;
}

/** One frame from the server. */
export interface RawFrame {
  opcode: number;
  payload: Uint8Array;
  text(): string;
}

/** Opens a WebSocket over raw TCP (`path` like `/ws?since=1`) and completes the handshake. */
export async function rawWsConnect(base: string, path = "/ws"): Promise<RawWsClient> {
  const { hostname, port } = new URL(base);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  await conn.write(new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ));
  let buf = new Uint8Array(0);
  const append = (chunk: Uint8Array) => {
    const next = new Uint8Array(buf.length + chunk.length);
    next.set(buf);
    next.set(chunk, buf.length);
    buf = next;
  };
  const chunk = new Uint8Array(64 * 1024);
  while (true) {
    const n = await conn.read(chunk);
    if (n === null) throw new Error("connection closed during the handshake");
    append(chunk.subarray(0, n));
    const text = new TextDecoder().decode(buf);
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      if (!text.startsWith("HTTP/1.1 101")) {
        throw new Error(`handshake refused: ${text.split("\r\n")[0]}`);
      }
      buf = buf.slice(new TextEncoder().encode(text.slice(0, end + 4)).length);
      break;
    }
  }
  const parse = (out: RawFrame[]) => {
    while (buf.length >= 2) {
      const opcode = buf[0] & 0x0f;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = (buf[2] << 8) | buf[3];
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(new DataView(buf.buffer, buf.byteOffset + 2, 8).getBigUint64(0));
        off = 10;
      }
      if (buf.length < off + len) return;
      const payload = buf.slice(off, off + len);
      out.push({ opcode, payload, text: () => new TextDecoder().decode(payload) });
      buf = buf.slice(off + len);
    }
  };
  let pending: Promise<number | null> | undefined;
  return {
    conn,
    async readFrames(until, ms) {
      const out: RawFrame[] = [];
      parse(out);
      const deadline = Date.now() + ms;
      while (!until(out) && Date.now() < deadline) {
        // One read at a time per connection: a read that outlives the timer is kept for the next
        // turn (and the next call), so no bytes are lost.
        pending ??= conn.read(chunk).catch(() => null);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const n = await Promise.race([
          pending,
          new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), 200)),
        ]);
        clearTimeout(timer);
        if (n === "timeout") continue;
        pending = undefined;
        if (n === null) break;
        append(chunk.subarray(0, n));
        parse(out);
      }
      return out;
    },
    async sendFrame(opcode, payload, opts = {}) {
      const mask = opts.mask ?? true;
      const fin = opts.fin ?? true;
      const len = payload.length;
      const head: number[] = [(fin ? 0x80 : 0) | opcode];
      const m = mask ? 0x80 : 0;
      if (len < 126) head.push(m | len);
      else if (len < 65536) head.push(m | 126, len >> 8, len & 0xff);
      else {
        head.push(m | 127);
        for (let i = 7; i >= 0; i--) head.push(Number((BigInt(len) >> BigInt(i * 8)) & 0xffn));
      }
      const key = crypto.getRandomValues(new Uint8Array(4));
      const body = new Uint8Array(payload);
      if (mask) {
        for (let i = 0; i < body.length; i++) body[i] ^= key[i % 4];
        head.push(...key);
      }
      const frame = new Uint8Array(head.length + body.length);
      frame.set(head);
      frame.set(body, head.length);
      for (let off = 0; off < frame.length;) off += await conn.write(frame.subarray(off));
    },
    close() {
      try {
        conn.close();
      } catch { /* already closed */ }
    },
  };
}
