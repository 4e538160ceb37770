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
import {
  type BrowserSession,
  CHROMIUM,
  haveChromium,
  openBrowser as launch,
  RESULTS,
} from "./_browser.ts";
import { sleep, startZws, waitFor, type ZwsProcess } from "./_helpers.ts";

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
