/**
 * The relay's side of the point store: the sequencer's sink (`reserve`, `append`), which hands
 * points to the store's own Worker (`writer_worker.ts`) and never touches SQLite itself, so the
 * disk's time is never spent on the thread that carries the points.
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
 *   half-reservation behind does it refuse a seq; the sequencer then waits in
 *   {@link WriterThread.whenReserved}, at most `reservationWaitMs`, after which the store is moved
 *   aside and the run goes on in memory (a seq is never handed out unreserved while the file can
 *   still be continued).
 * - The worker has an owner: this class. When it dies (an uncaught error, or no heartbeat for
 *   `stallMs`) it is logged, counted (`writerRestarts`) and started again; the new one reopens the
 *   file and continues the same epoch past every seq reserved. What the dead one had queued is
 *   counted as dropped; what comes meanwhile waits (within the same bound).
 *
 * @module
 */
import { WriterBacklog } from "./writer_backlog.ts";
import { PendingReads } from "./writer_reads.ts";
import {
  type FromWriter,
  SLOT,
  SLOTS,
  type ToWriter,
  type WriterConfig,
} from "./writer_messages.ts";
import type { WriterThreadConfig, WriterThreadOptions } from "./writer_thread_options.ts";
import { WriterTally } from "./writer_tally.ts";

export type { WriterThreadConfig, WriterThreadOptions } from "./writer_thread_options.ts";
import type { PersistStatus } from "./status.ts";
import { setAside as setStoreAside } from "./set_aside.ts";
import type { RangeAnswer, RangeQuery } from "./range.ts";
import { STORE_FILE } from "./point_store_options.ts";
import type { StoredPoint } from "./rows.ts";
import type { StoreStart } from "./schema.ts";
import { getLogLevel, log, RateLimitedLog } from "../runtime/log.ts";

/** The sequencer's sink in front of the store's worker; see the module doc. */
export class WriterThread {
  #config?: WriterConfig;
  #opts: Required<Omit<WriterThreadOptions, "workerUrl">>;
  #url: URL;
  #sab = new SharedArrayBuffer(SLOTS * 8);
  #shared = new Float64Array(this.#sab);
  #mode: PersistStatus["mode"];
  #start?: StoreStart;
  #held: StoredPoint[] = [];
  /** The units the file kept (first open), and the last ones given to keep (sent to each worker). */
  #loadedUnits: [string, string][] = [];
  #units?: [string, string][];
  #reads = new PendingReads();

  #worker?: Worker;
  /** Whether the current worker has opened the store. */
  #opened = false;
  /** Whether any worker ever did (a worker that cannot even start is not restarted). */
  #everOpened = false;
  #opening?: Promise<void>;
  #spawnedAt = 0;
  #quickDeaths = 0;
  #restartTimer?: ReturnType<typeof setTimeout>;
  #tally = new WriterTally();

  #queue: WriterBacklog;
  /** Generation of the current worker: the pool slots handed to it carry it. */
  #generation = 0;
  /** Points posted to the current worker. */
  #sent = 0;

  #seqHi = 0;
  #reserved: number;
  #refused = 0;
  #lastSend = 0;
  #timer?: ReturnType<typeof setInterval>;
  #lastBeat = 0;
  #beatSeenAt = 0;
  #closing?: Promise<void>;
  #whenClosed?: () => void;
  #rateLog = new RateLimitedLog(5000);

  private constructor(config: WriterThreadConfig | null, opts: WriterThreadOptions) {
    this.#opts = {
      flushMs: opts.flushMs ?? 100,
      maxQueuedPoints: opts.maxQueuedPoints ?? 64 * 8192,
      chunkPoints: opts.chunkPoints ?? 8192,
      stallMs: opts.stallMs ?? 10_000,
      reservationWaitMs: opts.reservationWaitMs ?? 1000,
      closeTimeoutMs: opts.closeTimeoutMs ?? 10_000,
      beatMs: opts.beatMs ?? 50,
      restartDelayMs: opts.restartDelayMs ?? 100,
      nice: opts.nice ?? 10,
    };
    this.#url = opts.workerUrl ?? new URL("./writer_worker.ts", import.meta.url);
    const slots = Math.max(1, Math.ceil(this.#opts.maxQueuedPoints / this.#opts.chunkPoints));
    // Chunks not yet posted wait here: until the next tick, or while the worker (re)starts.
    this.#queue = new WriterBacklog(config ? slots : 1, config ? this.#opts.chunkPoints : 1);
    this.#mode = config ? "disk" : "off";
    this.#reserved = config ? 0 : Infinity;
    if (config) {
      this.#config = {
        dataDir: config.dataDir,
        store: config.store,
        ...(config.trimEvery ? { trimEvery: config.trimEvery } : {}),
        ...(config.load ? { load: config.load } : {}),
        logLevel: getLogLevel(),
        beatMs: this.#opts.beatMs,
        nice: this.#opts.nice,
      };
    }
  }

  /**
   * Starts the store's worker on `config` (null: persistence off) and waits until it has opened
   * the store (and loaded what a first start serves). A store that cannot be opened is logged
   * (one line, by the worker) and the writer works in memory.
   */
  static async open(
    config: WriterThreadConfig | null,
    opts: WriterThreadOptions = {},
  ): Promise<WriterThread> {
    const t = new WriterThread(config, opts);
    if (config) {
      await t.#spawn();
      t.#timer = setInterval(() => t.#tick(), t.#opts.flushMs);
    }
    return t;
  }

  /** Where the store's run continues (undefined: no store). */
  get start(): StoreStart | undefined {
    return this.#start;
  }

  /** The points loaded for the bridge on open (in seq order); taken once. */
  takeHeld(): StoredPoint[] {
    const h = this.#held;
    this.#held = [];
    return h;
  }

  /** The units the file kept from the last run (empty without a store). */
  loadUnits(): [string, string][] {
    return this.#loadedUnits.map(([k, u]) => [k, u]);
  }

  /** Keeps the series' units (all of them) with the worker's next write. */
  setUnits(units: Iterable<readonly [string, string]>): void {
    if (this.#mode !== "disk") return;
    this.#units = [...units].map(([k, u]) => [k, u]);
    if (this.#worker && this.#opened) {
      this.#worker.postMessage({ type: "units", units: this.#units } satisfies ToWriter);
    }
  }

  /**
   * The stored points of a history request, read by the worker (`PointStore.range`); undefined
   * when there is no store, it failed, or its worker died or took over `rangeTimeoutMs`. Points
   * not yet written are the newest: the caller holds them in memory.
   */
  range(q: RangeQuery, timeoutMs = 5000): Promise<RangeAnswer | undefined> {
    const worker = this.#worker;
    if (this.#mode !== "disk" || !worker || !this.#opened) return Promise.resolve(undefined);
    return this.#reads.ask(worker, q, timeoutMs);
  }

  /** Current state, over every worker of this run. */
  status(): PersistStatus {
    return this.#tally.status(this.#mode, this.#mode === "disk" ? this.#queued() : 0);
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
   * Settles once the seq last refused by {@link reserve} is reserved, or after
   * `reservationWaitMs`, when the store is moved aside and the run goes on in memory.
   */
  async whenReserved(): Promise<void> {
    const t0 = performance.now();
    while (this.#mode === "disk" && this.#shared[SLOT.RESERVED] < this.#refused) {
      if (performance.now() - t0 > this.#opts.reservationWaitMs) {
        this.#giveUp(
          `the store's writer did not reserve seqs within ${this.#opts.reservationWaitMs} ms ` +
            `(the disk is too slow, or the writer is stuck)`,
          true,
        );
        break;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Queues one point (seqs increase) for the worker; drops and counts it when the queue is full. */
  append(series: string, seq: number, x: number, y: number): void {
    this.#seqHi = seq;
    if (this.#mode !== "disk") {
      if (this.#mode === "memory") this.#tally.notPersisted++;
      return;
    }
    if (!this.#queue.ready) {
      this.#tally.dropped++;
      this.#rateLog.log(
        "warn",
        "store",
        "queue-full",
        `the store's writer is behind (${this.#queued()} points queued): points are ` +
          `not kept on disk until it catches up (${this.#tally.dropped} so far; live data goes on)`,
      );
      return;
    }
    if (this.#queue.add(series, seq, x, y)) this.#full();
  }

  /**
   * Writes what is queued up to `lastSeq` (the last seq sent), records a clean stop after it, and
   * ends the worker. Bounded by `closeTimeoutMs` (then the file stays as after a crash: the next
   * start continues after the reservation).
   */
  close(lastSeq: number): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#timer);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), this.#opts.closeTimeoutMs);
      });
      const done = await Promise.race([this.#finish(lastSeq), timeout]);
      clearTimeout(timer);
      if (!done) {
        log(
          "error",
          "store",
          `the store's writer did not record a clean stop (it died, or took over ` +
            `${this.#opts.closeTimeoutMs} ms); the next start continues after the reservation ` +
            `(clients get a reset)`,
        );
      }
      const worker = this.#worker;
      this.#worker = undefined;
      worker?.terminate();
      this.#reads.dropAll();
    })();
    return this.#closing;
  }

  /** The steps of {@link close}: true once the worker said it closed the file (or had none). */
  async #finish(lastSeq: number): Promise<boolean> {
    if (this.#mode === "disk" && !this.#worker && this.#everOpened) {
      // Between a death and its restart: restart now, so the stop is recorded as clean.
      clearTimeout(this.#restartTimer);
      await this.#spawn(this.#resume());
    }
    await this.#opening;
    const worker = this.#worker;
    if (!worker) return true;
    if (this.#mode === "disk") {
      this.#queue.cut();
      this.#send();
    }
    return await new Promise<boolean>((resolve) => {
      // Resolved by "closed", or by the worker's death (the file is then as after a crash).
      this.#whenClosed = () => resolve(this.#worker === worker);
      worker.postMessage({ type: "close", lastSeq } satisfies ToWriter);
    });
  }

  /** Tests: makes the current worker fail (see `ToWriter` "fault"). */
  fault(kind: "throw" | "hang" | "slow", ms?: number): void {
    this.#worker?.postMessage(
      { type: "fault", kind, ...(ms !== undefined ? { ms } : {}) } satisfies ToWriter,
    );
  }

  /** Points appended and not yet written. */
  #queued(): number {
    return this.#sent - this.#shared[SLOT.DONE] + this.#queue.length;
  }

  #resume(): { epoch: string; lastSeq: number } {
    return { epoch: this.#start!.epoch, lastSeq: Math.max(this.#seqHi, this.#refused) };
  }

  /**
   * A full chunk (from `append`): sent when `flushMs` have passed since the last send. The timer
   * alone is not enough: under sustained input the relay's loops take every turn (a ready ZeroMQ
   * receive settles as a microtask) and its timers wait until the input pauses.
   */
  #full(): void {
    this.#queue.cut();
    if (performance.now() - this.#lastSend >= this.#opts.flushMs) this.#send();
  }

  /**
   * Posts the backlog to the worker in one message (its buffers transferred), so the worker writes
   * it in one transaction: one write per `flushMs`, whatever the rate.
   */
  #send(): void {
    this.#lastSend = performance.now();
    this.#shared[SLOT.SEQ_HI] = this.#seqHi;
    if (this.#mode === "disk" && this.#shared[SLOT.FAILED] === 1) this.#toMemory();
    const worker = this.#worker;
    if (!this.#queue.waiting || !worker || !this.#opened || this.#mode !== "disk") return;
    const { chunks, points } = this.#queue.handOver(this.#generation);
    worker.postMessage({ type: "points", chunks } satisfies ToWriter);
    this.#sent += points;
  }

  /**
   * Every `flushMs` (when the relay's loops leave timers a turn): posts what was appended, follows
   * the store's state and the worker's heartbeat.
   */
  #tick(): void {
    this.#queue.cut();
    this.#send();
    const worker = this.#worker;
    if (!worker || !this.#opened) return;
    const now = performance.now();
    const beat = this.#shared[SLOT.BEAT];
    if (beat !== this.#lastBeat) {
      this.#lastBeat = beat;
      this.#beatSeenAt = now;
    } else if (now - this.#beatSeenAt > this.#opts.stallMs) {
      this.#died(worker, `no heartbeat for ${this.#opts.stallMs} ms`);
    }
  }

  #spawn(resume?: { epoch: string; lastSeq: number }): Promise<void> {
    const config = this.#config!;
    const worker = new Worker(this.#url, { type: "module", name: "zws-store-writer" });
    this.#worker = worker;
    this.#opened = false;
    this.#sent = 0;
    this.#generation = (this.#generation + 1) % (1 << 30);
    this.#shared[SLOT.DONE] = 0;
    this.#shared[SLOT.BEAT] = 0;
    this.#shared[SLOT.SEQ_HI] = this.#seqHi;
    this.#lastBeat = 0;
    this.#spawnedAt = this.#beatSeenAt = performance.now();
    this.#opening = new Promise<void>((resolve) => {
      worker.onmessage = (e: MessageEvent<FromWriter>) => this.#onMessage(worker, e.data, resolve);
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.#died(worker, String(e.message).split("\n")[0]);
        resolve();
      };
    });
    const msg: ToWriter = {
      type: "open",
      config: resume ? { ...config, store: { ...config.store, resume }, load: undefined } : config,
      shared: this.#sab,
      pool: this.#queue.buffers,
      generation: this.#generation,
    };
    worker.postMessage(msg);
    return this.#opening;
  }

  #onMessage(worker: Worker, msg: FromWriter, opened: () => void): void {
    if (worker !== this.#worker) return;
    switch (msg.type) {
      case "opened":
        this.#tally.worker = msg.status;
        this.#opened = true;
        if (!msg.start) {
          // Could not open (logged by the worker): memory only. A reopen during the run also
          // moves the file aside: seqs go on past its reservation now.
          this.#toMemory();
          this.#worker = undefined;
          worker.terminate();
          if (this.#everOpened) setStoreAside(this.#path());
        } else {
          if (!this.#everOpened) {
            this.#start = msg.start;
            this.#held = msg.held;
            this.#loadedUnits = msg.units;
          }
          if (this.#units) {
            worker.postMessage({ type: "units", units: this.#units } satisfies ToWriter);
          }
          this.#everOpened = true;
          this.#reserved = this.#shared[SLOT.RESERVED];
          this.#send();
        }
        opened();
        break;
      case "status":
        this.#tally.worker = msg.status;
        if (msg.status.mode !== "disk" && this.#mode === "disk") this.#toMemory();
        break;
      case "range":
        this.#reads.answer(msg.id, msg.series);
        break;
      case "closed":
        this.#tally.worker = msg.status;
        this.#whenClosed?.();
        break;
      case "crashed":
        this.#died(worker, msg.message);
        opened();
        break;
    }
  }

  /** The current worker died or stopped answering: counted, logged, started again. */
  #died(worker: Worker, message: string): void {
    if (worker !== this.#worker) return;
    this.#worker = undefined;
    worker.terminate();
    this.#reads.dropAll();
    const lost = Math.max(0, this.#sent - this.#shared[SLOT.DONE]);
    this.#sent = 0;
    this.#queue.reclaim(this.#generation);
    this.#tally.carry();
    if (this.#closing) {
      this.#whenClosed?.();
      return;
    }
    if (this.#mode !== "disk") return;
    this.#tally.dropped += lost;
    if (!this.#everOpened) {
      this.#giveUp(`the store's writer could not start: ${message}`, false);
      return;
    }
    this.#tally.restarts++;
    this.#quickDeaths = performance.now() - this.#spawnedAt < 1000 ? this.#quickDeaths + 1 : 0;
    const delay = Math.min(this.#opts.restartDelayMs * 2 ** this.#quickDeaths, 5000);
    log(
      "error",
      "store",
      `the store's writer died (${message}); restarting it in ${delay} ms (${lost} queued ` +
        `points were not written; ${this.#tally.restarts} restarts so far)`,
    );
    this.#restartTimer = setTimeout(() => {
      if (!this.#closing && this.#mode === "disk") this.#spawn(this.#resume());
    }, delay);
  }

  /** The store failed (the worker said so, and set the file aside): memory only from now. */
  #toMemory(): void {
    this.#mode = "memory";
    this.#reserved = Infinity;
    this.#tally.notPersisted += this.#queue.clear();
  }

  /**
   * Gives the store up from this side: one log line, counted; the worker ended, and (`setAside`)
   * the file moved out of the way so no later run continues past its reservation.
   */
  #giveUp(message: string, setAside: boolean): void {
    this.#tally.failures++;
    this.#tally.error = { kind: "io", message };
    log("error", "store", `${message}; going on in memory (points are not kept across a restart)`);
    const worker = this.#worker;
    this.#worker = undefined;
    worker?.terminate();
    this.#reads.dropAll();
    this.#tally.carry();
    this.#tally.notPersisted += Math.max(0, this.#sent - this.#shared[SLOT.DONE]);
    this.#queue.reclaim(this.#generation);
    this.#toMemory();
    if (setAside) setStoreAside(this.#path());
  }

  #path(): string {
    return `${this.#config!.dataDir.replace(/\/+$/, "")}/${STORE_FILE}`;
  }
}
