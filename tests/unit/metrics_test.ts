import assert from "node:assert/strict";
import type { MetricsSnapshot } from "../../src/http/metrics_snapshot.ts";
import { renderForwarderMetrics } from "../../src/http/forwarder_metrics.ts";
import { renderMetrics } from "../../src/http/metrics.ts";
import { REJECT_REASONS } from "../../src/protocol/ingress.ts";

function snapshot(): MetricsSnapshot {
  return {
    relay: {
      messages: 101,
      points: 202,
      rejected: { oversize: 3, invalid_json: 4, invalid_series: 5 },
      lastSeq: 9007,
      producersRefused: 23,
    },
    bridge: {
      clients: 7,
      connectionsTotal: 11,
      pointsSent: 1234,
      framesSent: 56,
      pointsReceived: 202,
      pointsDroppedSlow: 8,
      clientProtocolErrors: 2,
      slowClients: 0,
      slowClientsClosed: 0,
      resumesExact: 0,
      resumesReset: 0,
      historyPoints: 0,
      clientsClosedTooBig: 21,
      clientsClosedTokenExpired: 22,
      framesBuilt: 60,
      seqGaps: 2,
      sseClients: 3,
      queuedBytes: 61,
      queuedBytesMax: 62,
      clientsBufferBudget: 63,
      heldForBudget: 64,
      decimatedClients: 65,
      decimatedStreams: 66,
    },
    server: {
      wsRejected: { origin: 13, capacity: 14, ip_capacity: 15, rate: 16, unauthorized: 17 },
      sseRejected: { origin: 24, capacity: 25 },
      historyRejected: { rate: 26, unauthorized: 27 },
      historyRequests: 28,
      authFailures: { missing: 18, invalid: 19, expired: 20 },
      relayRestarts: 1,
      uptimeSeconds: 12.3,
      memory: { rss: 501, heapUsed: 502, heapTotal: 503, external: 504 },
    },
  };
}

/** Every metric's HELP, TYPE and samples, in order of appearance. */
interface Family {
  help: string;
  type: string;
  samples: Map<string, number>;
}

function parseExposition(text: string): Map<string, Family> {
  assert(text.endsWith("\n"), "ends with a newline");
  const families = new Map<string, Family>();
  let current: { name: string; family: Family } | undefined;
  for (const line of text.slice(0, -1).split("\n")) {
    let m: RegExpExecArray | null;
    if ((m = /^# HELP ([a-z_]+) (.+)$/.exec(line))) {
      assert(!families.has(m[1]), `${m[1]} appears once`);
      current = { name: m[1], family: { help: m[2], type: "", samples: new Map() } };
      families.set(m[1], current.family);
    } else if ((m = /^# TYPE ([a-z_]+) (counter|gauge)$/.exec(line))) {
      assert.equal(m[1], current?.name, "TYPE follows its HELP");
      assert.equal(current!.family.type, "", "one TYPE line");
      current!.family.type = m[2];
    } else if ((m = /^([a-z_]+)((?:\{[a-z]+="[a-z0-9_]+"\})?) (-?[0-9.e+]+)$/.exec(line))) {
      assert.equal(m[1], current?.name, `sample ${line} belongs to the preceding HELP`);
      assert.notEqual(current!.family.type, "", "TYPE before samples");
      assert(!current!.family.samples.has(m[2]), `duplicate sample ${line}`);
      current!.family.samples.set(m[2], Number(m[3]));
    } else {
      assert.fail(`not a valid exposition line: ${JSON.stringify(line)}`);
    }
  }
  return families;
}

const EXPECTED: Array<[string, string]> = [
  ["zws_clients", "gauge"],
  ["zws_sse_clients", "gauge"],
  ["zws_ws_connections_total", "counter"],
  ["zws_ws_rejected_total", "counter"],
  ["zws_auth_failures_total", "counter"],
  ["zws_ws_closed_total", "counter"],
  ["zws_sse_rejected_total", "counter"],
  ["zws_history_rejected_total", "counter"],
  ["zws_history_requests_total", "counter"],
  ["zws_ingress_messages_total", "counter"],
  ["zws_ingress_points_total", "counter"],
  ["zws_ingress_rejected_total", "counter"],
  ["zws_ingress_producers_refused_total", "counter"],
  ["zws_producer_connections", "gauge"],
  ["zws_producer_connections_dropped_total", "counter"],
  ["zws_last_seq", "gauge"],
  ["zws_points_received_total", "counter"],
  ["zws_points_sent_total", "counter"],
  ["zws_frames_sent_total", "counter"],
  ["zws_points_dropped_total", "counter"],
  ["zws_slow_clients", "gauge"],
  ["zws_slow_clients_closed_total", "counter"],
  ["zws_clients_queued_bytes", "gauge"],
  ["zws_clients_queued_bytes_max", "gauge"],
  ["zws_clients_buffer_budget_bytes", "gauge"],
  ["zws_clients_held_budget_total", "counter"],
  ["zws_client_resumes_total", "counter"],
  ["zws_seq_gaps_total", "counter"],
  ["zws_history_points", "gauge"],
  ["zws_decimated_clients", "gauge"],
  ["zws_decimated_streams", "gauge"],
  ["zws_client_protocol_errors_total", "counter"],
  ["zws_relay_restarts_total", "counter"],
  ["zws_loop_restarts_total", "counter"],
  ["zws_ingress_pending_points", "gauge"],
  ["zws_bus_wait_seconds_total", "counter"],
  ["zws_bus_batches_total", "counter"],
  ["zws_bus_invalid_total", "counter"],
  ["zws_bus_gap_points_total", "counter"],
  ["zws_uptime_seconds", "gauge"],
  ["zws_process_resident_bytes", "gauge"],
  ["zws_process_heap_bytes", "gauge"],
  ["zws_process_external_bytes", "gauge"],
];

Deno.test("metrics: every metric has HELP and TYPE lines, in order", () => {
  const fams = parseExposition(renderMetrics(snapshot()));
  assert.deepEqual([...fams.keys()], EXPECTED.map(([n]) => n));
  for (const [name, type] of EXPECTED) {
    const f = fams.get(name)!;
    assert.equal(f.type, type, `${name} type`);
    assert(f.help.length > 3, `${name} has help text`);
    assert(f.samples.size > 0, `${name} has samples`);
    if (type === "counter") assert(name.endsWith("_total"), `counter ${name} ends in _total`);
  }
});

Deno.test("metrics: the front's counters come before the WebSocket ones, and its 1009s count as too big", () => {
  const snap = snapshot();
  snap.front = {
    connections: 5,
    accepted: 40,
    refused: { capacity: 1, fd_limit: 2 },
    closed: {
      request_timeout: 3,
      idle_timeout: 4,
      write_stall: 9,
      bad_request: 6,
      ws_message_too_big: 7,
      ws_message_flood: 10,
      ws_protocol_error: 8,
    },
  };
  const fams = parseExposition(renderMetrics(snap));
  const names = [...fams.keys()];
  assert.deepEqual(names.slice(3, 6), [
    "zws_connections",
    "zws_connections_refused_total",
    "zws_connections_closed_total",
  ]);
  assert.equal(fams.get("zws_connections")!.samples.get(""), 5);
  assert.equal(fams.get("zws_connections_refused_total")!.samples.get('{reason="fd_limit"}'), 2);
  assert.equal(
    fams.get("zws_connections_closed_total")!.samples.get('{reason="request_timeout"}'),
    3,
  );
  assert.equal(
    fams.get("zws_connections_closed_total")!.samples.get('{reason="write_stall"}'),
    9,
  );
  assert.equal(
    fams.get("zws_ws_closed_total")!.samples.get('{reason="message_too_big"}'),
    21 + 7,
    "the hub's and the front's",
  );
});

Deno.test("metrics: HELP/TYPE lines are exact", () => {
  const text = renderMetrics(snapshot());
  const lines = text.split("\n");
  const i = lines.indexOf("# HELP zws_clients Clients connected now (WebSocket and SSE).");
  assert.equal(i, 0, "first line");
  assert.equal(lines[1], "# TYPE zws_clients gauge");
  assert.equal(lines[2], "zws_clients 7");
  assert(lines.includes("# TYPE zws_ingress_rejected_total counter"));
  assert(lines.includes("# TYPE zws_uptime_seconds gauge"));
});

Deno.test("metrics: values come from the right fields", () => {
  const fams = parseExposition(renderMetrics(snapshot()));
  const v = (name: string, labels = "") => fams.get(name)?.samples.get(labels);
  assert.equal(v("zws_clients"), 7);
  assert.equal(v("zws_ws_connections_total"), 11);
  assert.equal(v("zws_seq_gaps_total"), 2);
  assert.equal(v("zws_ws_rejected_total", '{reason="origin"}'), 13);
  assert.equal(v("zws_ws_rejected_total", '{reason="capacity"}'), 14);
  assert.equal(v("zws_ws_rejected_total", '{reason="ip_capacity"}'), 15);
  assert.equal(v("zws_ws_rejected_total", '{reason="rate"}'), 16);
  assert.equal(v("zws_ws_rejected_total", '{reason="unauthorized"}'), 17);
  assert.equal(v("zws_auth_failures_total", '{reason="missing"}'), 18);
  assert.equal(v("zws_auth_failures_total", '{reason="invalid"}'), 19);
  assert.equal(v("zws_auth_failures_total", '{reason="expired"}'), 20);
  assert.equal(v("zws_ws_closed_total", '{reason="message_too_big"}'), 21);
  assert.equal(v("zws_process_resident_bytes"), 501);
  assert.equal(v("zws_process_heap_bytes", '{kind="used"}'), 502);
  assert.equal(v("zws_process_heap_bytes", '{kind="total"}'), 503);
  assert.equal(v("zws_process_external_bytes"), 504);
  assert.equal(v("zws_ws_closed_total", '{reason="token_expired"}'), 22);
  assert.equal(v("zws_ingress_producers_refused_total"), 23);
  assert.equal(v("zws_sse_clients"), 3);
  assert.equal(v("zws_clients_queued_bytes"), 61);
  assert.equal(v("zws_clients_queued_bytes_max"), 62);
  assert.equal(v("zws_clients_buffer_budget_bytes"), 63);
  assert.equal(v("zws_clients_held_budget_total"), 64);
  assert.equal(v("zws_sse_rejected_total", '{reason="origin"}'), 24);
  assert.equal(v("zws_sse_rejected_total", '{reason="capacity"}'), 25);
  assert.equal(v("zws_history_rejected_total", '{reason="rate"}'), 26);
  assert.equal(v("zws_history_rejected_total", '{reason="unauthorized"}'), 27);
  assert.equal(v("zws_history_rejected_total", '{reason="origin"}'), 0);
  assert.equal(v("zws_history_requests_total"), 28);
  assert.equal(v("zws_decimated_clients"), 65);
  assert.equal(v("zws_decimated_streams"), 66);
  assert.equal(v("zws_ingress_messages_total"), 101);
  assert.equal(v("zws_ingress_points_total"), 202);
  assert.equal(v("zws_last_seq"), 9007);
  assert.equal(v("zws_points_received_total"), 202);
  assert.equal(v("zws_points_sent_total"), 1234);
  assert.equal(v("zws_frames_sent_total"), 56);
  assert.equal(v("zws_points_dropped_total", '{reason="slow_client"}'), 8);
  assert.equal(v("zws_client_protocol_errors_total"), 2);
  assert.equal(v("zws_relay_restarts_total"), 1);
  assert.equal(v("zws_loop_restarts_total", '{stage="relay"}'), 0);
  assert.equal(v("zws_loop_restarts_total", '{stage="bridge"}'), 0);
  assert.equal(v("zws_uptime_seconds"), 12.3);
});

Deno.test("metrics: every reject reason has a label, zero when never seen", () => {
  const fams = parseExposition(renderMetrics(snapshot()));
  const rejected = fams.get("zws_ingress_rejected_total")!.samples;
  assert.deepEqual(
    [...rejected.keys()],
    REJECT_REASONS.map((r) => `{reason="${r}"}`),
    "one sample per reason, in REJECT_REASONS order",
  );
  const expected: Record<string, number> = { oversize: 3, invalid_json: 4, invalid_series: 5 };
  for (const r of REJECT_REASONS) {
    assert.equal(rejected.get(`{reason="${r}"}`), expected[r] ?? 0, r);
  }
});

Deno.test("metrics: an all-zero snapshot still lists every series", () => {
  const zero: MetricsSnapshot = {
    relay: { messages: 0, points: 0, rejected: {}, lastSeq: 0 },
    bridge: {
      clients: 0,
      connectionsTotal: 0,
      pointsSent: 0,
      framesSent: 0,
      pointsReceived: 0,
      pointsDroppedSlow: 0,
      clientProtocolErrors: 0,
      slowClients: 0,
      slowClientsClosed: 0,
      resumesExact: 0,
      resumesReset: 0,
      historyPoints: 0,
      clientsClosedTooBig: 0,
      clientsClosedTokenExpired: 0,
      framesBuilt: 0,
      seqGaps: 0,
      sseClients: 0,
    },
    // Only the old reasons given: the others still appear, as 0.
    server: { wsRejected: { origin: 0, capacity: 0 }, relayRestarts: 0, uptimeSeconds: 0 },
  };
  const text = renderMetrics(zero);
  const fams = parseExposition(text);
  let samples = 0;
  for (const f of fams.values()) {
    for (const v of f.samples.values()) {
      assert.equal(v, 0);
      samples++;
    }
  }
  // 17 unlabeled (with sse_clients, seq_gaps) + 4 of the clients' budget + 5 ws_rejected
  // + 5 sse_rejected + 3 auth failures + 2 ws_closed + every reject reason + 1 dropped + 2 resume
  // results; the data path's loops and bus: 5 unlabeled + 2 loop-restart stages; history
  // requests: 5 rejected + 1 answered; decimated clients and streams: 2; the plain ingress:
  // 1 unlabeled + 2 drop reasons.
  assert.equal(
    samples,
    17 + 4 + 5 + 5 + 3 + 2 + REJECT_REASONS.length + 1 + 2 + 5 + 2 + 6 + 2 + 3,
  );
  assert(!text.includes("undefined") && !text.includes("NaN"));
});

Deno.test("metrics: large counter values are printed in full", () => {
  const s = snapshot();
  s.relay.messages = 123_456_789_012;
  s.relay.lastSeq = Number.MAX_SAFE_INTEGER;
  const text = renderMetrics(s);
  assert.match(text, /^zws_ingress_messages_total 123456789012$/m);
  assert.match(text, /^zws_last_seq 9007199254740991$/m);
});

Deno.test("metrics: a gateway adds its upstream's families after the others", () => {
  const s: MetricsSnapshot = {
    ...snapshot(),
    upstream: { connected: true, connects: 3, disconnects: 2, epochChanges: 1 },
  };
  const fams = parseExposition(renderMetrics(s));
  const names = [...fams.keys()];
  assert.deepEqual(names.slice(0, EXPECTED.length), EXPECTED.map(([n]) => n));
  const v = (name: string, labels = "") => fams.get(name)?.samples.get(labels);
  assert.equal(v("zws_upstream_connected"), 1);
  assert.equal(v("zws_upstream_connects_total"), 3);
  assert.equal(v("zws_upstream_disconnects_total"), 2);
  assert.equal(v("zws_upstream_epoch_changes_total"), 1);
  for (const name of names.slice(EXPECTED.length)) {
    const f = fams.get(name)!;
    if (f.type === "counter") assert(name.endsWith("_total"), `counter ${name} ends in _total`);
  }
  assert(!renderMetrics(snapshot()).includes("zws_upstream_"), "absent without an upstream");
});

Deno.test("metrics: the forwarder's families (root: points in/out, rejected; chained: link)", () => {
  const root = parseExposition(renderForwarderMetrics({
    relay: { messages: 10, points: 25, rejected: { invalid_json: 2 }, lastSeq: 125 },
    gatewaysConnected: 2,
    gatewayConnectionsTotal: 5,
    uptimeSeconds: 9.5,
  }));
  const v = (f: Map<string, Family>, name: string, labels = "") => f.get(name)?.samples.get(labels);
  assert.equal(v(root, "zws_forwarder_messages_in_total"), 10);
  assert.equal(v(root, "zws_forwarder_points_in_total"), 25);
  assert.equal(v(root, "zws_forwarder_points_out_total"), 25);
  assert.equal(v(root, "zws_forwarder_rejected_total", '{reason="invalid_json"}'), 2);
  assert.equal(root.get("zws_forwarder_rejected_total")!.samples.size, REJECT_REASONS.length);
  assert.equal(v(root, "zws_forwarder_last_seq"), 125);
  assert.equal(v(root, "zws_forwarder_gateways_connected"), 2);
  assert.equal(v(root, "zws_forwarder_gateway_connections_total"), 5);
  assert.equal(v(root, "zws_uptime_seconds"), 9.5);
  assert(!root.has("zws_forwarder_upstream_connected"));
  const chained = parseExposition(renderForwarderMetrics({
    gatewaysConnected: 1,
    gatewayConnectionsTotal: 1,
    upstreamConnected: false,
    uptimeSeconds: 1,
  }));
  assert.equal(v(chained, "zws_forwarder_upstream_connected"), 0);
  assert(!chained.has("zws_forwarder_points_in_total"), "no sequencer, no point counts");
});
