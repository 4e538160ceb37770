/**
 * A forwarder's `/metrics` (`zws_forwarder_*`) in the Prometheus text format. Pure.
 *
 * @module
 */
import { REJECT_REASONS } from "../protocol/ingress.ts";
import type { RelayStats } from "../relay/worker_messages.ts";
import { storeMetrics, writerInto } from "./prometheus.ts";

/** What a forwarder's `/metrics` shows. */
export interface ForwarderMetrics {
  /** The sequencer's counters (root forwarder only). */
  relay?: RelayStats;
  /** Connections on the egress now, and accepted since start. */
  gatewaysConnected: number;
  gatewayConnectionsTotal: number;
  /** Link to the parent forwarder (chained forwarder only). */
  upstreamConnected?: boolean;
  /** Restarts of the forwarder's own loops (absent: 0). */
  loopRestarts?: { proxy: number; monitor: number };
  /** Seconds since start. */
  uptimeSeconds: number;
}

/** Renders a forwarder's counters in the Prometheus text format (version 0.0.4). */
export function renderForwarderMetrics(m: ForwarderMetrics): string {
  const out: string[] = [];
  const metric = writerInto(out);
  if (m.relay) {
    metric("zws_forwarder_messages_in_total", "counter", "Producer messages received.", [[
      "",
      m.relay.messages,
    ]]);
    metric(
      "zws_forwarder_points_in_total",
      "counter",
      "Producer points accepted (valid) and sequenced.",
      [["", m.relay.points]],
    );
    metric(
      "zws_forwarder_rejected_total",
      "counter",
      "Producer messages or points dropped, by reason.",
      REJECT_REASONS.map((r) => [`{reason="${r}"}`, m.relay!.rejected[r] ?? 0]),
    );
    metric(
      "zws_forwarder_points_out_total",
      "counter",
      "Points published on the egress (each subscribed gateway gets each once).",
      [["", m.relay.points]],
    );
    metric("zws_forwarder_last_seq", "gauge", "Last sequence number assigned.", [[
      "",
      m.relay.lastSeq,
    ]]);
    storeMetrics(metric, m.relay.persist);
  }
  metric(
    "zws_forwarder_gateways_connected",
    "gauge",
    "Connections on the egress now (gateways and chained forwarders).",
    [["", m.gatewaysConnected]],
  );
  metric(
    "zws_forwarder_gateway_connections_total",
    "counter",
    "Connections accepted on the egress since start.",
    [["", m.gatewayConnectionsTotal]],
  );
  if (m.upstreamConnected !== undefined) {
    metric(
      "zws_forwarder_upstream_connected",
      "gauge",
      "1 while the link to the parent forwarder is up.",
      [["", m.upstreamConnected ? 1 : 0]],
    );
  }
  metric(
    "zws_forwarder_loop_restarts_total",
    "counter",
    "Times one of the forwarder's loops ended and was restarted, by loop.",
    [
      [`{loop="relay"}`, m.relay?.loopRestarts ?? 0],
      [`{loop="egress_proxy"}`, m.loopRestarts?.proxy ?? 0],
      [`{loop="monitor"}`, m.loopRestarts?.monitor ?? 0],
    ],
  );
  metric("zws_uptime_seconds", "gauge", "Seconds since the forwarder started.", [[
    "",
    m.uptimeSeconds,
  ]]);
  return out.join("\n") + "\n";
}
