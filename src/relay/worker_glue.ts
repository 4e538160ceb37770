/**
 * The relay worker's side of the supervisor's messages (`worker_messages.ts`): start a relay, answer
 * stats requests, arm test faults, stop; on a crash, close the relay's native sockets before the
 * worker goes (terminating a worker that still holds ZeroMQ sockets aborts the whole process).
 * The relay itself is the top-level `relay.ts`, which passes its `startRelay` in.
 *
 * @module
 */
import type { FromRelay, RelayOptions, RelayStats, ToRelay } from "./worker_messages.ts";
import type { RangeAnswer, RangeQuery } from "../store/range.ts";
import type { StoredPoint } from "../store/rows.ts";
import { faults } from "../runtime/loop.ts";
import { errorMessage, log, setLogLevel } from "../runtime/log.ts";
import { Attention } from "../runtime/attention.ts";

/** What the glue uses of a running relay. */
export interface WorkerRelay {
  readonly ingress: string;
  readonly epoch: string;
  takeHeld(): StoredPoint[];
  /** The series' units known now. */
  units(): [string, string][];
  stats(): RelayStats;
  /** The stored points of a history request (read by the store's worker); undefined: no store. */
  range(q: RangeQuery): Promise<RangeAnswer | undefined>;
  close(): Promise<void>;
}

/** Starts a relay (`relay.ts`' `startRelay`). */
export type StartRelay = (opts: RelayOptions) => Promise<WorkerRelay>;

/** The parts of a worker's global scope the glue uses. */
export interface WorkerScope {
  postMessage(m: FromRelay, transfer?: Transferable[]): void;
  addEventListener(type: string, fn: (e: Event) => void): void;
  close(): void;
}

/** Drives one relay (made by `startRelay`) from the main thread's messages (`worker_messages.ts`). */
export function runRelayWorker(scope: WorkerScope, startRelay: StartRelay): void {
  let relay: WorkerRelay | undefined;
  /** The start in progress: a stop waits for it, or the worker would go with a proxy running. */
  let starting: Promise<void> | undefined;
  let crashed = false;
  const post = (m: FromRelay, transfer?: Transferable[]) => scope.postMessage(m, transfer);
  const crash = async (e: Event, what: string) => {
    e.preventDefault();
    if (crashed) return;
    crashed = true;
    // Close the native sockets before the worker goes: terminating a worker that still holds
    // ZeroMQ sockets aborts the whole process inside libzmq.
    await starting;
    await relay?.close().catch(() => {});
    post({ type: "crashed", message: what, stats: relay?.stats() });
    scope.close();
  };
  scope.addEventListener("error", (e) => crash(e, errorMessage((e as ErrorEvent).error ?? e)));
  scope.addEventListener(
    "unhandledrejection",
    (e) => crash(e, errorMessage((e as PromiseRejectionEvent).reason)),
  );
  /** The supervisor's count of messages posted (runtime/attention.ts); known from "start". */
  let attention: Attention | undefined;
  scope.addEventListener("message", async (e) => {
    const msg = (e as MessageEvent<ToRelay>).data;
    if (msg.type !== "start") attention?.handled();
    switch (msg.type) {
      case "start":
        if (msg.options.attention) attention = new Attention(msg.options.attention);
        if (msg.options.logLevel) setLogLevel(msg.options.logLevel);
        starting = (async () => {
          try {
            relay = await startRelay(msg.options);
            post({
              type: "ready",
              ingress: relay.ingress,
              bus: msg.options.bus,
              epoch: relay.epoch,
              lastSeq: relay.stats().lastSeq,
              held: relay.takeHeld(),
              units: relay.units(),
            });
          } catch (err) {
            post({ type: "fatal", message: errorMessage(err) });
          }
        })();
        await starting;
        break;
      case "stats":
        if (relay) post({ type: "stats", id: msg.id, stats: relay.stats() });
        break;
      case "range": {
        let series: RangeAnswer | null = null;
        try {
          series = (await relay?.range(msg.query)) ?? null;
        } catch (err) {
          log("error", "relay", `history read failed: ${errorMessage(err)}`);
        }
        const buffers = Array.isArray(series) ? series.map((s) => s.xy.buffer as ArrayBuffer) : [];
        post({ type: "range", id: msg.id, series }, buffers);
        break;
      }
      case "fault":
        faults.arm(msg.loop, msg.kind);
        break;
      case "stop":
        await starting;
        await relay?.close();
        log("debug", "relay", "posting stopped");
        post({ type: "stopped" });
        scope.close();
        break;
    }
  });
}
