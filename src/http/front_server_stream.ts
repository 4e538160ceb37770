/**
 * The server's side of one front connection (`front_link.ts`): its bytes passed on to the client
 * as they come; the answer to an upgrade followed to its status; after a 101 its WebSocket frames
 * tracked, so that a close the front sends the client (1009, a client message over the limit)
 * goes at a frame boundary, after the frame under way.
 *
 * @module
 */
import { closeFrame, responseStatus, WsFrameScanner } from "./front_protocol.ts";
import { closeQuietly, HeadBuffer, Reads } from "./front_io.ts";
import type { LinkPhase } from "./front_constants.ts";

/** What a {@link ServerStream} reads and does of the link it belongs to. */
export interface StreamLink {
  /** Where the link stands. */
  phase(): LinkPhase;
  /** Whether the link has ended (both sides closed). */
  ended(): boolean;
  /** Bytes went through: the link is not idle. */
  touch(): void;
  /** Ends the link in `ms` (the link's end timer). */
  shutIn(ms: number): void;
  /** Cancels the link's end timer. */
  cancelShut(): void;
}

/** The server's bytes to the client, for one link; see the module doc. */
export class ServerStream {
  readonly #client: Deno.Conn;
  readonly #server: Deno.Conn;
  readonly #link: StreamLink;
  /** The server's answer to an upgrade: its head so far, and who waits for its status. */
  readonly #answer = new HeadBuffer(512);
  #answered: ((switched: boolean) => void) | undefined;
  #fromServer: WsFrameScanner | undefined;
  /** Close code (and reason) to send the client at the next frame boundary of the server's stream. */
  #closeCode = 0;
  #closeReason = "";
  #writingToClient = false;
  /** When the write to the client under way began (`performance.now()`); NaN: none. */
  #writeSince = NaN;

  /** The stream from `server` to `client`, on behalf of `link`. */
  constructor(client: Deno.Conn, server: Deno.Conn, link: StreamLink) {
    this.#client = client;
    this.#server = server;
    this.#link = link;
  }

  /** How long the write to the client under way has made no progress, in ms (0: none). */
  stalledFor(now: number): number {
    return Number.isNaN(this.#writeSince) ? 0 : now - this.#writeSince;
  }

  /** Writes all of `bytes` to the client, keeping when each write began ({@link stalledFor}). */
  async #toClient(bytes: Uint8Array): Promise<void> {
    try {
      for (let off = 0; off < bytes.length;) {
        this.#writeSince = performance.now();
        off += await this.#client.write(bytes.subarray(off));
      }
    } finally {
      this.#writeSince = NaN;
    }
  }

  /** Waits for the server's answer to the upgrade just passed on: true when it switched (101). */
  expectAnswer(): Promise<boolean> {
    return new Promise<boolean>((r) => this.#answered = r);
  }

  /** Gives up waiting for an answer (the link ends). */
  cancel(): void {
    this.#answered?.(false);
  }

  /** Sends the client a close with `code` at the server stream's next frame boundary (now, at one). */
  closeAtBoundary(code: number, reason: string): void {
    this.#closeCode = code;
    this.#closeReason = reason;
    if (!this.#writingToClient && this.#fromServer!.atBoundary) void this.#sendClose();
  }

  async #sendClose(): Promise<void> {
    const code = this.#closeCode;
    this.#closeCode = 0;
    if (!code) return;
    // The server sees its client go: the part of the message it holds is dropped with it.
    closeQuietly(this.#server);
    // The client's own close (or its remaining bytes, read and dropped) for 1 s, then the end,
    // counted from now: a client that does not read may never take the close frame itself.
    this.#link.cancelShut();
    this.#link.shutIn(1000);
    await this.#toClient(closeFrame(code, this.#closeReason)).catch(() => {});
  }

  /** Passes the server's bytes on to the client until the server is done; then ends its side. */
  async run(): Promise<void> {
    const server = this.#server;
    const reads = new Reads(2048);
    try {
      while (true) {
        const chunk = await reads.read(server);
        if (chunk === null) break;
        this.#link.touch();
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
      else if (!this.#closeCode && this.#link.phase() !== "closing" && !this.#link.ended()) {
        // The server is done: the client gets everything it sent, then the end (its own close
        // ends the link at once; one that does not is cut after 2 s).
        try {
          await this.#client.closeWrite();
        } catch { /* gone */ }
        if (!this.#link.ended()) this.#link.shutIn(2000);
      }
    }
  }

  async #onServerBytes(chunk: Uint8Array): Promise<void> {
    if (this.#link.phase() === "upgrading" && this.#answered) {
      // Follow the answer's head to its status; its bytes go on as they come.
      const got = this.#answer.add(chunk);
      if (!got.head && !got.full) return await this.#toClient(chunk);
      const switched = got.head !== null && responseStatus(got.head) === 101;
      const used = got.head ? got.used : chunk.length;
      this.#answer.reset();
      const answered = this.#answered;
      this.#answered = undefined;
      if (switched) this.#fromServer = new WsFrameScanner();
      try {
        await this.#toClient(chunk.subarray(0, used));
      } catch (err) {
        // The client went (or was cut) during the answer: the link waits for no 101 then.
        answered(false);
        throw err;
      }
      answered(switched);
      if (used < chunk.length) await this.#onServerBytes(chunk.subarray(used));
      return;
    }
    const frames = this.#fromServer;
    if (frames && this.#closeCode) {
      // Closing: pass on the rest of the frame under way, then the close frame.
      const upTo = frames.untilBoundary(chunk);
      frames.scan(chunk.subarray(0, upTo));
      return await this.#toClient(chunk.subarray(0, upTo));
    }
    frames?.scan(chunk);
    await this.#toClient(chunk);
  }
}
