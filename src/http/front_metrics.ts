/**
 * The `/metrics` families of the HTTP front (`front.ts`) and of the plain producer ingress
 * (`src/zmq/plain_ingress.ts`), for `metrics.ts`. Pure.
 *
 * @module
 */
import type { MetricWriter } from "./prometheus.ts";
import type { FrontStats } from "./front_constants.ts";
import type { RelayStats } from "../relay/worker_messages.ts";

/** The front's connections: open, refused and closed by reason (nothing with `--no-front`). */
export function frontMetrics(metric: MetricWriter, f: FrontStats | undefined): void {
  if (!f) return;
  metric("zws_connections", "gauge", "TCP connections open on the HTTP port.", [[
    "",
    f.connections,
  ]]);
  metric(
    "zws_connections_refused_total",
    "counter",
    "TCP connections refused by the front, by reason (503 on plain HTTP).",
    Object.entries(f.refused).map(([r, n]) => [`{reason="${r}"}`, n]),
  );
  metric(
    "zws_connections_closed_total",
    "counter",
    "TCP connections closed by the front, by reason.",
    Object.entries(f.closed).map(([r, n]) => [`{reason="${r}"}`, n]),
  );
  metric(
    "zws_front_restarts_total",
    "counter",
    "Times the HTTP front's worker died and was restarted (its connections were dropped).",
    [["", f.restarts ?? 0]],
  );
}

/** The plain ingress's producer connections (zeros with CURVE or `--native-ingress`). */
export function plainIngressMetrics(metric: MetricWriter, i: RelayStats["ingress"]): void {
  metric(
    "zws_producer_connections",
    "gauge",
    "Producer connections open on the plain ingress (ZMTP reader).",
    [["", i?.connections ?? 0]],
  );
  metric(
    "zws_producer_connections_dropped_total",
    "counter",
    "Producer connections closed for breaking ZMTP (or a handshake not done in 10 s), or " +
      "refused near the open-files limit.",
    [
      [`{reason="protocol"}`, i?.protocolErrors ?? 0],
      [`{reason="fd_limit"}`, i?.refused ?? 0],
    ],
  );
}
