/**
 * Memory of stalled clients, bounded: `--clients` WebSocket clients that never read, under
 * `--rate` points/s for `--seconds`, next to one normal client; then every stalled client is
 * closed and the server's RSS is followed for `--after` seconds. Prints RSS before, peak, and
 * after (at 5 s steps), the bytes the server had queued to all clients at most, and whether the
 * normal client got every point. Loopback only. Extra arguments after `--` go to the server.
 *
 *   deno run -A bench/stalled_memory.ts --clients 500 --seconds 20 -- --clients-buffer-budget 134217728
 *
 * Figures: `docs/reliability.md`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { sleep } from "../tests/_support/async.ts";
import { metric } from "../tests/_support/metrics.ts";
import { rssBytes, startZws } from "../tests/_support/processes.ts";
import { type RawWsClient, rawWsConnect } from "../tests/_support/raw_ws.ts";
import { openClient } from "../tests/_support/ws_client.ts";
import { connectPublisher } from "../tests/_support/zmq.ts";

const dash = Deno.args.indexOf("--");
const own = dash < 0 ? Deno.args : Deno.args.slice(0, dash);
const serverFlags = dash < 0 ? [] : Deno.args.slice(dash + 1);
const { values } = parseArgs({
  args: own,
  options: {
    clients: { type: "string", default: "500" },
    rate: { type: "string", default: "5000" },
    seconds: { type: "string", default: "20" },
    after: { type: "string", default: "15" },
  },
});
const CLIENTS = Math.min(2000, Number(values.clients));
const RATE = Math.min(50_000, Number(values.rate));
const SECONDS = Math.min(60, Number(values.seconds));
const AFTER = Math.min(60, Number(values.after));
const NAME = "s".repeat(64);
const PER_MSG = 100;

const zws = await startZws(["--no-demo", "--max-clients", String(CLIENTS + 10), ...serverFlags]);
console.log(`server pid ${zws.child.pid}`);
const mb = (b: number) => Math.round(b / 1e6);
const rss = () => rssBytes(zws.child.pid);
const metrics = async () => await (await fetch(`${zws.base}/metrics`)).text();
try {
  const pub = await connectPublisher(zws.ingress);
  const normal = await openClient(zws.wsUrl);
  await sleep(1000);
  const before = await rss();
  const stalled: RawWsClient[] = [];
  for (let i = 0; i < CLIENTS; i++) stalled.push(await rawWsConnect(zws.base));
  let sent = 0;
  let peak = before;
  const t0 = Date.now();
  const msgsPerTick = Math.max(1, Math.round(RATE / PER_MSG / 20)); // 20 ticks per second
  let nextSample = t0;
  while (Date.now() - t0 < SECONDS * 1000) {
    for (let k = 0; k < msgsPerTick; k++) {
      const batch = Array.from({ length: PER_MSG }, (_, i) => ({
        x: Date.now(),
        y: sent + i,
        series: NAME,
      }));
      await pub.send(JSON.stringify(batch));
      sent += PER_MSG;
    }
    await sleep(50);
    if (Date.now() >= nextSample) {
      peak = Math.max(peak, await rss());
      nextSample += 1000;
    }
  }
  const text = await metrics();
  const queuedMax = metric(text, "zws_clients_queued_bytes_max");
  const slowClosed = metric(text, "zws_slow_clients_closed_total");
  const slowNow = metric(text, "zws_slow_clients");
  peak = Math.max(peak, await rss());
  for (const s of stalled) s.close();
  const closedAt = Date.now();
  const after: string[] = [];
  for (let s = 5; s <= AFTER; s += 5) {
    await sleep(closedAt + s * 1000 - Date.now());
    after.push(`${s}s ${mb(await rss())} MB`);
  }
  const clientsLeft = metric(await metrics(), "zws_clients");
  await sleep(500);
  const got = normal.points().length;
  console.log(
    `clients ${CLIENTS} stalled, ${RATE} points/s for ${SECONDS} s (server flags: ${
      serverFlags.join(" ") || "defaults"
    })\n` +
      `RSS before ${mb(before)} MB, peak ${mb(peak)} MB, after closing: ${after.join(", ")}\n` +
      `queued to all clients at most ${mb(queuedMax)} MB; held back at the end ${slowNow}, ` +
      `closed as slow ${slowClosed}; clients left ${clientsLeft}; normal client got ${got} of ` +
      `${sent} points`,
  );
  await normal.close();
  pub.close();
} finally {
  await zws.stop();
}
