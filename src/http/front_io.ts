/**
 * The front's byte-level helpers (`front.ts`, `front_link.ts`): a connection's read buffer sized
 * to its traffic, whole writes, quiet closes, the plain-text answers it writes itself.
 *
 * @module
 */
import { headEnd, MAX_HEAD_BYTES } from "./front_protocol.ts";

/** Largest read buffer of a connection, in bytes. */
const MAX_READ_BYTES = 64 * 1024;

/**
 * A connection's read buffer, sized to its traffic: it doubles when a read fills it (up to 64 KiB)
 * and halves after 32 reads in a row that use less than a quarter of it (down to its first size). A read
 * holds its buffer while it waits, so an idle connection holds a small one, and a busy one reads
 * a burst in few calls (each read and write costs a round trip into Deno's runtime).
 */
export class Reads {
  #buf: Uint8Array;
  readonly #min: number;
  constructor(min: number) {
    this.#min = min;
    this.#buf = new Uint8Array(min);
  }
  async read(conn: Deno.Conn): Promise<Uint8Array | null> {
    const buf = this.#buf;
    const n = await conn.read(buf);
    if (n === null) return null;
    return buf.subarray(0, n);
  }
  /** Small reads in a row: after 32, the buffer halves. */
  #small = 0;
  /** Sizes the next read's buffer after the chunk just read (of `n` bytes) was used. */
  release(n: number): void {
    const size = this.#buf.length;
    if (n === size && size < MAX_READ_BYTES) {
      this.#buf = new Uint8Array(size * 2);
      this.#small = 0;
    } else if (n < size / 4 && size > this.#min) {
      if (++this.#small >= 32) {
        this.#buf = new Uint8Array(size / 2);
        this.#small = 0;
      }
    } else this.#small = 0;
  }
}

/** Opens the hop to the server behind the front (no Nagle delay on TCP: answers go in pieces). */
export async function connectUpstream(up: { path: string } | { port: number }): Promise<Deno.Conn> {
  const server = "path" in up
    ? await Deno.connect({ transport: "unix", path: up.path })
    : await Deno.connect({ hostname: "127.0.0.1", port: up.port });
  if ("setNoDelay" in server) (server as Deno.TcpConn).setNoDelay(true);
  return server;
}

/** Writes all of `bytes` to `conn`. */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

/** Closes `conn`, if open. */
export function closeQuietly(conn: Deno.Conn | undefined): void {
  try {
    conn?.close();
  } catch { /* already closed */ }
}

const HTTP_TEXT = new TextEncoder();
/** A plain-text HTTP/1.1 answer that closes the connection. */
export function plainResponse(status: string, body: string, extra = ""): Uint8Array {
  return HTTP_TEXT.encode(
    `HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ` +
      `${HTTP_TEXT.encode(body).length}\r\nConnection: close\r\n${extra}\r\n${body}`,
  );
}

/** The client address of `conn`, for log lines. */
export function peerName(conn: Deno.Conn): string {
  const a = conn.remoteAddr as Deno.NetAddr;
  return a.hostname ?? "?";
}

/** What {@link HeadBuffer.add} found. */
export interface HeadProgress {
  /** Bytes of the chunk taken (up to the head's end when it is complete). */
  used: number;
  /** The complete head, without what follows it; null while incomplete. */
  head: Uint8Array | null;
  /** MAX_HEAD_BYTES gathered without the head's end. */
  full: boolean;
}

/** Gathers an HTTP head (a request's or an answer's) from chunks, up to MAX_HEAD_BYTES. */
export class HeadBuffer {
  #buf: Uint8Array | undefined;
  #len = 0;
  /** @param first the buffer's first size, doubled as needed */
  constructor(readonly first: number) {}

  /** Bytes gathered so far. */
  get length(): number {
    return this.#len;
  }

  /** Adds what fits of `chunk`; a complete head is returned and the buffer starts over. */
  add(chunk: Uint8Array): HeadProgress {
    const take = Math.min(chunk.length, MAX_HEAD_BYTES - this.#len);
    this.#grow(this.#len + take);
    const buf = this.#buf!;
    buf.set(chunk.subarray(0, take), this.#len);
    const searched = this.#len;
    this.#len += take;
    const end = headEnd(buf, this.#len, searched);
    if (end < 0) return { used: take, head: null, full: this.#len >= MAX_HEAD_BYTES };
    const used = take - (this.#len - end);
    const head = buf.slice(0, end);
    this.reset();
    return { used, head, full: false };
  }

  /** Drops what was gathered (a large buffer goes too). */
  reset(): void {
    this.#len = 0;
    if (this.#buf && this.#buf.length > 4096) this.#buf = undefined;
  }

  #grow(need: number): void {
    if (this.#buf && this.#buf.length >= need) return;
    let size = this.#buf?.length ?? this.first;
    while (size < need) size *= 2;
    const next = new Uint8Array(Math.min(size, MAX_HEAD_BYTES));
    if (this.#buf) next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }
}
