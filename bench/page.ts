/**
 * The page's cost in headless Chromium: loads the zws page while a producer sends points, then over
 * a measuring window counts the chart's redraws (calls of the Flot plot's `draw`), the animation
 * frames Chromium ran (a `requestAnimationFrame` loop), and the renderer main thread's busy time
 * (CDP `Performance.getMetrics` TaskDuration delta / wall time; long tasks from a
 * `PerformanceObserver` as a cross-check).
 *
 * @module
 */
import { CHROMIUM, CHROMIUM_ARGS } from "../tests/_support/browser.ts";
import puppeteer, { type Browser } from "puppeteer-core";

/** Results of {@link measurePage}. */
export interface PageResult {
  /** Window length, s. */
  seconds: number;
  /** Chart redraws per second. */
  redrawsPerSec: number;
  /** Animation frames per second Chromium ran. */
  framesPerSec: number;
  /** Most redraws within one animation frame. */
  maxRedrawsPerFrame: number;
  /** Renderer main thread busy fraction (TaskDuration / wall). */
  busy: number;
  /** Of which script. */
  script: number;
  /** Of which layout + style recalculation. */
  layout: number;
  /** The rest of the busy time: paint, canvas raster (software with --disable-gpu), compositing. */
  other: number;
  /** Long tasks (> 50 ms) in the window and their total ms. */
  longTasks: number;
  longTaskMs: number;
  /** Points the page received per second (counted in its WebSocket handler). */
  pointsPerSec: number;
  /** Points on the chart at the end. */
  pointsShown: number;
  /** Page errors seen. */
  errors: string[];
}

/** Options of {@link measurePage}. */
export interface PageOptions {
  /** The zws page, `http://127.0.0.1:PORT/`. */
  url: string;
  /** Called once the page is connected: start the producer here. */
  startLoad: () => void;
  /** Time to let the chart fill before measuring, ms. */
  warmupMs: number;
  /** Measuring window, ms. */
  measureMs: number;
}

// Runs in the page before its scripts: counts animation frames, redraws (once `zws.plot` exists),
// points received, and long tasks.
const INSTRUMENT = `(() => {
  const m = { frames: 0, redraws: 0, maxPerFrame: 0, inFrame: 0, points: 0, longTasks: 0,
    longTaskMs: 0 };
  globalThis.__bench = m;
  const tick = () => { m.frames++; m.inFrame = 0; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) { m.longTasks++; m.longTaskMs += e.duration; }
    }).observe({ type: "longtask" });
  } catch (_) {}
  const Native = globalThis.WebSocket;
  globalThis.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        const s = typeof e.data === "string" ? e.data : "";
        let i = s.indexOf('"x":');
        while (i >= 0) { m.points++; i = s.indexOf('"x":', i + 4); }
      });
    }
  };
  const hook = setInterval(() => {
    const plot = globalThis.zws && globalThis.zws.plot;
    if (!plot) return;
    clearInterval(hook);
    const draw = plot.draw;
    plot.draw = function () {
      m.redraws++;
      m.inFrame++;
      if (m.inFrame > m.maxPerFrame) m.maxPerFrame = m.inFrame;
      return draw.apply(this, arguments);
    };
  }, 10);
})();`;

interface Counters {
  frames: number;
  redraws: number;
  maxPerFrame: number;
  points: number;
  longTasks: number;
  longTaskMs: number;
}

/** Launches headless Chromium, loads the page under load and measures it. */
export async function measurePage(opts: PageOptions): Promise<PageResult> {
  const profile = await Deno.makeTempDir({ prefix: "zws-bench-chromium-" });
  let browser: Browser | undefined;
  try {
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS, `--user-data-dir=${profile}`],
      // An explicit environment: the default (all of process.env) needs unrestricted --allow-env.
      env: { HOME: profile, PATH: "/usr/bin:/bin" },
      defaultViewport: { width: 1100, height: 650 },
      timeout: 30000,
      protocolTimeout: 30000,
    });
    const page = await browser.newPage();
    page.setDefaultTimeout(15000);
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(String(err)));
    await page.evaluateOnNewDocument(INSTRUMENT);
    const cdp = await page.createCDPSession();
    await cdp.send("Performance.enable", { timeDomain: "timeTicks" });
    await page.goto(opts.url, { waitUntil: "load", timeout: 15000 });
    await page.waitForFunction(
      // deno-lint-ignore no-explicit-any
      () => (globalThis as any).zws?.state === "connected",
      { timeout: 15000 },
    );
    opts.startLoad();
    await new Promise((r) => setTimeout(r, opts.warmupMs));

    const read = () =>
      // deno-lint-ignore no-explicit-any
      page.evaluate(() => ({ ...(globalThis as any).__bench })) as Promise<Counters>;
    const metrics = async () => {
      const { metrics } = await cdp.send("Performance.getMetrics");
      const get = (name: string) => metrics.find((x) => x.name === name)?.value ?? 0;
      return {
        task: get("TaskDuration"),
        script: get("ScriptDuration"),
        layout: get("LayoutDuration") + get("RecalcStyleDuration"),
      };
    };
    const c0 = await read();
    const m0 = await metrics();
    const t0 = performance.now();
    // Reset the per-frame maximum so it covers the window only.
    // deno-lint-ignore no-explicit-any
    await page.evaluate(() => (globalThis as any).__bench.maxPerFrame = 0);
    await new Promise((r) => setTimeout(r, opts.measureMs));
    const m1 = await metrics();
    const t1 = performance.now();
    const c1 = await read();
    const seconds = (t1 - t0) / 1000;
    const shown = Number(
      // deno-lint-ignore no-explicit-any
      await page.evaluate(() => (globalThis as any).document.getElementById("count")?.textContent),
    );
    return {
      seconds,
      redrawsPerSec: (c1.redraws - c0.redraws) / seconds,
      framesPerSec: (c1.frames - c0.frames) / seconds,
      maxRedrawsPerFrame: c1.maxPerFrame,
      busy: (m1.task - m0.task) / seconds,
      script: (m1.script - m0.script) / seconds,
      layout: (m1.layout - m0.layout) / seconds,
      other: (m1.task - m0.task - (m1.script - m0.script) - (m1.layout - m0.layout)) / seconds,
      longTasks: c1.longTasks - c0.longTasks,
      longTaskMs: c1.longTaskMs - c0.longTaskMs,
      pointsPerSec: (c1.points - c0.points) / seconds,
      pointsShown: shown,
      errors,
    };
  } finally {
    await browser?.close().catch(() => {});
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}
