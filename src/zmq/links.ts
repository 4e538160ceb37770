/**
 * Connection state of ZeroMQ sockets from their monitor events: whether a gateway's (or chained
 * forwarder's) upstream is connected, and how many peers are connected to a forwarder's egress.
 *
 * Each watcher reads `socket.events` (an inproc monitor socket, so a JavaScript receive there is
 * safe under Deno). It must start before the socket is handed to a native `zmq.Proxy`: the monitor
 * is set up on first access, from this thread. Its loop ends by itself with the monitor's "end"
 * event when the socket is closed, so no receive is left pending on a closed socket.
 *
 * @module
 */
import type * as zmq from "zeromq";
import { errorMessage, log, RateLimitedLog } from "../runtime/log.ts";
import { faults, superviseLoop } from "../runtime/loop.ts";

/** Where a connecting socket stands with its upstream. */
export interface LinkState {
  /** The endpoint it connects to. */
  endpoint: string;
  /** True between a completed ZeroMQ handshake and the next disconnect. */
  connected: boolean;
  /** When `connected` last changed (or the watch started), in ms since the Unix epoch. */
  since: number;
  /** Handshakes completed (first connect and reconnects). */
  connects: number;
  /** Connections lost. */
  disconnects: number;
}

/** A running watch of one socket's monitor events. */
export interface LinkWatch<T> {
  /** The current state (a copy). */
  state(): T;
  /** Settles when the monitor ends (the socket was closed). */
  done: Promise<void>;
}

/**
 * Reads a socket's monitor events into `handle` until the monitor closes (its socket was closed).
 * Supervised: an exception (or the fault point `<scope>.monitor`, for tests) never ends it; it is
 * logged, counted through `onRestart` and started again within 100 ms.
 */
function monitorLoop(
  events: zmq.Observer,
  handle: (ev: zmq.Event) => void,
  scope: string,
  name: string,
  onRestart?: () => void,
): Promise<void> {
  let ended = false;
  const once = async () => {
    while (!events.closed && !ended) {
      const fault = faults.check(`${scope}.monitor`);
      if (fault) await fault;
      const ev = await events.receive();
      if (ev.type === "end") ended = true;
      else handle(ev);
    }
  };
  return superviseLoop(once, {
    component: scope,
    name,
    stopped: () => ended || events.closed,
    onRestart: () => onRestart?.(),
  }).done;
}

/** Ignores the inproc endpoints a socket also binds (control, bus): only the network counts. */
function isNetwork(ev: zmq.Event): boolean {
  return !("address" in ev) || !ev.address.startsWith("inproc://");
}

/**
 * Watches a socket that connects to `endpoint`: connected after each handshake, disconnected on
 * each disconnect. Logs one line when the link is lost and one when it is back (ZeroMQ reconnects
 * by itself; the retries in between are not logged).
 */
export function watchUpstream(
  socket: zmq.Socket,
  endpoint: string,
  scope: string,
  onRestart?: () => void,
): LinkWatch<LinkState> {
  const state: LinkState = {
    endpoint,
    connected: false,
    since: Date.now(),
    connects: 0,
    disconnects: 0,
  };
  const rateLog = new RateLimitedLog(10_000);
  const events = socket.events;
  const handle = (ev: zmq.Event) => {
    if (!isNetwork(ev)) return;
    if (ev.type === "handshake") {
      state.connects++;
      state.connected = true;
      state.since = Date.now();
      log(
        "info",
        scope,
        `upstream ${endpoint} ${state.connects > 1 ? "reconnected" : "connected"}`,
      );
    } else if (ev.type === "disconnect" && state.connected) {
      state.disconnects++;
      state.connected = false;
      state.since = Date.now();
      log("warn", scope, `upstream ${endpoint} lost; reconnecting`);
    } else if (ev.type.startsWith("handshake:error")) {
      const why = "error" in ev ? errorMessage(ev.error) : ev.type;
      rateLog.log("warn", scope, ev.type, `handshake with upstream ${endpoint} failed: ${why}`);
    }
  };
  const done = monitorLoop(events, handle, scope, "upstream monitor", onRestart);
  return { state: () => ({ ...state }), done };
}

/** Peers connected to a bound socket. */
export interface PeerState {
  /** TCP connections open now (gateways, chained forwarders). */
  connected: number;
  /** Connections accepted since start. */
  accepted: number;
  /** ZeroMQ handshakes completed since start (a peer's subscriptions follow its handshake). */
  handshakes: number;
}

/**
 * Counts the connections on a bound socket: every accepted connection ends with exactly one
 * disconnect event (whether or not its handshake completed), so open = accepted - disconnected.
 */
export function watchPeers(socket: zmq.Socket, onRestart?: () => void): LinkWatch<PeerState> {
  const state: PeerState = { connected: 0, accepted: 0, handshakes: 0 };
  const events = socket.events;
  const handle = (ev: zmq.Event) => {
    if (!isNetwork(ev)) return;
    if (ev.type === "accept") {
      state.accepted++;
      state.connected++;
    } else if (ev.type === "handshake") {
      state.handshakes++;
    } else if (ev.type === "disconnect") {
      state.connected = Math.max(0, state.connected - 1);
    }
  };
  const done = monitorLoop(events, handle, "forwarder", "egress monitor", onRestart);
  return { state: () => ({ ...state }), done };
}
