/**
 * ZMTP 3.x, the ZeroMQ wire protocol (RFC 23/ZMTP 3.0, 37/ZMTP 3.1), as much of it as a
 * subscriber of PUB producers with the NULL mechanism needs: the greeting, the commands (READY,
 * PING/PONG, ERROR) and the message frames: the reading side (this side's frames are built by
 * `zmtp_frames.ts`). Pure: bytes in, events out; no I/O.
 *
 * Why zws reads ZMTP itself (`zmq/plain_ingress.ts`): libzmq's `maxMessageSize` bounds each frame,
 * not a message, and libzmq assembles every frame of a message before anything sees it, so 200
 * frames of 1 MiB - 1 were held whole before the relay could count them as `oversize`
 * (docs/reliability.md). {@link ZmtpReader} counts a message's size frame by frame and, once the
 * total exceeds the limit, skips the rest of it without holding any of it.
 *
 * @module
 */
import { COMMAND, GREETING_BYTES, LONG, MORE } from "./zmtp_frames.ts";

/** Mechanism names (the greeting's 20-byte field, without its padding). */
export type Mechanism = string;

/** What {@link ZmtpReader.push} yields. */
export type ZmtpEvent =
  | { kind: "greeting"; major: number; minor: number; mechanism: Mechanism }
  | { kind: "command"; name: string; body: Uint8Array }
  | { kind: "message"; frames: Uint8Array[] }
  /** A message given up: its frames so far were dropped and the rest are skipped as they come. */
  | { kind: "dropped"; reason: "oversize" | "frame_count"; detail: string }
  /** The peer broke the protocol: the connection must be closed. */
  | { kind: "error"; reason: string };

/** Limits of a {@link ZmtpReader}. */
export interface ZmtpLimits {
  /** Largest message (all its frames together), in bytes; a larger one is dropped. */
  maxMessageBytes: number;
  /** Most frames in one message; a message with more is dropped (default 64). */
  maxFrames?: number;
  /** Largest command body, in bytes (default 65536: READY with its metadata). */
  maxCommandBytes?: number;
}

/**
 * An incremental ZMTP reader for one connection. Feed it the bytes as they arrive; it never holds
 * more than one frame header, one command, and the frames of one message within its limit.
 */
export class ZmtpReader {
  readonly #maxMessage: number;
  readonly #maxFrames: number;
  readonly #maxCommand: number;
  /** Bytes of the greeting or of a frame header waiting for the rest of it. */
  #head = new Uint8Array(GREETING_BYTES);
  #headLen = 0;
  #greeted = false;
  /** The frame being read: its flags, body (null while skipped), bytes still to come. */
  #flags = 0;
  #body: Uint8Array | null = null;
  #bodyAt = 0;
  #left = 0;
  #inFrame = false;
  /** The message being assembled, and whether the rest of it is being skipped. */
  #frames: Uint8Array[] = [];
  #size = 0;
  #skipping = false;
  #failed = false;

  constructor(limits: ZmtpLimits) {
    this.#maxMessage = limits.maxMessageBytes;
    this.#maxFrames = limits.maxFrames ?? 64;
    this.#maxCommand = limits.maxCommandBytes ?? 65536;
  }

  /** Bytes held for the message being assembled (for tests: bounded by the limit). */
  get heldBytes(): number {
    return this.#size;
  }

  /** Reads `chunk` (it may be reused by the caller afterwards: nothing keeps a view of it). */
  push(chunk: Uint8Array): ZmtpEvent[] {
    const out: ZmtpEvent[] = [];
    let i = 0;
    while (i < chunk.length && !this.#failed) {
      if (!this.#greeted) {
        i = this.#readGreeting(chunk, i, out);
      } else if (this.#inFrame) {
        i = this.#readBody(chunk, i, out);
      } else {
        i = this.#readHeader(chunk, i, out);
      }
    }
    return out;
  }

  #fail(out: ZmtpEvent[], reason: string): void {
    this.#failed = true;
    this.#frames = [];
    this.#size = 0;
    out.push({ kind: "error", reason });
  }

  #readGreeting(chunk: Uint8Array, i: number, out: ZmtpEvent[]): number {
    const n = Math.min(GREETING_BYTES - this.#headLen, chunk.length - i);
    this.#head.set(chunk.subarray(i, i + n), this.#headLen);
    this.#headLen += n;
    // The signature decides early: a peer that is not ZMTP 3 is refused before 64 bytes.
    if (this.#headLen >= 1 && this.#head[0] !== 0xff) {
      this.#fail(out, "not a ZeroMQ peer (no ZMTP signature)");
      return chunk.length;
    }
    if (this.#headLen >= 10 && (this.#head[9] & 1) !== 1) {
      this.#fail(out, "not a ZeroMQ peer (bad ZMTP signature)");
      return chunk.length;
    }
    if (this.#headLen >= 11 && this.#head[10] < 3) {
      this.#fail(out, `ZMTP ${this.#head[10]}.x peer (libzmq before 4.0): not supported`);
      return chunk.length;
    }
    if (this.#headLen < GREETING_BYTES) return i + n;
    let end = 12;
    while (end < 32 && this.#head[end] !== 0) end++;
    const mechanism = String.fromCharCode(...this.#head.subarray(12, end));
    this.#greeted = true;
    this.#headLen = 0;
    out.push({ kind: "greeting", major: this.#head[10], minor: this.#head[11], mechanism });
    return i + n;
  }

  #readHeader(chunk: Uint8Array, i: number, out: ZmtpEvent[]): number {
    const flags = this.#headLen === 0 ? chunk[i] : this.#head[0];
    if (this.#headLen === 0) {
      if (flags & 0xf8) {
        this.#fail(out, `invalid frame flags 0x${flags.toString(16)}`);
        return chunk.length;
      }
      if ((flags & COMMAND) && (flags & MORE)) {
        this.#fail(out, "a command frame with the MORE flag");
        return chunk.length;
      }
    }
    const headBytes = flags & LONG ? 9 : 2;
    const n = Math.min(headBytes - this.#headLen, chunk.length - i);
    this.#head.set(chunk.subarray(i, i + n), this.#headLen);
    this.#headLen += n;
    if (this.#headLen < headBytes) return i + n;
    this.#headLen = 0;
    let size: number;
    if (flags & LONG) {
      const big = new DataView(this.#head.buffer, 1, 8).getBigUint64(0);
      size = big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
    } else {
      size = this.#head[1];
    }
    this.#startFrame(flags, size, out);
    return i + n;
  }

  #startFrame(flags: number, size: number, out: ZmtpEvent[]): void {
    this.#flags = flags;
    this.#left = size;
    this.#bodyAt = 0;
    this.#inFrame = true;
    if (flags & COMMAND) {
      if (size > this.#maxCommand) {
        this.#fail(out, `command of ${size} bytes (limit ${this.#maxCommand})`);
        return;
      }
      this.#body = new Uint8Array(size);
    } else if (this.#skipping) {
      this.#body = null;
    } else if (this.#size + size > this.#maxMessage) {
      this.#drop(
        out,
        "oversize",
        `at least ${this.#size + size} bytes (frame ${this.#frames.length + 1}) > limit ` +
          `${this.#maxMessage}`,
      );
    } else if (this.#frames.length + 1 > this.#maxFrames) {
      this.#drop(out, "frame_count", `more than ${this.#maxFrames} frames`);
    } else {
      this.#body = new Uint8Array(size);
      this.#size += size;
    }
    if (size === 0) this.#endFrame(out);
  }

  /** Gives the message up: what it held is freed, the rest of it is skipped. */
  #drop(out: ZmtpEvent[], reason: "oversize" | "frame_count", detail: string): void {
    this.#frames = [];
    this.#size = 0;
    this.#skipping = true;
    this.#body = null;
    out.push({ kind: "dropped", reason, detail });
  }

  #readBody(chunk: Uint8Array, i: number, out: ZmtpEvent[]): number {
    const n = Math.min(this.#left, chunk.length - i);
    if (this.#body) this.#body.set(chunk.subarray(i, i + n), this.#bodyAt);
    this.#bodyAt += n;
    this.#left -= n;
    if (this.#left === 0) this.#endFrame(out);
    return i + n;
  }

  #endFrame(out: ZmtpEvent[]): void {
    this.#inFrame = false;
    const body = this.#body;
    this.#body = null;
    if (this.#flags & COMMAND) {
      const command = parseCommand(body!);
      if (!command) this.#fail(out, "malformed command frame");
      else out.push({ kind: "command", ...command });
      return;
    }
    const last = (this.#flags & MORE) === 0;
    if (body) this.#frames.push(body);
    if (!last) return;
    if (this.#skipping) this.#skipping = false;
    else out.push({ kind: "message", frames: this.#frames });
    this.#frames = [];
    this.#size = 0;
  }
}

function parseCommand(body: Uint8Array): { name: string; body: Uint8Array } | null {
  if (body.length < 1 || body.length < 1 + body[0]) return null;
  const name = String.fromCharCode(...body.subarray(1, 1 + body[0]));
  return { name, body: body.subarray(1 + body[0]) };
}

/**
 * The properties of a READY command's body (`Socket-Type`, `Identity`, user metadata), or null
 * when malformed. Names are compared case-insensitively by ZMTP: they are returned lower-cased.
 */
export function parseProperties(body: Uint8Array): Map<string, Uint8Array> | null {
  const props = new Map<string, Uint8Array>();
  let i = 0;
  while (i < body.length) {
    const nameLen = body[i];
    if (i + 1 + nameLen + 4 > body.length) return null;
    const name = String.fromCharCode(...body.subarray(i + 1, i + 1 + nameLen)).toLowerCase();
    i += 1 + nameLen;
    const valueLen = new DataView(body.buffer, body.byteOffset + i, 4).getUint32(0);
    i += 4;
    if (i + valueLen > body.length) return null;
    props.set(name, body.subarray(i, i + valueLen));
    i += valueLen;
  }
  return props;
}
