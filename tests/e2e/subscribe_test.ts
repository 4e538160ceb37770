/**
 * Series selection on `/ws` against a real zws server: `?series=`, the `series` message, and the
 * `series_list` frames that name every series held.
 *
 * @module
 */
import assert from "node:assert/strict";
import { connectPublisher, metric, openClient, sleep, startZws, waitFor } from "../_helpers.ts";

type Pt = { seq: number; x: number; y: number; series: string };

async function held(base: string, n: number): Promise<void> {
  await waitFor(
    async () => metric(await (await fetch(`${base}/metrics`)).text(), "zws_history_points") === n,
    5000,
    `${n} points held`,
  );
}

/** Points carry x near now: the server drops x outside --x-window (one day). */
const T0 = Date.now();

const seriesOf = (frame: Record<string, unknown>) => (frame.points as Pt[]).map((p) => p.series);

Deno.test("/ws?series=: history and live points of the selected series only", async () => {
  const zws = await startZws(["--no-demo"]);
  const pub = await connectPublisher(zws.ingress);
  try {
    const all = ["a", "b", "c"];
    await pub.send(JSON.stringify(all.map((s, i) => ({ x: T0, y: i, series: s }))));
    await held(zws.base, 3);
    const c = await openClient(`${zws.wsUrl}?series=a,c`);
    await waitFor(() => c.frames.length >= 3, 5000, "hello, history, series_list");
    assert.deepEqual(seriesOf(c.frames[1]), ["a", "c"]);
    assert.deepEqual(c.frames[2], { type: "series_list", series: all, units: {} });
    await pub.send(JSON.stringify(all.map((s, i) => ({ x: T0 + 1000, y: i, series: s }))));
    await waitFor(() => c.points().length >= 2, 5000, "live points");
    await sleep(100);
    assert.deepEqual(c.points().map((p) => p.series), ["a", "c"]);
    await c.close();
    // An invalid selection: 400 before the upgrade.
    const r = await fetch(`${zws.base}/ws?series=%0A`, {
      headers: { upgrade: "websocket", connection: "Upgrade" },
    });
    assert.equal(r.status, 400);
    await r.body?.cancel();
  } finally {
    pub.close();
    await zws.stop();
  }
});

Deno.test("series message: a reset snapshot of the new selection, then only it; null: all", async () => {
  const zws = await startZws(["--no-demo"]);
  const pub = await connectPublisher(zws.ingress);
  try {
    await pub.send(JSON.stringify(["a", "b", "c"].map((s, i) => ({ x: T0, y: i, series: s }))));
    await held(zws.base, 3);
    const c = await openClient(zws.wsUrl);
    await waitFor(() => c.frames.length >= 3, 5000, "connected");
    const mark = c.frames.length;
    c.ws.send(JSON.stringify({ type: "series", only: ["b"] }));
    await waitFor(() => c.frames.length > mark, 5000, "the answer");
    assert.equal(c.frames[mark].type, "history");
    assert.equal(c.frames[mark].reset, true);
    assert.deepEqual(seriesOf(c.frames[mark]), ["b"]);
    await pub.send(
      JSON.stringify(["a", "b", "c"].map((s, i) => ({ x: T0 + 1000, y: i, series: s }))),
    );
    await waitFor(() => c.points().length >= 1, 5000, "live");
    await sleep(100);
    assert.deepEqual(c.points().map((p) => p.series), ["b"]);

    const mark2 = c.frames.length;
    c.ws.send(JSON.stringify({ type: "series", only: [] }));
    await waitFor(() => c.frames.length > mark2, 5000, "empty selection");
    assert.deepEqual(c.frames[mark2], { type: "history", reset: true, points: [] });

    const mark3 = c.frames.length;
    c.ws.send(JSON.stringify({ type: "series", only: null }));
    await waitFor(() => c.frames.length > mark3, 5000, "all again");
    assert.deepEqual(seriesOf(c.frames[mark3]), ["a", "b", "c", "a", "b", "c"]);
    await pub.send(JSON.stringify({ x: T0 + 2000, y: 0, series: "d" })); // a new one is included
    await waitFor(() => c.points().some((p) => p.series === "d"), 5000, "a point of d");

    c.ws.send(JSON.stringify({ type: "series", only: ["ok", 5] }));
    const ev = await c.closed;
    assert.equal(ev.code, 1007);
    assert.match(ev.reason, /series: every series name must be a string/);
  } finally {
    pub.close();
    await zws.stop();
  }
});

Deno.test("series_list: sent on connect and when series appear, at most once per second", async () => {
  const zws = await startZws(["--no-demo"]);
  const pub = await connectPublisher(zws.ingress);
  try {
    const c = await openClient(`${zws.wsUrl}?series=s0`);
    await waitFor(() => c.frames.length >= 3, 5000, "connected");
    assert.deepEqual(c.frames[2], { type: "series_list", series: [], units: {} });
    const lists = () => c.frames.filter((f) => f.type === "series_list").slice(1);
    const arrivals: number[] = [];
    c.ws.addEventListener("message", (e) => {
      if (JSON.parse(e.data).type === "series_list") arrivals.push(performance.now());
    });
    // Ten new series over ~1.5 s: the names arrive promptly, but in at most 3 frames.
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) {
      await pub.send(JSON.stringify({ x: T0, y: i, series: `s${i}` }));
      await sleep(150);
    }
    await waitFor(
      () => (lists().at(-1)?.series as string[] | undefined)?.length === 10,
      3000,
      "all ten names",
    );
    const elapsed = Date.now() - t0;
    assert.ok(lists().length >= 2, `${lists().length} updates`);
    assert.ok(
      lists().length <= Math.ceil(elapsed / 1000) + 1,
      `${lists().length} updates in ${elapsed} ms`,
    );
    for (let i = 1; i < arrivals.length; i++) {
      const gap = arrivals[i] - arrivals[i - 1];
      assert.ok(gap >= 950, `updates ${Math.round(gap)} ms apart`);
    }
    assert.deepEqual(
      lists().at(-1)!.series,
      Array.from({ length: 10 }, (_, i) => `s${i}`).sort(),
    );
    // Points of series it did not select never reach it.
    assert.deepEqual([...new Set(c.points().map((p) => p.series))], ["s0"]);
    // Nothing new: no more lists.
    const n = lists().length;
    await pub.send(JSON.stringify({ x: T0, y: 0, series: "s1" }));
    await sleep(1300);
    assert.equal(lists().length, n);
    await c.close();
  } finally {
    pub.close();
    await zws.stop();
  }
});
