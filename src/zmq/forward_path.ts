/**
 * A forwarder's native path to its gateways: an XSubscriber connected to the source (the relay's
 * inproc bus on a root forwarder, the parent's egress on a chained one) <-> an XPublisher bound on
 * the egress, joined by a native `zmq.Proxy` (no JavaScript per message).
 *
 * The path owns its proxy: if the proxy ends while the path is not closing, the path is rebuilt
 * (new sockets, the same egress endpoint, rebound) within about {@link RESTART_DELAY_MS}, and the
 * restart is counted. Gateways reconnect by themselves; what they missed meanwhile is a jump in
 * seq, which their bridge turns into a reset snapshot. (A zeromq.js socket cannot be handed to a
 * second proxy: that crashes the process; hence new sockets.)
 *
 * @module
 */
import * as zmq from "zeromq";
import { errorMessage, log } from "../runtime/log.ts";
import {
  type LinkState,
  type LinkWatch,
  type PeerState,
  watchPeers,
  watchUpstream,
} from "./links.ts";

/** How long after an unexpected end of the proxy the path is rebuilt. */
const RESTART_DELAY_MS = 100;

/** Options of {@link openForwardPath}. */
export interface ForwardPathOptions {
  /** Where the XSubscriber connects: an inproc bus (root) or a parent's egress (chained). */
  source: string;
  /** Whether `source` is a parent forwarder (its link is watched and reported). */
  chained: boolean;
  /** Egress endpoint to bind, e.g. `tcp://127.0.0.1:5001` (a `*` port is resolved once). */
  egress: string;
}

/** Restarts of the path's loops, for `/metrics`. */
export interface ForwardPathRestarts {
  /** The native proxy ended unexpectedly and the path was rebuilt. */
  proxy: number;
  /** A monitor loop (egress peers, upstream link) failed and was started again. */
  monitor: number;
}

/** A running path; {@link openForwardPath} makes one. */
export interface ForwardPath {
  /** The egress actually bound. */
  readonly egress: string;
  /** Connections on the egress (counters summed over rebuilds). */
  peers(): PeerState;
  /** The link to the parent (chained only; counters summed over rebuilds). */
  upstream(): LinkState | undefined;
  /** Restarts so far (a copy). */
  restarts(): ForwardPathRestarts;
  /** Tests only: ends the native proxy as a failure would (the path rebuilds itself). */
  injectFault(): void;
  /** Stops the proxy and closes the sockets; waits (at most 500 ms) for the monitors to end. */
  close(): Promise<void>;
}

interface Generation {
  front: zmq.XSubscriber;
  pub: zmq.XPublisher;
  proxy: zmq.Proxy;
  proxyDone: Promise<void>;
  peers: LinkWatch<PeerState>;
  link?: LinkWatch<LinkState>;
}

async function openGeneration(
  opts: ForwardPathOptions,
  egress: string,
  onMonitorRestart: () => void,
): Promise<Generation> {
  const front = new zmq.XSubscriber({
    receiveHighWaterMark: 100000,
    heartbeatInterval: 1000,
    heartbeatTimeout: 3000,
    reconnectInterval: 100,
    reconnectMaxInterval: 2000,
  });
  // Drops for a gateway that falls this far behind (it sees a gap) instead of holding up the rest.
  const pub = new zmq.XPublisher({
    sendHighWaterMark: 100000,
    heartbeatInterval: 1000,
    heartbeatTimeout: 3000,
    linger: 1000,
  });
  // Before the proxy owns the sockets: monitors are set up from this thread.
  const link = opts.chained
    ? watchUpstream(front, opts.source, "forwarder", onMonitorRestart)
    : undefined;
  const peers = watchPeers(pub, onMonitorRestart);
  try {
    await pub.bind(egress);
  } catch (err) {
    pub.close();
    front.close();
    throw new Error(`cannot bind egress ${egress}: ${errorMessage(err)}`);
  }
  front.connect(opts.source);
  const proxy = new zmq.Proxy(front, pub);
  const proxyDone = proxy.run().catch((err) =>
    log("error", "forwarder", `egress proxy: ${errorMessage(err)}`)
  );
  return { front, pub, proxy, proxyDone, peers, link };
}

/** Binds the egress and starts the proxy; throws with the endpoint when it cannot bind. */
export async function openForwardPath(opts: ForwardPathOptions): Promise<ForwardPath> {
  const restarts: ForwardPathRestarts = { proxy: 0, monitor: 0 };
  const onMonitorRestart = () => restarts.monitor++;
  let gen = await openGeneration(opts, opts.egress, onMonitorRestart);
  const egress = gen.pub.lastEndpoint ?? opts.egress;
  let closing = false;
  const carriedPeers = { accepted: 0, handshakes: 0 };
  const carriedLink = { connects: 0, disconnects: 0 };
  const closeSockets = (g: Generation) => [g.front, g.pub].forEach((s) => s.closed || s.close());

  const supervise = (g: Generation): Promise<void> =>
    g.proxyDone.then(async () => {
      if (closing) return;
      restarts.proxy++;
      log(
        "error",
        "forwarder",
        `egress proxy ended unexpectedly; rebuilding it (${restarts.proxy})`,
      );
      const p = g.peers.state();
      carriedPeers.accepted += p.accepted;
      carriedPeers.handshakes += p.handshakes;
      const l = g.link?.state();
      if (l) {
        carriedLink.connects += l.connects;
        carriedLink.disconnects += l.disconnects + (l.connected ? 1 : 0);
      }
      // linger unchanged: setting an option on a socket a proxy has used crashed the process
      closeSockets(g);
      await new Promise((r) => setTimeout(r, RESTART_DELAY_MS));
      while (!closing) {
        try {
          gen = await openGeneration(opts, egress, onMonitorRestart);
          break;
        } catch (err) {
          // The old socket may still hold the port for a moment.
          log("warn", "forwarder", errorMessage(err));
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      if (!closing) supervised = supervise(gen);
      else closeSockets(gen);
    });
  let supervised = supervise(gen);

  return {
    egress,
    peers: () => {
      const p = gen.peers.state();
      return {
        connected: p.connected,
        accepted: p.accepted + carriedPeers.accepted,
        handshakes: p.handshakes + carriedPeers.handshakes,
      };
    },
    upstream: () => {
      const l = gen.link?.state();
      if (!l) return undefined;
      return {
        ...l,
        connects: l.connects + carriedLink.connects,
        disconnects: l.disconnects + carriedLink.disconnects,
      };
    },
    restarts: () => ({ ...restarts }),
    injectFault: () => gen.proxy.terminate(),
    async close() {
      closing = true;
      const g = gen;
      try {
        g.proxy.terminate();
      } catch { /* already ended */ }
      await g.proxyDone;
      await supervised;
      closeSockets(g);
      await Promise.race([
        Promise.all([g.peers.done, g.link?.done]),
        new Promise((r) => setTimeout(r, 500)),
      ]);
    },
  };
}
