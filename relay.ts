/**
 * The relay: producers' TCP ingress -> validation -> sequencing -> the inproc points bus.
 * Runs in a Worker (see `src/relay/supervisor.ts`); the main thread's `ws_bridge.ts` subscribes to
 * the bus and fans out to browsers.
 *
 * Under Deno, a JavaScript ZeroMQ socket that receives on TCP stops receiving once peers connect
 * later or restart (docs/architecture.md, "ZeroMQ under Deno"). So a native `zmq.Proxy` (XSubscriber <->
 * XPublisher on inproc) sits between the producers and JavaScript, which receives on inproc only.
 *
 * Plain producers (no CURVE, a tcp:// ingress) are read by `src/zmq/plain_ingress.ts`, a ZMTP reader
 * that bounds a whole message by `maxMessageBytes` before holding it (libzmq bounds only each
 * frame). Its messages reach the same receive loop through a bounded queue
 * (`src/relay/message_queue.ts`), which sheds what waited too long in it (`src/relay/overload.ts`),
 * so everything after it is the same.
 *
 * With `curve` options the ingress is a CURVE server: producers must know its public key and hold a
 * key pair whose public key is on the allow-list (checked by the ZAP handler in `src/zmq/zap.ts`, which
 * runs here, in the relay's Worker); plain producers fail the handshake. Inproc endpoints (demo,
 * control) carry no handshake and stay plain.
 *
 * @module
 */
import * as zmq from "zeromq";
import { runProducer } from "./producer.ts";
import { parseEncoded, type RejectReason } from "./src/protocol/ingress.ts";
import { type CutBatch, Sequencer } from "./src/relay/sequencer.ts";
import { countPoints, IngressGovernor, waitedTooLong } from "./src/relay/overload.ts";
import { WriterThread } from "./src/store/writer_thread.ts";
import type { RangeAnswer, RangeQuery } from "./src/store/range.ts";
import type { StoredPoint } from "./src/store/rows.ts";
import { encodeHeartbeat, encodeUnits } from "./src/protocol/bus_encode.ts";
import { BUS_BATCH_POINTS, END_OF_STREAM, UNITS_REFRESH_MS } from "./src/protocol/bus.ts";
import { SeriesUnits } from "./src/hub/units.ts";
import { faults, sendWithBackpressure, superviseLoop } from "./src/runtime/loop.ts";
import { errorMessage, log, RateLimitedLog } from "./src/runtime/log.ts";
import { Attention } from "./src/runtime/attention.ts";
import { endReceiveLoop, isStopMessage, stopMessage } from "./src/zmq/loop_stop.ts";
import type { RelayOptions, RelayStats } from "./src/relay/worker_messages.ts";
import { openRelaySockets } from "./src/relay/sockets.ts";
import { runRelayWorker, type WorkerScope } from "./src/relay/worker_glue.ts";
import { mergeInputs } from "./src/relay/message_queue.ts";

/** A running relay; {@link startRelay} makes one. */
export interface Relay {
  /** The ingress endpoint actually bound (a `*` port resolved). */
  readonly ingress: string;
  /** The sequencer's epoch. */
  readonly epoch: string;
  /**
   * Points loaded from the store on a first start (in seq order; empty otherwise), for the
   * bridge's history. Taken once: a second call gets nothing.
   */
  takeHeld(): StoredPoint[];
  /** The series' units known now (those the store kept, on a first start, and any since). */
  units(): [string, string][];
  /** Current counters (a copy). */
  stats(): RelayStats;
  /** The stored points of a history request; undefined when there is no store. */
  range(q: RangeQuery): Promise<RangeAnswer | undefined>;
  /** Settles when the receive loop has ended: on close, or when it failed (then nothing flows). */
  readonly ended: Promise<void>;
  /** Stops the demo, the proxy and closes every socket. */
  close(): Promise<void>;
}

/** How often the relay probes its own receive path (and, when idle, sends a bus heartbeat). */
export const PROBE_INTERVAL_MS = 1000;

/**
 * Binds the ingress and the points bus and starts relaying. Throws (with the endpoint in the
 * message) when the ingress cannot be bound.
 */
export async function startRelay(opts: RelayOptions): Promise<Relay> {
  const stopToken = crypto.randomUUID();
  const probeToken = crypto.randomUUID();
  const rateLog = new RateLimitedLog(5000);
  const stats: RelayStats = {
    messages: 0,
    points: 0,
    rejected: {},
    lastSeq: 0,
    pending: 0,
    loopRestarts: 0,
    busWaitMs: 0,
  };
  const countReject = (reason: RejectReason, detail: string, n = 1) => {
    stats.rejected[reason] = (stats.rejected[reason] ?? 0) + n;
    rateLog.log("warn", "relay", reason, `dropped producer input: ${reason} (${detail})`);
  };
  const io = await openRelaySockets(opts, rateLog, (reason, detail) => {
    stats.messages++;
    countReject(reason, detail);
  });
  // The two sockets the loops use on every message: producers' input in, batches out.
  const { inbox, bus } = io;

  // The store (when persisting) holds the epoch and seq: a clean restart continues them, a crash
  // continues after every seq it reserved (src/store/point_store.ts). It writes in a Worker of
  // its own (src/store/writer_thread.ts): SQLite never runs on this thread, which carries the
  // points. Its history is loaded on the first start only: a restarted relay's bridge holds it.
  const persist = opts.persist;
  let writer: WriterThread;
  try {
    writer = await WriterThread.open(
      persist?.dataDir
        ? {
          dataDir: persist.dataDir,
          store: {
            retention: persist.retention,
            ...(opts.epoch ? { newEpoch: opts.epoch } : {}),
          },
          ...(opts.epoch === undefined
            ? { load: { perSeries: persist.history, maxSeries: persist.maxSeries } }
            : {}),
        }
        : null,
    );
  } catch (err) {
    io.proxy.terminate();
    await io.proxyDone;
    io.closeAll();
    await io.zap?.close();
    throw new Error(`cannot start the store's writer: ${errorMessage(err)}`);
  }
  const start = writer.start;
  const epoch = start?.epoch ?? opts.epoch ?? crypto.randomUUID().slice(0, 8);
  // Loaded on the first start only: a restarted worker's bridge still holds its history.
  let held = writer.takeHeld();
  // Units: the last one producers sent per series (the store keeps them across restarts). The
  // ones that changed go on the bus as soon as the send loop turns; all of them again every
  // UNITS_REFRESH_MS, for gateways that joined since.
  const units = new SeriesUnits();
  units.merge(writer.loadUnits());
  const unitsChanged = new Map<string, string>();
  let unitsSentAt = performance.now();
  stats.lastSeq = Math.max(opts.lastSeq ?? 0, start?.lastSeq ?? 0);
  const seq = new Sequencer(
    epoch,
    stats.lastSeq,
    opts.maxPendingPoints,
    writer.status().mode === "off" ? undefined : writer.sink,
  );
  let stopped = false;
  const isStopped = () => stopped;
  /** Set by close(): the receive loop stops taking input at its next message. */
  let closeRequested = false;
  /** Set by close() once the proxy has ended: the drain below may end. */
  let proxyEnded = false;
  /**
   * After the loop stops taking input, it keeps receiving (and discarding) until the proxy has
   * ended: a native proxy blocked on a full inbox never sees its terminate, and under a flood it
   * stayed blocked until the process's hard deadline. It polls (receiveTimeout 0), so no
   * receive is ever left pending on the socket: a pending receive with a timeout, still
   * waiting when the proxy ended, crashed the process (SIGSEGV, every run under a flood).
   */
  const drainUntilProxyEnds = async () => {
    inbox.receiveTimeout = 0;
    for (;;) {
      try {
        await inbox.receive();
      } catch {
        if (proxyEnded || inbox.closed) return;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  /** Resolves when the receive loop has stopped taking input (its drain may still run). */
  let inputStopped!: () => void;
  const inputStoppedP = new Promise<void>((r) => inputStopped = r);
  /** Wakes the send loop: points queued, a probe seen, or stopping. */
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  let probeSeen = false;
  // The probe is also sent from the receive loop when due: a ready ZeroMQ receive settles as a
  // microtask, so under sustained input the probe timer may not get a turn. (The loops do not
  // yield to timers: a zero-delay timer before each receive or send made the test process abort
  // in glibc at exit, 2 of 3 runs of tests/integration/relay_test.ts, 0 of 7 without.)
  let lastProbeSent = performance.now();
  const sendProbe = () => {
    lastProbeSent = performance.now();
    try {
      prober.send(stopMessage(probeToken)).catch(() => {});
    } catch { /* not created yet, or closed: the next one goes */ }
  };
  // Overload, per way in (src/relay/overload.ts): the native proxy's by its probe's delay, the
  // ZMTP reader's queue by how long each message waited in it.
  const governor = new IngressGovernor();
  // The supervisor's messages (stop, stats) get a turn even while the loops never wait.
  const attention = opts.attention ? new Attention(opts.attention) : undefined;
  // Batches are cut full (BUS_BATCH_POINTS) while input keeps coming, and whatever is pending as
  // soon as the input runs dry (or a message came from the native proxy, whose queue cannot be
  // seen): one bus message per producer message cost both threads per message at high rates.
  /** Points pending when a flush was asked for: they go out even in a batch that is not full. */
  let flushOwed = 0;
  const flush = () => {
    if (seq.pending === 0) return;
    flushOwed = seq.pending;
    signal();
  };
  const nextMessage = mergeInputs(() => inbox.receive(), io.plainQueue, flush);

  // Receive loop: producers' messages -> validation -> the sequencer's bounded queue. It never
  // waits on the bus, so it keeps taking producers' input (and shedding what does not fit, counted
  // in points as `overload`) however far behind the bridge is.
  const receiveOnce = async () => {
    while (!inbox.closed) {
      // The fault point sits before the receive: a test's failure then loses no message.
      const fault = faults.check("relay.receive");
      if (fault) await fault;
      const { frames, plain: fromPlain } = await nextMessage();
      if (attention?.raised) await attention.yieldTurn();
      if (performance.now() - lastProbeSent >= PROBE_INTERVAL_MS) sendProbe();
      const shedNow = fromPlain ? waitedTooLong(io.plainQueue!.lastWaitMs) : governor.shed();
      if (closeRequested || isStopMessage(frames, stopToken)) {
        stopped = true;
        signal();
        inputStopped();
        await drainUntilProxyEnds();
        return;
      }
      if (isStopMessage(frames, probeToken)) {
        governor.probeSeen();
        probeSeen = true;
        signal();
        continue;
      }
      stats.messages++;
      if (shedNow) {
        // Input always queued: the worker cannot parse as fast as producers offer. Shed
        // unparsed (counted in points) until the ingress backlog drains.
        const n = countPoints(frames);
        countReject("overload", `${n} points; more input than the relay can parse`, n);
        continue;
      }
      const parsed = parseEncoded(frames, opts.maxMessageBytes, { windowMs: opts.xWindowMs ?? 0 });
      for (const r of parsed.rejected) countReject(r.reason, r.detail);
      if (parsed.units && units.merge(parsed.units)) {
        for (const [series, unit] of parsed.units) unitsChanged.set(series, unit);
        writer.setUnits(units.entries());
      }
      if (!seq.offer(parsed.points)) {
        countReject(
          "overload",
          `${parsed.points.length} points; ${seq.pending} already waiting for the bus`,
          parsed.points.length,
        );
      } else if (parsed.points.length > 0) {
        if (!fromPlain) flush();
        else if (seq.pending >= BUS_BATCH_POINTS) signal();
      }
    }
  };
  const receiveLoop = superviseLoop(receiveOnce, {
    component: "relay",
    name: "receive loop",
    stopped: isStopped,
    onRestart: () => stats.loopRestarts!++,
  });

  // Send loop: the queue -> sequenced batches -> the bus. EAGAIN is backpressure: it waits and
  // retries the same batch (same seqs). An idle bus gets a heartbeat for each probe the receive
  // loop saw, so the bridge can tell idle from dead.
  let inFlight: CutBatch | undefined;
  const sendOnce = async () => {
    while (!stopped) {
      const fault = faults.check("relay.send");
      if (fault) await fault;
      if (attention?.raised) await attention.yieldTurn();
      const refresh = units.size > 0 && performance.now() - unitsSentAt >= UNITS_REFRESH_MS;
      if (unitsChanged.size > 0 || refresh) {
        const changed = refresh ? units.entries() : [...unitsChanged];
        unitsChanged.clear();
        unitsSentAt = performance.now();
        if (await sendWithBackpressure(bus, encodeUnits(epoch, changed), isStopped) < 0) return;
      }
      // A batch whose send failed (the loop restarted) is retried first: its seqs are taken.
      // Else a full one, or the points a flush asked for.
      const batch = inFlight ??
        (flushOwed > 0 || seq.pending >= BUS_BATCH_POINTS || seq.blocked ? seq.cut() : undefined);
      if (batch && !inFlight) flushOwed = Math.max(0, flushOwed - batch.count);
      inFlight = batch;
      if (!batch && seq.blocked) {
        // The store has not reserved the next seq yet (rare: its writer is a whole
        // half-reservation behind). Bounded: it reserves, or gives the file up, within 1 s.
        await writer.whenReserved();
        continue;
      }
      if (batch) {
        const waited = await sendWithBackpressure(bus, batch.frames, isStopped);
        if (waited < 0) return;
        inFlight = undefined;
        stats.busWaitMs! += waited;
        stats.points += batch.count;
        stats.lastSeq = batch.firstSeq + batch.count - 1;
        continue;
      }
      if (probeSeen) {
        probeSeen = false;
        await sendWithBackpressure(bus, encodeHeartbeat(epoch, seq.lastSeq + 1), isStopped);
        continue;
      }
      await new Promise<void>((r) => wake = r);
    }
  };
  const sendLoop = superviseLoop(sendOnce, {
    component: "relay",
    name: "bus send loop",
    stopped: isStopped,
    onRestart: () => stats.loopRestarts!++,
  });

  // The probe: a message through the ingress proxy every second. Seeing it proves the receive
  // path alive; on an idle bus it becomes a heartbeat.
  const prober = new zmq.Publisher({ linger: 0, sendHighWaterMark: 10 });
  prober.connect(io.control);
  io.sockets.push(prober);
  const probeTimer = setInterval(sendProbe, PROBE_INTERVAL_MS);
  const pump = Promise.all([receiveLoop.done, sendLoop.done]).then(() => {});

  io.plain?.start();

  const demoStop = new AbortController();
  const demoDone = opts.demo
    ? runProducer({ endpoint: io.demoIngress, rate: 10, signal: demoStop.signal }).catch((err) =>
      log("error", "relay", `demo producer: ${errorMessage(err)}`)
    )
    : Promise.resolve();

  let closing: Promise<void> | undefined;
  return {
    ingress: io.ingress,
    epoch,
    ended: pump,
    range: (q) => {
      // A point's x lies within --x-window of the clock when it came, and its row was written
      // soon after: rows written outside the range widened by that window cannot hold it.
      const w = opts.xWindowMs ?? 0;
      const slack = 60_000;
      return writer.range({
        ...q,
        ...(w > 0 && q.from !== undefined ? { writtenFrom: q.from - w } : {}),
        ...(w > 0 && q.to !== undefined ? { writtenTo: q.to + w + slack } : {}),
      });
    },
    units: () => units.entries(),
    takeHeld: () => {
      const h = held;
      held = [];
      return h;
    },
    stats: () => ({
      ...stats,
      ...(persist ? { persist: writer.status() } : {}),
      pending: seq.pending,
      loopRestarts: stats.loopRestarts! + (io.zap?.restarts ?? 0),
      rejected: { ...stats.rejected },
      ...(io.zap ? { producersRefused: io.zap.refused } : {}),
      ...(io.plain ? { ingress: io.plain.stats() } : {}),
    }),
    close() {
      closing ??= (async () => {
        demoStop.abort();
        await demoDone;
        log("debug", "relay", "demo stopped");
        // Producers first: no more input (what is queued and not yet parsed is dropped).
        io.plainQueue?.close();
        await io.plain?.close();
        // End both receive loops (ours, and the bridge's on the bus) before closing: closing a
        // socket with a receive pending crashes the process under Deno (a uv_poll callback runs
        // on the freed poller).
        clearInterval(probeTimer);
        closeRequested = true;
        await endReceiveLoop(io.control, stopToken, inputStoppedP);
        stopped = true;
        signal();
        // A wedged send loop must not keep the sockets open for good.
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([sendLoop.done, new Promise((r) => timer = setTimeout(r, 500))]);
        clearTimeout(timer);
        // A clean stop after the last seq sent (a batch cut but not sent is dropped from the
        // store, and its seqs go to the next run's points): the next run continues it.
        await writer.close(stats.lastSeq);
        if (opts.endOfStream !== false) await bus.send([...END_OF_STREAM]).catch(() => {});
        io.proxy.terminate();
        await io.proxyDone;
        proxyEnded = true;
        await receiveLoop.done;
        io.closeAll();
        await io.zap?.close();
        log("debug", "relay", "sockets closed");
      })();
      return closing;
    },
  };
}

/** The parts of a worker's global scope the glue uses. */
export type { WorkerScope } from "./src/relay/worker_glue.ts";

/** Worker glue: drives one relay from the main thread's messages (`src/relay/worker_glue.ts`). */
export function runAsWorker(scope: WorkerScope): void {
  runRelayWorker(scope, startRelay);
}

// Inside a Worker (`self` is a WorkerGlobalScope), this module drives a relay.
if ("WorkerGlobalScope" in globalThis && import.meta.main) {
  runAsWorker(self as unknown as WorkerScope);
}
