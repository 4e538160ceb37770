/**
 * The relay's side of the point store, in front of the store's own Worker (`writer_worker.ts`),
 * which alone touches SQLite: the sequencer's sink (`reserve`, `append`; the per-point path is
 * {@link WriterSink}) and the worker's owner (the worker is held by a {@link WriterKeeper}). This
 * class decides what opening, failing, dying and stopping mean for the store.
 *
 * - A seq refused by `reserve` (the worker is a whole half-reservation behind) waits in
 *   {@link WriterThread.whenReserved}, at most `reservationWaitMs`; then the store is moved aside
 *   and the run goes on in memory (no seq is handed out unreserved while the file can continue).
 * - The worker has an owner: this class. When it dies (an uncaught error, or no heartbeat for
 *   `stallMs`) it is logged, counted (`writerRestarts`) and started again, continuing the epoch
 *   past every seq reserved; what the dead one had queued is counted as dropped.
 *
 * @module
 */
import type { FromWriter, ToWriter, WriterConfig } from "./writer_messages.ts";
import {
  withDefaults,
  workerConfig,
  type WriterThreadConfig,
  type WriterThreadOptions,
  type WriterThreadSettings,
} from "./writer_thread_options.ts";
import { WriterTally } from "./writer_tally.ts";
import { WriterSink } from "./writer_sink.ts";
import { WriterKeeper } from "./writer_keeper.ts";
import type { PersistStatus } from "./status.ts";
import { setAside as setStoreAside } from "./set_aside.ts";
import type { RangeAnswer, RangeQuery } from "./range.ts";
import { storePath } from "./point_store_options.ts";
import type { StoredPoint } from "./rows.ts";
import type { StoreStart } from "./schema.ts";
import { getLogLevel, log } from "../runtime/log.ts";

/** The sequencer's sink in front of the store's worker; see the module doc. */
export class WriterThread {
  #config?: WriterConfig;
  #opts: WriterThreadSettings;
  #tally = new WriterTally();
  #sink: WriterSink;
  #keeper: WriterKeeper;
  #start?: StoreStart;
  #held: StoredPoint[] = [];
  /** The units the file kept (first open), and the last ones given to keep (sent to each worker). */
  #loadedUnits: [string, string][] = [];
  #units?: [string, string][];
  /** Whether any worker ever opened the store (a worker that cannot even start is not restarted). */
  #everOpened = false;
  #opening?: Promise<void>;
  #timer?: ReturnType<typeof setInterval>;
  #closing?: Promise<void>;
  #whenClosed?: () => void;

  private constructor(config: WriterThreadConfig | null, opts: WriterThreadOptions) {
    this.#opts = withDefaults(opts);
    this.#sink = new WriterSink(config !== null, this.#tally, this.#opts);
    const url = opts.workerUrl ?? new URL("./writer_worker.ts", import.meta.url);
    this.#keeper = new WriterKeeper(url, {
      message: (worker, msg) => this.#onMessage(worker, msg),
      died: (worker, message) => this.#died(worker, message),
    });
    if (config) this.#config = workerConfig(config, this.#opts, getLogLevel());
  }

  /**
   * Starts the store's worker on `config` (null: persistence off); waits until it opened the store
   * (and loaded what a first start serves). One it cannot open is logged; it goes on in memory.
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
    if (this.#sink.mode !== "disk") return;
    this.#units = [...units].map(([k, u]) => [k, u]);
    this.#keeper.opened?.postMessage({ type: "units", units: this.#units } satisfies ToWriter);
  }

  /**
   * The stored points of a history request, read by the worker (`PointStore.range`); undefined
   * when there is no store, it failed, or its worker died or took over `rangeTimeoutMs`. Points
   * not yet written are the newest: the caller holds them in memory.
   */
  range(q: RangeQuery, timeoutMs = 5000): Promise<RangeAnswer | undefined> {
    if (this.#sink.mode !== "disk") return Promise.resolve(undefined);
    return this.#keeper.range(q, timeoutMs);
  }

  /** Current state, over every worker of this run. */
  status(): PersistStatus {
    return this.#tally.status(this.#sink.mode, this.#sink.queued());
  }

  /** Whether `seq` may be handed out now (`WriterSink.reserve`); false: {@link whenReserved}. */
  reserve(seq: number): boolean {
    return this.#sink.reserve(seq);
  }

  /**
   * Settles once the seq last refused by {@link reserve} is reserved, or after
   * `reservationWaitMs`, when the store is moved aside and the run goes on in memory.
   */
  whenReserved(): Promise<void> {
    return this.#sink.whenReserved(this.#opts.reservationWaitMs, (m) => this.#giveUp(m, true));
  }

  /** Queues one point (seqs increase) for the worker; drops and counts it when the queue is full. */
  append(series: string, seq: number, x: number, y: number): void {
    this.#sink.append(series, seq, x, y);
  }

  /** The per-point path itself (the sequencer's sink, with its per-run calls). */
  get sink(): WriterSink {
    return this.#sink;
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
      this.#sink.release();
      this.#keeper.end();
    })();
    return this.#closing;
  }

  /** The steps of {@link close}: true once the worker said it closed the file (or had none). */
  async #finish(lastSeq: number): Promise<boolean> {
    if (this.#sink.mode === "disk" && !this.#keeper.worker && this.#everOpened) {
      // Between a death and its restart: restart now, so the stop is recorded as clean.
      this.#keeper.cancelRestart();
      await this.#spawn(this.#resume());
    }
    await this.#opening;
    const worker = this.#keeper.worker;
    if (!worker) return true;
    if (this.#sink.mode === "disk") this.#sink.flush();
    return await new Promise<boolean>((resolve) => {
      // Resolved by "closed", or by the worker's death (the file is then as after a crash).
      this.#whenClosed = () => resolve(this.#keeper.worker === worker);
      worker.postMessage({ type: "close", lastSeq } satisfies ToWriter);
    });
  }

  /** Tests: makes the current worker fail (see `ToWriter` "fault"). */
  fault(kind: "throw" | "hang" | "slow", ms?: number): void {
    const msg: ToWriter = { type: "fault", kind, ...(ms !== undefined ? { ms } : {}) };
    this.#keeper.worker?.postMessage(msg);
  }

  #resume(): { epoch: string; lastSeq: number } {
    return { epoch: this.#start!.epoch, lastSeq: this.#sink.highestSeq };
  }

  /**
   * Every `flushMs` (when the relay's loops leave timers a turn): posts what was appended, follows
   * the store's state and the worker's heartbeat.
   */
  #tick(): void {
    this.#sink.flush();
    this.#keeper.watch(this.#sink.beat, this.#opts.stallMs);
  }

  #spawn(resume?: { epoch: string; lastSeq: number }): Promise<void> {
    const config = this.#config!;
    this.#opening = this.#keeper.start({
      type: "open",
      config: resume ? { ...config, store: { ...config.store, resume }, load: undefined } : config,
      ...this.#sink.nextWorker(),
    });
    return this.#opening;
  }

  #onMessage(worker: Worker, msg: FromWriter): void {
    switch (msg.type) {
      case "opened":
        this.#tally.worker = msg.status;
        if (!msg.start) {
          // Could not open (logged by the worker): memory only. A reopen during the run also
          // moves the file aside: seqs go on past its reservation now.
          this.#sink.toMemory();
          this.#keeper.end();
          if (this.#everOpened) setStoreAside(storePath(this.#config!.dataDir));
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
          this.#sink.attach(worker);
        }
        break;
      case "status":
        this.#tally.worker = msg.status;
        if (msg.status.mode !== "disk" && this.#sink.mode === "disk") this.#sink.toMemory();
        break;
      case "closed":
        this.#tally.worker = msg.status;
        this.#whenClosed?.();
        break;
      case "crashed":
        this.#died(worker, msg.message);
        break;
    }
  }

  /** The current worker died or stopped answering: counted, logged, started again. */
  #died(worker: Worker, message: string): void {
    if (worker !== this.#keeper.worker) return;
    this.#keeper.end();
    const lost = this.#sink.detach();
    this.#tally.carry();
    if (this.#closing) {
      this.#whenClosed?.();
      return;
    }
    if (this.#sink.mode !== "disk") return;
    this.#tally.dropped += lost;
    if (!this.#everOpened) {
      this.#giveUp(`the store's writer could not start: ${message}`, false);
      return;
    }
    this.#tally.restarts++;
    const delay = this.#keeper.restartIn(this.#opts.restartDelayMs, () => {
      if (!this.#closing && this.#sink.mode === "disk") this.#spawn(this.#resume());
    });
    log(
      "error",
      "store",
      `the store's writer died (${message}); restarting it in ${delay} ms (${lost} queued ` +
        `points were not written; ${this.#tally.restarts} restarts so far)`,
    );
  }

  /**
   * Gives the store up from this side: one log line, counted; the worker ended, and (`setAside`)
   * the file moved out of the way so no later run continues past its reservation.
   */
  #giveUp(message: string, setAside: boolean): void {
    this.#tally.failures++;
    this.#tally.error = { kind: "io", message };
    log("error", "store", `${message}; going on in memory (points are not kept across a restart)`);
    this.#keeper.end();
    this.#tally.carry();
    this.#tally.notPersisted += this.#sink.detach();
    this.#sink.toMemory();
    if (setAside) setStoreAside(storePath(this.#config!.dataDir));
  }
}
