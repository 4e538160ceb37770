/**
 * What the HTTP front (`http/front.ts`) reads of the bytes it passes on: where an HTTP/1.1 request
 * or response head ends and what it says (method, body, upgrade, status), and where WebSocket
 * frames begin and end (RFC 6455 §5.2), so that one client message can be bounded before Deno
 * assembles it. Pure: bytes in, answers out; payloads are never copied or unmasked.
 *
 * @module
 */

/** Largest request or response head the front reads, in bytes (a longer one gets 431). */
export const MAX_HEAD_BYTES = 16 * 1024;
/** Largest request body passed on, in bytes (zws reads none; its 405 needs the request whole). */
export const MAX_BODY_BYTES = 64 * 1024;

const CR = 0x0d;
const LF = 0x0a;

/**
 * Index just past the `\r\n\r\n` that ends a head in `buf[0, len)`, searching from `from` (bytes
 * before it were searched already; pass the previous length), or -1.
 */
export function headEnd(buf: Uint8Array, len: number, from = 0): number {
  for (let i = Math.max(3, from); i < len; i++) {
    if (buf[i] === LF && buf[i - 1] === CR && buf[i - 2] === LF && buf[i - 3] === CR) return i + 1;
  }
  return -1;
}

/** What the front needs to know of one request head. */
export interface RequestHead {
  method: string;
  /** Whether it asks for a WebSocket (`Upgrade: websocket`). */
  upgrade: boolean;
  /** Bytes of body that follow (`Content-Length`; 0 without one). */
  contentLength: number;
  /** Whether the body is sent in chunks (`Transfer-Encoding`): its length is not known. */
  chunked: boolean;
}

/** Why the front answers a request itself instead of passing it on. */
export interface Refusal {
  status: string;
  body: string;
}

/**
 * The front's own rules for a request (its head parsed, or what is wrong with it): a bad head, a
 * body it does not pass on (chunked, or over {@link MAX_BODY_BYTES}), or an upgrade that is not
 * the connection's first request (`earlier` requests before it). Undefined: pass it on.
 */
export function refusalFor(req: RequestHead | string, earlier: number): Refusal | undefined {
  if (typeof req === "string") return { status: "400 Bad Request", body: `${req}\n` };
  if (req.chunked || req.contentLength > MAX_BODY_BYTES) {
    return {
      status: "413 Content Too Large",
      body: "request bodies are not served (at most 64 KiB, with a Content-Length)\n",
    };
  }
  if (req.upgrade && earlier > 0) {
    return {
      status: "400 Bad Request",
      body: "a WebSocket upgrade must be the first request on its connection\n",
    };
  }
  return undefined;
}

/** Parses a request head (the bytes through its blank line); a string says what is wrong. */
export function parseRequestHead(head: Uint8Array): RequestHead | string {
  const text = latin1(head);
  const lines = text.split("\r\n");
  const m = /^([A-Z]{1,16}) (\S+) HTTP\/1\.[01]$/.exec(lines[0]);
  if (!m) return "not an HTTP/1.1 request line";
  let upgrade = false;
  let contentLength = 0;
  let chunked = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line === "") break;
    const colon = line.indexOf(":");
    if (colon <= 0) return "malformed header line";
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "upgrade" && /(^|,)\s*websocket\s*(,|$)/i.test(value)) upgrade = true;
    else if (name === "content-length") {
      if (!/^\d{1,15}$/.test(value)) return "bad Content-Length";
      contentLength = Number(value);
    } else if (name === "transfer-encoding") chunked = true;
  }
  return { method: m[1], upgrade, contentLength, chunked };
}

/**
 * `head` with the header `name: value` right after its request line, and every header of that
 * name the client sent removed (so a client cannot pass its own). `name` is lower case.
 */
export function withHeader(head: Uint8Array, name: string, value: string): Uint8Array {
  const lines = latin1(head).split("\r\n");
  const prefix = `${name}:`;
  const kept = lines.filter((l, i) => i === 0 || !l.toLowerCase().startsWith(prefix));
  kept.splice(1, 0, `${name}: ${value}`);
  const text = kept.join("\r\n");
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** The status code of a response head, or 0 when it is not one. */
export function responseStatus(head: Uint8Array): number {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(latin1(head.subarray(0, 16)));
  return m ? Number(m[1]) : 0;
}

function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 4096) {
    s += String.fromCharCode(...b.subarray(i, Math.min(b.length, i + 4096)));
  }
  return s;
}

/**
 * Why {@link WsFrameScanner.scan} stopped: a message over the limit, a frame Deno refuses, or a
 * message over the client's message rate.
 */
export type WsViolation = "too_big" | "protocol" | "flood";

/**
 * At most `max` messages in any `windowMs` (a sliding window): how fast a client may send. Pure
 * (the caller passes the time).
 */
export class MessageRate {
  /** The times of the last `max` messages admitted, a ring; `#next` is the oldest once full. */
  readonly #times: Float64Array;
  #next = 0;
  #count = 0;

  constructor(readonly max: number, readonly windowMs = 1000) {
    this.#times = new Float64Array(max);
  }

  /** Counts a message at `now` (ms); false when it is one more than `max` within the window. */
  admit(now: number): boolean {
    if (this.#count === this.max) {
      if (now - this.#times[this.#next] < this.windowMs) return false;
    } else this.#count++;
    this.#times[this.#next] = now;
    this.#next = (this.#next + 1) % this.max;
    return true;
  }
}

/**
 * Follows WebSocket frames in a byte stream, one chunk at a time: where each frame ends and, for
 * a client's stream, how many bytes the message being sent has so far (data frames: a text or
 * binary frame and its continuations; control frames are not part of it). With `checkClient`, it
 * also stops at the frame headers Deno fails the connection for (RFC 6455 §5.2, §5.4, §5.5:
 * reserved bits or opcodes, a fragmented or long control frame, a continuation with no message,
 * a new message inside one), so that those keep Deno's answer (the connection dropped).
 */
export class WsFrameScanner {
  /** Header bytes gathered so far (a header is 2 to 14 bytes). */
  #head = new Uint8Array(14);
  #headLen = 0;
  /** Payload bytes of the current frame still to come (-1: reading a header). */
  #left = -1;
  /** Payload bytes of the message being sent, over its frames so far. */
  #message = 0;
  /** Whether a data frame without FIN began a message that is not finished. */
  #fragmented = false;
  /** What the last {@link scan} that stopped stopped for. */
  violation: WsViolation | undefined;

  /**
   * @param maxMessageBytes largest message (Infinity: no bound, e.g. the server's stream)
   * @param checkClient whether to stop at frame headers a server must refuse (a client's stream)
   * @param rate how fast messages may begin (none: no bound), and the clock it is read with
   */
  constructor(
    readonly maxMessageBytes = Infinity,
    readonly checkClient = false,
    readonly rate?: MessageRate,
    readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether the stream stands between two frames. */
  get atBoundary(): boolean {
    return this.#left === -1 && this.#headLen === 0;
  }

  /**
   * Reads `chunk`. Returns -1 when every frame in it keeps its message within the limit (and, with
   * `checkClient`, follows the protocol); else the offset in `chunk` where the header of the first
   * frame that does not begins (the bytes before it may be passed on; the rest must not), with the
   * reason in {@link violation}. After a violation the scanner is not to be used again.
   */
  scan(chunk: Uint8Array): number {
    let i = 0;
    while (i < chunk.length) {
      if (this.#left > 0) {
        const n = Math.min(this.#left, chunk.length - i);
        this.#left -= n;
        i += n;
        if (this.#left === 0) this.#left = -1;
        continue;
      }
      const start = i - this.#headLen; // may be negative: the header began in an earlier chunk
      this.#head[this.#headLen++] = chunk[i++];
      const need = headerBytes(this.#head, this.#headLen);
      if (this.#headLen < need) continue;
      const { opcode, length } = readHeader(this.#head);
      this.#headLen = 0;
      if (this.checkClient && this.#refused(opcode, length)) {
        this.violation = "protocol";
        return Math.max(0, start);
      }
      if ((opcode === 1 || opcode === 2) && this.rate && !this.rate.admit(this.now())) {
        this.violation = "flood";
        return Math.max(0, start);
      }
      if (opcode < 8) {
        this.#message = opcode === 0 ? this.#message + length : length;
        this.#fragmented = (this.#head[0] & 0x80) === 0;
        if (this.#message > this.maxMessageBytes) {
          this.violation = "too_big";
          return Math.max(0, start);
        }
      }
      this.#left = length > 0 ? length : -1;
    }
    return -1;
  }

  /** Whether a client frame with this header breaks the protocol (checked before its size). */
  #refused(opcode: number, length: number): boolean {
    const fin = (this.#head[0] & 0x80) !== 0;
    if (this.#head[0] & 0x70) return true; // RSV1-3: no extension was negotiated
    if ((opcode > 2 && opcode < 8) || opcode > 10) return true; // reserved opcodes
    if (opcode >= 8) return !fin || length > 125; // control frames: whole, short
    if (opcode === 0) return !this.#fragmented; // a continuation of nothing
    return this.#fragmented; // a new message inside a fragmented one
  }

  /**
   * How many bytes of `chunk` finish the frame under way (0 at a boundary); `chunk.length` or less
   * when it does not finish within it. Does not advance the scanner (call {@link scan} after).
   */
  untilBoundary(chunk: Uint8Array): number {
    if (this.atBoundary) return 0;
    if (this.#left > 0) return Math.min(this.#left, chunk.length);
    const h = this.#head.slice();
    let have = this.#headLen;
    for (let i = 0; i < chunk.length;) {
      h[have++] = chunk[i++];
      if (have >= headerBytes(h, have)) return Math.min(chunk.length, i + readHeader(h).length);
    }
    return chunk.length;
  }
}

/** Header size once its first bytes are known (2, 4 or 10, plus 4 for a mask). */
function headerBytes(h: Uint8Array, have: number): number {
  if (have < 2) return 2;
  const len7 = h[1] & 0x7f;
  const mask = h[1] & 0x80 ? 4 : 0;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + mask;
}

function readHeader(h: Uint8Array): { opcode: number; length: number } {
  const opcode = h[0] & 0x0f;
  const len7 = h[1] & 0x7f;
  let length = len7;
  if (len7 === 126) length = (h[2] << 8) | h[3];
  else if (len7 === 127) {
    const big = new DataView(h.buffer, h.byteOffset + 2, 8).getBigUint64(0);
    length = big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
  }
  return { opcode, length };
}

/** A close frame from the server (unmasked) with `code` and a short `reason`. */
export function closeFrame(code: number, reason: string): Uint8Array {
  const r = new TextEncoder().encode(reason).subarray(0, 123);
  const out = new Uint8Array(4 + r.length);
  out[0] = 0x88;
  out[1] = 2 + r.length;
  out[2] = code >> 8;
  out[3] = code & 0xff;
  out.set(r, 4);
  return out;
}
