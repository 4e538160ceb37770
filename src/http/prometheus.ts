/**
 * Writing the Prometheus text format (version 0.0.4): one metric family at a time. Pure.
 *
 * @module
 */
import type { PersistStatus } from "../store/status.ts";

/** One sample: its labels (`{reason="x"}`, or "") and value. */
export type Row = [labels: string, value: number];

/** Adds one metric family (HELP, TYPE and its samples). */
export type MetricWriter = (name: string, type: string, help: string, rows: Row[]) => void;

/** Appends one metric family (HELP, TYPE and its samples) to `out`. */
export function family(out: string[], name: string, type: string, help: string, rows: Row[]): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, value] of rows) out.push(`${name}${labels} ${value}`);
}

/** A {@link MetricWriter} into `out`. */
export function writerInto(out: string[]): MetricWriter {
  return (name, type, help, rows) => family(out, name, type, help, rows);
}

/** The point store's counters (`src/store/`), when the relay has store options. */
export function storeMetrics(
  metric: MetricWriter,
  p: PersistStatus | undefined,
): void {
  if (!p) return;
  metric("zws_store_up", "gauge", "1 while points are written to disk, 0 in memory only.", [[
    "",
    p.mode === "disk" ? 1 : 0,
  ]]);
  metric("zws_store_points_written_total", "counter", "Points written to the store.", [[
    "",
    p.pointsPersisted,
  ]]);
  metric(
    "zws_store_points_not_written_total",
    "counter",
    "Points kept in memory only because the store had failed.",
    [["", p.pointsNotPersisted]],
  );
  metric("zws_store_failures_total", "counter", "Store failures (full, unwritable, corrupt).", [[
    "",
    p.failures,
  ]]);
  metric("zws_store_points_trimmed_total", "counter", "Points dropped from disk by retention.", [[
    "",
    p.pointsTrimmed,
  ]]);
  metric("zws_store_flush_max_seconds", "gauge", "Longest store write (one transaction).", [[
    "",
    p.maxFlushMs / 1000,
  ]]);
  metric(
    "zws_store_points_dropped_total",
    "counter",
    "Points not written because the store's writer was behind (its queue full) or died with them.",
    [["", p.pointsDropped]],
  );
  metric(
    "zws_store_writer_restarts_total",
    "counter",
    "Times the store's writer worker died (or stopped answering) and was started again.",
    [["", p.writerRestarts]],
  );
  metric("zws_store_queued_points", "gauge", "Points waiting for the store's writer.", [[
    "",
    p.queuedPoints,
  ]]);
}
