/**
 * The JetStream relay (`deno task relay --nats nats://host:4222`): producers' ZeroMQ ingress ->
 * the relay's validation (the same code as the single process, run in this process) -> batches of
 * one series published into the stream (`publisher.ts`). Any number of relays, on any hosts,
 * publish into one stream: the seqs come from the stream (`codec.ts`), so they need no coordinator
 * and keep no state. Gateways (`deno task start --nats …`, `follower.ts`) consume it.
 *
 * Its own `/healthz` and `/metrics` (default 127.0.0.1:8001) are up from the start, also while
 * NATS is unreachable (then `/healthz` answers 503 with the reason).
 *
 * @module
 */
import * as zmq from "zeromq";
import type { ForwarderConfig } from "../config/config.ts";
import type { NatsConfig } from "./config.ts";
import type { RelayOptions, RelayStats } from "../relay/worker_messages.ts";
import { REJECT_REASONS } from "../protocol/ingress.ts";
import { SERVER_INFO } from "../protocol/frames.ts";
import { SECURITY_HEADERS } from "../http/headers.ts";
import { failToStart, listen, runUntilSignal } from "../runtime/process.ts";
import { errorMessage, log } from "../runtime/log.ts";
import { connectNats, type NatsLink } from "./connect.ts";
import { epochOfStream, pointBody } from "./codec.ts";
import { JetStreamPublisher } from "./publisher.ts";
import { ensureStream, manager } from "./stream.ts";
import { renderNatsLinkMetrics, renderPublisherMetrics } from "./metrics.ts";
import { decodeBus, pointJson, pointSeries } from "../protocol/bus_decode.ts";

/** The in-process relay this role drives (`relay.ts`' `startRelay`, passed in). */
export interface InnerRelay {
  readonly ingress: string;
  stats(): RelayStats;
  readonly ended: Promise<void>;
  close(): Promise<void>;
}

/** Starts an {@link InnerRelay}. */
export type StartRelay = (opts: RelayOptions) => Promise<InnerRelay>;

/** A running JetStream relay. */
export interface JetStreamRelay {
  /** The ingress bound. */
  readonly ingress: string;
  /** `/healthz` and `/metrics`, e.g. `http://127.0.0.1:8001/`. */
  readonly url: string;
  /** The stream's epoch. */
  readonly epoch: string;
  /** Settles when the relay's loop has ended (on shutdown, or a failure). */
  readonly ended: Promise<void>;
  shutdown(): Promise<void>;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body) + "\n", {
    status,
    headers: { ...SECURITY_HEADERS, "Content-Type": "application/json" },
  });
}

/**
 * Starts the HTTP server, connects to NATS (waiting while it is unreachable), makes or checks the
 * stream, then binds the ingress and publishes. `signal` aborts the wait for NATS.
 */
export async function startJetStreamRelay(
  config: ForwarderConfig & { nats: NatsConfig },
  startRelay: StartRelay,
  signal?: AbortSignal,
): Promise<JetStreamRelay> {
  const startedAt = performance.now();
  const nats = config.nats;
  let link: NatsLink | undefined;
  let relay: InnerRelay | undefined;
  let publisher: JetStreamPublisher | undefined;
  let epoch = "";
  let problem = `connecting to NATS ${nats.servers.join(",")}`;
  const uptime = () => Math.round((performance.now() - startedAt) / 100) / 10;
  const handler = (req: Request): Response => {
    const url = new URL(req.url);
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed\n", {
        status: 405,
        headers: { ...SECURITY_HEADERS, Allow: "GET, HEAD" },
      });
    }
    const l = link?.state();
    if (url.pathname === "/healthz") {
      const down = !relay ? problem : l && !l.connected ? "NATS connection lost" : undefined;
      return json(down ? 503 : 200, {
        status: down ? "unavailable" : "ok",
        ...(down ? { reason: down } : {}),
        role: "jetstream-relay",
        server: SERVER_INFO,
        uptime: uptime(),
        ...(relay ? { ingress: relay.ingress } : {}),
        stream: nats.stream,
        epoch: epoch || null,
        nats: l ? { ...l, since: new Date(l.since).toISOString() } : null,
        ...(publisher ? { publisher: publisher.stats() } : {}),
      });
    }
    if (url.pathname === "/metrics") {
      const r = relay?.stats();
      const lines: string[] = [];
      if (r) {
        lines.push(
          "# HELP zws_forwarder_messages_in_total Producer messages received.",
          "# TYPE zws_forwarder_messages_in_total counter",
          `zws_forwarder_messages_in_total ${r.messages}`,
          "# HELP zws_forwarder_points_in_total Producer points accepted (valid).",
          "# TYPE zws_forwarder_points_in_total counter",
          `zws_forwarder_points_in_total ${r.points}`,
          "# HELP zws_forwarder_rejected_total Producer messages or points dropped, by reason.",
          "# TYPE zws_forwarder_rejected_total counter",
          ...REJECT_REASONS.map((x) =>
            `zws_forwarder_rejected_total{reason="${x}"} ${r.rejected[x] ?? 0}`
          ),
        );
      }
      const body = (lines.length ? lines.join("\n") + "\n" : "") +
        renderNatsLinkMetrics(l) +
        (publisher ? renderPublisherMetrics(publisher.stats()) : "") +
        `# HELP zws_uptime_seconds Seconds since the relay started.\n` +
        `# TYPE zws_uptime_seconds gauge\nzws_uptime_seconds ${uptime()}\n`;
      return new Response(body, {
        headers: {
          ...SECURITY_HEADERS,
          "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
        },
      });
    }
    return new Response("not found\n", { status: 404, headers: SECURITY_HEADERS });
  };
  const { server, url } = listen({ port: config.port, hostname: config.hostname }, handler);

  let sub: zmq.Subscriber | undefined;
  let pump: Promise<void> = Promise.resolve();
  const cleanUp = async () => {
    await relay?.close();
    await Promise.race([pump, new Promise((r) => setTimeout(r, 1000))]);
    await publisher?.close();
    await link?.close();
    await server.shutdown();
  };
  try {
    link = await connectNats(nats, `zws relay ${crypto.randomUUID().slice(0, 8)}`, "relay", signal);
    problem = `waiting for JetStream stream ${nats.stream}`;
    const jsm = await manager(link.nc, "relay", signal);
    const info = await ensureStream(jsm, nats, "relay", signal);
    epoch = epochOfStream(info.created);
    publisher = new JetStreamPublisher(link.nc, {
      subjectPrefix: nats.subjectPrefix,
      maxPendingPoints: nats.maxPendingPoints,
    });
    // The stream deleted under us (or not reachable through this node yet): make it again (a new
    // epoch; gateways start over). Once at a time; a no-op when it exists.
    let remaking: Promise<void> | undefined;
    publisher.onMissingStream = () => {
      remaking ??= ensureStream(jsm, nats, "relay", signal).then((again) => {
        const e = epochOfStream(again.created);
        if (e !== epoch) log("warn", "relay", `stream ${nats.stream} made again: epoch ${e}`);
        epoch = e;
      }).catch(() => {}).finally(() => remaking = undefined);
    };
    const bus = `inproc://zws-nats-relay-${crypto.randomUUID()}`;
    // The subscriber first, so the relay's first points (the demo's) are not lost to a slow join.
    relay = await startRelay({
      ingress: config.ingress,
      maxMessageBytes: config.maxMessageBytes,
      nativeIngress: config.nativeIngress,
      demo: config.demo,
      bus,
      logLevel: config.logLevel,
    });
    const s = new zmq.Subscriber({ receiveHighWaterMark: 1000 }); // in batches
    sub = s;
    s.subscribe();
    s.connect(bus);
    const pub = publisher;
    pump = (async () => {
      // The relay's bus (src/protocol/bus.ts): batches, heartbeats, and the end of stream it
      // sends when it closes, which ends this loop before the socket closes.
      for await (const frames of s) {
        const m = decodeBus(frames);
        if (m.kind === "end") break;
        if (m.kind === "invalid") {
          log("warn", "relay", `dropped bus message: ${m.reason}`);
          continue;
        }
        // Units do not travel through the stream (yet): JetStream gateways show none.
        if (m.kind === "units") continue;
        const b = m.batch;
        for (let i = 0; i < b.count; i++) {
          const body = pointBody(pointJson(b, i));
          if (body !== undefined) pub.add(pointSeries(b, i), body);
        }
      }
      s.close();
    })().catch((err) => {
      if (!s.closed) log("error", "relay", `bus receive ended: ${errorMessage(err)}`);
    });
    problem = "";
  } catch (err) {
    await cleanUp();
    throw err;
  }
  log(
    "info",
    "relay",
    `publishing into JetStream stream ${nats.stream} (${nats.subjectPrefix}.<series>, ` +
      `${nats.keepPerSeries} batches kept per series, ${nats.replicas} replica(s)), epoch ${epoch}`,
  );
  let closing: Promise<void> | undefined;
  const inner = relay;
  return {
    ingress: inner.ingress,
    url,
    epoch,
    ended: Promise.all([inner.ended, pump]).then(() => {}),
    shutdown() {
      closing ??= cleanUp().then(() => {
        if (sub && !sub.closed) log("warn", "relay", "the bus did not end; leaving its socket");
      });
      return closing;
    },
  };
}

/** `zws relay --nats …`: runs a JetStream relay until SIGINT/SIGTERM. */
export async function jetstreamRelayMain(
  config: ForwarderConfig & { nats: NatsConfig },
  startRelay: StartRelay,
): Promise<void> {
  let running: JetStreamRelay | undefined;
  // Installed first: a stop also ends the wait for NATS (the signal aborts it).
  const stopping = runUntilSignal({
    component: "relay",
    stop: () => running?.shutdown(),
    deadlineMs: 3000,
  });
  try {
    running = await startJetStreamRelay(config, startRelay, stopping);
  } catch (err) {
    if (stopping.aborted) return;
    failToStart("zws relay", err);
  }
  console.log(
    `zws relay: ingress ${running.ingress}, JetStream ${config.nats.servers.join(",")} ` +
      `stream ${config.nats.stream}, http ${running.url}, epoch ${running.epoch}`,
  );
  running.ended.then(() => {
    if (stopping.aborted) return;
    log("error", "relay", "the relay stopped unexpectedly; exiting so that it is restarted");
    Deno.exit(1);
  });
}
