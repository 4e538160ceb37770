/**
 * A gateway's data source: a forwarder's egress (see `forwarder.ts`) instead of a relay of its own.
 *
 * The TCP side is a native `zmq.Proxy` (an XSubscriber connected to the upstream), joined by a
 * second native proxy (the hop) to an XPublisher bound on inproc; see {@link startUpstream}.
 * ZeroMQ reconnects by itself when the forwarder restarts, and JavaScript receives on inproc only
 * (docs/architecture.md, "ZeroMQ under Deno"). The bridge subscribes to that inproc endpoint directly: the forwarder's egress carries the same batched points bus as the relay's (one codec,
 * `protocol/bus.ts`), so there is no JavaScript in between, no validation and no sequencing
 * here. Seq and epoch come from the forwarder, which is why clients can resume on any of its
 * gateways. The bridge learns the epoch from the first batch, and reports a change (see
 * `WsBridge`'s `onEpochChange`).
 *
 * Shutdown: the bus's in-band end-of-stream (`END_OF_STREAM`), sent into the hop through an
 * inproc control endpoint its XSubscriber also binds, ends the bridge's receive loop before any
 * socket is closed. (A forwarder never sends one on its egress, so a forwarder restart does not
 * end it.)
 *
 * @module
 */
import * as zmq from "zeromq";
import { errorMessage, log } from "../runtime/log.ts";
import { type LinkState, watchUpstream } from "../zmq/links.ts";
import { END_OF_STREAM } from "../protocol/bus.ts";
import type { ResumeRequest } from "../protocol/resume.ts";

/** Options of {@link startUpstream}. */
export interface UpstreamOptions {
  /** The forwarder's egress, e.g. `tcp://127.0.0.1:5001`. */
  endpoint: string;
  /** ZeroMQ heartbeat interval towards the upstream, in ms (a dead peer is noticed in 3x). */
  heartbeatMs?: number;
}

/** A running upstream link; {@link startUpstream} makes one. */
export interface Upstream {
  /** The forwarder's egress followed. */
  readonly endpoint: string;
  /** Inproc endpoint carrying the forwarder's messages, for `WsBridge.attach` (never changes). */
  readonly bus: string;
  /** Link state (connected, since, connects, disconnects), over every generation of the link. */
  link(): LinkState;
  /** Restarts: the TCP side's proxy ended unexpectedly (rebuilt), its monitor loop failed. */
  restarts(): { proxy: number; monitor: number };
  /** Tests only: ends the TCP side's native proxy as a failure would (the link rebuilds it). */
  injectFault(): void;
  /**
   * Sends the end-of-stream to the bus subscribers until `ended` settles (at most ~1 s), then
   * stops the proxies and closes every socket. Pass the bridge's `close()`: it settles once the
   * bridge's receive loop has ended, so no socket is closed under a pending receive.
   */
  close(ended: Promise<unknown>): Promise<void>;
}

/** How long after an unexpected end of the TCP side's proxy it is rebuilt. */
const RESTART_DELAY_MS = 100;

/** One generation of the TCP side: its sockets, its proxy and its monitor. */
interface LinkGeneration {
  front: zmq.XSubscriber;
  back: zmq.XPublisher;
  proxy: zmq.Proxy;
  /** Settles when the proxy has ended (terminated, or failed). */
  proxyDone: Promise<void>;
  watch: ReturnType<typeof watchUpstream>;
}

const runProxy = (proxy: zmq.Proxy, what: string) =>
  proxy.run().catch((err) => log("error", "upstream", `${what}: ${errorMessage(err)}`));

/** The TCP side: XSubscriber connected to the forwarder <-> XPublisher connected to the hop. */
function openGeneration(
  endpoint: string,
  hopIn: string,
  beat: number,
  onMonitorRestart: () => void,
): LinkGeneration {
  const front = new zmq.XSubscriber({
    receiveHighWaterMark: 100000,
    heartbeatInterval: beat,
    heartbeatTimeout: 3 * beat,
    reconnectInterval: 100,
    reconnectMaxInterval: 2000,
  });
  // No noDrop here or on the hop: with it, a bridge that falls behind stops the proxy's input,
  // and libzmq's ZMTP heartbeats on a stopped input abort the process (the `_input_stopped`
  // assertion, an open libzmq issue; seen under overload). Without it, the proxies keep reading
  // and drop at the HWM: a jump in seq, which the bridge turns into a reset for its clients.
  const back = new zmq.XPublisher({ sendHighWaterMark: 100000 });
  // Before the proxy owns the socket: the monitor is set up from this thread.
  const watch = watchUpstream(front, endpoint, "upstream", onMonitorRestart);
  back.connect(hopIn);
  front.connect(endpoint);
  const proxy = new zmq.Proxy(front, back);
  return { front, back, proxy, proxyDone: runProxy(proxy, "link proxy"), watch };
}

/**
 * Connects to the upstream (in the background: returns at once, ZeroMQ keeps retrying).
 *
 * Two native proxies: the TCP side (XSubscriber connected to the forwarder <-> XPublisher
 * connected to the hop) and the hop (XSubscriber bound on inproc <-> XPublisher bound on the bus
 * the bridge follows). The link owns the TCP side's proxy: if it ends while the link is not
 * closing, a new generation (new sockets: a proxy's sockets cannot be reused, that crashes) is
 * built within {@link RESTART_DELAY_MS} and joins the same hop, so the bridge's subscription never
 * changes and no socket is closed under its pending receive.
 */
export async function startUpstream(opts: UpstreamOptions): Promise<Upstream> {
  const id = crypto.randomUUID();
  const bus = `inproc://zws-upstream-${id}`;
  const hopIn = `inproc://zws-upstream-in-${id}`;
  const control = `inproc://zws-upstream-control-${id}`;
  const beat = opts.heartbeatMs ?? 1000;
  const hopFront = new zmq.XSubscriber({ receiveHighWaterMark: 100000 });
  const hopBack = new zmq.XPublisher({ sendHighWaterMark: 100000 });
  let hop: zmq.Proxy;
  let hopDone: Promise<void>;
  try {
    await hopFront.bind(hopIn);
    await hopFront.bind(control);
    await hopBack.bind(bus);
    hop = new zmq.Proxy(hopFront, hopBack);
    hopDone = runProxy(hop, "link hop");
  } catch (err) {
    [hopFront, hopBack].forEach((s) => s.closed || s.close());
    throw new Error(`cannot follow upstream ${opts.endpoint}: ${errorMessage(err)}`);
  }
  let monitorRestarts = 0;
  const onMonitorRestart = () => monitorRestarts++;
  let gen = openGeneration(opts.endpoint, hopIn, beat, onMonitorRestart);
  let closingFlag = false;
  let restarts = 0;
  /** Link counters of earlier generations. */
  const carried = { connects: 0, disconnects: 0 };
  const closeGen = (g: LinkGeneration) => [g.front, g.back].forEach((s) => s.closed || s.close());
  const supervise = (g: LinkGeneration): Promise<void> =>
    g.proxyDone.then(async () => {
      if (closingFlag) return;
      restarts++;
      log("error", "upstream", `link proxy ended unexpectedly; restarting it (${restarts})`);
      const old = g.watch.state();
      carried.connects += old.connects;
      carried.disconnects += old.connected ? old.disconnects + 1 : old.disconnects;
      closeGen(g);
      await new Promise((r) => setTimeout(r, RESTART_DELAY_MS));
      if (closingFlag) return;
      gen = openGeneration(opts.endpoint, hopIn, beat, onMonitorRestart);
      supervised = supervise(gen);
    });
  let supervised = supervise(gen);

  let closing: Promise<void> | undefined;
  return {
    endpoint: opts.endpoint,
    bus,
    link: () => {
      const s = gen.watch.state();
      return {
        ...s,
        connects: s.connects + carried.connects,
        disconnects: s.disconnects + carried.disconnects,
      };
    },
    restarts: () => ({ proxy: restarts, monitor: monitorRestarts }),
    injectFault: () => gen.proxy.terminate(),
    close(ended) {
      closing ??= (async () => {
        let done = false;
        ended.then(() => done = true, () => done = true);
        const pub = new zmq.Publisher({ linger: 0 });
        pub.connect(control);
        // Repeated: the first sends may go out before the XSubscriber's subscription has reached
        // this new publisher.
        for (let i = 0; i < 50 && !done; i++) {
          await pub.send([...END_OF_STREAM]).catch(() => {});
          await new Promise((r) => setTimeout(r, 20));
        }
        pub.close();
        closingFlag = true;
        const g = gen;
        for (const p of [g.proxy, hop]) {
          try {
            p.terminate();
          } catch { /* already ended */ }
        }
        await Promise.all([g.proxyDone, hopDone, supervised]);
        closeGen(g);
        [hopFront, hopBack].forEach((s) => s.closed || s.close());
        await Promise.race([g.watch.done, new Promise((r) => setTimeout(r, 500))]);
      })();
      return closing;
    },
  };
}

/**
 * Before a client resumes on a gateway, waits (at most `timeoutMs`) until the gateway holds the
 * point the client says it has: a client moving over from a gateway that was slightly ahead would
 * otherwise get a reset instead of an exact resume. Returns at once when there is nothing to wait
 * for (no `since`, another epoch, or already held).
 */
export async function waitUntilHeld(
  resume: ResumeRequest,
  current: () => { epoch: string; heldSeq: number },
  timeoutMs: number,
): Promise<void> {
  const since = resume.since;
  if (since === undefined) return;
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const now = current();
    if (resume.epoch !== now.epoch || now.heldSeq >= since) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}
