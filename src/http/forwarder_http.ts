/**
 * A forwarder's HTTP side: `/healthz` (JSON: role, link states, the store) and `/metrics`
 * (`forwarder_metrics.ts`). Nothing else: a forwarder serves no page. Pure but for the clock.
 *
 * @module
 */
import type { RelayStats } from "../relay/worker_messages.ts";
import type { LinkState, PeerState } from "../zmq/links.ts";
import type { ForwardPathRestarts } from "../zmq/forward_path.ts";
import { SERVER_INFO } from "../protocol/frames.ts";
import { persistHealth } from "../store/status.ts";
import { renderForwarderMetrics } from "./forwarder_metrics.ts";
import {
  jsonResponse,
  methodNotAllowed,
  METRICS_CONTENT_TYPE,
  SECURITY_HEADERS,
} from "./headers.ts";

/** Counters and state of a forwarder. */
export interface ForwarderStats {
  /** "root" validates and sequences; "chained" passes on a parent's stream. */
  role: "root" | "chained";
  /** The sequencer's counters (root). */
  relay?: RelayStats;
  /** Connections on the egress. */
  peers: PeerState;
  /** Link to the parent (chained). */
  upstream?: LinkState;
  /** Restarts of the forwarder's own loops (egress proxy, monitors). */
  restarts: ForwardPathRestarts;
}

/** What the handler reads of a running forwarder. */
export interface ForwarderView {
  stats(): ForwarderStats;
  /** The relay's ingress and epoch (root). */
  relay?: { ingress: string; epoch: string };
  /** The egress bound. */
  egress: string;
  /** `performance.now()` at start. */
  startedAt: number;
}

/** The request handler of a forwarder's `/healthz` and `/metrics`. */
export function createForwarderHandler(f: ForwarderView): (req: Request) => Response {
  const uptime = () => Math.round((performance.now() - f.startedAt) / 100) / 10;
  return (req) => {
    const url = new URL(req.url);
    if (req.method !== "GET" && req.method !== "HEAD") return methodNotAllowed();
    const s = f.stats();
    if (url.pathname === "/healthz") {
      return jsonResponse({
        status: "ok",
        role: s.role,
        server: SERVER_INFO,
        uptime: uptime(),
        ...(f.relay
          ? { ingress: f.relay.ingress, epoch: f.relay.epoch, lastSeq: s.relay!.lastSeq }
          : {}),
        ...(s.relay?.persist ? { persist: persistHealth(s.relay.persist) } : {}),
        egress: f.egress,
        gateways: s.peers.connected,
        ...(s.upstream
          ? { upstream: { ...s.upstream, since: new Date(s.upstream.since).toISOString() } }
          : {}),
      });
    }
    if (url.pathname === "/metrics") {
      const body = renderForwarderMetrics({
        relay: s.relay,
        gatewaysConnected: s.peers.connected,
        gatewayConnectionsTotal: s.peers.accepted,
        upstreamConnected: s.upstream?.connected,
        loopRestarts: s.restarts,
        uptimeSeconds: uptime(),
      });
      return new Response(body, {
        headers: { ...SECURITY_HEADERS, "Content-Type": METRICS_CONTENT_TYPE },
      });
    }
    return new Response("not found\n", { status: 404, headers: SECURITY_HEADERS });
  };
}
