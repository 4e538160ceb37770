/**
 * Overload on real sockets (issue 11): a producer floods the server (`deno task start`, a child
 * process) with 100-point messages as fast as ZeroMQ takes them for a few seconds, well past what
 * one process handles; afterwards a probe producer's points reach a client connected before the
 * flood and one connected after it, every offered point is accepted or counted as shed
 * (`overload`), and the old client never saw a silent gap in seq.
 */
import assert from "node:assert/strict";
import * as zmq from "zeromq";
import { connectPublisher, metric, openClient, sleep, startZws, waitFor } from "../_helpers.ts";

Deno.test({
  name: "flood: the path survives a flood; probes reach old and new clients; every point counted",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const zws = await startZws(["--no-demo"]);
    const old = await openClient(zws.wsUrl);
    let flood: zmq.Publisher | undefined;
    let probe: zmq.Publisher | undefined;
    try {
      flood = await connectPublisher(zws.ingress);
      flood.sendHighWaterMark = 1_000_000; // the producer keeps what TCP does not take yet
      const msg = JSON.stringify(
        Array.from({ length: 100 }, (_, i) => ({ x: 1.7e12 + i, y: i, series: "flood" })),
      );
      let offered = 0;
      const until = performance.now() + 3000;
      // Bounded: 3 s or 40,000 messages (4,000,000 points), whichever comes first.
      for (let i = 0; i < 40_000 && performance.now() < until; i++) {
        await flood.send(msg);
        offered += 100;
      }
      const metrics = async () => await (await fetch(`${zws.base}/metrics`)).text();
      const accounted = async () => {
        const m = await metrics();
        return metric(m, "zws_ingress_points_total") +
          metric(m, 'zws_ingress_rejected_total{reason="overload"}');
      };
      await waitFor(async () => await accounted() >= offered, 30_000, "every flood point counted");
      const m = await metrics();
      const accepted = metric(m, "zws_ingress_points_total");
      const shed = metric(m, 'zws_ingress_rejected_total{reason="overload"}');
      assert.equal(accepted + shed, offered, `accepted ${accepted} + shed ${shed} = offered`);

      probe = await connectPublisher(zws.ingress);
      const fresh = await openClient(zws.wsUrl);
      try {
        for (let i = 0; i < 50; i++) {
          await probe.send(JSON.stringify({ x: Date.now(), y: i, series: "probe" }));
        }
        const probes = (c: typeof old) => {
          const seen = new Set<number>();
          for (const f of c.frames) {
            if (f.type !== "points" && f.type !== "history") continue;
            for (const p of f.points as Array<{ seq: number; series: string }>) {
              if (p.series === "probe") seen.add(p.seq);
            }
          }
          return seen.size;
        };
        await waitFor(() => probes(old) === 50, 15_000, "50 probe points at the old client");
        await waitFor(() => probes(fresh) === 50, 15_000, "50 probe points at the new client");
      } finally {
        await fresh.close();
      }

      // No silent gap at the old client: between two `points` frames seq continues by 1, except
      // across a `history` frame (a held-back client's announced catch-up).
      let last = 0;
      for (const f of old.frames) {
        if (f.type === "history") {
          last = 0;
          continue;
        }
        if (f.type !== "points") continue;
        for (const p of f.points as Array<{ seq: number }>) {
          if (last !== 0) assert.equal(p.seq, last + 1, "seq continues");
          last = p.seq;
        }
      }
      const h = await fetch(`${zws.base}/healthz`);
      assert.equal(h.status, 200, await h.text());
      assert.match(zws.stderr(), /overload|^$/s, "shedding, when any, is logged");
    } finally {
      flood?.close();
      probe?.close();
      await old.close();
      await zws.stop();
    }
    await sleep(0);
  },
});
