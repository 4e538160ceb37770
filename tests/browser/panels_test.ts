/**
 * The dashboard's panels, zoom into history, exports and decimated mode (issue 16), in headless
 * Chromium and in Firefox ESR (puppeteer-core over WebDriver BiDi), against a real zws server fed
 * by a real ZeroMQ producer: panels from name prefixes with their units, moving a series to
 * another panel and to a new one, the layout in the address (a link reproduces it), zoom by
 * dragging, pan with keys and Shift+drag, back to live with L and the Live button, a range older
 * than the page holds fetched from /api/history, the CSV download's content and the PNG, Clear and
 * Reset view, and decimated live data asked for, marked, and left again. Each test saves a
 * screenshot in test-results/; `ZWS_UPDATE_DOCS=1` also writes docs/panels.png (1200x900, Chromium),
 * the screenshot docs/dashboard.md shows.
 *
 * Browsers not installed are skipped with a line saying so (`apt-get install -y chromium
 * firefox-esr`).
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
  openBrowser,
  screenshot,
  withoutAborted,
} from "../_support/browser.ts";
import {
  connectPublisher,
  sleep,
  startZws,
  testDataDir,
  waitFor,
  type ZwsProcess,
} from "../_helpers.ts";

const BROWSERS: Array<{ kind: BrowserKind; have: boolean; bin: string }> = [
  { kind: "chrome", have: haveChromium, bin: CHROMIUM },
  { kind: "firefox", have: haveFirefox, bin: FIREFOX },
];
for (const b of BROWSERS) {
  if (!b.have) console.log(`SKIP panels tests in ${b.kind}: ${b.bin} not found`);
}

const VIEWPORT = { width: 1200, height: 1400 };
/** Series and their units: two prefixes (two panels) and one name without (the default panel). */
const UNITS: Record<string, string> = {
  "cpu/user": "%",
  "cpu/sys": "%",
  "net/in": "kB/s",
  "net/out": "kB/s",
  "load": "",
};
const SERIES = Object.keys(UNITS);

/** A smooth value per series at time `t` (ms); every 1,000th point `spike`, if set. */
function valueOf(name: string, t: number, index: number, spike?: number): number {
  if (spike !== undefined && index % 1000 === 0) return spike;
  const i = SERIES.indexOf(name) + 1;
  return Math.round((20 * i + 10 * Math.sin(t / 3000 + i)) * 100) / 100;
}

/** A producer: `backfillS` seconds of history (1 point/s per series), then live points. */
interface Producer {
  /** Live points per second per series; may be changed while running. */
  rate: number;
  readonly sent: number;
  stop(): Promise<void>;
}

async function produce(
  pub: zmq.Publisher,
  opts: { rate: number; backfillS?: number; series?: string[]; spike?: number },
): Promise<Producer> {
  const names = opts.series ?? SERIES;
  let index = 0;
  const point = (n: string, t: number) => {
    const p: Record<string, unknown> = { x: t, y: valueOf(n, t, index, opts.spike), series: n };
    if (UNITS[n]) p.unit = UNITS[n];
    return p;
  };
  const now = Date.now();
  const back = opts.backfillS ?? 0;
  for (let s = back; s > 0; s -= 20) {
    const batch = [];
    const m = Math.min(s, 20);
    for (let k = m; k > 0; k--) {
      for (const n of names) batch.push(point(n, now - (s - m + k) * 1000));
    }
    await pub.send(JSON.stringify(batch));
  }
  let stop = false;
  let sent = 0;
  const state = { rate: opts.rate };
  const done = (async () => {
    let t0 = performance.now();
    let due0 = 0;
    let rate = state.rate;
    while (!stop) {
      if (state.rate !== rate) {
        rate = state.rate;
        t0 = performance.now();
        due0 = 0;
      }
      // Catch up with the schedule (timers are coarse): `rate` points/s per series, spread
      // over the time since the last send so each point has its own x.
      const due = Math.floor(((performance.now() - t0) / 1000) * rate) - due0;
      if (due > 0) {
        const t = Date.now();
        const batch = [];
        for (let i = 0; i < due; i++) {
          const x = t - Math.round(((due - 1 - i) * 1000) / rate);
          for (const n of names) batch.push(point(n, x));
          index++;
        }
        due0 += due;
        await pub.send(JSON.stringify(batch));
        sent += due * names.length;
      }
      await sleep(20);
    }
  })();
  return {
    get rate() {
      return state.rate;
    },
    set rate(r: number) {
      state.rate = r;
    },
    get sent() {
      return sent;
    },
    async stop() {
      stop = true;
      await done;
    },
  };
}

/** One panel as the page shows it. */
interface PanelView {
  title: string;
  names: string[];
  unit: string;
  /** The labels Flot draws, sorted. */
  labels: string[];
  points: number;
  minX: number;
  maxX: number;
  maxY: number;
  xaxis: { min: number; max: number };
  /** The unit written on the y axis ("" when hidden). */
  yUnit: string;
  /** Legend entries: name and unit as listed. */
  legend: string[];
}

/** A Flot plot in the page (the test is type-checked without Flot's types). */
// deno-lint-ignore no-explicit-any
type FlotPlot = any;

/** What the tests read from the page. */
interface View {
  state: string;
  viewMode: string;
  view: { from: number; to: number };
  panels: PanelView[];
  url: string;
  note: string;
  noteHidden: boolean;
  liveHidden: boolean;
  pauseText: string;
  decimation: { asked: number | null; rate: number | null; shown: boolean; text: string };
  history: { fetches: number; loading: boolean; error: string | null };
  held: Record<string, number>;
  rate: number;
  width: number;
}

function view(page: Page): Promise<View> {
  return page.evaluate(() => {
    // The page's globals (the test is type-checked without the DOM library).
    // deno-lint-ignore no-explicit-any
    const g = globalThis as any;
    const zws = g.zws;
    const doc = g.document;
    const panels = zws.panels.map(
      (p: { title: string; names: string[]; unit: string; plot: FlotPlot }) => {
        const data: Array<{ label: string; zwsName: string; data: Array<[number, number]> }> = p
          .plot.getData();
        const xs = data.flatMap((s) => s.data.map((q) => q[0]));
        const ys = data.flatMap((s) => s.data.map((q) => q[1]));
        const axes = p.plot.getAxes();
        const section = doc.querySelector(`section.panel[data-panel="${g.CSS.escape(p.title)}"]`);
        const yUnit = section?.querySelector(".y-unit");
        return {
          title: p.title,
          names: p.names,
          unit: p.unit,
          labels: data.map((s) => s.zwsName).sort(),
          points: xs.length,
          minX: xs.length ? Math.min(...xs) : Infinity,
          maxX: xs.length ? Math.max(...xs) : -Infinity,
          maxY: ys.length ? Math.max(...ys) : -Infinity,
          xaxis: { min: axes.xaxis.min, max: axes.xaxis.max },
          yUnit: yUnit && !yUnit.hidden ? String(yUnit.textContent) : "",
          legend: Array.from(section?.querySelectorAll(".panel-legend li") ?? []).map((
            // deno-lint-ignore no-explicit-any
            li: any,
          ) =>
            [li.querySelector(".series-name")?.textContent, li.querySelector(".unit")?.textContent]
              .filter(Boolean).join(" ")
          ),
        };
      },
    );
    const note = doc.getElementById("paused-note");
    return {
      state: zws.state,
      viewMode: zws.viewMode,
      view: zws.view,
      panels,
      url: g.location.pathname + g.location.search,
      note: String(note.textContent),
      noteHidden: note.hidden,
      liveHidden: doc.getElementById("live").hidden,
      pauseText: String(doc.getElementById("pause").textContent),
      decimation: zws.decimation,
      history: zws.history,
      held: zws.held,
      rate: zws.figures.rate,
      width: zws.panels.length ? zws.panels[0].plot.width() : 0,
    };
  });
}

/** Waits until `check(view)` holds; the error names the last view seen. */
async function until(
  page: Page,
  check: (v: View) => boolean,
  what: string,
  ms = 15000,
): Promise<View> {
  let last: View | undefined;
  try {
    await waitFor(async () => check(last = await view(page)), ms, what);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last view: ${JSON.stringify(last)}`);
  }
  return last!;
}

const titles = (v: View) => v.panels.map((p) => p.title);
const panel = (v: View, title: string) => {
  const p = v.panels.find((q) => q.title === title);
  assert.ok(p, `panel ${title} in ${titles(v)}`);
  return p;
};
const drawn = (v: View) => v.panels.every((p) => p.labels.length === p.names.length);

/** The plot area of a panel in the viewport's coordinates (scrolled into view first). */
function plotArea(
  page: Page,
  title: string,
): Promise<{ left: number; top: number; width: number; height: number }> {
  return page.evaluate((t: string) => {
    // deno-lint-ignore no-explicit-any
    const g = globalThis as any;
    const p = g.zws.panels.find((q: { title: string }) => q.title === t);
    p.plot.getPlaceholder()[0].scrollIntoView({ block: "center" });
    const r = p.plot.getPlaceholder()[0].getBoundingClientRect();
    const off = p.plot.getPlotOffset();
    return {
      left: r.left + off.left,
      top: r.top + off.top,
      width: p.plot.width(),
      height: p.plot.height(),
    };
  }, title);
}

/** Drags across a panel's plot area from fraction `a` to `b` of its width (Shift: pans). */
async function drag(page: Page, title: string, a: number, b: number, shift = false) {
  const r = await plotArea(page, title);
  const y = r.top + r.height / 2;
  if (shift) await page.keyboard.down("Shift");
  await page.mouse.move(r.left + r.width * a, y);
  await page.mouse.down();
  await page.mouse.move(r.left + r.width * (a + b) / 2, y, { steps: 4 });
  await page.mouse.move(r.left + r.width * b, y, { steps: 4 });
  await page.mouse.up();
  if (shift) await page.keyboard.up("Shift");
}

/** A running setup: server, producer, browser on the page. */
interface Setup {
  zws: ZwsProcess;
  pub: zmq.Publisher;
  producer: Producer;
  session: BrowserSession;
  page: Page;
  close(): Promise<void>;
}

async function setup(
  kind: BrowserKind,
  opts: {
    rate?: number;
    backfillS?: number;
    path?: string;
    flags?: string[];
    downloads?: string;
    series?: string[];
    spike?: number;
    viewport?: { width: number; height: number };
  } = {},
): Promise<Setup> {
  const zws = await startZws(["--no-demo", ...(opts.flags ?? ["--history", "5000"])]);
  let pub: zmq.Publisher | undefined;
  let producer: Producer | undefined;
  let session: BrowserSession | undefined;
  const close = async () => {
    await session?.close();
    await producer?.stop();
    pub?.close();
    await zws.stop();
  };
  try {
    pub = await connectPublisher(zws.ingress);
    producer = await produce(pub, {
      rate: opts.rate ?? 10,
      backfillS: opts.backfillS,
      series: opts.series,
      spike: opts.spike,
    });
    session = await openBrowser(opts.viewport ?? VIEWPORT, kind, { downloads: opts.downloads });
    const res = await session.page.goto(zws.base + (opts.path ?? "/"), { waitUntil: "load" });
    assert.equal(res?.status(), 200);
    return { zws, pub, producer, session, page: session.page, close };
  } catch (err) {
    await close();
    throw err;
  }
}

const noProblems = { console: [], pageErrors: [], failedRequests: [] };
/** The session's problems, less the history requests the page aborted when a newer view came. */
const problemsOf = (s: { session: BrowserSession }) =>
  withoutAborted(s.session.problems, /\/api\/history\?/);

/** Files in `dir` with extension `ext` once complete (no partial download beside them). */
async function downloaded(dir: string, ext: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  if (names.some((n) => /\.(part|crdownload)$/.test(n))) return [];
  return names.filter((n) => n.endsWith("." + ext));
}

for (const b of BROWSERS) {
  Deno.test({
    name: `panels (${b.kind}): grouped by prefix with units; a series moves; the address keeps it`,
    ignore: !b.have,
    async fn() {
      const s = await setup(b.kind, { backfillS: 30 });
      try {
        const { page } = s;
        const v0 = await until(
          page,
          (v) =>
            v.state === "connected" && titles(v).join() === "*,cpu,net" && drawn(v) &&
            panel(v, "cpu").unit === "%",
          "three panels from the prefixes, with units",
        );
        assert.deepEqual(v0.panels.map((p) => [p.title, p.names]), [
          ["*", ["load"]],
          ["cpu", ["cpu/sys", "cpu/user"]],
          ["net", ["net/in", "net/out"]],
        ]);
        assert.equal(v0.url, "/", "the default grouping needs no parameter");
        // Each panel: its own y axis (ranges differ), its unit on the axis and in its legend.
        assert.equal(panel(v0, "cpu").yUnit, "%");
        assert.equal(panel(v0, "net").yUnit, "kB/s");
        assert.equal(panel(v0, "*").yUnit, "", "no unit: no label");
        assert.deepEqual(panel(v0, "net").legend, ["net/in kB/s", "net/out kB/s"]);
        assert.deepEqual(panel(v0, "*").legend, ["load"]);
        const yRanges = await page.evaluate(() =>
          // deno-lint-ignore no-explicit-any
          (globalThis as any).zws.panels.map((p: any) => p.plot.getAxes().yaxis.max)
        );
        assert.equal(new Set(yRanges).size, 3, `three y axes: ${yRanges}`);
        await screenshot(page, `panels-${b.kind}-prefixes`);

        // Move cpu/user to the net panel with its legend's control.
        await page.select('section[data-panel="cpu"] select.move[data-series="cpu/user"]', "net");
        const v1 = await until(
          page,
          (v) => panel(v, "net").names.includes("cpu/user") && drawn(v),
          "cpu/user on the net panel",
        );
        assert.deepEqual(panel(v1, "cpu").names, ["cpu/sys"]);
        assert.deepEqual(panel(v1, "net").labels, ["cpu/user", "net/in", "net/out"]);
        assert.equal(panel(v1, "net").unit, "%, kB/s", "both units on the shared axis");
        assert.equal(v1.url, "/?panels=*;cpu;net:cpu/user");

        // Move net/in to a new panel: it comes last, named for its place.
        await page.select(
          'section[data-panel="net"] select.move[data-series="net/in"]',
          "\u0000new",
        );
        const v2 = await until(page, (v) => titles(v).length === 4 && drawn(v), "a new panel");
        assert.deepEqual(titles(v2), ["*", "cpu", "net", "panel 4"]);
        assert.deepEqual(panel(v2, "panel 4").names, ["net/in"]);
        const link = "/?panels=*;cpu;net:cpu/user;panel%204:net/in";
        assert.equal(v2.url, link);
        // The last series out of a panel: the panel goes.
        await page.select('section[data-panel="cpu"] select.move[data-series="cpu/sys"]', "net");
        const v3 = await until(page, (v) => titles(v).length === 3 && drawn(v), "cpu gone");
        assert.deepEqual(titles(v3), ["*", "net", "panel 4"]);
        await screenshot(page, `panels-${b.kind}-moved`);

        // The link reproduces the layout in a fresh page.
        await page.goto(s.zws.base + link, { waitUntil: "load" });
        const v4 = await until(
          page,
          (v) => v.state === "connected" && titles(v).length === 4 && drawn(v),
          "the layout from the link",
        );
        assert.deepEqual(v4.panels.map((p) => [p.title, p.names]), [
          ["*", ["load"]],
          ["cpu", ["cpu/sys"]],
          ["net", ["cpu/user", "net/out"]],
          ["panel 4", ["net/in"]],
        ]);
        assert.equal(v4.url, link);

        // Reset view: the default grouping and a plain address again.
        await page.click("#reset");
        const v5 = await until(
          page,
          (v) => titles(v).join() === "*,cpu,net" && v.url === "/" && drawn(v),
          "reset",
        );
        assert.deepEqual(panel(v5, "cpu").names, ["cpu/sys", "cpu/user"]);
        assert.deepEqual(problemsOf(s), noProblems);
      } finally {
        await s.close();
      }
    },
  });

  Deno.test({
    name:
      `panels (${b.kind}): drag zooms, keys and Shift+drag pan, L and Live return; older ranges come from /api/history`,
    ignore: !b.have,
    async fn() {
      const data = testDataDir();
      // Memory holds 50 points per series (5 s at 10 points/s), the store 4 minutes of backfill.
      const s = await setup(b.kind, {
        backfillS: 240,
        flags: ["--history", "50", "--data-dir", data.dir, "--retention", "100000"],
      });
      try {
        const { page } = s;
        const v0 = await until(
          page,
          (v) =>
            v.state === "connected" && titles(v).length === 3 && drawn(v) &&
            panel(v, "cpu").points > 20,
          "the live panels",
        );
        assert.equal(v0.viewMode, "live");
        assert.equal(v0.liveHidden, true);

        // Drag across 30 %-60 % of the cpu panel: that range, on every panel, not live.
        const r = await plotArea(page, "cpu");
        const expected = await page.evaluate((a: { x0: number; x1: number }) => {
          // deno-lint-ignore no-explicit-any
          const p = (globalThis as any).zws.panels.find((q: any) => q.title === "cpu");
          const axis = p.plot.getXAxes()[0];
          return { from: axis.c2p(a.x0), to: axis.c2p(a.x1) };
        }, { x0: r.width * 0.3, x1: r.width * 0.6 });
        await drag(page, "cpu", 0.3, 0.6);
        const z = await until(
          page,
          (v) =>
            v.viewMode === "zoomed" &&
            v.panels.every((p) => p.xaxis.min === v.view.from && p.xaxis.max === v.view.to),
          "zoomed, every panel drawn",
        );
        const span = expected.to - expected.from;
        // The live view moves on between reading the axis and the drag: a few pixels at most.
        assert.ok(Math.abs(z.view.from - expected.from) < span * 0.1, JSON.stringify(z.view));
        assert.ok(Math.abs(z.view.to - z.view.from - span) < span * 0.05);
        for (const p of z.panels) assert.deepEqual(p.xaxis, { min: z.view.from, max: z.view.to });
        assert.match(z.note, /^Not live: showing \d\d:\d\d:\d\d\.\d{3} – \d\d:\d\d:\d\d\.\d{3}/);
        assert.equal(z.noteHidden, false);
        assert.equal(z.liveHidden, false);
        assert.equal(z.pauseText, "Resume");
        await sleep(800);
        const z1 = await view(page);
        assert.deepEqual(z1.view, z.view, "a zoomed view stays where it is");
        await screenshot(page, `panels-${b.kind}-zoomed`);

        // ←: a quarter of the span back (the chart has the focus after the drag).
        await page.keyboard.press("ArrowLeft");
        const k = await until(page, (v) => v.view.from < z.view.from - 1, "panned by a key");
        const zspan = z.view.to - z.view.from;
        assert.ok(Math.abs(k.view.from - (z.view.from - zspan / 4)) < 2, JSON.stringify(k.view));
        // Shift+drag to the right by a fifth of the width: a fifth of the span earlier.
        await drag(page, "cpu", 0.4, 0.6, true);
        const sd = await until(page, (v) => v.view.from < k.view.from - 1, "panned by a drag");
        const moved = k.view.from - sd.view.from;
        assert.ok(Math.abs(moved - zspan / 5) < zspan * 0.05, `panned ${moved} of ${zspan}`);
        assert.equal(sd.viewMode, "zoomed");

        // Zoom out (-) until the range starts before anything the page holds: the server's
        // store fills it in (/api/history), older than the page's own oldest point.
        const oldest = Math.min(...v0.panels.map((p) => p.minX));
        for (let i = 0; i < 5; i++) await page.keyboard.press("-");
        const h = await until(
          page,
          (v) =>
            v.view.from < oldest - 120e3 && v.history.fetches > 0 && !v.history.loading &&
            panel(v, "cpu").minX < oldest - 60e3,
          "history older than the page holds",
          20000,
        );
        assert.equal(h.history.error, null);
        assert.ok(panel(h, "net").minX < oldest - 60e3, "every panel shows it");
        // What the page draws there is what the store kept: 1 point per second per series.
        const past = await page.evaluate((o: number) => {
          // deno-lint-ignore no-explicit-any
          const p = (globalThis as any).zws.panels.find((q: any) => q.title === "cpu");
          // deno-lint-ignore no-explicit-any
          const s = p.plot.getData().find((d: any) => d.zwsName === "cpu/user");
          return s.data.filter((q: [number, number]) => q[0] < o - 60e3).length;
        }, oldest);
        assert.ok(past >= 30, `${past} stored points drawn`);
        await screenshot(page, `panels-${b.kind}-history`);

        // L: back to live, following the clock again.
        await page.keyboard.press("l");
        const live = await until(page, (v) => v.viewMode === "live", "live again (L)");
        assert.equal(live.liveHidden, true);
        assert.equal(live.noteHidden, true);
        assert.equal(live.pauseText, "Pause");
        assert.ok(Math.abs(live.view.to - Date.now()) < 3000);
        const later = await until(page, (v) => v.view.to > live.view.to + 300, "moving");
        assert.ok(Math.abs(later.view.to - later.view.from - 60e3) < 1, "the 1 min window");

        // Zoom again, and the Live button returns too.
        await drag(page, "net", 0.2, 0.5);
        await until(page, (v) => v.viewMode === "zoomed", "zoomed again");
        await page.click("#live");
        await until(page, (v) => v.viewMode === "live" && v.liveHidden, "live again (button)");
        assert.deepEqual(problemsOf(s), noProblems);
      } finally {
        await s.close();
        await data.remove();
      }
    },
  });

  Deno.test({
    name: `panels (${b.kind}): CSV of the visible window (from the API) and a PNG, one click each`,
    ignore: !b.have,
    async fn() {
      const dir = await Deno.makeTempDir({ prefix: "zws-downloads-" });
      const s = await setup(b.kind, {
        rate: 20,
        backfillS: 30,
        downloads: dir,
        path: "/?window=10s",
      });
      try {
        const { page } = s;
        await until(
          page,
          (v) =>
            v.state === "connected" && titles(v).length === 3 && drawn(v) &&
            v.panels.every((p) => p.points > 60 * p.names.length),
          "three seconds and more of five series at 20 points/s",
        );
        await page.click("#pause");
        await sleep(200);
        const v = await view(page);
        assert.equal(v.viewMode, "paused");
        await sleep(500); // points in flight at the pause land
        // The points the page holds in its window (what it draws, once drawn again).
        const shown = await page.evaluate((r: { from: number; to: number; names: string[] }) => {
          // deno-lint-ignore no-explicit-any
          const zws = (globalThis as any).zws;
          const out: Record<string, string[]> = {};
          for (const n of r.names) {
            out[n] = zws.points(n, Math.floor(r.from), Math.ceil(r.to)).map((q: number[]) =>
              `${q[0]},${q[1]}`
            );
          }
          return out;
        }, { ...v.view, names: SERIES });
        await page.click("#export-csv");
        let files: string[] = [];
        await waitFor(
          async () => (files = await downloaded(dir, "csv")).length === 1,
          10000,
          "csv",
        );
        assert.match(files[0], /^zws-[\w-]+\.csv$/, "named by the server");
        const csv = await Deno.readTextFile(`${dir}/${files[0]}`);
        const lines = csv.trimEnd().split("\n");
        assert.equal(lines[0], "series,x,y");
        const got: Record<string, string[]> = {};
        for (const line of lines.slice(1)) {
          const [name, x, y] = line.split(",");
          const xn = Number(x);
          assert.ok(xn >= Math.floor(v.view.from) && xn <= Math.ceil(v.view.to), line);
          (got[name] ??= []).push(`${x},${y}`);
        }
        assert.deepEqual(Object.keys(got).sort(), [...SERIES].sort());
        for (const name of SERIES) {
          assert.ok(shown[name].length > 50, `${name}: ${shown[name].length} points shown`);
          assert.deepEqual(got[name], shown[name], `${name}: the CSV holds what the page holds`);
        }

        await page.click("#export-png");
        await waitFor(
          async () => (files = await downloaded(dir, "png")).length === 1,
          10000,
          "png",
        );
        assert.match(files[0], /^zws-\d{8}T\d{6}Z-10s\.png$/);
        const png = await Deno.readFile(`${dir}/${files[0]}`);
        assert.deepEqual([...png.slice(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], "a PNG");
        const dv = new DataView(png.buffer);
        const width = dv.getUint32(16);
        const height = dv.getUint32(20);
        const heights = await page.evaluate(() =>
          // deno-lint-ignore no-explicit-any
          (globalThis as any).zws.panels.map((p: any) => p.plot.getPlaceholder()[0].clientHeight)
        );
        const sum = heights.reduce((a: number, h: number) => a + h, 0);
        assert.ok(width >= VIEWPORT.width - 100 && width <= VIEWPORT.width, `width ${width}`);
        assert.ok(height > sum && height < sum + 300, `height ${height} for panels ${heights}`);
        assert.ok(png.length > 20000, `${png.length} bytes: lines and labels, not a blank image`);
        assert.deepEqual(problemsOf(s), noProblems);
      } finally {
        await s.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });

  Deno.test({
    name: `panels (${b.kind}): Clear empties the view (not the server); Reset view refills it`,
    ignore: !b.have,
    async fn() {
      const s = await setup(b.kind, { backfillS: 30 });
      try {
        const { page } = s;
        const v0 = await until(
          page,
          (v) =>
            v.state === "connected" && titles(v).length === 3 && drawn(v) &&
            panel(v, "cpu").minX < Date.now() - 25e3,
          "half a minute on the panels",
        );
        const before = Date.now();
        await page.click("#clear");
        const v1 = await until(
          page,
          (v) => v.panels.every((p) => p.minX > before - 2000) && v.panels.some((p) => p.points),
          "only new points",
        );
        assert.deepEqual(titles(v1), titles(v0), "the panels stay");
        assert.equal(v1.viewMode, "live");
        // The server still holds what the page cleared.
        const res = await fetch(
          `${s.zws.base}/api/history?series=cpu/user&to=${before - 10e3}`,
        );
        const body = await res.json();
        assert.ok(body.series[0].points.length >= 15, "the server keeps its data");
        await page.click("#reset");
        const v2 = await until(
          page,
          (v) => v.panels.every((p) => p.minX < before - 25e3),
          "what the server holds, again",
        );
        assert.equal(v2.url, "/");
        assert.deepEqual(problemsOf(s), noProblems);
      } finally {
        await s.close();
      }
    },
  });

  Deno.test({
    name: `panels (${b.kind}): a fast series is asked for at the window's rate, marked decimated`,
    ignore: !b.have,
    async fn() {
      // Two series at 500 points/s each; a 10 s window on ~1,100 px wants ~220 per series.
      const s = await setup(b.kind, {
        rate: 500,
        series: ["fast/a", "fast/b"],
        spike: 1000,
        path: "/?window=10s",
      });
      try {
        const { page } = s;
        const v0 = await until(
          page,
          (v) => v.state === "connected" && v.decimation.rate !== null && v.decimation.shown,
          "decimated live data, marked",
        );
        const want = Math.round((2 * v0.width) / 10);
        assert.ok(Math.abs((v0.decimation.asked ?? 0) - want) <= 1, JSON.stringify(v0));
        assert.equal(v0.decimation.rate, v0.decimation.asked, "the server applies that rate");
        assert.match(v0.decimation.text, new RegExp(`at most ${v0.decimation.asked} points/s`));
        await sleep(2500);
        const v1 = await view(page);
        // What arrives: about the rate asked per series, far below the 1,000 sent per second.
        assert.ok(v1.rate > 0 && v1.rate <= 2 * want * 1.3, `received ${v1.rate}/s`);
        // Min and max per bucket: the spikes (1,000 every 2 s) are still drawn.
        assert.equal(panel(v1, "fast").maxY, 1000, "peaks stay visible");
        await screenshot(page, `panels-${b.kind}-decimated`);

        // A longer window asks for fewer points.
        await page.click('input[name="window"][value="1m"]');
        const v2 = await until(
          page,
          (v) => v.decimation.asked !== null && v.decimation.asked < want / 3,
          "a lower rate for 1 min",
        );
        assert.ok(Math.abs(v2.decimation.asked! - Math.round((2 * v2.width) / 60)) <= 1);

        // The stream slows below the rate: exact again, and no longer marked.
        s.producer.rate = 3;
        const v3 = await until(
          page,
          (v) => v.decimation.asked === null && !v.decimation.shown,
          "exact again",
          20000,
        );
        assert.equal(v3.decimation.rate, null);
        assert.deepEqual(problemsOf(s), noProblems);
      } finally {
        await s.close();
      }
    },
  });
}

Deno.test({
  name: "panels (chrome): screenshot of three panels (docs/panels.png with ZWS_UPDATE_DOCS=1)",
  ignore: !haveChromium,
  async fn() {
    const s = await setup("chrome", {
      rate: 5,
      backfillS: 75,
      viewport: { width: 1200, height: 900 },
    });
    try {
      const { page } = s;
      await until(
        page,
        (v) =>
          v.state === "connected" && titles(v).join() === "*,cpu,net" && drawn(v) &&
          v.panels.every((p) => p.points > 50 * p.names.length) && panel(v, "net").yUnit !== "",
        "a minute on three panels, with units",
      );
      await sleep(1500); // figures filled in
      const path = await screenshot(page, "panels");
      if (Deno.env.get("ZWS_UPDATE_DOCS") === "1") {
        await Deno.copyFile(path, new URL("../../docs/panels.png", import.meta.url));
      }
      assert.deepEqual(problemsOf(s), noProblems);
    } finally {
      await s.close();
    }
  },
});
