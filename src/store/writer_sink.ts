/**
 * The points' way to the store on the relay's thread: the sequencer's sink behind `WriterThread`
 * (`writer_thread.ts`, which owns the store's worker), so the disk's time is never spent on the
 * thread that carries the points.
 *
 * - `append` costs a few typed-array stores per point, into chunks that live in shared memory
 *   (`chunk_pool.ts` `ChunkPool`); every `flushMs` the filled chunks are handed to the worker in one
 *   small message (slot numbers: nothing is copied, transferred or left for the garbage
 *   collector), which writes them in one transaction as soon as it is free and frees the slots. The post is made from `append` itself when
 *   a chunk fills (under sustained input the relay's timers do not get a turn), and from a timer
 *   at low rates. A crash (SIGKILL) loses at most what was
 *   appended in the last `flushMs` plus the write in progress.
 * - The queue is bounded (the pool's slots: `maxQueuedPoints` appended but not yet written): when
 *   the disk does not keep up, further points are dropped from the store and counted
 *   (`pointsDropped`), live data goes on and nothing waits. A store with holes is safe: a restart loads what is there, and a
 *   client that resumes across a hole gets a reset (`hub/history.ts` counts jumps in seq).
 * - `reserve` reads the durable reservation the worker keeps ahead of the highest seq in use
 *   (shared counters, `writer_messages.ts`): no message, no wait. Only when the worker is a whole
 *   half-reservation behind does it refuse a seq (then `WriterThread.whenReserved` waits).
 *
 * @module
 */
import { WriterBacklog } from "./writer_backlog.ts";
import { SLOT, SLOTS, type ToWriter } from "./writer_messages.ts";
import type { WriterTally } from "./writer_tally.ts";
import type { PersistStatus } from "./status.ts";
import type { PoolBuffers } from "./chunks.ts";
import { RateLimitedLog } from "../runtime/log.ts";
import type { SinkPoints } from "../relay/sink.ts";

/** What a new worker is handed to share with the sink (`ToWriter` "open"). */
export interface SinkShares {
  /** The shared counters (`SLOT`). */
  shared: SharedArrayBuffer;
  /** The chunk pool's buffers. */
  pool: PoolBuffers;
  /** The worker's generation: the pool slots handed to it carry it. */
  generation: number;
}

/** The sequencer's sink in front of the store's worker; see the module doc. */
export class WriterSink {
  #flushMs: number;
  #sab = new SharedArrayBuffer(SLOTS * 8);
  #shared = new Float64Array(this.#sab);
  #mode: PersistStatus["mode"];
  #tally: WriterTally;
  #queue: WriterBacklog;
  /** The worker chunks are posted to: the current one, once it opened the store. */
  #target?: Worker;
  /** Generation of the current worker: the pool slots handed to it carry it. */
  #generation = 0;
  /** Points posted to the current worker. */
  #sent = 0;
  #seqHi = 0;
  #reserved: number;
  #refused = 0;
  #lastSend = 0;
  #rateLog = new RateLimitedLog(5000);

  /**
   * `disk`: points go to a store (else persistence is off and every seq may be handed out);
   * `tally` counts what is dropped or not persisted.
   */
  constructor(
    disk: boolean,
    tally: WriterTally,
    opts: { flushMs: number; maxQueuedPoints: number; chunkPoints: number },
  ) {
    this.#flushMs = opts.flushMs;
    this.#tally = tally;
    const slots = Math.max(1, Math.ceil(opts.maxQueuedPoints / opts.chunkPoints));
    // Chunks not yet posted wait here: until the next tick, or while the worker (re)starts.
    this.#queue = new WriterBacklog(disk ? slots : 1, disk ? opts.chunkPoints : 1);
    this.#mode = disk ? "disk" : "off";
    this.#reserved = disk ? 0 : Infinity;
  }

  /** Where points go now: `disk`, `memory` (the store was given up) or `off`. */
  get mode(): PersistStatus["mode"] {
    return this.#mode;
  }

  /** The worker's heartbeat counter (shared). */
  get beat(): number {
    return this.#shared[SLOT.BEAT];
  }

  /** The highest seq in use or refused: a restarted worker continues past it. */
  get highestSeq(): number {
    return Math.max(this.#seqHi, this.#refused);
  }

  /**
   * Whether `seq` may be handed out: it is within the durable reservation, or there is no file to
   * continue (off, or gone to memory). False: wait in {@link whenReserved} first.
   */
  reserve(seq: number): boolean {
    if (seq <= this.#reserved) return true;
    this.#reserved = this.#shared[SLOT.RESERVED];
    if (seq <= this.#reserved || this.#mode !== "disk") return true;
    // Tell the worker now how far the sequence is, so it tops up on its next beat.
    this.#refused = seq;
    this.#seqHi = Math.max(this.#seqHi, seq - 1);
    this.#shared[SLOT.SEQ_HI] = this.#seqHi;
    return false;
  }

  /**
   * Settles once the seq last refused by {@link reserve} is reserved, or after `waitMs`, when
   * `giveUp` is told why (the store is then moved aside and the run goes on in memory).
   */
  async whenReserved(waitMs: number, giveUp: (message: string) => void): Promise<void> {
    const t0 = performance.now();
    while (this.#mode === "disk" && this.#shared[SLOT.RESERVED] < this.#refused) {
      if (performance.now() - t0 > waitMs) {
        giveUp(
          `the store's writer did not reserve seqs within ${waitMs} ms ` +
            `(the disk is too slow, or the writer is stuck)`,
        );
        break;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** The highest seq {@link reserve} accepts now without asking the worker (Infinity: no file). */
  reservedUpTo(): number {
    if (this.#mode !== "disk") return Infinity;
    this.#reserved = this.#shared[SLOT.RESERVED];
    return this.#reserved;
  }

  /** {@link append} for `points[from..to)`, whose seqs run from `firstSeq`. */
  appendRun(points: SinkPoints, from: number, to: number, firstSeq: number): void {
    if (this.#mode !== "disk") {
      this.#seqHi = firstSeq + (to - from) - 1;
      if (this.#mode === "memory") this.#tally.notPersisted += to - from;
      return;
    }
    const queue = this.#queue;
    this.#seqHi = firstSeq + (to - from) - 1;
    for (let i = from; i < to;) {
      if (!queue.ready) {
        // No free slot: the rest is dropped from the store (counted and logged once).
        this.#dropped(to - i);
        return;
      }
      const next = queue.addRun(points, i, to, firstSeq + (i - from));
      if (queue.full) this.#full();
      i = next;
    }
  }

  /** Queues one point (seqs increase) for the worker; drops and counts it when the queue is full. */
  append(series: string, seq: number, x: number, y: number): void {
    this.#seqHi = seq;
    if (this.#mode !== "disk") {
      if (this.#mode === "memory") this.#tally.notPersisted++;
      return;
    }
    if (!this.#queue.ready) return this.#dropped(1);
    if (this.#queue.add(series, seq, x, y)) this.#full();
  }

  /** `n` points not kept: the queue is full (counted, logged at most every 5 s). */
  #dropped(n: number): void {
    this.#tally.dropped += n;
    this.#rateLog.log(
      "warn",
      "store",
      "queue-full",
      `the store's writer is behind (${this.queued()} points queued): points are ` +
        `not kept on disk until it catches up (${this.#tally.dropped} so far; live data goes on)`,
    );
  }

  /** Points appended and not yet written (0 unless the store is on disk). */
  queued(): number {
    if (this.#mode !== "disk") return 0;
    return this.#sent - this.#shared[SLOT.DONE] + this.#queue.length;
  }

  /** Posts everything appended so far, the chunk being filled too (a tick, or the last write). */
  flush(): void {
    this.#queue.cut();
    this.#send();
  }

  /**
   * A full chunk (from `append`): sent when `flushMs` have passed since the last send. The timer
   * alone is not enough: under sustained input the relay's loops take every turn (a ready ZeroMQ
   * receive settles as a microtask) and its timers wait until the input pauses.
   */
  #full(): void {
    this.#queue.cut();
    if (performance.now() - this.#lastSend >= this.#flushMs) this.#send();
  }

  /**
   * Posts the backlog to the worker in one message (its buffers transferred), so the worker writes
   * it in one transaction: one write per `flushMs`, whatever the rate.
   */
  #send(): void {
    this.#lastSend = performance.now();
    this.#shared[SLOT.SEQ_HI] = this.#seqHi;
    if (this.#mode === "disk" && this.#shared[SLOT.FAILED] === 1) this.toMemory();
    const worker = this.#target;
    if (!this.#queue.waiting || !worker || this.#mode !== "disk") return;
    const { chunks, points } = this.#queue.handOver(this.#generation);
    worker.postMessage({ type: "points", chunks } satisfies ToWriter);
    this.#sent += points;
  }

  /** A new worker is starting: what it shares with the sink; nothing is posted until it opens. */
  nextWorker(): SinkShares {
    this.#target = undefined;
    this.#sent = 0;
    this.#generation = (this.#generation + 1) % (1 << 30);
    this.#shared[SLOT.DONE] = 0;
    this.#shared[SLOT.BEAT] = 0;
    this.#shared[SLOT.SEQ_HI] = this.#seqHi;
    return { shared: this.#sab, pool: this.#queue.buffers, generation: this.#generation };
  }

  /** The worker opened the store: chunks go to it from now, what waited first. */
  attach(worker: Worker): void {
    this.#target = worker;
    this.#reserved = this.#shared[SLOT.RESERVED];
    this.#send();
  }

  /**
   * The worker is gone: its pool slots come back; returns how many points posted to it were not
   * written.
   */
  detach(): number {
    this.#target = undefined;
    const lost = Math.max(0, this.#sent - this.#shared[SLOT.DONE]);
    this.#sent = 0;
    this.#queue.reclaim(this.#generation);
    return lost;
  }

  /** Nothing more is posted: the worker is being ended. */
  release(): void {
    this.#target = undefined;
  }

  /** The store failed (the worker said so, and set the file aside): memory only from now. */
  toMemory(): void {
    this.#mode = "memory";
    this.#reserved = Infinity;
    this.#tally.notPersisted += this.#queue.clear();
  }
}
