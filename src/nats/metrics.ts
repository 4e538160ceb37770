/**
 * The JetStream roles' Prometheus metrics (`zws_nats_*`). Pure: snapshots in, text out.
 *
 * @module
 */
import type { NatsLinkState } from "./connect.ts";
import type { FollowerStats } from "./follower.ts";
import type { PublisherStats } from "./publisher.ts";

type Row = [labels: string, value: number];

function family(out: string[], name: string, type: string, help: string, rows: Row[]): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, value] of rows) out.push(`${name}${labels} ${value}`);
}

/** The connection's metrics. */
export function renderNatsLinkMetrics(link: NatsLinkState | undefined): string {
  const out: string[] = [];
  family(out, "zws_nats_connected", "gauge", "1 while the connection to NATS is up.", [[
    "",
    link?.connected ? 1 : 0,
  ]]);
  family(out, "zws_nats_connects_total", "counter", "Connections to NATS made.", [[
    "",
    link?.connects ?? 0,
  ]]);
  family(out, "zws_nats_disconnects_total", "counter", "Connections to NATS lost.", [[
    "",
    link?.disconnects ?? 0,
  ]]);
  return out.join("\n") + "\n";
}

/** A relay's publisher metrics. */
export function renderPublisherMetrics(p: PublisherStats): string {
  const out: string[] = [];
  const m = (name: string, type: string, help: string, v: number) =>
    family(out, name, type, help, [["", v]]);
  m(
    "zws_nats_points_published_total",
    "counter",
    "Points acknowledged by the stream.",
    p.pointsPublished,
  );
  m(
    "zws_nats_batches_published_total",
    "counter",
    "Messages (batches) acknowledged.",
    p.batchesPublished,
  );
  m(
    "zws_nats_points_shed_total",
    "counter",
    "Points dropped before the stream took them (pending bound full, or retries ran out).",
    p.pointsShed,
  );
  m("zws_nats_publish_retries_total", "counter", "Publishes tried again.", p.retries);
  m(
    "zws_nats_publish_duplicates_total",
    "counter",
    "Retries the stream already held.",
    p.duplicates,
  );
  m("zws_nats_pending_points", "gauge", "Points queued or awaiting their ack.", p.pendingPoints);
  m("zws_nats_last_stream_seq", "gauge", "Stream sequence of the last ack.", p.lastStreamSeq);
  return out.join("\n") + "\n";
}

/** A gateway's follower metrics. */
export function renderFollowerMetrics(f: FollowerStats): string {
  const out: string[] = [];
  const m = (name: string, type: string, help: string, v: number) =>
    family(out, name, type, help, [["", v]]);
  m("zws_nats_ready", "gauge", "1 once the history held at start was loaded.", f.ready ? 1 : 0);
  m("zws_nats_batches_received_total", "counter", "Stream messages (batches) received.", f.batches);
  m("zws_nats_points_received_total", "counter", "Points received from the stream.", f.points);
  m(
    "zws_nats_gaps_total",
    "counter",
    "Batches that did not follow the previous one (messages gone before this gateway read them).",
    f.gaps,
  );
  m(
    "zws_nats_rejected_total",
    "counter",
    "Stream messages or points that were not zws points.",
    f.rejected,
  );
  m("zws_nats_consumer_restarts_total", "counter", "Consumers started again.", f.restarts);
  m("zws_nats_stream_seq", "gauge", "Last stream sequence received.", f.streamSeq);
  m(
    "zws_nats_stream_last_seq",
    "gauge",
    "The stream's last sequence (as last looked up).",
    f.streamLastSeq,
  );
  return out.join("\n") + "\n";
}
