/**
 * Main-thread side of the relay worker: starts the relay (top-level `relay.ts`, whose URL the
 * caller gives: nothing under `src/` names a top-level file) in a Worker, asks it for counters,
 * restarts it when it dies (continuing the same sequencer epoch), and stops it on shutdown.
 *
 * @module
 */
import { errorMessage, log } from "../runtime/log.ts";
import { Attention } from "../runtime/attention.ts";
import type { FromRelay, RelayOptions, RelayStats, ToRelay } from "./worker_messages.ts";
import type { RangeAnswer, RangeQuery } from "../store/range.ts";
import type { StoredPoint } from "../store/rows.ts";
import { carryStats, EMPTY_STATS, totalStats } from "./stats_totals.ts";

/** What the relay reported when it became ready. */
export interface RelayReady {
  /** The ingress endpoint actually bound. */
  ingress: string;
  /** Inproc endpoint of this generation's points bus. */
  bus: string;
  /** Sequencer epoch. */
  epoch: string;
  /** Last sequence number assigned when it started. */
  lastSeq: number;
  /** Points loaded from the store on the first start (see `worker_messages.ts`). */
  held?: StoredPoint[];
  /** The series' units the relay knows. */
  units?: [string, string][];
}

/** Options of {@link RelaySupervisor}. */
export interface SupervisorOptions {
  relay: Omit<RelayOptions, "bus" | "epoch" | "lastSeq">;
  /** Called on every (re)start, before data flows on the new bus. */
  onReady: (ready: RelayReady, generation: number) => void;
  /** Returns the last sequence number the main thread saw, so a restarted relay continues it. */
  lastSeqSeen: () => number;
  /** The worker module: `relay.ts` (or a test's wrapper of it). */
  workerUrl: URL;
}

/** Supervises the relay worker. */
export class RelaySupervisor {
  #worker?: Worker;
  /** The current worker's attention flag (raised before each message posted to it). */
  #attention?: Attention;
  #generation = 0;
  #epoch?: string;
  #stopping = false;
  #restarts = 0;
  #pending = new Map<number, (s: RelayStats) => void>();
  #ranges = new Map<number, (r: RangeAnswer | null | undefined) => void>();
  #nextId = 1;
  /** Counters of earlier generations, so totals survive restarts. */
  #carried: RelayStats = structuredClone(EMPTY_STATS);
  #lastStats: RelayStats = structuredClone(EMPTY_STATS);
  #stopped?: () => void;
  #up = false;

  constructor(private readonly opts: SupervisorOptions) {}

  /** Whether a worker is up and ready (false between a crash and the restart's ready). */
  get up(): boolean {
    return this.#up;
  }

  /** Validated points waiting for the bus, as last reported by the relay. */
  get pending(): number {
    return this.#lastStats.pending ?? 0;
  }

  /** How many times the worker was restarted after dying. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Starts the first worker; rejects (with the relay's message) when the ingress cannot bind. */
  start(): Promise<RelayReady> {
    return this.#spawn();
  }

  #spawn(): Promise<RelayReady> {
    const generation = ++this.#generation;
    const worker = new Worker(this.opts.workerUrl, {
      type: "module",
      name: `zws-relay-${generation}`,
    });
    this.#worker = worker;
    const bus = `inproc://zws-bus-${crypto.randomUUID()}`;
    const attention = new Attention();
    this.#attention = attention;
    return new Promise<RelayReady>((resolve, reject) => {
      let ready = false;
      worker.onmessage = (e: MessageEvent<FromRelay>) => {
        const msg = e.data;
        switch (msg.type) {
          case "ready": {
            ready = true;
            this.#up = true;
            this.#epoch = msg.epoch;
            const info: RelayReady = {
              ingress: msg.ingress,
              bus: msg.bus,
              epoch: msg.epoch,
              lastSeq: msg.lastSeq,
              ...(msg.held ? { held: msg.held } : {}),
              ...(msg.units ? { units: msg.units } : {}),
            };
            this.opts.onReady(info, generation);
            resolve(info);
            break;
          }
          case "stats":
            this.#lastStats = msg.stats;
            this.#pending.get(msg.id)?.(totalStats(this.#carried, msg.stats));
            this.#pending.delete(msg.id);
            break;
          case "range":
            this.#ranges.get(msg.id)?.(msg.series);
            this.#ranges.delete(msg.id);
            break;
          case "fatal":
            this.#terminate(worker);
            reject(new Error(msg.message));
            break;
          case "crashed":
            if (msg.stats) this.#lastStats = msg.stats;
            // It closed its sockets before saying so: a stop waiting for it is done.
            if (this.#stopping) this.#stopped?.();
            this.#died(worker, msg.message);
            break;
          case "stopped":
            this.#stopped?.();
            break;
        }
      };
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        if (!ready) {
          this.#terminate(worker);
          reject(new Error(`relay worker failed to start: ${e.message}`));
        } else this.#died(worker, e.message);
      };
      const msg: ToRelay = {
        type: "start",
        options: {
          ...this.opts.relay,
          bus,
          epoch: this.#epoch,
          lastSeq: this.#epoch ? this.opts.lastSeqSeen() : undefined,
          attention: attention.buffer,
        },
      };
      worker.postMessage(msg);
    });
  }

  #died(worker: Worker, message: string): void {
    if (worker !== this.#worker || this.#stopping) return;
    log("error", "relay", `worker died: ${message}; restarting it`);
    this.#up = false;
    this.#terminate(worker);
    this.#restarts++;
    for (const resolve of this.#ranges.values()) resolve(undefined);
    this.#ranges.clear();
    carryStats(this.#carried, this.#lastStats);
    this.#lastStats = structuredClone(EMPTY_STATS);
    const retry = (delay: number) => {
      setTimeout(() => {
        if (this.#stopping) return;
        this.#spawn().catch((err) => {
          log("error", "relay", `restart failed: ${errorMessage(err)}; retrying`);
          retry(Math.min(delay * 2, 5000));
        });
      }, delay);
    };
    retry(100);
  }

  /**
   * Terminates a worker that holds no ZeroMQ sockets (its relay failed to start, or closed them
   * before reporting its crash). Until a restart replaces it there is no worker: a stop in between
   * has nothing to wait for.
   */
  #terminate(worker: Worker): void {
    worker.terminate();
    if (worker !== this.#worker) return;
    this.#worker = undefined;
    this.#stopped?.();
  }

  /** Posts a raw message to the current worker (fault injection in tests). */
  postToWorker(msg: unknown): void {
    this.#attention?.raise();
    this.#worker?.postMessage(msg);
  }

  /** The relay's counters (totals over restarts); the last known ones if it does not answer soon. */
  stats(timeoutMs = 500): Promise<RelayStats> {
    const worker = this.#worker;
    if (!worker || this.#stopping) {
      return Promise.resolve(totalStats(this.#carried, this.#lastStats));
    }
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve(totalStats(this.#carried, this.#lastStats));
      }, timeoutMs);
      this.#pending.set(id, (s) => {
        clearTimeout(timer);
        resolve(s);
      });
      this.#attention?.raise();
      worker.postMessage({ type: "stats", id } satisfies ToRelay);
    });
  }

  /**
   * Reads a history request's points from the store (in the worker, which owns it): null when
   * there is no store (off, or failed), undefined when the worker is not up or does not answer
   * within `timeoutMs`.
   */
  range(query: RangeQuery, timeoutMs = 10_000): Promise<RangeAnswer | null | undefined> {
    const worker = this.#worker;
    if (!worker || !this.#up || this.#stopping) return Promise.resolve(undefined);
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#ranges.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.#ranges.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.#attention?.raise();
      worker.postMessage({ type: "range", id, query } satisfies ToRelay);
    });
  }

  /**
   * Asks the worker to close its sockets and waits until it has (it answers "stopped", or
   * "crashed" after closing them). Returning earlier is what crashed the process: the caller
   * goes on (a test module ends, the process exits) while the worker's native `zmq.Proxy` still
   * runs, and tearing down a worker that holds ZeroMQ sockets corrupts the heap inside libzmq
   * (`malloc(): unsorted double linked list corrupted`, `own.cpp: _term_acks > 0`). The worker's
   * close is bounded by itself (about 2 s), so `timeoutMs` is only for a worker that is wedged
   * for good: it is logged, and left alone rather than terminated.
   */
  async stop(timeoutMs = 30_000): Promise<void> {
    this.#stopping = true;
    const worker = this.#worker;
    if (!worker) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answered = await Promise.race([
      new Promise<boolean>((resolve) => {
        this.#stopped = () => resolve(true);
        this.#attention?.raise();
        worker.postMessage({ type: "stop" } satisfies ToRelay);
      }),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), timeoutMs)),
    ]);
    clearTimeout(timer);
    if (!answered) {
      log("error", "relay", `worker did not stop within ${timeoutMs} ms; leaving its sockets`);
    }
    for (const resolve of this.#pending.values()) {
      resolve(totalStats(this.#carried, this.#lastStats));
    }
    this.#pending.clear();
    for (const resolve of this.#ranges.values()) resolve(undefined);
    this.#ranges.clear();
  }
}
