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
  const done = (async () => {
    for await (const ev of events) {
      if (!isNetwork(ev)) continue;
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
    }
  })().catch((err) => log("error", scope, `upstream monitor ended: ${errorMessage(err)}`));
  return { state: () => ({ ...state }), done };
}

/** Peers connected to a bound socket. */
export interface PeerState {
  /** TCP connections open now (gateways, chained forwarders). */
  connected: number;
  /** Connections accepted since start. */
  accepted: number;
}

/**
 * Counts the connections on a bound socket: every accepted connection ends with exactly one
 * disconnect event (whether or not its handshake completed), so open = accepted - disconnected.
 */
export function watchPeers(socket: zmq.Socket): LinkWatch<PeerState> {
  const state: PeerState = { connected: 0, accepted: 0 };
  const events = socket.events;
  const done = (async () => {
    for await (const ev of events) {
      if (!isNetwork(ev)) continue;
      if (ev.type === "accept") {
        state.accepted++;
        state.connected++;
      } else if (ev.type === "disconnect") {
        state.connected = Math.max(0, state.connected - 1);
      }
    }
  })().catch((err) => log("error", "forwarder", `egress monitor ended: ${errorMessage(err)}`));
  return { state: () => ({ ...state }), done };
}
