/**
 * The plain ingress's messages on their way to the relay's receive loop (`relay.ts`): one FIFO per
 * producer connection, taken from in turn, all of them together bounded in bytes. A producer
 * connection that {@link MessageQueue.push}es past the bound gets a promise to await, and awaiting
 * it stops its reads, so TCP pushes back on the producer (as the native proxy's full queue does for
 * the others). Taking in turn is libzmq's fair queuing: a producer that floods never makes another
 * one's messages wait behind its backlog. Each entry keeps the time it was queued, so the relay
 * knows how long the message it takes waited ({@link MessageQueue.lastWaitMs}): the ingress
 * governor (`overload.ts`) sheds what waited too long, which is the flooding producer's backlog.
 * Pure: no I/O (the clock is injectable).
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

/** One producer's FIFO (entries and the times they were queued, from `head` on). */
class SourceQueue {
  items: (Queued | null)[] = [];
  times: number[] = [];
  head = 0;

  constructor(readonly id: number) {}

  get length(): number {
    return this.items.length - this.head;
  }

  push(frames: Queued, now: number): void {
    this.items.push(frames);
    this.times.push(now);
  }

  /** Takes the oldest entry (there is one) and the time it was queued. */
  shift(): { frames: Queued; at: number } {
    const frames = this.items[this.head]!;
    const at = this.times[this.head];
    this.items[this.head++] = null;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return { frames, at };
  }
}

/** Producer FIFOs taken from in turn, bounded in bytes together; see the module doc. */
export class MessageQueue {
  /** Sources with entries, by id. */
  #sources = new Map<number, SourceQueue>();
  /** The same sources, in turn order; `#turn` is the next to give. */
  #ring: SourceQueue[] = [];
  #turn = 0;
  #length = 0;
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
   * @param maxBytes bytes queued (all sources together) before pushers are asked to wait
   * @param now the clock, in ms (`performance.now` by default)
   */
  constructor(readonly maxBytes: number, readonly now: () => number = () => performance.now()) {}

  /** Entries queued now. */
  get length(): number {
    return this.#length;
  }

  /** Bytes queued now, each entry's overhead included ({@link entrySize}). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Sources (producer connections) with entries queued now. */
  get sources(): number {
    return this.#ring.length;
  }

  /**
   * Queues `frames` from source `from` (a producer connection's number; 0 by default); returns a
   * promise to await when the queue is over its bound, else nothing. After {@link close} it drops
   * them.
   */
  push(frames: Queued, from = 0): Promise<void> | undefined {
    if (this.#closed) return undefined;
    let src = this.#sources.get(from);
    if (!src) {
      src = new SourceQueue(from);
      this.#sources.set(from, src);
      this.#ring.push(src);
    }
    src.push(frames, this.now());
    this.#length++;
    this.#bytes += entrySize(frames);
    const wake = this.#ready;
    this.#ready = undefined;
    this.#readyPromise = undefined;
    wake?.();
    if (this.#bytes <= this.maxBytes) return undefined;
    return new Promise<void>((r) => this.#room.push(r));
  }

  /**
   * Takes the oldest entry of the next source in turn (setting {@link lastWaitMs}); `undefined`
   * when empty.
   */
  shift(): Queued | undefined {
    const ring = this.#ring;
    if (ring.length === 0) return undefined;
    if (this.#turn >= ring.length) this.#turn = 0;
    const src = ring[this.#turn];
    const { frames, at } = src.shift();
    this.lastWaitMs = this.now() - at;
    if (src.length === 0) {
      // Its place in the ring goes to the last source, which keeps the turn order fair enough.
      this.#sources.delete(src.id);
      const last = ring.pop()!;
      if (last !== src) ring[this.#turn] = last;
    } else this.#turn++;
    this.#length--;
    this.#bytes -= entrySize(frames);
    if (this.#bytes <= this.maxBytes && this.#room.length > 0) this.#wakeAll();
    return frames;
  }

  /** Settles once an entry is queued (at once if one is). */
  ready(): Promise<void> {
    if (this.length > 0) return Promise.resolve();
    return this.#readyPromise ??= new Promise<void>((r) => this.#ready = r);
  }

  /** Drops what is queued, wakes every waiting pusher, and drops what comes after. */
  close(): void {
    this.#closed = true;
    this.#sources.clear();
    this.#ring = [];
    this.#length = 0;
    this.#bytes = 0;
    this.#wakeAll();
  }

  #wakeAll(): void {
    const w = this.#room;
    this.#room = [];
    for (const wake of w) wake();
  }
}

/**
 * What an entry is charged on top of its payload bytes, per entry and per frame: about what
 * it holds of the heap besides them (measured: ~300 bytes for an empty one-frame message). Without
 * it, empty or 1-byte messages were almost free for the bound: one producer flooding 2-byte empty
 * messages grew the relay's heap to 2.5 GB in 35 s, never asked to wait.
 */
export const ENTRY_OVERHEAD_BYTES = 256;
/** See {@link ENTRY_OVERHEAD_BYTES}. */
export const FRAME_OVERHEAD_BYTES = 96;

/** What an entry counts for the queue's bound: its bytes and its overhead. */
export function entrySize(frames: Queued): number {
  let n = ENTRY_OVERHEAD_BYTES;
  for (const f of frames) n += f.byteLength + FRAME_OVERHEAD_BYTES;
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
 * one on the same socket. `onWait` is called each time it is about to wait: nothing is ready.
 */
export function mergeInputs(
  receive: () => Promise<Uint8Array[]>,
  queue: MessageQueue | undefined,
  onWait: () => void = () => {},
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
        if (!inboxHas) onWait();
        return { frames: await pending, plain: false };
      }
      const queued = queue.shift();
      if (queued !== undefined) return { frames: queued, plain: true };
      onWait();
      await Promise.race([inboxNext.catch(() => {}), queue.ready()]);
    }
  };
}
