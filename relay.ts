/**
 * The relay: producers' TCP ingress -> validation -> sequencing -> the inproc points bus.
 * Runs in a Worker (see `src/relay_supervisor.ts`); the main thread's `ws_bridge.ts` subscribes to
 * the bus and fans out to browsers.
 *
 * Under Deno, a JavaScript ZeroMQ socket that receives on TCP stops receiving once peers connect
 * later or restart (shared/notes/zeromq-in-deno.md). So the TCP side is a native `zmq.Proxy`
 * (XSubscriber bound on the ingress <-> XPublisher on inproc) and JavaScript receives on inproc only.
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
import { parseMessage, type RejectReason } from "./src/ingress_protocol.ts";
import { encodePoint } from "./src/frames.ts";
import { errorMessage, log, RateLimitedLog, setLogLevel } from "./src/log.ts";
import { ZAP_DOMAIN } from "./src/curve.ts";
import { startZapHandler, type ZapHandler } from "./src/zap.ts";
import { endReceiveLoop, isStopMessage } from "./src/loop_stop.ts";
import type { FromRelay, RelayOptions, RelayStats, ToRelay } from "./src/relay_messages.ts";

/** A running relay; {@link startRelay} makes one. */
export interface Relay {
  /** The ingress endpoint actually bound (a `*` port resolved). */
  readonly ingress: string;
  /** The sequencer's epoch. */
  readonly epoch: string;
  /** Current counters (a copy). */
  stats(): RelayStats;
  /** Settles when the receive loop has ended: on close, or when it failed (then nothing flows). */
  readonly ended: Promise<void>;
  /** Stops the demo, the proxy and closes every socket. */
  close(): Promise<void>;
}

let relayCount = 0;

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
  const bus = new zmq.Publisher({ sendHighWaterMark: 100000, noDrop: true });
  const sockets = [front, back, inbox, bus];
  const closeAll = () => sockets.forEach((s) => s.closed || s.close());
  try {
    await front.bind(opts.ingress);
  } catch (err) {
    closeAll();
    await zap?.close();
    throw new Error(`cannot bind ingress ${opts.ingress}: ${errorMessage(err)}`);
  }
  const ingress = front.lastEndpoint ?? opts.ingress;
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

  const epoch = opts.epoch ?? crypto.randomUUID().slice(0, 8);
  const stats: RelayStats = { messages: 0, points: 0, rejected: {}, lastSeq: opts.lastSeq ?? 0 };
  const countReject = (reason: RejectReason, detail: string) => {
    stats.rejected[reason] = (stats.rejected[reason] ?? 0) + 1;
    rateLog.log("warn", "relay", reason, `dropped producer input: ${reason} (${detail})`);
  };

  const epochFrame = new TextEncoder().encode(epoch);
  const pump = (async () => {
    for await (const frames of inbox) {
      if (isStopMessage(frames, stopToken)) break;
      stats.messages++;
      const parsed = parseMessage(frames, opts.maxMessageBytes, { windowMs: opts.xWindowMs ?? 0 });
      for (const r of parsed.rejected) countReject(r.reason, r.detail);
      for (const p of parsed.points) {
        const seq = ++stats.lastSeq;
        stats.points++;
        await bus.send([p.series, String(seq), encodePoint(seq, p), epochFrame]);
      }
    }
  })().catch((err) => {
    if (!inbox.closed) log("error", "relay", `receive loop ended: ${errorMessage(err)}`);
  });

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
    stats: () => ({
      ...stats,
      rejected: { ...stats.rejected },
      ...(zap ? { producersRefused: zap.refused } : {}),
    }),
    close() {
      closing ??= (async () => {
        demoStop.abort();
        await demoDone;
        log("debug", "relay", "demo stopped");
        // End both receive loops (ours, and the bridge's on the bus) before closing: closing a
        // socket with a receive pending crashes the process under Deno (a uv_poll callback runs
        // on the freed poller).
        await endReceiveLoop(control, stopToken, pump);
        if (opts.endOfStream !== false) await bus.send(["", "", ""]).catch(() => {});
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
  let crashed = false;
  const post = (m: FromRelay) => scope.postMessage(m);
  const crash = async (e: Event, what: string) => {
    e.preventDefault();
    if (crashed) return;
    crashed = true;
    // Close the native sockets before the worker goes: terminating a worker that still holds
    // ZeroMQ sockets aborts the whole process inside libzmq.
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
        try {
          relay = await startRelay(msg.options);
          post({
            type: "ready",
            ingress: relay.ingress,
            bus: msg.options.bus,
            epoch: relay.epoch,
            lastSeq: relay.stats().lastSeq,
          });
        } catch (err) {
          post({ type: "fatal", message: errorMessage(err) });
        }
        break;
      case "stats":
        if (relay) post({ type: "stats", id: msg.id, stats: relay.stats() });
        break;
      case "stop":
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
