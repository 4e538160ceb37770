/**
 * The memory budget for all clients together (`--clients-buffer-budget`), on real sockets: many
 * stalled clients next to normal ones. A real server process, real WebSockets, a real producer.
 */
import assert from "node:assert/strict";
import {
  connectPublisher,
  metric,
  openClient,
  rawWsConnect,
  sleep,
  startZws,
  waitFor,
  type WsRecorder,
} from "../_helpers.ts";

/** A 64-character series name: points are small on the wire, so fill the pipe with names. */
const FAT = "s".repeat(64);

/** One producer message of `n` fat points whose y count up from `from`. */
function fatBatch(from: number, n: number): string {
  return JSON.stringify(
    Array.from({ length: n }, (_, i) => ({ x: Date.now(), y: from + i, series: FAT })),
  );
}

Deno.test("20 stalled clients, budget 4 MiB: all together stay within it, normal clients get 100%", async () => {
  const bound = 1024 * 1024;
  const budget = 4 * 1024 * 1024;
  const stalledCount = 20;
  // --no-front: this checks the budget itself, at its bound. Behind the HTTP front (the default)
  // the loopback hop holds up to ~4 MB more per stalled client before Deno's bufferedAmount shows
  // it, so the same run queues 7.9-8.1 MB: measured and documented in docs/reliability.md
  // ("Stalled clients"), not hidden in a wider bound here.
  const zws = await startZws([
    "--no-front",
    "--no-demo",
    "--client-buffer-bytes",
    String(bound),
    "--clients-buffer-budget",
    String(budget),
    "--slow-client-timeout",
    "60",
    "--history",
    "100000",
  ]);
  const pub = await connectPublisher(zws.ingress);
  const normal: WsRecorder[] = [];
  const stalled: Array<Awaited<ReturnType<typeof rawWsConnect>>> = [];
  let sent = 0;
  const metrics = async () => await (await fetch(`${zws.base}/metrics`)).text();
  // 2,000 messages/s of 5 points with 64-character names (~0.8 KB each).
  const publishFor = async (
    ms: number,
    until: () => Promise<boolean> = () => Promise.resolve(false),
  ) => {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      for (let k = 0; k < 20; k++) {
        await pub.send(fatBatch(sent, 5));
        sent += 5;
      }
      await sleep(10);
      if (await until()) return;
    }
  };
  try {
    for (let i = 0; i < 5; i++) normal.push(await openClient(zws.wsUrl));
    await publishFor(1000);
    for (let i = 0; i < stalledCount; i++) stalled.push(await rawWsConnect(zws.base));
    await publishFor(
      40000,
      async () => metric(await metrics(), "zws_slow_clients") === stalledCount,
    );
    await publishFor(3000); // and go on with them held back
    await waitFor(() => normal.every((c) => c.points().length >= sent), 15000, "normal clients");
    const text = await metrics();
    assert.equal(metric(text, "zws_slow_clients"), stalledCount, "every stalled client held back");
    assert.equal(metric(text, "zws_clients_buffer_budget_bytes"), budget);
    const max = metric(text, "zws_clients_queued_bytes_max");
    // The budget plus about one frame per client (a frame here is at most ~20 KB), 64 KiB each.
    const slack = (stalledCount + normal.length) * 64 * 1024;
    console.log(
      `sent ${sent} points; queued to all clients at most ${max} bytes (budget ${budget}, ` +
        `per-client bound ${bound}); held back for the budget ` +
        `${metric(text, "zws_clients_held_budget_total")} times`,
    );
    assert.ok(max <= budget + slack, `all clients together queued ${max} <= ${budget} + ${slack}`);
    assert.ok(max > budget / 2, `the budget was reached (${max})`);
    assert.ok(metric(text, "zws_clients_held_budget_total") >= stalledCount / 2);
    for (const c of normal) {
      const ys = c.points().map((p) => p.y);
      assert.equal(ys.length, sent, "every point reached every normal client");
      assert.deepEqual(ys, [...Array(sent).keys()]);
    }
  } finally {
    stalled.forEach((s) => s.close());
    await Promise.all(normal.map((c) => c.close()));
    pub.close();
    await zws.stop();
  }
});
