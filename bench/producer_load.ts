/**
 * Producer process of the benchmark: a ZeroMQ PUB (sending from JavaScript over TCP works under
 * Deno) that publishes producer-protocol messages at a fixed rate for a fixed time. Every point's
 * `x` is its send time in epoch ms with sub-ms digits, so clients measure latency from it.
 *
 * Run by `bench/run.ts`: prints `ready` once connected, starts on `go` from stdin, prints `done`
 * and exits.
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as zmq from "zeromq";
import { emit, nowMs, sleep, stdinLines } from "./common.ts";

/** What the producer prints when it has finished. */
export interface ProducerDone {
  type: "done";
  /** Messages handed to ZeroMQ. */
  messages: number;
  /** Points in them. */
  points: number;
  /** Epoch ms of the first and last send. */
  firstSendMs: number;
  lastSendMs: number;
  /** Size of one message in bytes (the first one). */
  messageBytes: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      endpoint: { type: "string" },
      rate: { type: "string", default: "1000" },
      "duration-ms": { type: "string", default: "5000" },
      "points-per-message": { type: "string", default: "1" },
      series: { type: "string", default: "1" },
      // How long close() may still flush what ZeroMQ queued (W7 sends more than is read).
      "linger-ms": { type: "string", default: "2000" },
    },
  });
  const endpoint = values.endpoint ?? "";
  if (!/^tcp:\/\/127\.0\.0\.1:\d+$/.test(endpoint)) {
    throw new Error(`the producer targets tcp://127.0.0.1:PORT only, got ${endpoint}`);
  }
  const rate = Number(values.rate);
  const durationMs = Number(values["duration-ms"]);
  const perMessage = Math.max(1, Number(values["points-per-message"]));
  const seriesCount = Math.max(1, Number(values.series));
  const series = Array.from({ length: seriesCount }, (_, i) => `"s${i}"`);

  const lingerMs = Number(values["linger-ms"]);
  const pub = new zmq.Publisher({ sendHighWaterMark: 1_000_000, linger: lingerMs });
  const handshake = new Promise<void>((resolve) => {
    (async () => {
      for await (const ev of pub.events) if (ev.type === "handshake") return resolve();
    })().catch(() => resolve());
  });
  pub.connect(endpoint);
  await Promise.race([handshake, sleep(10000)]);
  // The XSUB's subscription reaches the PUB just after the handshake.
  await sleep(300);
  emit({ type: "ready" });

  const commands = stdinLines();
  const first = await commands.next();
  if (first.done || first.value !== "go") {
    pub.close();
    Deno.exit(0);
  }

  let messages = 0;
  let points = 0;
  let y = 0;
  let messageBytes = 0;
  const total = Math.round((rate * durationMs) / 1000);
  const t0 = performance.now();
  const firstSendMs = nowMs();
  let lastSendMs = firstSendMs;
  // Send what is due every millisecond or so; every loop is bounded by `total` and the deadline.
  const deadline = t0 + durationMs + 5000;
  while (messages < total && performance.now() < deadline) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
    while (messages < due) {
      const t = nowMs();
      let msg: string;
      if (perMessage === 1) {
        msg = `{"x":${t},"y":${y},"series":${series[y % seriesCount]}}`;
        y++;
      } else {
        const parts: string[] = [];
        for (let k = 0; k < perMessage; k++, y++) {
          parts.push(`{"x":${t},"y":${y},"series":${series[y % seriesCount]}}`);
        }
        msg = `[${parts.join(",")}]`;
      }
      if (messageBytes === 0) messageBytes = msg.length;
      await pub.send(msg);
      messages++;
      points += perMessage;
      lastSendMs = t;
    }
    await sleep(1);
  }
  // Let ZeroMQ flush before reporting (close lingers up to --linger-ms for the rest).
  await sleep(500);
  pub.close();
  emit(
    {
      type: "done",
      messages,
      points,
      firstSendMs,
      lastSendMs,
      messageBytes,
    } satisfies ProducerDone,
  );
  // Stay until told (the orchestrator reads this process's CPU time after `done`).
  await commands.next();
  Deno.exit(0);
}

if (import.meta.main) await main();
