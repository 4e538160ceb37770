/**
 * The plain ingress's messages on their way to the relay's receive loop (`relay.ts`): a FIFO
 * bounded in bytes. A producer connection that {@link MessageQueue.push}es past the bound gets a
 * promise to await, and awaiting it stops its reads, so TCP pushes back on the producer (as the
 * native proxy's full queue does for the others). Each entry keeps the time it was queued, so
 * the relay knows how long the message it takes waited ({@link MessageQueue.lastWaitMs}): the
 * ingress governor (`overload.ts`) sheds what waited too long. Pure: no I/O (the clock is
 * injectable).
 *
 * It replaces an inproc ZeroMQ publisher into the proxy: zeromq.js sends a buffer over 128 bytes
 * without copying it and releases it from another thread, and under Deno that corrupted the heap
 * (glibc `tcache_thread_shutdown(): unaligned tcache chunk detected`, 2 of 2 runs of
 * tests/integration/loops_test.ts; 0 of 2 with the same bytes sent as strings, which are copied).
 *
 * @module
 */

/** A queued entry: a producer message's frames. */
export type Queued = Uint8Array[];

/** A FIFO of producer messages bounded in bytes; see the module doc. */
export class MessageQueue {
  #items: (Queued | null)[] = [];
  /** When each entry of `#items` was queued (ms, the clock's). */
  #times: number[] = [];
  #head = 0;
  #bytes = 0;
  #closed = false;
  #room: Array<() => void> = [];
  #ready: (() => void) | undefined;
  #readyPromise: Promise<void> | undefined;

  /**
   * How long the entry last taken by {@link shift} waited in the queue, in ms (0 before any).
   */
  lastWaitMs = 0;

  /**
   * @param maxBytes bytes queued before pushers are asked to wait
   * @param now the clock, in ms (`performance.now` by default)
   */
  constructor(readonly maxBytes: number, readonly now: () => number = () => performance.now()) {}

  /** Entries queued now. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Bytes queued now. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Queues `frames`; returns a promise to await when the queue is over its bound, else nothing.
   * After {@link close} it drops them.
   */
  push(frames: Queued): Promise<void> | undefined {
    if (this.#closed) return undefined;
    this.#items.push(frames);
    this.#times.push(this.now());
    this.#bytes += size(frames);
    const wake = this.#ready;
    this.#ready = undefined;
    this.#readyPromise = undefined;
    wake?.();
    if (this.#bytes <= this.maxBytes) return undefined;
    return new Promise<void>((r) => this.#room.push(r));
  }

  /** Takes the oldest entry (setting {@link lastWaitMs}); `undefined` when empty. */
  shift(): Queued | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head]!;
    this.lastWaitMs = this.now() - this.#times[this.#head];
    this.#items[this.#head++] = null;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
    this.#bytes -= size(item);
    if (this.#bytes <= this.maxBytes && this.#room.length > 0) this.#wakeAll();
    return item;
  }

  /** Settles once an entry is queued (at once if one is). */
  ready(): Promise<void> {
    if (this.length > 0) return Promise.resolve();
    return this.#readyPromise ??= new Promise<void>((r) => this.#ready = r);
  }

  /** Drops what is queued, wakes every waiting pusher, and drops what comes after. */
  close(): void {
    this.#closed = true;
    this.#items = [];
    this.#times = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#wakeAll();
  }

  #wakeAll(): void {
    const w = this.#room;
    this.#room = [];
    for (const wake of w) wake();
  }
}

function size(frames: Queued): number {
  let n = 0;
  for (const f of frames) n += f.byteLength;
  return n;
}

/** The next message and the way it came. */
export interface NextMessage {
  frames: Uint8Array[];
  /** Whether it came from the plain queue (else from the native proxy's inbox). */
  plain: boolean;
}

/**
 * Merges the native proxy's inbox with the plain queue: the inbox first when it has a message (its
 * probe and stop messages must not wait behind a busy plain queue), else the queue, else whichever
 * has one first. The inbox receive stays pending across calls (and loop restarts): never a second
 * one on the same socket.
 */
export function mergeInputs(
  receive: () => Promise<Uint8Array[]>,
  queue: MessageQueue | undefined,
): () => Promise<NextMessage> {
  let inboxNext: Promise<Uint8Array[]> | undefined;
  let inboxHas = false;
  return async () => {
    if (!inboxNext) {
      inboxHas = false;
      inboxNext = receive();
      inboxNext.then(() => inboxHas = true, () => inboxHas = true);
    }
    while (true) {
      if (inboxHas || !queue) {
        const pending = inboxNext;
        inboxNext = undefined;
        return { frames: await pending, plain: false };
      }
      const queued = queue.shift();
      if (queued !== undefined) return { frames: queued, plain: true };
      await Promise.race([inboxNext.catch(() => {}), queue.ready()]);
    }
  };
}
