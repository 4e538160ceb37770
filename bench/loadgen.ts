/**
 * Load generator process of the benchmark: opens N WebSocket clients on loopback and measures, for
 * every point received, its latency (receive time minus the send time the producer put in `x`).
 *
 * The clients are minimal RFC 6455 clients over raw TCP (`Deno.connect`): one read of up to 64 KiB
 * carries many frames, so the generator's cost grows with bytes, not with frames, and 15,000 idle
 * clients fit in a few processes. Points are counted and their `x` read by a byte scan for `"x":`,
 * which covers zws frames (`{"type":"points","points":[{"seq":…,"x":…},…]}`) and the baseline's
 * as-is producer messages (`{"x":…}` or arrays) alike. "Stalled" clients do the handshake and then
 * never read again. With `--no-latency` the clients count frames and bytes only (no scan of each
 * point: an exact stream of 100,000 points/s to 100 clients is more than the generator can scan
 * on this machine). With `--rate N` every reading client asks for a decimated stream
 * (`{"type":"rate","max_points_per_s":N}`) once its hello came. Bytes read are counted too (the
 * wire bytes after the hello), for the bytes each client costs.
 *
 * Run by `bench/run.ts`; talks JSON lines: prints `connected`, then answers `stats`, `report` and
 * `exit` read from stdin.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { emit, Histogram, nowMs, stdinLines } from "./common.ts";

/** What one load generator prints once its clients are connected. */
export interface LoadgenConnected {
  type: "connected";
  /** Reading clients whose handshake (and hello, with --await-hello) completed. */
  ok: number;
  /** Stalled clients whose handshake completed. */
  stalledOk: number;
  /** Clients that failed to connect. */
  failed: number;
  /** The first few failures. */
  errors: string[];
  /** Time taken to connect them all, ms. */
  ms: number;
}

/** Counters, answered to `stats` (cheap, for polling). */
export interface LoadgenStats {
  type: "stats";
  points: number;
  frames: number;
  /** Epoch ms of the last read that carried a point (0 if none). */
  lastRecvMs: number;
  /** Bytes read by the reading clients after their hello, summed. */
  bytes: number;
  /** Reading clients still open. */
  open: number;
}

/** Full results, answered to `report`. */
export interface LoadgenReport extends Omit<LoadgenStats, "type"> {
  type: "report";
  latency: ReturnType<Histogram["toJSON"]>;
  /** Fewest and most points any one reading client received. */
  minClientPoints: number;
  maxClientPoints: number;
  /** Most data frames any one reading client received. */
  maxClientFrames: number;
}

const CRLF2 = [13, 10, 13, 10];
const encoder = new TextEncoder();

interface Client {
  conn: Deno.TcpConn;
  buf: Uint8Array;
  used: number;
  points: number;
  frames: number;
  open: boolean;
}

const hist = new Histogram();
let totalPoints = 0;
let totalBytes = 0;
/** `--no-latency`: frames and bytes only. */
let countOnly = false;
let totalFrames = 0;
let lastRecvMs = 0;

function findHeaderEnd(buf: Uint8Array, used: number): number {
  for (let i = 0; i + 3 < used; i++) {
    if (
      buf[i] === CRLF2[0] && buf[i + 1] === CRLF2[1] && buf[i + 2] === CRLF2[2] &&
      buf[i + 3] === CRLF2[3]
    ) return i + 4;
  }
  return -1;
}

/** Connects and upgrades; leaves any bytes after the 101 response in the client's buffer. */
async function open(
  url: URL,
  bufSize: number,
  awaitHello: boolean,
  timeoutMs: number,
): Promise<Client> {
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  const client: Client = {
    conn,
    buf: new Uint8Array(Math.max(bufSize, 1024)),
    used: 0,
    points: 0,
    frames: 0,
    open: true,
  };
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch { /* closed */ }
  }, timeoutMs);
  try {
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    await writeAll(
      conn,
      encoder.encode(
        `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    let end = -1;
    for (let i = 0; i < 100 && end < 0; i++) {
      const n = await conn.read(client.buf.subarray(client.used));
      if (n === null) throw new Error("closed during handshake");
      client.used += n;
      end = findHeaderEnd(client.buf, client.used);
      if (end < 0 && client.used === client.buf.length) throw new Error("handshake too long");
    }
    const head = new TextDecoder().decode(client.buf.subarray(0, end));
    if (!head.startsWith("HTTP/1.1 101")) throw new Error(head.split("\r\n")[0]);
    client.buf.copyWithin(0, end, client.used);
    client.used -= end;
    if (awaitHello) {
      // zws registers a client when it sends the hello frame: wait for one complete frame.
      for (let i = 0; i < 100 && !completeFrame(client); i++) {
        const n = await conn.read(client.buf.subarray(client.used));
        if (n === null) throw new Error("closed before hello");
        client.used += n;
      }
    }
    return client;
  } catch (err) {
    try {
      conn.close();
    } catch { /* closed */ }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  for (let i = 0; i < 1000 && off < bytes.length; i++) off += await conn.write(bytes.subarray(off));
}

/** Whether the buffer starts with one complete frame. */
function completeFrame(c: Client): boolean {
  const h = header(c.buf, 0, c.used);
  return h !== undefined && c.used >= h.start + h.len;
}

/** A frame header at `off`, or undefined if incomplete. */
function header(
  buf: Uint8Array,
  off: number,
  used: number,
): { fin: boolean; opcode: number; start: number; len: number } | undefined {
  if (used - off < 2) return undefined;
  const b0 = buf[off];
  const b1 = buf[off + 1];
  let len = b1 & 0x7f;
  let start = off + 2;
  if (len === 126) {
    if (used - off < 4) return undefined;
    len = (buf[off + 2] << 8) | buf[off + 3];
    start = off + 4;
  } else if (len === 127) {
    if (used - off < 10) return undefined;
    let v = 0;
    for (let i = 2; i < 10; i++) v = v * 256 + buf[off + i];
    len = v;
    start = off + 10;
  }
  if (b1 & 0x80) start += 4; // a masked server frame would be a protocol error; skip the key
  return { fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, start, len };
}

/**
 * Counts the points of one payload and records each one's latency: finds every `"x":` and parses
 * the plain decimal number after it (the producer writes `x` without exponent).
 */
function scanPoints(p: Uint8Array, t: number): number {
  let n = 0;
  const end = p.length;
  let i = p.indexOf(0x78, 1);
  while (i >= 0 && i + 3 < end) {
    if (p[i - 1] === 0x22 && p[i + 1] === 0x22 && p[i + 2] === 0x3a) {
      let j = i + 3;
      let v = 0;
      let c = p[j];
      while (c >= 48 && c <= 57) {
        v = v * 10 + (c - 48);
        c = p[++j];
      }
      if (c === 0x2e) {
        let f = 0.1;
        c = p[++j];
        while (c >= 48 && c <= 57) {
          v += (c - 48) * f;
          f /= 10;
          c = p[++j];
        }
      }
      hist.add(t - v);
      n++;
      i = p.indexOf(0x78, j);
    } else {
      i = p.indexOf(0x78, i + 1);
    }
  }
  return n;
}

/** Sends one masked frame of `opcode` (a payload of at most 125 bytes). */
async function sendFrame(c: Client, opcode: number, payload: Uint8Array): Promise<void> {
  if (payload.length > 125) return;
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const frame = new Uint8Array(6 + payload.length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | payload.length;
  frame.set(mask, 2);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i] ^ mask[i & 3];
  await writeAll(c.conn, frame).catch(() => {});
}

function sendPong(c: Client, payload: Uint8Array): Promise<void> {
  return sendFrame(c, 0x0a, payload);
}

/** Parses every complete frame in the buffer; returns bytes consumed and bytes the next needs. */
function drain(c: Client, t: number): { consumed: number; need: number } {
  let off = 0;
  for (;;) {
    const h = header(c.buf, off, c.used);
    if (!h) return { consumed: off, need: 14 };
    if (c.used < h.start + h.len) return { consumed: off, need: h.start + h.len - off };
    const payload = c.buf.subarray(h.start, h.start + h.len);
    if (h.opcode === 1 || h.opcode === 2 || h.opcode === 0) {
      if (countOnly) {
        c.frames++;
        totalFrames++;
        lastRecvMs = t;
        off = h.start + h.len;
        continue;
      }
      const n = scanPoints(payload, t);
      if (n > 0) {
        c.points += n;
        totalPoints += n;
        c.frames++;
        totalFrames++;
        lastRecvMs = t;
      }
    } else if (h.opcode === 8) {
      c.open = false;
    } else if (h.opcode === 9) {
      sendPong(c, payload.slice());
    }
    off = h.start + h.len;
  }
}

async function readLoop(c: Client): Promise<void> {
  try {
    // Bytes that came with the handshake (the hello, maybe points) first.
    let { consumed, need } = drain(c, nowMs());
    for (;;) {
      if (consumed > 0) {
        c.buf.copyWithin(0, consumed, c.used);
        c.used -= consumed;
      }
      if (need > c.buf.length) {
        const bigger = new Uint8Array(Math.max(need, c.buf.length * 2));
        bigger.set(c.buf.subarray(0, c.used));
        c.buf = bigger;
      }
      if (!c.open) break;
      const n = await c.conn.read(c.buf.subarray(c.used));
      if (n === null) break;
      c.used += n;
      totalBytes += n;
      ({ consumed, need } = drain(c, nowMs()));
    }
  } catch { /* reset by the server */ }
  c.open = false;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      url: { type: "string" },
      clients: { type: "string", default: "10" },
      stalled: { type: "string", default: "0" },
      "await-hello": { type: "boolean", default: false },
      "read-buffer": { type: "string", default: "65536" },
      rate: { type: "string" },
      "no-latency": { type: "boolean", default: false },
      concurrency: { type: "string", default: "64" },
    },
  });
  const url = new URL(values.url ?? "");
  if (url.hostname !== "127.0.0.1") throw new Error("the load generator targets 127.0.0.1 only");
  const n = Number(values.clients);
  const nStalled = Number(values.stalled);
  const bufSize = Number(values["read-buffer"]);
  const concurrency = Math.max(1, Number(values.concurrency));
  const awaitHello = values["await-hello"];
  countOnly = values["no-latency"];
  const rateMessage = values.rate === undefined
    ? undefined
    : encoder.encode(JSON.stringify({ type: "rate", max_points_per_s: Number(values.rate) }));

  const t0 = performance.now();
  const readers: Client[] = [];
  const stalled: Client[] = [];
  const errors: string[] = [];
  let failed = 0;
  let next = 0;
  const total = n + nStalled;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const isStalled = i >= n;
      try {
        const c = await open(url, isStalled ? 4096 : bufSize, awaitHello && !isStalled, 15000);
        (isStalled ? stalled : readers).push(c);
        if (!isStalled && rateMessage) await sendFrame(c, 0x01, rateMessage);
        if (!isStalled) readLoop(c);
      } catch (err) {
        failed++;
        if (errors.length < 5) errors.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  emit(
    {
      type: "connected",
      ok: readers.length,
      stalledOk: stalled.length,
      failed,
      errors,
      ms: Math.round(performance.now() - t0),
    } satisfies LoadgenConnected,
  );

  const stats = (): LoadgenStats => ({
    type: "stats",
    points: totalPoints,
    bytes: totalBytes,
    frames: totalFrames,
    lastRecvMs,
    open: readers.filter((c) => c.open).length,
  });
  for await (const cmd of stdinLines()) {
    if (cmd === "stats") emit(stats());
    else if (cmd === "report") {
      let min = Infinity;
      let max = 0;
      let maxFrames = 0;
      for (const c of readers) {
        min = Math.min(min, c.points);
        max = Math.max(max, c.points);
        maxFrames = Math.max(maxFrames, c.frames);
      }
      const { type: _, ...s } = stats();
      emit(
        {
          ...s,
          type: "report",
          latency: hist.toJSON(),
          minClientPoints: readers.length ? min : 0,
          maxClientPoints: max,
          maxClientFrames: maxFrames,
        } satisfies LoadgenReport,
      );
    } else if (cmd === "exit") break;
  }
  for (const c of [...readers, ...stalled]) {
    try {
      c.conn.close();
    } catch { /* closed */ }
  }
  Deno.exit(0);
}

if (import.meta.main) await main();
