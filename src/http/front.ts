/**
 * The HTTP front: the public port is a `Deno.listen` (or `Deno.listenTls`) owned by zws, and each
 * connection is passed on, byte for byte, to the `Deno.serve` that serves zws on a loopback port.
 * It exists for what `Deno.serve` (2.9.6) does not do, each of which crashed or locked up the
 * server (issue 12; docs/securing.md, docs/upstream/README.md):
 *
 * - **A request head must come within `--request-timeout`** (default 10 s) of the connection (or,
 *   on a kept-alive connection, of its first byte); a connection idle between requests for
 *   {@link IDLE_TIMEOUT_MS} is closed. Deno times out neither.
 * - **Open files stay below the limit:** a connection costs 1 file until its first request head is
 *   complete, then 3 (the client's, the front's to the server, the server's); one is refused (503,
 *   counted, logged at most every 5 s) when the process is within a margin of `ulimit -n`
 *   (`runtime/fd_limit.ts`) or holds `--max-connections`. Deno dies when it reaches the limit.
 * - **One WebSocket message is bounded before Deno holds it:** after a 101, the client's frames are
 *   followed (headers only) and a message whose frames add up to more than
 *   `--max-ws-message-bytes` is cut at the frame that crosses it: the client gets close 1009 and
 *   the server a closed connection (its client is removed). Deno assembles any message whole, and
 *   a fragmented one of 512 MiB crashed the process.
 *
 * A request body must have a `Content-Length` of at most 64 KiB (zws serves GET and HEAD only: a
 * body only gets its 405); a WebSocket upgrade must be the first request of its connection
 * (browsers always open a new one). Each request head passed on carries the client's address in
 * {@link PEER_HEADER}, with a secret of this process (`peerToken`; a client's own header of that
 * name is removed), so the per-IP limits see clients, not the front; the server refuses a request
 * without it.
 *
 * A cost to know: the loopback hop doubles what a client that stopped reading takes up in kernel
 * buffers before Deno counts it in `bufferedAmount` (about 4 -> 8 MB measured), which the clients'
 * buffer budget does not see (it is not the process's RSS either). A Unix socket would add only
 * 0.2 MB, but Deno 2.9 wants its absolute path in `--allow-net=unix:<path>`.
 *
 * @module
 */
import {
  closeFrame,
  headEnd,
  MAX_BODY_BYTES,
  MAX_HEAD_BYTES,
  parseRequestHead,
  responseStatus,
  withHeader,
  WsFrameScanner,
} from "./front_protocol.ts";
import type { FdBudget } from "../runtime/fd_limit.ts";
import { errorMessage, RateLimitedLog } from "../runtime/log.ts";

/** A connection with no traffic either way for this long between requests is closed, in ms. */
export const IDLE_TIMEOUT_MS = 120_000;
/** How often deadlines are checked, in ms. */
const SWEEP_MS = 500;
/** Open files of a connection once it is passed on (client, front -> server, server's end). */
export const FDS_PER_CONNECTION = 3;
/** The request header that carries the client's address to the server: `<token> <ip> <port>`. */
export const PEER_HEADER = "x-zws-peer";

/** Why the front refused a connection. */
export type FrontRefusal = "capacity" | "fd_limit";
/** Why the front closed a connection it had accepted. */
export type FrontClosure =
  | "request_timeout"
  | "idle_timeout"
  | "bad_request"
  | "ws_message_too_big"
  | "ws_protocol_error";

/** The front's counters. */
export interface FrontStats {
  /** Connections open now. */
  connections: number;
  /** Connections accepted since start. */
  accepted: number;
  /** Connections refused at accept, by reason. */
  refused: Record<FrontRefusal, number>;
  /** Connections closed by the front, by reason. */
  closed: Record<FrontClosure, number>;
}

/** Options of {@link startFront}. */
export interface FrontOptions {
  /** The public listener (TCP, or TLS: then the front terminates TLS). */
  listener: Deno.Listener;
  /** Whether `listener` is TLS (no plain-text refusal is written then). */
  tls: boolean;
  /** Where the server listens: a Unix socket path, or a port on 127.0.0.1. */
  upstream: { path: string } | { port: number };
  /** The secret that {@link PEER_HEADER} carries, so the server can trust it. */
  peerToken: string;
  /** How long a request head may take, in ms. */
  requestTimeoutMs: number;
  /** Idle time between requests before a connection is closed, in ms. */
  idleTimeoutMs?: number;
  /** Most connections at once (0: no cap but the open-files margin). */
  maxConnections: number;
  /** Largest WebSocket message a client may send, in bytes. */
  maxWsMessageBytes: number;
  /** Open-files budget (absent: unknown limit, only `maxConnections` applies). */
  fds?: FdBudget;
}

/** A running front; {@link startFront} makes one. */
export interface Front {
  /** Counters (a copy). */
  stats(): FrontStats;
  /** Stops accepting; open connections go on. */
  stopAccepting(): void;
  /** Stops accepting and closes every connection. */
  close(): Promise<void>;
}

const rateLog = new RateLimitedLog(5000);

/** Largest read buffer of a connection, in bytes. */
const MAX_READ_BYTES = 64 * 1024;

/**
 * A connection's read buffer, sized to its traffic: it doubles when a read fills it (up to 64 KiB)
 * and halves after 32 reads in a row that use less than a quarter of it (down to its first size). A read
 * holds its buffer while it waits, so an idle connection holds a small one, and a busy one reads
 * a burst in few calls (each read and write costs a round trip into Deno's runtime).
 */
class Reads {
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

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

function closeQuietly(conn: Deno.Conn | undefined): void {
  try {
    conn?.close();
  } catch { /* already closed */ }
}

const HTTP_TEXT = new TextEncoder();
function plainResponse(status: string, body: string, extra = ""): Uint8Array {
  return HTTP_TEXT.encode(
    `HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ` +
      `${HTTP_TEXT.encode(body).length}\r\nConnection: close\r\n${extra}\r\n${body}`,
  );
}

/** Starts accepting on `opts.listener`. */
export function startFront(opts: FrontOptions): Front {
  const stats: FrontStats = {
    connections: 0,
    accepted: 0,
    refused: { capacity: 0, fd_limit: 0 },
    closed: {
      request_timeout: 0,
      idle_timeout: 0,
      bad_request: 0,
      ws_message_too_big: 0,
      ws_protocol_error: 0,
    },
  };
  const links = new Set<Link>();
  const idleMs = opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  let accepting = true;

  const refuse = (conn: Deno.Conn, reason: FrontRefusal) => {
    stats.refused[reason]++;
    const why = reason === "capacity"
      ? `${opts.maxConnections} connections open (--max-connections)`
      : "near the open-files limit (ulimit -n)";
    rateLog.log(
      "warn",
      "http",
      `front-${reason}`,
      `refused a connection from ${peerName(conn)}: ${why}; ${stats.refused[reason]} so far`,
    );
    if (opts.tls) return closeQuietly(conn);
    const answer = plainResponse("503 Service Unavailable", "server busy\n", "Retry-After: 5\r\n");
    // A fresh socket takes a small write at once; never wait on it.
    conn.write(answer).catch(() => {}).finally(() => closeQuietly(conn));
  };

  const ctx: LinkContext = {
    opts,
    stats,
    links,
    closed: (reason, link) => {
      stats.closed[reason]++;
      rateLog.log(
        "info",
        "http",
        `front-${reason}`,
        `closed a connection from ${link.peer}: ${reason.replaceAll("_", " ")} ` +
          `(${stats.closed[reason]} so far)`,
      );
    },
  };

  const acceptLoop = (async () => {
    while (accepting) {
      let conn: Deno.Conn;
      try {
        conn = await opts.listener.accept();
      } catch (err) {
        if (!accepting) return;
        rateLog.log("error", "http", "front-accept", `accept failed: ${errorMessage(err)}`);
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (opts.maxConnections > 0 && links.size >= opts.maxConnections) {
        refuse(conn, "capacity");
        continue;
      }
      if (opts.fds && !opts.fds.admit(1)) {
        refuse(conn, "fd_limit");
        continue;
      }
      stats.accepted++;
      // As Deno.serve does: no Nagle delay on answers and frames written in pieces.
      try {
        (conn as Deno.TcpConn).setNoDelay?.(true);
      } catch { /* not settable (TLS before its handshake): left as it is */ }
      const link = new Link(conn, ctx);
      links.add(link);
      stats.connections = links.size;
      link.run().finally(() => {
        links.delete(link);
        stats.connections = links.size;
      });
    }
  })();

  const sweep = setInterval(() => {
    const now = performance.now();
    for (const link of links) link.checkTimers(now, idleMs);
  }, SWEEP_MS);
  Deno.unrefTimer(sweep);

  const stopAccepting = () => {
    if (!accepting) return;
    accepting = false;
    try {
      opts.listener.close();
    } catch { /* already closed */ }
  };
  return {
    stats: () => ({
      ...stats,
      refused: { ...stats.refused },
      closed: { ...stats.closed },
    }),
    stopAccepting,
    async close() {
      stopAccepting();
      clearInterval(sweep);
      await acceptLoop;
      // Connections the server has answered on end with it (its last bytes, e.g. close frames,
      // still go out); those waiting for a request head, and any left after 1 s, are cut.
      const all = [...links];
      for (const l of all) if (!l.passedOn) void l.end();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(all.map((l) => l.run())),
        new Promise((r) => timer = setTimeout(r, 1000)),
      ]);
      clearTimeout(timer);
      await Promise.all(all.map((l) => l.end()));
    },
  };
}

function peerName(conn: Deno.Conn): string {
  const a = conn.remoteAddr as Deno.NetAddr;
  return a.hostname ?? "?";
}

interface LinkContext {
  opts: FrontOptions;
  stats: FrontStats;
  links: Set<Link>;
  closed(reason: FrontClosure, link: Link): void;
}

/** Where a connection stands. */
type Phase =
  | "head" // reading a request head (the first, or the next on a kept-alive connection)
  | "upgrading" // an upgrade passed on; the server's answer not seen yet
  | "ws" // after a 101: WebSocket frames both ways
  | "closing"; // ending: the client's further bytes are read and dropped

/** One client connection and its connection to the server. */
class Link {
  readonly peer: string;
  readonly #ctx: LinkContext;
  readonly #client: Deno.Conn;
  #server: Deno.Conn | undefined;
  #serverDone: Promise<void> | undefined;
  #phase: Phase = "head";
  #requests = 0;
  /** Bytes of a request body still to pass on. */
  #bodyLeft = 0;
  /** The head being read, grown as needed up to MAX_HEAD_BYTES. */
  #head: Uint8Array | undefined;
  #headLen = 0;
  /** A request head must be complete by then (Infinity: none under way). */
  #deadline: number;
  #lastActivity = performance.now();
  /** The server's answer to an upgrade: its head so far, and who waits for its status. */
  #answer: Uint8Array | undefined;
  #answerLen = 0;
  #answered: ((switched: boolean) => void) | undefined;
  #fromClient: WsFrameScanner | undefined;
  #fromServer: WsFrameScanner | undefined;
  /** Close code to send the client at the next frame boundary of the server's stream. */
  #closeCode = 0;
  #writingToClient = false;
  #ended = false;
  #endTimer: ReturnType<typeof setTimeout> | undefined;
  #done: Promise<void> | undefined;

  constructor(client: Deno.Conn, ctx: LinkContext) {
    this.#client = client;
    this.#ctx = ctx;
    this.peer = peerName(client);
    this.#deadline = performance.now() + ctx.opts.requestTimeoutMs;
  }

  /** Whether a request was passed on to the server. */
  get passedOn(): boolean {
    return this.#server !== undefined;
  }

  /** Runs the connection until both sides are closed. */
  run(): Promise<void> {
    return this.#done ??= this.#clientLoop().finally(() => this.#finish());
  }

  /** Closes both sides now and waits for the loops. */
  async end(): Promise<void> {
    this.#shut();
    await this.#done;
  }

  checkTimers(now: number, idleMs: number): void {
    if (this.#ended) return;
    if (now > this.#deadline) {
      this.#ctx.closed("request_timeout", this);
      this.#shut();
    } else if (
      this.#phase === "head" && this.#headLen === 0 && this.#requests > 0 &&
      now - this.#lastActivity > idleMs
    ) {
      this.#ctx.closed("idle_timeout", this);
      this.#shut();
    }
  }

  #shut(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#endTimer);
    this.#answered?.(false);
    closeQuietly(this.#client);
    closeQuietly(this.#server);
  }

  async #finish(): Promise<void> {
    // The client is done sending: the server finishes its answers, or is cut after 5 s.
    if (this.#server && !this.#ended) {
      try {
        await this.#server.closeWrite();
      } catch { /* gone */ }
      this.#endTimer = setTimeout(() => this.#shut(), 5000);
      await this.#serverDone;
    }
    this.#shut();
    await this.#serverDone;
  }

  async #clientLoop(): Promise<void> {
    const reads = new Reads(2048);
    try {
      while (!this.#ended) {
        const chunk = await reads.read(this.#client);
        if (chunk === null) return;
        this.#lastActivity = performance.now();
        if (this.#phase !== "closing") await this.#onClientBytes(chunk);
        reads.release(chunk.length);
      }
    } catch {
      // Reset, closed by us, or a TLS handshake that failed: the connection ends.
      this.#shut();
    }
  }

  async #onClientBytes(chunk: Uint8Array): Promise<void> {
    let i = 0;
    while (i < chunk.length && !this.#ended && this.#phase !== "closing") {
      if (this.#bodyLeft > 0) {
        const n = Math.min(this.#bodyLeft, chunk.length - i);
        this.#bodyLeft -= n;
        await this.#toServer(chunk.subarray(i, i + n));
        i += n;
        continue;
      }
      if (this.#phase === "ws") {
        const rest = chunk.subarray(i);
        const frames = this.#fromClient!;
        const cut = frames.scan(rest);
        if (cut === -1) return await this.#toServer(rest);
        if (cut > 0) await this.#toServer(rest.subarray(0, cut));
        if (frames.violation === "too_big") return this.#tooBig();
        // A frame Deno fails the connection for: the same answer, without handing it over.
        this.#ctx.closed("ws_protocol_error", this);
        return this.#shut();
      }
      // Reading a head: gather bytes until its blank line.
      const take = Math.min(chunk.length - i, MAX_HEAD_BYTES - this.#headLen);
      if (this.#headLen === 0 && this.#requests > 0) {
        this.#deadline = performance.now() + this.#ctx.opts.requestTimeoutMs;
      }
      this.#grow(this.#headLen + take);
      this.#head!.set(chunk.subarray(i, i + take), this.#headLen);
      const searched = this.#headLen;
      this.#headLen += take;
      const end = headEnd(this.#head!, this.#headLen, searched);
      if (end < 0) {
        if (this.#headLen >= MAX_HEAD_BYTES) {
          return this.#refuseRequest("431 Request Header Fields Too Large", "head too large\n");
        }
        i += take;
        continue;
      }
      i += take - (this.#headLen - end);
      const head = this.#head!.slice(0, end);
      this.#headLen = 0;
      if (this.#head!.length > 4096) this.#head = undefined;
      this.#deadline = Infinity;
      await this.#onRequest(head);
    }
  }

  #grow(need: number): void {
    if (this.#head && this.#head.length >= need) return;
    let size = this.#head?.length ?? 1024;
    while (size < need) size *= 2;
    const next = new Uint8Array(Math.min(size, MAX_HEAD_BYTES));
    if (this.#head) next.set(this.#head.subarray(0, this.#headLen));
    this.#head = next;
  }

  async #onRequest(head: Uint8Array): Promise<void> {
    const req = parseRequestHead(head);
    if (typeof req === "string") {
      return this.#refuseRequest("400 Bad Request", `${req}\n`);
    }
    if (req.chunked || req.contentLength > MAX_BODY_BYTES) {
      return this.#refuseRequest(
        "413 Content Too Large",
        "request bodies are not served (at most 64 KiB, with a Content-Length)\n",
      );
    }
    if (req.upgrade && this.#requests > 0) {
      return this.#refuseRequest(
        "400 Bad Request",
        "a WebSocket upgrade must be the first request on its connection\n",
      );
    }
    const first = this.#requests === 0;
    this.#requests++;
    if (first && !(await this.#connectServer())) return;
    const a = this.#client.remoteAddr as Deno.NetAddr;
    const passed = withHeader(
      head,
      PEER_HEADER,
      `${this.#ctx.opts.peerToken} ${a.hostname} ${a.port}`,
    );
    if (!req.upgrade) {
      this.#bodyLeft = req.contentLength;
      return await this.#toServer(passed);
    }
    this.#phase = "upgrading";
    const switched = new Promise<boolean>((r) => this.#answered = r);
    await this.#toServer(passed);
    // Nothing more is read from the client until the server has answered.
    if (await switched) {
      this.#phase = "ws";
      this.#fromClient = new WsFrameScanner(this.#ctx.opts.maxWsMessageBytes, true);
    } else if (this.#phase === "upgrading") {
      this.#phase = "head";
    }
  }

  /** Answers a request the front will not pass on, and ends the connection. */
  #refuseRequest(status: string, body: string): void {
    this.#ctx.closed("bad_request", this);
    this.#phase = "closing";
    // Only the first request can be answered here: later ones may have answers in flight.
    const answer = this.#requests === 0
      ? writeAll(this.#client, plainResponse(status, body))
      : Promise.resolve();
    answer.catch(() => {}).finally(() => setTimeout(() => this.#shut(), 200));
  }

  /** Opens the connection to the server; false (answered 503) near the open-files limit. */
  async #connectServer(): Promise<boolean> {
    const { fds } = this.#ctx.opts;
    if (fds && !fds.admit(FDS_PER_CONNECTION - 1)) {
      this.#ctx.stats.refused.fd_limit++;
      rateLog.log(
        "warn",
        "http",
        "front-fd_limit",
        `refused a request from ${this.peer}: near the open-files limit (ulimit -n); ` +
          `${this.#ctx.stats.refused.fd_limit} so far`,
      );
      this.#phase = "closing";
      await writeAll(
        this.#client,
        plainResponse("503 Service Unavailable", "server busy\n", "Retry-After: 5\r\n"),
      ).catch(() => {});
      setTimeout(() => this.#shut(), 200);
      return false;
    }
    const up = this.#ctx.opts.upstream;
    const server = "path" in up
      ? await Deno.connect({ transport: "unix", path: up.path })
      : await Deno.connect({ hostname: "127.0.0.1", port: up.port });
    if (this.#ended) {
      closeQuietly(server);
      return false;
    }
    if ("setNoDelay" in server) (server as Deno.TcpConn).setNoDelay(true);
    this.#server = server;
    this.#serverDone = this.#serverLoop(server);
    return true;
  }

  async #toServer(bytes: Uint8Array): Promise<void> {
    await writeAll(this.#server!, bytes);
  }

  /** A client message over the limit: close 1009 at the server stream's next frame boundary. */
  #tooBig(): void {
    this.#ctx.closed("ws_message_too_big", this);
    this.#phase = "closing";
    this.#closeCode = 1009;
    // The server's frame under way goes on to its end first; it must not take long.
    this.#endTimer = setTimeout(() => this.#shut(), 2000);
    if (!this.#writingToClient && this.#fromServer!.atBoundary) void this.#sendClose();
  }

  async #sendClose(): Promise<void> {
    const code = this.#closeCode;
    this.#closeCode = 0;
    if (!code) return;
    clearTimeout(this.#endTimer);
    // The server sees its client go: the part of the message it holds is dropped with it.
    closeQuietly(this.#server);
    await writeAll(this.#client, closeFrame(code, "message too big")).catch(() => {});
    // The client's own close (or its remaining bytes, read and dropped) for 1 s, then the end.
    this.#endTimer = setTimeout(() => this.#shut(), 1000);
  }

  async #serverLoop(server: Deno.Conn): Promise<void> {
    const reads = new Reads(2048);
    try {
      while (true) {
        const chunk = await reads.read(server);
        if (chunk === null) break;
        this.#lastActivity = performance.now();
        this.#writingToClient = true;
        try {
          await this.#onServerBytes(chunk);
        } finally {
          this.#writingToClient = false;
        }
        reads.release(chunk.length);
        if (this.#closeCode && this.#fromServer?.atBoundary) await this.#sendClose();
      }
    } catch {
      // Reset or closed by us.
    } finally {
      this.#answered?.(false);
      if (this.#closeCode && this.#fromServer?.atBoundary) await this.#sendClose();
      else if (!this.#closeCode && this.#phase !== "closing" && !this.#ended) {
        // The server is done: the client gets everything it sent, then the end (its own close
        // ends the link at once; one that does not is cut after 2 s).
        try {
          await this.#client.closeWrite();
        } catch { /* gone */ }
        if (!this.#ended) this.#endTimer = setTimeout(() => this.#shut(), 2000);
      }
    }
  }

  async #onServerBytes(chunk: Uint8Array): Promise<void> {
    if (this.#phase === "upgrading" && this.#answered) {
      // Follow the answer's head to its status; its bytes go on as they come.
      const need = this.#answerLen + chunk.length;
      if (!this.#answer || this.#answer.length < Math.min(need, MAX_HEAD_BYTES)) {
        const next = new Uint8Array(Math.min(Math.max(need, 512), MAX_HEAD_BYTES));
        if (this.#answer) next.set(this.#answer.subarray(0, this.#answerLen));
        this.#answer = next;
      }
      const take = Math.min(chunk.length, MAX_HEAD_BYTES - this.#answerLen);
      this.#answer.set(chunk.subarray(0, take), this.#answerLen);
      const searched = this.#answerLen;
      this.#answerLen += take;
      const end = headEnd(this.#answer, this.#answerLen, searched);
      if (end < 0 && this.#answerLen < MAX_HEAD_BYTES) return await writeAll(this.#client, chunk);
      const switched = end >= 0 && responseStatus(this.#answer) === 101;
      const used = end < 0 ? chunk.length : take - (this.#answerLen - end);
      this.#answer = undefined;
      this.#answerLen = 0;
      const answered = this.#answered;
      this.#answered = undefined;
      if (switched) this.#fromServer = new WsFrameScanner();
      await writeAll(this.#client, chunk.subarray(0, used));
      answered(switched);
      if (used < chunk.length) await this.#onServerBytes(chunk.subarray(used));
      return;
    }
    const frames = this.#fromServer;
    if (frames && this.#closeCode) {
      // Closing: pass on the rest of the frame under way, then the close frame.
      const upTo = frames.untilBoundary(chunk);
      frames.scan(chunk.subarray(0, upTo));
      return await writeAll(this.#client, chunk.subarray(0, upTo));
    }
    frames?.scan(chunk);
    await writeAll(this.#client, chunk);
  }
}
