/**
 * One ZeroMQ socket fed by many async producers: zeromq.js allows one `send()` at a time per
 * socket, so sends are chained in arrival order, each waiting out `EAGAIN`
 * (`sendWithBackpressure`). What is queued is bounded in bytes: over the bound, {@link
 * SerialSender.send} returns a promise that settles once the queue is below it again, and a caller
 * that awaits it stops reading its input (the plain ingress: TCP then pushes back on producers).
 *
 * @module
 */
import { type Sender, sendWithBackpressure } from "../runtime/loop.ts";

/** Sends in order on one socket; {@link send} says when to wait. */
export class SerialSender {
  #tail: Promise<void> = Promise.resolve();
  #queued = 0;
  #waiters: Array<() => void> = [];

  /**
   * @param sock the socket
   * @param maxQueuedBytes bytes queued before callers are asked to wait
   * @param stopped once true, a send that meets `EAGAIN` is given up (shutting down)
   * @param onError any other send error (the message is lost; the next ones still go)
   */
  constructor(
    private readonly sock: Sender,
    readonly maxQueuedBytes: number,
    private readonly stopped: () => boolean,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Bytes queued and not sent yet. */
  get queuedBytes(): number {
    return this.#queued;
  }

  /** Queues `frames`; returns a promise to await when the queue is over its bound, else nothing. */
  send(frames: (string | Uint8Array)[]): Promise<void> | undefined {
    let bytes = 0;
    for (const f of frames) bytes += typeof f === "string" ? f.length : f.byteLength;
    this.#queued += bytes;
    this.#tail = this.#tail.then(async () => {
      try {
        await sendWithBackpressure(this.sock, frames, this.stopped);
      } catch (err) {
        this.onError(err);
      }
      this.#queued -= bytes;
      if (this.#queued <= this.maxQueuedBytes && this.#waiters.length > 0) {
        const w = this.#waiters;
        this.#waiters = [];
        for (const wake of w) wake();
      }
    });
    if (this.#queued <= this.maxQueuedBytes) return undefined;
    return new Promise<void>((r) => this.#waiters.push(r));
  }

  /** Settles once everything queued so far was sent or given up. */
  drained(): Promise<void> {
    return this.#tail;
  }
}
