/**
 * The store's Worker: a {@link StoreWriter} on a thread of its own (at a lower priority), so
 * SQLite's writes never run on the thread that receives, sequences and sends the points (the
 * relay's). It takes the chunks the relay's `WriterThread` (`writer_thread.ts`) hands over in
 * shared memory, writes them as soon as its queue is empty (one transaction for whatever came in
 * meanwhile) and frees their slots, keeps the seq reservation ahead of the relay's highest seq, and
 * publishes both in the shared counters (`writer_messages.ts`).
 *
 * On an uncaught error it closes the file as a crash would, says so, and ends: its owner starts
 * a new one, which continues the same run.
 *
 * @module
 */
import { openWriter } from "./open_writer.ts";
import type { PersistStatus } from "./status.ts";
import { StoreWriter } from "./writer.ts";
import { type FromWriter, SLOT, SLOTS, type ToWriter } from "./writer_messages.ts";
import { errorMessage, setLogLevel } from "../runtime/log.ts";
import { ChunkPool } from "./chunks.ts";
import { lowerThreadPriority } from "../runtime/thread_priority.ts";

/** The parts of a worker's global scope the writer uses. */
export interface WriterScope {
  postMessage(m: FromWriter, transfer?: Transferable[]): void;
  addEventListener(type: string, fn: (e: Event) => void): void;
  close(): void;
}

/** Drives one {@link StoreWriter} from the relay's messages (see the module doc). */
export function runWriterWorker(scope: WriterScope): void {
  let writer: StoreWriter | undefined;
  let shared: Float64Array<ArrayBufferLike> = new Float64Array(SLOTS);
  let pool: ChunkPool | undefined;
  /** Pool slots appended since the last write: released once it is done. */
  let slots: number[] = [];
  let generation = 0;
  /** Points appended since the last write. */
  let appended = 0;
  let scheduled = false;
  let slowMs = 0;
  let beat: ReturnType<typeof setInterval> | undefined;
  let crashed = false;
  let lastPosted = "";
  const post = (m: FromWriter) => scope.postMessage(m);

  const publish = () => {
    if (!writer) return;
    shared[SLOT.RESERVED] = writer.reserved;
    if (writer.status().mode !== "disk") shared[SLOT.FAILED] = 1;
  };
  /** Posts the status when it changed since the last post. */
  const postStatus = () => {
    if (!writer) return;
    const status = writer.status();
    const key =
      `${status.mode} ${status.flushes} ${status.pointsNotPersisted} ${status.queuedPoints}`;
    if (key === lastPosted) return;
    lastPosted = key;
    post({ type: "status", status });
  };
  const write = () => {
    scheduled = false;
    if (!writer) return;
    if (slowMs > 0) block(slowMs);
    writer.flush();
    for (const slot of slots) pool?.release(slot, generation);
    slots = [];
    shared[SLOT.DONE] += appended;
    appended = 0;
    publish();
    postStatus();
  };

  const crash = (e: Event, what: string) => {
    e.preventDefault();
    if (crashed) return;
    crashed = true;
    clearInterval(beat);
    try {
      writer?.abandon();
    } catch { /* going anyway */ }
    post({ type: "crashed", message: what });
    scope.close();
  };
  scope.addEventListener("error", (e) => crash(e, errorMessage((e as ErrorEvent).error ?? e)));
  scope.addEventListener(
    "unhandledrejection",
    (e) => crash(e, errorMessage((e as PromiseRejectionEvent).reason)),
  );

  scope.addEventListener("message", (e) => {
    const msg = (e as MessageEvent<ToWriter>).data;
    switch (msg.type) {
      case "open": {
        const c = msg.config;
        if (c.logLevel) setLogLevel(c.logLevel);
        if (c.nice) lowerThreadPriority(c.nice);
        shared = new Float64Array(msg.shared);
        pool = ChunkPool.of(msg.pool);
        generation = msg.generation;
        writer = openWriter(c.dataDir, c.store, {
          flushMs: 0,
          ...(c.trimEvery ? { trimEvery: c.trimEvery } : {}),
        });
        const first = writer.start && c.load;
        const held = first ? writer.load(c.load!.perSeries, c.load!.maxSeries) : [];
        const units = first ? writer.loadUnits() : [];
        publish();
        const status: PersistStatus = writer.status();
        post({
          type: "opened",
          ...(writer.start ? { start: writer.start } : {}),
          held,
          units,
          status,
        });
        if (!writer.start) break; // in memory: the owner closes us
        // The beat also keeps the reservation ahead of the relay, however far behind the writes
        // are, and posts the status when it changed.
        beat = setInterval(() => {
          shared[SLOT.BEAT]++;
          writer?.topUp(shared[SLOT.SEQ_HI]);
          publish();
          postStatus();
        }, c.beatMs);
        break;
      }
      case "points": {
        if (!writer) break;
        for (const { slot, n, names } of msg.chunks) {
          writer.appendChunk({ n, names, ...pool!.views(slot), slot });
          slots.push(slot);
          appended += n;
        }
        // Written once the messages that came meanwhile are in: one transaction for all of them.
        if (!scheduled) {
          scheduled = true;
          setTimeout(write, 0);
        }
        break;
      }
      case "units":
        writer?.setUnits(msg.units);
        break;
      case "range": {
        const series = writer?.range(msg.query) ?? null;
        const buffers = Array.isArray(series) ? series.map((r) => r.xy.buffer as ArrayBuffer) : [];
        scope.postMessage({ type: "range", id: msg.id, series }, buffers);
        publish();
        postStatus();
        break;
      }
      case "close": {
        clearInterval(beat);
        if (writer) {
          writer.close(msg.lastSeq);
          for (const slot of slots) pool?.release(slot, generation);
          slots = [];
          post({ type: "closed", status: writer.status() });
        }
        scope.close();
        break;
      }
      case "fault":
        if (msg.kind === "slow") slowMs = msg.ms ?? 200;
        else if (msg.kind === "hang") block(msg.ms ?? 1000);
        else {setTimeout(() => {
            throw new Error("fault injected in the store writer");
          }, 0);}
        break;
    }
  });
}

/**
 * Blocks the thread for `ms` (test faults: a disk that hangs or is slow). Bounded: Deno cannot
 * end a worker while it is blocked, only once it returns to JavaScript.
 */
function block(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// Inside a Worker (`self` is a WorkerGlobalScope), this module drives a store writer.
if ("WorkerGlobalScope" in globalThis && import.meta.main) {
  runWriterWorker(self as unknown as WriterScope);
}
