/**
 * The relay: producers' TCP ingress -> validation -> sequencing -> the inproc points bus.
 * Runs in a Worker (see `src/relay_supervisor.ts`); the main thread's `ws_bridge.ts` subscribes to
 * the bus and fans out to browsers.
 *
 * Under Deno, a JavaScript ZeroMQ socket that receives on TCP stops receiving once peers connect
 * later or restart (shared/notes/zeromq-in-deno.md). So a native `zmq.Proxy` (XSubscriber <->
 * XPublisher on inproc) sits between the producers and JavaScript, which receives on inproc only.
 *
 * Plain producers (no CURVE, a tcp:// ingress) are read by `src/zmq/plain_ingress.ts`, a ZMTP reader
 * on `Deno.listen` that bounds a whole message by `maxMessageBytes` before holding it (libzmq bounds
 * only each frame). Its messages reach the same receive loop through a bounded queue
 * (`src/relay/message_queue.ts`), with a governor of their own, so everything after it is the same.
 * CURVE producers (and `nativeIngress`, and ipc://) connect to the XSubscriber itself.
 *
 * With `curve` options the ingress is a CURVE server: producers must know its public key and hold a
 * key pair whose public key is on the allow-list (checked by the ZAP handler in `src/zap.ts`, which
 * runs here, in the relay's Worker); plain producers fail the handshake. Inproc endpoints (demo,
 * control) carry no handshake and stay plain.
 *
 * @module
 */
import * as zmq from "zeromq";
import { runProducer } from "./producer.ts";
import { parseEncoded, type RejectReason } from "./src/protocol/ingress.ts";
import { type CutBatch, Sequencer } from "./src/relay/sequencer.ts";
import { countPoints, IngressGovernor } from "./src/relay/overload.ts";
import { openWriter } from "./src/store/writer.ts";
import type { StoredPoint } from "./src/store/point_store.ts";
import { encodeHeartbeat, END_OF_STREAM } from "./src/protocol/bus.ts";
import { faults, sendWithBackpressure, superviseLoop } from "./src/runtime/loop.ts";
import { errorMessage, log, RateLimitedLog, setLogLevel } from "./src/runtime/log.ts";
import { ZAP_DOMAIN } from "./src/zmq/curve.ts";
import { startZapHandler, type ZapHandler } from "./src/zmq/zap.ts";
import { endReceiveLoop, isStopMessage, stopMessage } from "./src/zmq/loop_stop.ts";
import {
  listenPlainIngress,
  type PlainIngress,
  tcpListenAddress,
} from "./src/zmq/plain_ingress.ts";
import { MessageQueue } from "./src/relay/message_queue.ts";
import { FdBudget, openFdProbe } from "./src/runtime/fd_limit.ts";
import type { FromRelay, RelayOptions, RelayStats, ToRelay } from "./src/relay/worker_messages.ts";

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
  /** Current counters (a copy). */
  stats(): RelayStats;
  /** Settles when the receive loop has ended: on close, or when it failed (then nothing flows). */
  readonly ended: Promise<void>;
  /** Stops the demo, the proxy and closes every socket. */
  close(): Promise<void>;
}

let relayCount = 0;

/** How often the relay probes its own receive path (and, when idle, sends a bus heartbeat). */
export const PROBE_INTERVAL_MS = 1000;

/**
 * Binds the ingress and the points bus and starts relaying. Throws (with the endpoint in the
 * message) when the ingress cannot be bound.
 */
export async function startRelay(opts: RelayOptions): Promise<Relay> {
  const id = `${Date.now().toString(36)}-${relayCount++}`;
  const internal = `inproc://zws-relay-${id}`;
  const demoIngress = `inproc://zws-demo-${id}`;
  const control = `inproc://zws-control-${id}`;
  const stopToken = crypto.randomUUID();
  const probeToken = crypto.randomUUID();
  // Plain producers on tcp:// are read by the ZMTP reader (whole-message limit); CURVE, ipc:// and
  // `nativeIngress` go to the native XSubscriber directly.
  const plainPath = !opts.curve && !opts.nativeIngress && tcpListenAddress(opts.ingress) !== null;
  // Native cap: ZeroMQ cuts the connection of a peer that exceeds it, so keep it well above the
  // configured limit; messages between the two are dropped and counted by the parser instead.
  const nativeCap = Math.max(4 * opts.maxMessageBytes, 1024 * 1024);
  const rateLog = new RateLimitedLog(5000);
  let zap: ZapHandler | undefined;
  if (opts.curve) {
    if (!zmq.capability.curve) {
      throw new Error("this ZeroMQ build has no CURVE support; cannot encrypt the ingress");
    }
    // The allow-list must be in place before the ingress binds: without a ZAP handler, libzmq
    // lets every CURVE client in.
    zap = await startZapHandler({
      allow: opts.curve.allow,
      onRefused: (d) =>
        rateLog.log(
          "warn",
          "relay",
          "zap-refused",
          `refused producer ${d.address || "?"}: ` +
            (d.publicKey ? `CURVE key ${d.publicKey} is not on the allow-list` : "bad ZAP request"),
        ),
    });
  }
  const front = new zmq.XSubscriber({
    maxMessageSize: nativeCap,
    receiveHighWaterMark: 10000,
    ...(opts.curve
      ? { curveServer: true, curveSecretKey: opts.curve.secretKey, zapDomain: ZAP_DOMAIN }
      : {}),
  });
  // noDrop: when the JS side falls behind, the proxy waits (and TCP pushes back on producers)
  // instead of dropping points silently between the proxy and us.
  const back = new zmq.XPublisher({ sendHighWaterMark: 10000, noDrop: true });
  const inbox = new zmq.Subscriber({ receiveHighWaterMark: 10000 });
  // Counted in batches (up to BUS_BATCH_POINTS points each): a full bus is EAGAIN, which the send
  // loop waits out.
  const bus = new zmq.Publisher({ sendHighWaterMark: 1000, noDrop: true });
  const sockets = [front, back, inbox, bus];
  const closeAll = () => sockets.forEach((s) => s.closed || s.close());
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
  let plain: PlainIngress | undefined;
  const plainQueue = plainPath
    ? new MessageQueue(Math.max(8 * 1024 * 1024, 4 * opts.maxMessageBytes))
    : undefined;
  let ingress: string;
  try {
    if (plainQueue) {
      const probe = openFdProbe();
      plain = listenPlainIngress({
        endpoint: opts.ingress,
        maxMessageBytes: opts.maxMessageBytes,
        deliver: (frames) => plainQueue.push(frames),
        onDropped: (reason, detail) => {
          stats.messages++;
          countReject(reason, detail);
        },
        ...(probe ? { fds: new FdBudget(probe) } : {}),
      });
      ingress = plain.endpoint;
    } else {
      await front.bind(opts.ingress);
      ingress = front.lastEndpoint ?? opts.ingress;
    }
  } catch (err) {
    closeAll();
    await zap?.close();
    throw new Error(`cannot bind ingress ${opts.ingress}: ${errorMessage(err)}`);
  }
  let proxy: zmq.Proxy;
  let proxyDone: Promise<void>;
  try {
    if (opts.demo) await front.bind(demoIngress);
    await front.bind(control);
    await back.bind(internal);
    await bus.bind(opts.bus);
    inbox.connect(internal);
    inbox.subscribe();
    proxy = new zmq.Proxy(front, back);
    proxyDone = proxy.run().catch((err) => log("error", "relay", `proxy: ${errorMessage(err)}`));
  } catch (err) {
    closeAll();
    await zap?.close();
    throw new Error(`cannot start relay: ${errorMessage(err)}`);
  }

  // The store (when persisting) holds the epoch and seq: a clean restart continues them, a crash
  // continues after every seq it reserved (src/store/point_store.ts).
  const persist = opts.persist;
  const writer = openWriter(persist?.dataDir ?? null, {
    retention: persist?.retention ?? { count: 1 },
    ...(opts.epoch ? { newEpoch: opts.epoch } : {}),
  });
  const start = writer.start;
  const epoch = start?.epoch ?? opts.epoch ?? crypto.randomUUID().slice(0, 8);
  // Loaded on the first start only: a restarted worker's bridge still holds its history.
  let held = persist && opts.epoch === undefined
    ? writer.load(persist.history, persist.maxSeries)
    : [];
  stats.lastSeq = Math.max(opts.lastSeq ?? 0, start?.lastSeq ?? 0);
  const seq = new Sequencer(
    epoch,
    stats.lastSeq,
    opts.maxPendingPoints,
    writer.status().mode === "off" ? undefined : writer,
  );
  let stopped = false;
  const isStopped = () => stopped;
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
    plainQueue?.push(null);
  };
  // One governor per way in: each sees the time its own probe takes through its own queue.
  const governor = new IngressGovernor();
  const plainGovernor = new IngressGovernor();

  /**
   * The next message and the way it came: the native proxy's inbox first when one is there (its
   * probe and stop messages must not wait behind a busy plain queue), else the plain queue, else
   * whichever has one first. The inbox receive stays pending across calls (and restarts): never a
   * second one on the same socket.
   */
  let inboxNext: Promise<Uint8Array[]> | undefined;
  let inboxHas = false;
  const nextMessage = async (): Promise<{ frames: Uint8Array[] | null; plain: boolean }> => {
    if (!inboxNext) {
      inboxHas = false;
      inboxNext = inbox.receive();
      inboxNext.then(() => inboxHas = true, () => inboxHas = true);
    }
    while (true) {
      if (inboxHas || !plainQueue) {
        const pending = inboxNext;
        inboxNext = undefined;
        return { frames: await pending, plain: false };
      }
      const queued = plainQueue.shift();
      if (queued !== undefined) return { frames: queued, plain: true };
      await Promise.race([inboxNext.catch(() => {}), plainQueue.ready()]);
    }
  };

  // Receive loop: producers' messages -> validation -> the sequencer's bounded queue. It never
  // waits on the bus, so it keeps taking producers' input (and shedding what does not fit, counted
  // in points as `overload`) however far behind the bridge is.
  const receiveOnce = async () => {
    while (!inbox.closed) {
      // The fault point sits before the receive: a test's failure then loses no message.
      const fault = faults.check("relay.receive");
      if (fault) await fault;
      const { frames, plain: fromPlain } = await nextMessage();
      if (performance.now() - lastProbeSent >= PROBE_INTERVAL_MS) sendProbe();
      if (frames === null) {
        plainGovernor.probeSeen();
        continue;
      }
      const shedNow = (fromPlain ? plainGovernor : governor).shed();
      if (isStopMessage(frames, stopToken)) {
        stopped = true;
        signal();
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
      if (!seq.offer(parsed.points)) {
        countReject(
          "overload",
          `${parsed.points.length} points; ${seq.pending} already waiting for the bus`,
          parsed.points.length,
        );
      } else if (parsed.points.length > 0) signal();
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
      // A batch whose send failed (the loop restarted) is retried first: its seqs are taken.
      const batch = inFlight ?? seq.cut();
      inFlight = batch;
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
  prober.connect(control);
  sockets.push(prober);
  const probeTimer = setInterval(sendProbe, PROBE_INTERVAL_MS);
  const pump = Promise.all([receiveLoop.done, sendLoop.done]).then(() => {});

  plain?.start();

  const demoStop = new AbortController();
  const demoDone = opts.demo
    ? runProducer({ endpoint: demoIngress, rate: 10, signal: demoStop.signal }).catch((err) =>
      log("error", "relay", `demo producer: ${errorMessage(err)}`)
    )
    : Promise.resolve();

  let closing: Promise<void> | undefined;
  return {
    ingress,
    epoch,
    ended: pump,
    takeHeld: () => {
      const h = held;
      held = [];
      return h;
    },
    stats: () => ({
      ...stats,
      ...(persist ? { persist: writer.status() } : {}),
      pending: seq.pending,
      loopRestarts: stats.loopRestarts! + (zap?.restarts ?? 0),
      rejected: { ...stats.rejected },
      ...(zap ? { producersRefused: zap.refused } : {}),
      ...(plain ? { ingress: plain.stats() } : {}),
    }),
    close() {
      closing ??= (async () => {
        demoStop.abort();
        await demoDone;
        log("debug", "relay", "demo stopped");
        // Producers first: no more input (what is queued and not yet parsed is dropped).
        plainQueue?.close();
        await plain?.close();
        // End both receive loops (ours, and the bridge's on the bus) before closing: closing a
        // socket with a receive pending crashes the process under Deno (a uv_poll callback runs
        // on the freed poller).
        clearInterval(probeTimer);
        await endReceiveLoop(control, stopToken, receiveLoop.done);
        stopped = true;
        signal();
        // A wedged send loop must not keep the sockets open for good.
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([sendLoop.done, new Promise((r) => timer = setTimeout(r, 500))]);
        clearTimeout(timer);
        // A clean stop after the last seq sent (a batch cut but not sent is dropped from the
        // store, and its seqs go to the next run's points): the next run continues it.
        writer.close(stats.lastSeq);
        if (opts.endOfStream !== false) await bus.send([...END_OF_STREAM]).catch(() => {});
        proxy.terminate();
        await proxyDone;
        closeAll();
        await zap?.close();
        log("debug", "relay", "sockets closed");
      })();
      return closing;
    },
  };
}

/** The parts of a worker's global scope the glue uses. */
export interface WorkerScope {
  postMessage(m: FromRelay): void;
  addEventListener(type: string, fn: (e: Event) => void): void;
  close(): void;
}

/** Worker glue: drives one relay from the main thread's messages (see `src/relay_messages.ts`). */
export function runAsWorker(scope: WorkerScope): void {
  let relay: Relay | undefined;
  /** The start in progress: a stop waits for it, or the worker would go with a proxy running. */
  let starting: Promise<void> | undefined;
  let crashed = false;
  const post = (m: FromRelay) => scope.postMessage(m);
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
  scope.addEventListener("message", async (e) => {
    const msg = (e as MessageEvent<ToRelay>).data;
    switch (msg.type) {
      case "start":
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

// Inside a Worker (`self` is a WorkerGlobalScope), this module drives a relay.
if ("WorkerGlobalScope" in globalThis && import.meta.main) {
  runAsWorker(self as unknown as WorkerScope);
}
