/**
 * A gateway's data source: a forwarder's egress (see `forwarder.ts`) instead of a relay of its own.
 *
 * The TCP side is a native `zmq.Proxy`: an XSubscriber connected to the upstream <-> an XPublisher
 * bound on inproc. ZeroMQ reconnects by itself when the forwarder restarts, and JavaScript receives
 * on inproc only (shared/notes/zeromq-in-deno.md). The bridge subscribes to that inproc endpoint
 * directly: the forwarder's messages are the points bus format, `[series, seq, pointJson, epoch]`
 * (`relay_messages.ts`), so there is no JavaScript hop in between, no validation and no sequencing
 * here. Seq and epoch come from the forwarder, which is why clients can resume on any of its
 * gateways. The bridge learns the epoch from the first point, and reports a change (see
 * `WsBridge`'s `onEpochChange`).
 *
 * Shutdown: an in-band end-of-stream, `["", "", ""]`, sent into the proxy through an inproc control
 * endpoint the XSubscriber also binds, ends the bridge's receive loop before any socket is closed.
 * (A forwarder never sends one on its egress, so a forwarder restart does not end it.)
 *
 * @module
 */
import * as zmq from "zeromq";
import { errorMessage, log } from "../runtime/log.ts";
import { type LinkState, watchUpstream } from "../zmq/links.ts";
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
  /** Inproc endpoint carrying the forwarder's messages, for `WsBridge.attach`. */
  readonly bus: string;
  /** Link state (connected, since, connects, disconnects). */
  link(): LinkState;
  /**
   * Sends the end-of-stream to the bus subscribers until `ended` settles (at most ~1 s), then
   * stops the proxy and closes every socket. Pass the bridge's `close()`: it settles once the
   * bridge's receive loop has ended, so no socket is closed under a pending receive.
   */
  close(ended: Promise<unknown>): Promise<void>;
}

/** Connects to the upstream (in the background: returns at once, ZeroMQ keeps retrying). */
export async function startUpstream(opts: UpstreamOptions): Promise<Upstream> {
  const id = crypto.randomUUID();
  const bus = `inproc://zws-upstream-${id}`;
  const control = `inproc://zws-upstream-control-${id}`;
  const beat = opts.heartbeatMs ?? 1000;
  const front = new zmq.XSubscriber({
    receiveHighWaterMark: 100000,
    heartbeatInterval: beat,
    heartbeatTimeout: 3 * beat,
    reconnectInterval: 100,
    reconnectMaxInterval: 2000,
  });
  // noDrop: if the bridge falls behind, the proxy waits and TCP pushes back to the forwarder,
  // which drops for this gateway only (a jump in seq, see History) instead of losing points here.
  const back = new zmq.XPublisher({ sendHighWaterMark: 100000, noDrop: true });
  const closeAll = () => [front, back].forEach((s) => s.closed || s.close());
  // Before the proxy owns the socket: the monitor is set up from this thread.
  const watch = watchUpstream(front, opts.endpoint, "upstream");
  let proxy: zmq.Proxy;
  let proxyDone: Promise<void>;
  try {
    await front.bind(control);
    await back.bind(bus);
    front.connect(opts.endpoint);
    proxy = new zmq.Proxy(front, back);
    proxyDone = proxy.run().catch((err) => log("error", "upstream", `proxy: ${errorMessage(err)}`));
  } catch (err) {
    closeAll();
    throw new Error(`cannot follow upstream ${opts.endpoint}: ${errorMessage(err)}`);
  }

  let closing: Promise<void> | undefined;
  return {
    endpoint: opts.endpoint,
    bus,
    link: () => watch.state(),
    close(ended) {
      closing ??= (async () => {
        let done = false;
        ended.then(() => done = true, () => done = true);
        const pub = new zmq.Publisher({ linger: 0 });
        pub.connect(control);
        // Repeated: the first sends may go out before the XSubscriber's subscription has reached
        // this new publisher.
        for (let i = 0; i < 50 && !done; i++) {
          await pub.send(["", "", ""]).catch(() => {});
          await new Promise((r) => setTimeout(r, 20));
        }
        pub.close();
        proxy.terminate();
        await proxyDone;
        closeAll();
        await Promise.race([watch.done, new Promise((r) => setTimeout(r, 500))]);
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
