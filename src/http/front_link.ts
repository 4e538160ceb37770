/**
 * One client connection of the HTTP front (`front.ts`) and its connection to the server behind:
 * the request head's deadline, the head passed on with the client's address, a body bounded by
 * its `Content-Length`, and after a 101 the client's WebSocket frames followed (a client message
 * over the limit closes it with 1009, at the frame that crosses the limit). The server's bytes back
 * to the client are a {@link ServerStream} (`front_server_stream.ts`).
 *
 * @module
 */
import {
  MessageRate,
  parseRequestHead,
  refusalFor,
  withHeader,
  WsFrameScanner,
} from "./front_protocol.ts";
import { CLIENT_MESSAGE_RATE } from "../protocol/client_messages.ts";
import { CLOSE } from "../protocol/close_codes.ts";
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
  type LinkPhase,
  PEER_HEADER,
} from "./front_constants.ts";
import { ServerStream } from "./front_server_stream.ts";

const rateLog = new RateLimitedLog(5000);

/** What a {@link Link} shares with the front that made it. */
export interface LinkContext {
  opts: FrontOptions;
  stats: FrontStats;
  links: Set<Link>;
  closed(reason: FrontClosure, link: Link): void;
}

/** One client connection and its connection to the server. */
export class Link {
  readonly peer: string;
  readonly #ctx: LinkContext;
  readonly #client: Deno.Conn;
  #server: Deno.Conn | undefined;
  #serverDone: Promise<void> | undefined;
  /** The server's bytes to the client (once connected). */
  #stream: ServerStream | undefined;
  #phase: LinkPhase = "head";
  #requests = 0;
  /** Bytes of a request body still to pass on. */
  #bodyLeft = 0;
  /** The request head being read. */
  readonly #head = new HeadBuffer(1024);
  /** A request head must be complete by then (Infinity: none under way). */
  #deadline: number;
  #lastActivity = performance.now();
  #fromClient: WsFrameScanner | undefined;
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

  /**
   * Ends the link when a request head is overdue, when it sat idle between requests for `idleMs`,
   * or when the client has read nothing of a write under way for `stallMs`.
   */
  checkTimers(now: number, idleMs: number, stallMs: number): void {
    if (this.#ended) return;
    if ((this.#stream?.stalledFor(now) ?? 0) > stallMs) {
      this.#ctx.closed("write_stall", this);
      this.#shut();
    } else if (now > this.#deadline) {
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
    this.#stream?.cancel();
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
        if (frames.violation === "too_big") {
          return this.#closeFor("ws_message_too_big", CLOSE.message_too_big, "message too big");
        }
        if (frames.violation === "flood") {
          return this.#closeFor("ws_message_flood", CLOSE.policy, "message rate limit exceeded");
        }
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
    const switched = this.#stream!.expectAnswer();
    await this.#toServer(passed);
    // Nothing more is read from the client until the server has answered.
    if (await switched) {
      this.#phase = "ws";
      // At most twice the hub's message rate in any second (sliding): the hub's own limit, whose
      // close Deno loses while the flood goes on (docs/upstream/README.md).
      this.#fromClient = new WsFrameScanner(
        this.#ctx.opts.maxWsMessageBytes,
        true,
        new MessageRate(2 * CLIENT_MESSAGE_RATE),
      );
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
    this.#stream = new ServerStream(this.#client, server, {
      phase: () => this.#phase,
      ended: () => this.#ended,
      touch: () => this.#lastActivity = performance.now(),
      shutIn: (ms) => this.#endTimer = setTimeout(() => this.#shut(), ms),
      cancelShut: () => clearTimeout(this.#endTimer),
    });
    this.#serverDone = this.#stream.run();
    return true;
  }

  async #toServer(bytes: Uint8Array): Promise<void> {
    await writeAll(this.#server!, bytes);
  }

  /**
   * Closes the client with `code` at the server stream's next frame boundary (the frame that broke
   * the rule is not passed on), counted as `why`.
   */
  #closeFor(why: "ws_message_too_big" | "ws_message_flood", code: number, reason: string): void {
    this.#ctx.closed(why, this);
    this.#phase = "closing";
    // The server's frame under way goes on to its end first; it must not take long.
    this.#endTimer = setTimeout(() => this.#shut(), 2000);
    this.#stream!.closeAtBoundary(code, reason);
  }
}
