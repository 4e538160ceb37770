/**
 * A flag shared between a thread and its worker, raised before each message posted to the
 * worker. A worker loop whose ZeroMQ receives are always ready settles them as microtasks and
 * never gives the event loop a turn, so a posted message (stop, stats) would wait for as long as
 * input keeps coming: under a flood, a SIGTERM then ran into the 1.8 s hard deadline. The loops
 * check the flag (one atomic load) and yield one turn only when it is raised, so they take no
 * timer on the hot path. It counts messages, not a bit: the worker's handler takes one off as it
 * runs, so a loop that looked before the message had arrived looks again on its next turn.
 *
 * @module
 */

/** The posting side and the worker side of one flag (one `SharedArrayBuffer` of 4 bytes). */
export class Attention {
  /** The memory to send to the worker (`new Attention(buffer)` there). */
  readonly buffer: SharedArrayBuffer;
  readonly #flag: Int32Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.buffer = buffer;
    this.#flag = new Int32Array(buffer);
  }

  /** Poster: a message is on its way; call right before `postMessage`. */
  raise(): void {
    Atomics.add(this.#flag, 0, 1);
  }

  /** Worker: one raised message has been handled (call at the start of its handler). */
  handled(): void {
    if (Atomics.sub(this.#flag, 0, 1) <= 0) Atomics.store(this.#flag, 0, 0);
  }

  /** Worker: whether a message is waiting (cheap: call it on every loop iteration). */
  get raised(): boolean {
    return Atomics.load(this.#flag, 0) > 0;
  }

  /** Worker: gives the event loop one turn (a zero-delay timer), so a waiting message runs. */
  yieldTurn(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 0));
  }
}
