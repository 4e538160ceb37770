/**
 * The store's worker (`writer_worker.ts`) as its owner (`WriterThread`, `writer_thread.ts`) holds
 * it: one `Worker` at a time, started with its open message; its messages and its failures passed
 * on (a replaced worker's are ignored), its history reads answered, its heartbeat watched, and its
 * restarts spaced out (doubling while it keeps dying at once). What a death means for the store is
 * the owner's to decide.
 *
 * @module
 */
import { PendingReads } from "./writer_reads.ts";
import type { FromWriter, ToWriter } from "./writer_messages.ts";
import type { RangeAnswer, RangeQuery } from "./range.ts";

/** What a {@link WriterKeeper} tells its owner. */
export interface KeeperHooks {
  /** A message of the current worker (not a read's answer). */
  message(worker: Worker, msg: FromWriter): void;
  /** The current worker failed: an uncaught error, or no heartbeat for `stallMs`. */
  died(worker: Worker, message: string): void;
}

/** Holds the current store worker; see the module doc. */
export class WriterKeeper {
  #url: URL;
  #hooks: KeeperHooks;
  #worker?: Worker;
  /** Whether the current worker has opened the store. */
  #opened = false;
  #reads = new PendingReads();
  #spawnedAt = 0;
  #quickDeaths = 0;
  #restartTimer?: ReturnType<typeof setTimeout>;
  #lastBeat = 0;
  #beatSeenAt = 0;

  /** Workers run the module at `url`. */
  constructor(url: URL, hooks: KeeperHooks) {
    this.#url = url;
    this.#hooks = hooks;
  }

  /** The current worker (undefined: none, between a death and its restart, or after the end). */
  get worker(): Worker | undefined {
    return this.#worker;
  }

  /** The current worker once it has opened the store (its "opened" came). */
  get opened(): Worker | undefined {
    return this.#opened ? this.#worker : undefined;
  }

  /**
   * Starts a worker with `open` (it replaces the current one, if any); settles once it said
   * "opened" or "crashed", or failed.
   */
  start(open: ToWriter): Promise<void> {
    const worker = new Worker(this.#url, { type: "module", name: "zws-store-writer" });
    this.#worker = worker;
    this.#opened = false;
    this.#lastBeat = 0;
    this.#spawnedAt = this.#beatSeenAt = performance.now();
    const opening = new Promise<void>((resolve) => {
      worker.onmessage = (e: MessageEvent<FromWriter>) => {
        const msg = e.data;
        if (worker !== this.#worker) return;
        if (msg.type === "range") return this.#reads.answer(msg.id, msg.series);
        if (msg.type === "opened") this.#opened = true;
        this.#hooks.message(worker, msg);
        if (msg.type === "opened" || msg.type === "crashed") resolve();
      };
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.#hooks.died(worker, String(e.message).split("\n")[0]);
        resolve();
      };
    });
    worker.postMessage(open);
    return opening;
  }

  /** Ends the current worker (if any) and every read in flight to it. */
  end(): void {
    const worker = this.#worker;
    this.#worker = undefined;
    worker?.terminate();
    this.#reads.dropAll();
  }

  /**
   * A history read by the current worker, once it opened the store; undefined when there is none,
   * it goes away, or it takes over `timeoutMs`.
   */
  range(q: RangeQuery, timeoutMs: number): Promise<RangeAnswer | undefined> {
    const worker = this.opened;
    if (!worker) return Promise.resolve(undefined);
    return this.#reads.ask(worker, q, timeoutMs);
  }

  /**
   * Follows the heartbeat counter `beat` (`SLOT.BEAT`) of a worker that opened the store: no change
   * for `stallMs` is a death ({@link KeeperHooks.died}).
   */
  watch(beat: number, stallMs: number): void {
    const worker = this.opened;
    if (!worker) return;
    const now = performance.now();
    if (beat !== this.#lastBeat) {
      this.#lastBeat = beat;
      this.#beatSeenAt = now;
    } else if (now - this.#beatSeenAt > stallMs) {
      this.#hooks.died(worker, `no heartbeat for ${stallMs} ms`);
    }
  }

  /**
   * Calls `restart` after `baseMs`, doubled for each death within 1 s of its start in a row (at
   * most 5 s); returns the delay.
   */
  restartIn(baseMs: number, restart: () => void): number {
    this.#quickDeaths = performance.now() - this.#spawnedAt < 1000 ? this.#quickDeaths + 1 : 0;
    const delay = Math.min(baseMs * 2 ** this.#quickDeaths, 5000);
    this.#restartTimer = setTimeout(restart, delay);
    return delay;
  }

  /** Cancels a restart {@link restartIn} scheduled. */
  cancelRestart(): void {
    clearTimeout(this.#restartTimer);
  }
}
