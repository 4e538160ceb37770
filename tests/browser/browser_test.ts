/**
 * Real browser tests: headless Debian Chromium driven by puppeteer-core loads the page served by a
 * real zws server (child process, `deno task start` permissions) and watches the Flot chart move.
 *
 * Needs /usr/bin/chromium (`apt-get install -y chromium`); without it the tests are ignored.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import type * as zmq from "zeromq";
import {
  type BrowserKind,
  type BrowserSession,
  CHROMIUM,
  FIREFOX,
  haveChromium,
  haveFirefox,
  openBrowser as launch,
  RESULTS,
} from "../_support/browser.ts";
import {
  connectPublisher,
  metric,
  sleep,
  startZws,
  waitFor,
  type ZwsProcess,
} from "../_helpers.ts";

const VIEWPORT = { width: 1100, height: 650 };
const openBrowser = () => launch(VIEWPORT);

if (!haveChromium) {
  console.log(`SKIP browser tests: ${CHROMIUM} not found (apt-get install -y chromium)`);
}

/** What the test reads from the page. */
interface Snapshot {
  state: string;
  status: string;
  series: Array<{ label: string; n: number; maxX: number; ascending: boolean }>;
}

function snapshot(page: Page): Promise<Snapshot> {
  return page.evaluate(() => {
    // The page's globals (the test is type-checked without the DOM library).
    // deno-lint-ignore no-explicit-any
    const g = globalThis as any;
    const zws = g.zws;
    const data: Array<{ label: string; data: Array<[number, number]> }> = zws
      ? zws.plot.getData()
      : [];
    return {
      state: zws ? String(zws.state) : "no globalThis.zws",
      status: String(g.document.getElementById("status")?.textContent ?? "").trim(),
      series: data.map((s) => ({
        label: s.label,
        n: s.data.length,
        maxX: s.data.length ? s.data[s.data.length - 1][0] : -Infinity,
        ascending: s.data.every((p, i) => i === 0 || s.data[i - 1][0] <= p[0]),
      })),
    };
  });
}

const total = (s: Snapshot) => s.series.reduce((sum, x) => sum + x.n, 0);
const maxX = (s: Snapshot) => Math.max(...s.series.map((x) => x.maxX));

/** Waits until the page is connected and its plot holds at least `points` points. */
async function waitForPoints(page: Page, points: number, ms: number): Promise<Snapshot> {
  let last: Snapshot | undefined;
  try {
    await waitFor(
      async () => {
        last = await snapshot(page);
        return last.state === "connected" && total(last) >= points;
      },
      ms,
      `state "connected" and >= ${points} points on the plot`,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(last)}`);
  }
  return last!;
}

Deno.test({
  name: "browser: page connects, both demo series plot and the chart moves, no errors",
  ignore: !haveChromium,
  async fn() {
    let zws: ZwsProcess | undefined;
    let session: BrowserSession | undefined;
    try {
      zws = await startZws();
      session = await openBrowser();
      const { page, problems } = session;
      const res = await page.goto(zws.base + "/", { waitUntil: "load", timeout: 15000 });
      assert.equal(res?.status(), 200);
      assert.equal(await page.title(), "zws — live chart");

      const first = await waitForPoints(page, 10, 15000);
      assert.equal(first.status, "connected");
      const labels = first.series.map((s) => s.label).sort();
      assert.deepEqual(labels, ["cosine", "sine"], "both demo series are plotted");

      // The chart moves: a second reading ~1 s later has a later newest x, and more points.
      await sleep(1000);
      const second = await snapshot(page);
      assert.equal(second.state, "connected");
      assert(
        maxX(second) > maxX(first),
        `newest x advanced: ${maxX(first)} -> ${maxX(second)}`,
      );
      assert(total(second) > total(first), `points grew: ${total(first)} -> ${total(second)}`);
      for (const s of second.series) assert(s.ascending, `x ascending in series ${s.label}`);
      // The page's own counters were drawn too.
      const count = Number(await page.$eval("#count", (el) => el.textContent));
      assert(count >= 10, `#count shows ${count}`);

      await Deno.mkdir(RESULTS, { recursive: true });
      await page.screenshot({ path: new URL("browser.png", RESULTS).pathname });

      assert.deepEqual(problems, { console: [], pageErrors: [], failedRequests: [] });
    } finally {
      await session?.close();
      await zws?.stop();
    }
  },
});

Deno.test({
  name:
    "browser: server stops -> 'reconnecting in N s'; a new server on the same port -> connected",
  ignore: !haveChromium,
  async fn() {
    let zws: ZwsProcess | undefined;
    let session: BrowserSession | undefined;
    try {
      zws = await startZws();
      const port = new URL(zws.base).port;
      session = await openBrowser();
      const { page, problems } = session;
      await page.goto(zws.base + "/", { waitUntil: "load", timeout: 15000 });
      const before = await waitForPoints(page, 10, 15000);
      const sessionBefore = await page.evaluate(() =>
        // deno-lint-ignore no-explicit-any
        String((globalThis as any).zws.session)
      );

      const stopped = await zws.stop();
      assert.equal(stopped.code, 0, "server exits 0 on SIGTERM");
      let status = "";
      await waitFor(
        async () => {
          status = (await snapshot(page)).status;
          return /^reconnecting in \d+ s$/.test(status);
        },
        5000,
        `status "reconnecting in N s"`,
      ).catch((err) => {
        throw new Error(`${err.message}; last status: "${status}"`);
      });
      assert.equal((await snapshot(page)).state, "reconnecting");
      // Stay down long enough for the first retries (after 0.25-0.5 s, then 0.5-1 s) to fail.
      await sleep(1500);
      const down = await snapshot(page);
      assert.equal(down.state, "reconnecting", `still reconnecting while down: ${down.status}`);

      // Same port again: a later retry finds it (the backoff delays stay < 4 s for the first tries).
      zws = await startZws(["--port", port]);
      assert.equal(new URL(zws.base).port, port);
      const after = await waitForPoints(page, total(before) + 10, 20000);
      assert.equal(after.status, "connected");
      const sessionAfter = await page.evaluate(() =>
        // deno-lint-ignore no-explicit-any
        String((globalThis as any).zws.session)
      );
      assert.notEqual(sessionAfter, sessionBefore, "a new hello from the new server");
      assert(maxX(after) > maxX(before), "the chart moves again");

      // Failed reconnect attempts while the server was down are expected to be logged by the
      // browser ("WebSocket connection to ... failed"); nothing else is.
      const unexpected = problems.console.filter((m) => !/^WebSocket connection to /.test(m));
      assert.deepEqual(unexpected, []);
      assert.deepEqual(problems.pageErrors, []);
      assert.deepEqual(problems.failedRequests, []);
    } finally {
      await session?.close();
      await zws?.stop();
    }
  },
});

// ---- Issue 13: what one producer's bad x and series churn must not do to the page -------------

/** Reads a page global through `zws` (the test is type-checked without the DOM library). */
function zwsValue<T>(page: Page, key: string): Promise<T> {
  // deno-lint-ignore no-explicit-any
  return page.evaluate((k) => (globalThis as any).zws[k], key) as Promise<T>;
}

/** The time range the chart shows (its x axis), in epoch ms. */
function shownRange(page: Page): Promise<{ from: number; to: number }> {
  return page.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    const axis = (globalThis as any).zws.plot.getXAxes()[0];
    return { from: Number(axis.min), to: Number(axis.max) };
  });
}

/** The plotted series by name: point count and whether x ascends. */
async function plotted(page: Page): Promise<Record<string, { n: number; ascending: boolean }>> {
  const snap = await snapshot(page);
  return Object.fromEntries(snap.series.map((s) => [s.label, { n: s.n, ascending: s.ascending }]));
}

const BROWSERS: Array<{ kind: BrowserKind; have: boolean; bin: string }> = [
  { kind: "chrome", have: haveChromium, bin: CHROMIUM },
  { kind: "firefox", have: haveFirefox, bin: FIREFOX },
];
if (!haveFirefox) console.log(`SKIP Firefox runs of the page tests: ${FIREFOX} not found`);

for (const b of BROWSERS) {
  Deno.test({
    name:
      `browser (${b.kind}): a bad x cannot move the window; late and shuffled points plot in x order`,
    ignore: !b.have,
    sanitizeResources: false, // puppeteer's Firefox pipe outlives close() by a tick
    async fn() {
      let zws: ZwsProcess | undefined;
      let session: BrowserSession | undefined;
      let pub: zmq.Publisher | undefined;
      try {
        zws = await startZws(["--no-demo"]);
        pub = await connectPublisher(zws.ingress);
        session = await launch(VIEWPORT, b.kind);
        const { page, problems } = session;
        await page.goto(zws.base + "/", { waitUntil: "load", timeout: 15000 });
        await waitFor(async () => (await snapshot(page)).state === "connected", 15000, "connected");
        const now = Date.now();
        // A steady series, then what broke every chart on 7815959: the year 3000, 1e308,
        // nanoseconds, 1970 (x in seconds), and one point an hour ahead (inside --x-window).
        await pub.send(JSON.stringify(
          Array.from(
            { length: 20 },
            (_, i) => ({ x: now - 19_000 + i * 1000, y: i, series: "steady" }),
          ),
        ));
        await pub.send(JSON.stringify([
          { x: 32503680000000, y: 1, series: "bad" },
          { x: 1e308, y: 1, series: "bad" },
          { x: now * 1e6, y: 1, series: "bad" },
          { x: 5, y: 1, series: "bad" },
          { x: now + 3_600_000, y: 99, series: "steady" },
        ]));
        // 100 points 50 s long, sent shuffled (x going backwards most of the time).
        const xs = Array.from({ length: 100 }, (_, i) => now - 50_000 + i * 500);
        const shuffled = xs.map((x, i) => ({ x, y: Math.sin(i / 5), k: (i * 37) % 100 }))
          .sort((p, q) => p.k - q.k).map(({ x, y }) => ({ x, y, series: "shuffled" }));
        for (let i = 0; i < shuffled.length; i += 10) {
          await pub.send(JSON.stringify(shuffled.slice(i, i + 10)));
        }
        await waitFor(
          async () => (await zwsValue<Record<string, number>>(page, "held")).shuffled === 100,
          10000,
          "100 shuffled points held",
        );
        await sleep(500); // a draw or two
        const view = await shownRange(page);
        assert(Math.abs(view.to - Date.now()) < 5000, `the window ends now, not at ${view.to}`);
        let p = await plotted(page);
        assert.equal(p.bad, undefined, "no point of the bad series reached the page");
        assert.equal(p.shuffled.n, 100, "every shuffled point in the 1 min window is drawn");
        assert(p.shuffled.ascending, "shuffled points are drawn in x order (no fan lines)");
        assert(p.steady.n >= 20, `steady still shows its 20 points (${p.steady.n})`);
        assert(p.steady.ascending);
        const metrics = await (await fetch(`${zws.base}/metrics`)).text();
        assert.equal(metric(metrics, 'zws_ingress_rejected_total{reason="invalid_x"}'), 4);

        // "all held": from the oldest point held to now; still in order, still everything.
        await page.click('input[name="window"][value="all"]');
        await sleep(500);
        const all = await shownRange(page);
        assert(all.from >= now - 60_000, `all held starts at the oldest point, not ${all.from}`);
        p = await plotted(page);
        assert.equal(p.shuffled.n, 100);
        assert(p.shuffled.ascending && p.steady.ascending);
        assert.deepEqual(problems, { console: [], pageErrors: [], failedRequests: [] });
      } finally {
        pub?.close();
        await session?.close();
        await zws?.stop();
      }
    },
  });

  Deno.test({
    name:
      `browser (${b.kind}): series that leave the server's list leave the page; 1,000 series stay usable`,
    ignore: !b.have,
    sanitizeResources: false,
    async fn() {
      let zws: ZwsProcess | undefined;
      let session: BrowserSession | undefined;
      let pub: zmq.Publisher | undefined;
      try {
        zws = await startZws(["--no-demo", "--history", "3"]);
        pub = await connectPublisher(zws.ingress);
        session = await launch(VIEWPORT, b.kind);
        const { page, problems } = session;
        await page.goto(zws.base + "/?window=5m", { waitUntil: "load", timeout: 15000 });
        await waitFor(async () => (await snapshot(page)).state === "connected", 15000, "connected");
        // 1,500 names: the server keeps the 1,000 fed last (its series limit).
        const name = (i: number) => `s${String(i).padStart(4, "0")}`;
        for (let i = 0; i < 1500; i += 250) {
          const t = Date.now();
          await pub.send(JSON.stringify(
            Array.from({ length: 250 }, (_, k) => ({ x: t, y: k, series: name(i + k) })),
          ));
          await sleep(50);
        }
        // One series keeps going: the most active, first in the legend.
        const hot = name(700);
        const until = Date.now() + 3000;
        while (Date.now() < until) {
          await pub.send(JSON.stringify({ x: Date.now(), y: 1, series: hot }));
          await sleep(50);
        }
        await waitFor(
          async () => (await zwsValue<string[]>(page, "known")).length === 1000,
          10000,
          "series_list of 1,000",
        );
        await sleep(1500); // the next series_list and legend update
        const known = new Set(await zwsValue<string[]>(page, "known"));
        assert(!known.has(name(0)) && known.has(name(1499)));
        const held = Object.keys(await zwsValue<Record<string, number>>(page, "held"));
        assert(held.length <= 1000, `the page holds ${held.length} series (the server 1,000)`);
        assert.deepEqual(held.filter((n) => !known.has(n)), [], "nothing the server dropped");
        const sizes = await zwsValue<{ series: number; colors: number; toggles: number }>(
          page,
          "sizes",
        );
        assert(sizes.toggles <= 60, `${sizes.toggles} toggles in the legend`);
        assert(sizes.colors <= 1000, `${sizes.colors} colours kept`);
        const legend = await zwsValue<string[]>(page, "legend");
        assert.equal(legend[0], hot, `the most active series first: ${legend.slice(0, 3)}`);
        const more = await page.$eval(".legend-more", (e) => e.textContent ?? "");
        assert.match(more, /showing 60 of 1000/);
        // The filter box finds one series among the thousand.
        await page.type("#series-filter", name(1234));
        await waitFor(
          async () => (await zwsValue<string[]>(page, "legend")).join() === name(1234),
          5000,
          "the filter shows only s1234",
        );
        assert.deepEqual(problems, { console: [], pageErrors: [], failedRequests: [] });
      } finally {
        pub?.close();
        await session?.close();
        await zws?.stop();
      }
    },
  });
}
