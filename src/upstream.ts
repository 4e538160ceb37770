/**
 * A gateway's data source: a forwarder's egress (see `forwarder.ts`) instead of a relay of its own.
 *
 * The TCP side is a native `zmq.Proxy` (XSubscriber connected to the upstream <-> XPublisher bound
 * on inproc), so ZeroMQ reconnects by itself when the forwarder restarts and JavaScript receives on
 * inproc only (shared/notes/zeromq-in-deno.md). A JavaScript follower reads that inproc: it checks
 * each message (`relay_messages.ts` has the format), learns the forwarder's epoch, notes gaps in
 * the sequence, and republishes `[series, seq, pointJson]` on an inproc points bus for the bridge,
 * as a relay would. No validation or sequencing here: seq and epoch come from the forwarder, which
 * is why clients can resume on any gateway of the same forwarder.
 *
 * One bus per epoch: when the epoch changes (the forwarder restarted without its state file), the
 * old bus gets an end-of-stream and {@link UpstreamOptions.onGeneration} is called with a new one,
 * so the server can start a fresh bridge (seqs of two epochs do not compare).
 *
 * @module
 */
import * as zmq from "zeromq";
import { errorMessage, log, RateLimitedLog } from "./log.ts";
import { endReceiveLoop, isStopMessage } from "./loop_stop.ts";
import { type LinkState, watchUpstream } from "./zmq_links.ts";
import type { ResumeRequest } from "../ws_bridge.ts";

/** One epoch's points bus, for `WsBridge.attach`. */
export interface UpstreamGeneration {
  /** Inproc endpoint carrying `[series, seq, pointJson]`. */
  bus: string;
  /** The forwarder's epoch. */
  epoch: string;
  /** The seq just before the first point on this bus. */
  lastSeq: number;
}

/** Options of {@link startUpstream}. */
export interface UpstreamOptions {
  /** The forwarder's egress, e.g. `tcp://127.0.0.1:5001`. */
  endpoint: string;
  /**
   * Called when the first point of an epoch arrives, before it is published on `gen.bus`;
   * `previous` is the generation it replaces (undefined the first time).
   */
  onGeneration(gen: UpstreamGeneration, previous: UpstreamGeneration | undefined): void;
  /** ZeroMQ heartbeat interval towards the upstream, in ms (a dead peer is noticed in 3x). */
  heartbeatMs?: number;
}

/** Counters of the follower, for `/metrics`. */
export interface UpstreamStats {
  /** Messages received from the upstream. */
  messages: number;
  /** Points passed on to the bridge. */
  points: number;
  /** Jumps in the sequence (points the upstream sent while this gateway was not receiving). */
  gaps: number;
  /** Points missing in those jumps. */
  missedPoints: number;
  /** Messages dropped: not in the egress format. */
  malformed: number;
  /** Messages dropped: a seq not above the last one (duplicate or out of order). */
  outOfOrder: number;
  /** Epoch changes seen (forwarder restarts without its state). */
  epochChanges: number;
  /** Last seq passed on. */
  lastSeq: number;
}

/** What `/healthz` shows of the upstream. */
export interface UpstreamHealth extends LinkState {
  /** The forwarder's epoch, once a point has arrived. */
  epoch: string | null;
  /** Last seq received. */
  lastSeq: number;
}

/** A running upstream follower; {@link startUpstream} makes one. */
export interface Upstream {
  readonly endpoint: string;
  /** Link state and position, for `/healthz`. */
  health(): UpstreamHealth;
  /** Counters and link state, for `/metrics`. */
  stats(): UpstreamStats & { link: LinkState };
  /** Ends the follower (the bridge gets an end-of-stream) and closes every socket. */
  close(): Promise<void>;
}

const SEQ = /^\d{1,15}$/;
const EPOCH = /^[\x21-\x7e]{1,64}$/;

/** Connects to the upstream and starts following it; returns at once (it connects in background). */
export async function startUpstream(opts: UpstreamOptions): Promise<Upstream> {
  const id = crypto.randomUUID();
  const internal = `inproc://zws-upstream-${id}`;
  const control = `inproc://zws-upstream-control-${id}`;
  const stopToken = crypto.randomUUID();
  const beat = opts.heartbeatMs ?? 1000;
  const front = new zmq.XSubscriber({
    receiveHighWaterMark: 100000,
    heartbeatInterval: beat,
    heartbeatTimeout: 3 * beat,
    reconnectInterval: 100,
    reconnectMaxInterval: 2000,
  });
  // noDrop: if the bridge falls behind, wait here and let TCP push back to the forwarder (which
  // drops for this gateway only, seen as a gap) instead of losing points silently in between.
  const back = new zmq.XPublisher({ sendHighWaterMark: 100000, noDrop: true });
  const inbox = new zmq.Subscriber({ receiveHighWaterMark: 100000 });
  const sockets: zmq.Socket[] = [front, back, inbox];
  const closeAll = () => sockets.forEach((s) => s.closed || s.close());
  // Before the proxy owns the socket: the monitor is set up from this thread.
  const link = watchUpstream(front, opts.endpoint, "upstream");
  let proxy: zmq.Proxy;
  let proxyDone: Promise<void>;
  try {
    await front.bind(control);
    await back.bind(internal);
    front.connect(opts.endpoint);
    inbox.connect(internal);
    inbox.subscribe();
    proxy = new zmq.Proxy(front, back);
    proxyDone = proxy.run().catch((err) => log("error", "upstream", `proxy: ${errorMessage(err)}`));
  } catch (err) {
    closeAll();
    throw new Error(`cannot follow upstream ${opts.endpoint}: ${errorMessage(err)}`);
  }

  const stats: UpstreamStats = {
    messages: 0,
    points: 0,
    gaps: 0,
    missedPoints: 0,
    malformed: 0,
    outOfOrder: 0,
    epochChanges: 0,
    lastSeq: 0,
  };
  const rateLog = new RateLimitedLog(5000);
  let current: { pub: zmq.Publisher; gen: UpstreamGeneration } | undefined;
  const retired = new Set<zmq.Publisher>();
  const retireTimers = new Set<ReturnType<typeof setTimeout>>();
  const END = ["", "", ""];

  const newGeneration = async (epoch: string, lastSeq: number) => {
    const pub = new zmq.Publisher({ sendHighWaterMark: 100000, noDrop: true });
    const gen: UpstreamGeneration = {
      bus: `inproc://zws-upstream-bus-${crypto.randomUUID()}`,
      epoch,
      lastSeq,
    };
    await pub.bind(gen.bus);
    const previous = current;
    if (previous) {
      stats.epochChanges++;
      log(
        "warn",
        "upstream",
        `epoch changed ${previous.gen.epoch} -> ${epoch} (the forwarder restarted without its ` +
          `state): clients start over`,
      );
      // End the old bridge's loop; close the old bus later, once that loop has read it.
      await previous.pub.send(END).catch(() => {});
      retired.add(previous.pub);
      const timer = setTimeout(() => {
        retireTimers.delete(timer);
        retired.delete(previous.pub);
        previous.pub.close();
      }, 2000);
      retireTimers.add(timer);
    } else {
      log("info", "upstream", `following epoch ${epoch} from seq ${lastSeq + 1}`);
    }
    current = { pub, gen };
    opts.onGeneration(gen, previous?.gen);
  };

  const malformed = (detail: string) => {
    stats.malformed++;
    rateLog.log("warn", "upstream", "malformed", `dropped upstream message: ${detail}`);
  };

  const decoder = new TextDecoder();
  const follow = (async () => {
    for await (const frames of inbox) {
      if (isStopMessage(frames, stopToken)) break;
      stats.messages++;
      // The forwarder's end-of-stream: it is stopping. It will come back; keep following.
      if (frames.length === 3 && frames[1].length === 0) {
        log("info", "upstream", `upstream ${opts.endpoint} is stopping`);
        continue;
      }
      if (frames.length !== 4) {
        malformed(`${frames.length} frames (expected [series, seq, pointJson, epoch])`);
        continue;
      }
      const seqText = decoder.decode(frames[1]);
      const epoch = decoder.decode(frames[3]);
      if (!SEQ.test(seqText) || !EPOCH.test(epoch)) {
        malformed(`bad seq or epoch frame (${JSON.stringify(seqText.slice(0, 20))})`);
        continue;
      }
      const seq = Number(seqText);
      if (!current || current.gen.epoch !== epoch) {
        await newGeneration(epoch, seq - 1);
      } else if (seq <= stats.lastSeq) {
        stats.outOfOrder++;
        rateLog.log("warn", "upstream", "order", `dropped seq ${seq}: not after ${stats.lastSeq}`);
        continue;
      } else if (seq > stats.lastSeq + 1) {
        stats.gaps++;
        stats.missedPoints += seq - stats.lastSeq - 1;
        rateLog.log(
          "warn",
          "upstream",
          "gap",
          `missed seq ${stats.lastSeq + 1}..${seq - 1} from upstream (clients resuming from ` +
            `before it get a reset)`,
        );
      }
      stats.lastSeq = seq;
      stats.points++;
      await current!.pub.send([frames[0], frames[1], frames[2]]);
    }
  })().catch((err) => {
    if (!inbox.closed) log("error", "upstream", `receive loop ended: ${errorMessage(err)}`);
  });

  let closing: Promise<void> | undefined;
  return {
    endpoint: opts.endpoint,
    health: () => ({ ...link.state(), epoch: current?.gen.epoch ?? null, lastSeq: stats.lastSeq }),
    stats: () => ({ ...stats, link: link.state() }),
    close() {
      closing ??= (async () => {
        // Our loop first, then the bridge's (end-of-stream on the bus), then the sockets: never
        // close a socket with a receive pending on it.
        await endReceiveLoop(control, stopToken, follow);
        if (current) await current.pub.send(END).catch(() => {});
        proxy.terminate();
        await proxyDone;
        closeAll();
        for (const t of retireTimers) clearTimeout(t);
        retireTimers.clear();
        for (const p of retired) p.close();
        retired.clear();
        current?.pub.close();
        await Promise.race([link.done, new Promise((r) => setTimeout(r, 500))]);
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
