/**
 * Prometheus text exposition of the server's counters (`/metrics`; their shape is in
 * `metrics_snapshot.ts`); a forwarder's are in `forwarder_metrics.ts`. Pure: no I/O.
 *
 * @module
 */
import { REJECT_REASONS } from "../protocol/ingress.ts";
import { ROUND_MS } from "../hub/slow_clients.ts";
import { AUTH_FAILURE_REASONS } from "./auth.ts";
import { storeMetrics, writerInto } from "./prometheus.ts";
import { frontMetrics, plainIngressMetrics } from "./front_metrics.ts";
import { type MetricsSnapshot, WS_REJECT_REASONS } from "./metrics_snapshot.ts";

/** Renders a snapshot in the Prometheus text format (version 0.0.4). */
export function renderMetrics(m: MetricsSnapshot): string {
  const out: string[] = [];
  const metric = writerInto(out);
  metric("zws_clients", "gauge", "Clients connected now (WebSocket and SSE).", [[
    "",
    m.bridge.clients,
  ]]);
  metric("zws_sse_clients", "gauge", "Server-Sent Events clients connected now.", [[
    "",
    m.bridge.sseClients,
  ]]);
  metric("zws_ws_connections_total", "counter", "Connections accepted (WebSocket and SSE).", [[
    "",
    m.bridge.connectionsTotal,
  ]]);
  frontMetrics(metric, m.front);
  metric(
    "zws_ws_rejected_total",
    "counter",
    "WebSocket upgrades refused, by reason.",
    WS_REJECT_REASONS.map((r) => [`{reason="${r}"}`, m.server.wsRejected[r] ?? 0]),
  );
  metric(
    "zws_auth_failures_total",
    "counter",
    "Requests refused for their token (any endpoint), by reason.",
    AUTH_FAILURE_REASONS.map((r) => [`{reason="${r}"}`, m.server.authFailures?.[r] ?? 0]),
  );
  metric(
    "zws_ws_closed_total",
    "counter",
    "WebSocket connections closed by the server for a limit or an expired token, by reason.",
    [
      // The front cuts a message over the limit before Deno holds it; the hub, one that got past.
      [
        `{reason="message_too_big"}`,
        m.bridge.clientsClosedTooBig + (m.front?.closed.ws_message_too_big ?? 0),
      ],
      [`{reason="token_expired"}`, m.bridge.clientsClosedTokenExpired],
    ],
  );
  metric(
    "zws_sse_rejected_total",
    "counter",
    "Event streams (/events) refused, by reason.",
    WS_REJECT_REASONS.map((r) => [`{reason="${r}"}`, m.server.sseRejected?.[r] ?? 0]),
  );
  metric(
    "zws_history_rejected_total",
    "counter",
    "History requests (/api/history) refused, by reason.",
    WS_REJECT_REASONS.map((r) => [`{reason="${r}"}`, m.server.historyRejected?.[r] ?? 0]),
  );
  metric("zws_history_requests_total", "counter", "History requests answered.", [[
    "",
    m.server.historyRequests ?? 0,
  ]]);
  metric("zws_ingress_messages_total", "counter", "Producer messages received.", [[
    "",
    m.relay.messages,
  ]]);
  metric("zws_ingress_points_total", "counter", "Producer points accepted.", [[
    "",
    m.relay.points,
  ]]);
  metric(
    "zws_ingress_rejected_total",
    "counter",
    "Producer messages or points dropped, by reason.",
    REJECT_REASONS.map((r) => [`{reason="${r}"}`, m.relay.rejected[r] ?? 0]),
  );
  metric(
    "zws_ingress_producers_refused_total",
    "counter",
    "Producer connections refused by the CURVE allow-list.",
    [["", m.relay.producersRefused ?? 0]],
  );
  plainIngressMetrics(metric, m.relay.ingress);
  metric("zws_last_seq", "gauge", "Last sequence number assigned by the relay.", [[
    "",
    m.relay.lastSeq,
  ]]);
  storeMetrics(metric, m.relay.persist);
  metric("zws_points_received_total", "counter", "Points received by the bridge.", [[
    "",
    m.bridge.pointsReceived,
  ]]);
  metric("zws_points_sent_total", "counter", "Points sent to clients, summed over clients.", [[
    "",
    m.bridge.pointsSent,
  ]]);
  metric("zws_frames_sent_total", "counter", "WebSocket frames sent, summed over clients.", [[
    "",
    m.bridge.framesSent,
  ]]);
  metric(
    "zws_points_dropped_total",
    "counter",
    "Points not sent to a client, by reason.",
    [[`{reason="slow_client"}`, m.bridge.pointsDroppedSlow]],
  );
  metric("zws_slow_clients", "gauge", "Clients held back now (buffer over the bound).", [[
    "",
    m.bridge.slowClients,
  ]]);
  metric(
    "zws_slow_clients_closed_total",
    "counter",
    "Clients closed (code 4008) for staying over the buffer bound too long.",
    [["", m.bridge.slowClientsClosed]],
  );
  metric(
    "zws_clients_queued_bytes",
    "gauge",
    "Bytes queued to all clients together and not yet sent (at the last batch).",
    [["", m.bridge.queuedBytes ?? 0]],
  );
  metric(
    "zws_clients_queued_bytes_max",
    "gauge",
    "Highest zws_clients_queued_bytes since start.",
    [["", m.bridge.queuedBytesMax ?? 0]],
  );
  metric(
    "zws_clients_buffer_budget_bytes",
    "gauge",
    "Budget for the bytes queued to all clients together (--clients-buffer-budget).",
    [["", m.bridge.clientsBufferBudget ?? 0]],
  );
  metric(
    "zws_clients_held_budget_total",
    "counter",
    "Clients within their own bound held back for the budget: all clients were over it, or one " +
      `round of sends reached it (in bytes, or in ${ROUND_MS} ms).`,
    [["", m.bridge.heldForBudget ?? 0]],
  );
  metric("zws_client_resumes_total", "counter", "Connections by how their history started.", [
    [`{result="exact"}`, m.bridge.resumesExact],
    [`{result="reset"}`, m.bridge.resumesReset],
  ]);
  metric(
    "zws_seq_gaps_total",
    "counter",
    "Jumps in seq received (points missed upstream); clients got a reset snapshot past each.",
    [["", m.bridge.seqGaps]],
  );
  metric("zws_history_points", "gauge", "Points held for new and returning clients.", [[
    "",
    m.bridge.historyPoints,
  ]]);
  metric(
    "zws_decimated_clients",
    "gauge",
    "Clients receiving a decimated stream (min/max per bucket at a rate they asked).",
    [["", m.bridge.decimatedClients ?? 0]],
  );
  metric(
    "zws_decimated_streams",
    "gauge",
    "Min/max streams built now, one per series and rate, shared by the clients at that rate.",
    [["", m.bridge.decimatedStreams ?? 0]],
  );
  metric("zws_client_protocol_errors_total", "counter", "Clients closed for bad messages.", [[
    "",
    // Floods behind the front are closed by the front (1008); the hub closes the rest.
    m.bridge.clientProtocolErrors + (m.front?.closed.ws_message_flood ?? 0),
  ]]);
  metric("zws_relay_restarts_total", "counter", "Relay worker restarts after a crash.", [[
    "",
    m.server.relayRestarts,
  ]]);
  metric(
    "zws_loop_restarts_total",
    "counter",
    "Data-path loops that ended and were restarted by their owner, by stage.",
    [
      [`{stage="relay"}`, m.relay.loopRestarts ?? 0],
      [`{stage="bridge"}`, m.bridge.loopRestarts ?? 0],
    ],
  );
  metric("zws_ingress_pending_points", "gauge", "Validated points waiting for the bus.", [[
    "",
    m.relay.pending ?? 0,
  ]]);
  metric("zws_bus_wait_seconds_total", "counter", "Time the relay waited on a full bus.", [[
    "",
    (m.relay.busWaitMs ?? 0) / 1000,
  ]]);
  metric("zws_bus_batches_total", "counter", "Bus batches received by the bridge.", [[
    "",
    m.bridge.busBatches ?? 0,
  ]]);
  metric("zws_bus_invalid_total", "counter", "Malformed bus messages dropped by the bridge.", [[
    "",
    m.bridge.busInvalid ?? 0,
  ]]);
  metric("zws_bus_gap_points_total", "counter", "Seqs missing between bus batches (expected 0).", [[
    "",
    m.bridge.busGaps ?? 0,
  ]]);
  metric("zws_uptime_seconds", "gauge", "Seconds since the server started.", [[
    "",
    m.server.uptimeSeconds,
  ]]);
  const mem = m.server.memory;
  if (mem) {
    metric("zws_process_resident_bytes", "gauge", "Resident memory of the process.", [[
      "",
      mem.rss,
    ]]);
    metric("zws_process_heap_bytes", "gauge", "V8 heap of the main thread: used, total.", [
      [`{kind="used"}`, mem.heapUsed],
      [`{kind="total"}`, mem.heapTotal],
    ]);
    metric(
      "zws_process_external_bytes",
      "gauge",
      "Buffers held by the main thread's JavaScript outside V8's heap.",
      [["", mem.external]],
    );
  }
  const up = m.upstream;
  if (up) {
    metric("zws_upstream_connected", "gauge", "1 while the link to the forwarder is up.", [[
      "",
      up.connected ? 1 : 0,
    ]]);
    metric("zws_upstream_connects_total", "counter", "Handshakes with the forwarder.", [[
      "",
      up.connects,
    ]]);
    metric("zws_upstream_disconnects_total", "counter", "Links to the forwarder lost.", [[
      "",
      up.disconnects,
    ]]);
    metric(
      "zws_upstream_epoch_changes_total",
      "counter",
      "Epoch changes seen (forwarder restarts without its state file).",
      [["", up.epochChanges]],
    );
    metric(
      "zws_upstream_link_restarts_total",
      "counter",
      "Times a loop of the link to the forwarder ended and was restarted, by loop.",
      [
        [`{loop="proxy"}`, up.linkRestarts?.proxy ?? 0],
        [`{loop="monitor"}`, up.linkRestarts?.monitor ?? 0],
      ],
    );
  }
  return out.join("\n") + "\n";
}
