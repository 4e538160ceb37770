/**
 * One client connection of the HTTP front (`front.ts`) and its connection to the server behind:
 * the request head's deadline, the head passed on with the client's address, a body bounded by
 * its `Content-Length`, and after a 101 the WebSocket frames followed both ways (a client message
 * over the limit closes it with 1009, at the frame that crosses the limit).
 *
 * @module
 */
import {
  closeFrame,
  parseRequestHead,
  refusalFor,
  responseStatus,
  withHeader,
  WsFrameScanner,
} from "./front_protocol.ts";
import { RateLimitedLog } from "../runtime/log.ts";
import {
  closeQuietly,
  connectUpstream,
  HeadBuffer,
  peerName,
  plainResponse,
  Reads,
  writeAll,
} from "./front_io.ts";
import {
  FDS_PER_CONNECTION,
  type FrontClosure,
  type FrontOptions,
  type FrontStats,
  PEER_HEADER,
} from "./front_constants.ts";

const rateLog = new RateLimitedLog(5000);

/** What a {@link Link} shares with the front that made it. */
export interface LinkContext {
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
export class Link {
  readonly peer: string;
  readonly #ctx: LinkContext;
  readonly #client: Deno.Conn;
  #server: Deno.Conn | undefined;
  #serverDone: Promise<void> | undefined;
  #phase: Phase = "head";
  #requests = 0;
  /** Bytes of a request body still to pass on. */
  #bodyLeft = 0;
  /** The request head being read. */
  readonly #head = new HeadBuffer(1024);
  /** A request head must be complete by then (Infinity: none under way). */
  #deadline: number;
  #lastActivity = performance.now();
  /** The server's answer to an upgrade: its head so far, and who waits for its status. */
  readonly #answer = new HeadBuffer(512);
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
      this.#phase === "head" && this.#head.length === 0 && this.#requests > 0 &&
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
      if (this.#head.length === 0 && this.#requests > 0) {
        this.#deadline = performance.now() + this.#ctx.opts.requestTimeoutMs;
      }
      const got = this.#head.add(chunk.subarray(i));
      if (got.full) {
        return this.#refuseRequest("431 Request Header Fields Too Large", "head too large\n");
      }
      i += got.used;
      if (!got.head) continue;
      this.#deadline = Infinity;
      await this.#onRequest(got.head);
    }
  }

  async #onRequest(head: Uint8Array): Promise<void> {
    const req = parseRequestHead(head);
    const refusal = refusalFor(req, this.#requests);
    if (refusal) return this.#refuseRequest(refusal.status, refusal.body);
    if (typeof req === "string") return; // refusalFor refuses every bad head
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
    const server = await connectUpstream(this.#ctx.opts.upstream);
    if (this.#ended) {
      closeQuietly(server);
      return false;
    }
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
      const got = this.#answer.add(chunk);
      if (!got.head && !got.full) return await writeAll(this.#client, chunk);
      const switched = got.head !== null && responseStatus(got.head) === 101;
      const used = got.head ? got.used : chunk.length;
      this.#answer.reset();
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
