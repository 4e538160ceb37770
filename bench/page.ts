/**
 * The page's cost in headless Chromium: loads the zws page while a producer sends points, then over
 * a measuring window counts the charts' redraws (calls of every panel's Flot `draw`), the
 * animation frames Chromium ran (a `requestAnimationFrame` loop), the renderer main thread's busy
 * time (CDP `Performance.getMetrics` TaskDuration delta / wall time; long tasks from a
 * `PerformanceObserver` as a cross-check) and the JS heap (sampled every second).
 *
 * {@link runPanelsPage}: the issue 16 case, 50 series in 5 panels at 10,000 points/s in total, with
 * a 1 min window (the page asks the server for decimated data) and a 10 s one (every point).
 *
 * @module
 */
import { CHROMIUM, CHROMIUM_ARGS } from "../tests/_support/browser.ts";
import { CLOCK_TICKS } from "./common.ts";
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
  /**
   * CPU the renderer's main thread used (its /proc utime + stime / wall): unlike `busy`, which is
   * wall time of its tasks, it does not grow when other processes take the cores.
   */
  mainCpu: number;
  /** CPU the whole renderer process used (every thread), in cores. */
  rendererCpu: number;
  /** Share of the time the page's own code spent drawing and handling messages (`zws.cost`). */
  drawing: number;
  messages: number;
  /** Long tasks (> 50 ms) in the window and their total ms. */
  longTasks: number;
  longTaskMs: number;
  /** Points the page received per second (counted in its WebSocket handler). */
  pointsPerSec: number;
  /** Points on the chart at the end. */
  pointsShown: number;
  /** Page errors seen. */
  errors: string[];
  /** Panels on the page at the end. */
  panels: number;
  /** JS heap used at the start and the end of the window, and the most sampled, MiB. */
  heapStartMiB: number;
  heapEndMiB: number;
  heapMaxMiB: number;
  /** The live rate the page asked the server for (points/s per series), null: every point. */
  rateAsked: number | null;
  /** Rate messages the page sent (a stable page sends one). */
  rateChanges: number;
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
  /** Browser viewport (default 1100 x 650); tall enough that every panel is on screen. */
  viewport?: { width: number; height: number };
}

// Runs in the page before its scripts: counts animation frames, redraws (every panel's plot, as
// panels appear; a page without panels has `zws.plot` only), points received, and long tasks.
const INSTRUMENT = `(() => {
  const m = { frames: 0, redraws: 0, maxPerFrame: 0, inFrame: 0, points: 0, longTasks: 0,
    longTaskMs: 0, renderMs: 0, messageMs: 0 };
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
  const hooked = new WeakSet();
  setInterval(() => {
    const z = globalThis.zws;
    if (!z) return;
    if (z.cost) {
      m.renderMs = z.cost.renderMs;
      m.messageMs = z.cost.messageMs;
    }
    const plots = z.panels ? z.panels.map((p) => p.plot) : z.plot ? [z.plot] : [];
    for (const plot of plots) {
      if (hooked.has(plot)) continue;
      hooked.add(plot);
      const draw = plot.draw;
      plot.draw = function () {
        m.redraws++;
        m.inFrame++;
        if (m.inFrame > m.maxPerFrame) m.maxPerFrame = m.inFrame;
        return draw.apply(this, arguments);
      };
    }
  }, 10);
})();`;

/** The pid of the page's renderer process (the busiest renderer, as Chromium reports them). */
async function rendererPid(browser: Browser): Promise<number> {
  const session = await browser.target().createCDPSession();
  try {
    const { processInfo } = await session.send("SystemInfo.getProcessInfo");
    const renderers = processInfo.filter((p) => p.type === "renderer");
    renderers.sort((a, b) => b.cpuTime - a.cpuTime);
    return renderers[0]?.id ?? 0;
  } finally {
    await session.detach().catch(() => {});
  }
}

/** CPU seconds so far of a renderer's main thread (the one whose id is the pid) and of all. */
async function threadCpu(pid: number): Promise<{ main: number; all: number }> {
  if (!Number.isInteger(pid) || pid <= 0) return { main: NaN, all: NaN };
  const out = await new Deno.Command("sh", {
    args: ["-c", `cat /proc/${pid}/task/*/stat`],
    stdout: "piped",
    stderr: "null",
  }).output();
  let main = NaN;
  let all = 0;
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const close = line.lastIndexOf(")");
    if (close < 0) continue;
    const rest = line.slice(close + 2).split(" ");
    const cpu = (Number(rest[11]) + Number(rest[12])) / CLOCK_TICKS;
    all += cpu;
    if (Number(line.slice(0, line.indexOf(" "))) === pid) main = cpu;
  }
  return { main, all };
}

interface Counters {
  renderMs: number;
  messageMs: number;
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
      defaultViewport: opts.viewport ?? { width: 1100, height: 650 },
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
        heap: get("JSHeapUsedSize") / 1048576,
      };
    };
    const renderer = await rendererPid(browser);
    const c0 = await read();
    const m0 = await metrics();
    const cpu0 = await threadCpu(renderer);
    const t0 = performance.now();
    // Reset the per-frame maximum so it covers the window only.
    // deno-lint-ignore no-explicit-any
    await page.evaluate(() => (globalThis as any).__bench.maxPerFrame = 0);
    // Heap samples once a second (a bounded page stays flat; a leak climbs).
    let heapMax = m0.heap;
    for (let left = opts.measureMs; left > 0; left -= 1000) {
      await new Promise((r) => setTimeout(r, Math.min(1000, left)));
      if (left > 1000) heapMax = Math.max(heapMax, (await metrics()).heap);
    }
    const m1 = await metrics();
    const cpu1 = await threadCpu(renderer);
    const t1 = performance.now();
    const c1 = await read();
    const seconds = (t1 - t0) / 1000;
    const shown = Number(
      // deno-lint-ignore no-explicit-any
      await page.evaluate(() => (globalThis as any).document.getElementById("count")?.textContent),
    );
    const state = await page.evaluate(() => {
      // deno-lint-ignore no-explicit-any
      const z = (globalThis as any).zws;
      return {
        panels: z.panels ? z.panels.length : 1,
        rate: z.decimation?.asked ?? null,
        changes: z.decimation?.changes ?? 0,
      };
    });
    return {
      seconds,
      redrawsPerSec: (c1.redraws - c0.redraws) / seconds,
      framesPerSec: (c1.frames - c0.frames) / seconds,
      maxRedrawsPerFrame: c1.maxPerFrame,
      busy: (m1.task - m0.task) / seconds,
      script: (m1.script - m0.script) / seconds,
      layout: (m1.layout - m0.layout) / seconds,
      other: (m1.task - m0.task - (m1.script - m0.script) - (m1.layout - m0.layout)) / seconds,
      mainCpu: (cpu1.main - cpu0.main) / seconds,
      drawing: (c1.renderMs - c0.renderMs) / 1000 / seconds,
      messages: (c1.messageMs - c0.messageMs) / 1000 / seconds,
      rendererCpu: (cpu1.all - cpu0.all) / seconds,
      longTasks: c1.longTasks - c0.longTasks,
      longTaskMs: c1.longTaskMs - c0.longTaskMs,
      pointsPerSec: (c1.points - c0.points) / seconds,
      pointsShown: shown,
      errors,
      panels: state.panels,
      heapStartMiB: m0.heap,
      heapEndMiB: m1.heap,
      heapMaxMiB: Math.max(heapMax, m1.heap),
      rateAsked: state.rate,
      rateChanges: state.changes,
    };
  } finally {
    await browser?.close().catch(() => {});
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

/** What {@link runPanelsPage} needs from the bench runner (`bench/run.ts`). */
export interface PanelsDeps {
  /** Starts a zws server: its page, its ingress, stop. */
  startServer(
    kind: "zws",
    maxClients: number,
  ): Promise<{ base: string; ingress: string; stop(): Promise<unknown> }>;
  /** Starts `bench/producer_load.ts`: `rate` points/s over `series` series (s0, s1, ...). */
  startProducer(
    ingress: string,
    rate: number,
    durationMs: number,
    pointsPerMessage: number,
    series: number,
  ): {
    expect(type: string, ms: number): Promise<unknown>;
    send(line: string): Promise<void> | void;
    stop(): Promise<unknown>;
  };
}

/** Series, panels and total rate of the issue 16 page benchmark. */
export const PANELS_SERIES = 50;
export const PANELS = 5;
export const PANELS_RATE = 10000;

/**
 * The `?panels=` layout of the benchmark: the producer's s0..s49 in 5 panels of 10 (g0: s0-s9,
 * ...), in the page's own syntax (static/layout.js).
 */
export function panelsParam(series = PANELS_SERIES, panels = PANELS): string {
  const per = Math.ceil(series / panels);
  return Array.from({ length: panels }, (_, p) => {
    const names = Array.from({ length: per }, (_, i) => `s${p * per + i}`)
      .filter((_, i) => p * per + i < series);
    return `g${p}:${names.join(",")}`;
  }).join(";");
}

/** One case of {@link runPanelsPage}. */
export interface PanelsCase {
  /** What the case shows. */
  label: string;
  /** The page's window. */
  window: "1m" | "10s";
  result: PageResult & { error?: string };
}

/**
 * Issue 16's page benchmark: 50 series in 5 panels at 10,000 points/s in total, first with the
 * default 1 min window (200 points/s per series is more than its columns show: the page asks for
 * decimated data, ~33 points/s per series), then with a 10 s window (about what its columns show:
 * every point, or a rate just under 200 when a burst after a stall made a series look faster).
 */
export async function runPanelsPage(deps: PanelsDeps, quick: boolean): Promise<PanelsCase[]> {
  const warmupMs = quick ? 5000 : 15000;
  const measureMs = quick ? 5000 : 10000;
  const cases: PanelsCase[] = [];
  for (
    const [label, window] of [
      ["1 min window", "1m"],
      ["10 s window", "10s"],
    ] as const
  ) {
    let server: { base: string; ingress: string; stop(): Promise<unknown> } | undefined;
    let producer: ReturnType<PanelsDeps["startProducer"]> | undefined;
    try {
      server = await deps.startServer("zws", 100);
      producer = deps.startProducer(
        server.ingress,
        PANELS_RATE,
        warmupMs + measureMs + 10000,
        10,
        PANELS_SERIES,
      );
      await producer.expect("ready", 20000);
      const p = producer;
      const query = `?panels=${panelsParam()}${window === "1m" ? "" : "&window=" + window}`;
      const result = await measurePage({
        url: server.base + "/" + query,
        startLoad: () => void p.send("go"),
        warmupMs,
        measureMs,
        viewport: { width: 1100, height: 1400 },
      });
      cases.push({ label, window, result });
    } catch (err) {
      cases.push({ label, window, result: failed(err) });
    } finally {
      await producer?.stop();
      await server?.stop();
    }
  }
  return cases;
}

/** A result for a measurement that could not run. */
export function failed(err: unknown): PageResult & { error: string } {
  return {
    seconds: 0,
    redrawsPerSec: NaN,
    framesPerSec: NaN,
    maxRedrawsPerFrame: NaN,
    busy: NaN,
    script: NaN,
    layout: NaN,
    other: NaN,
    mainCpu: NaN,
    rendererCpu: NaN,
    drawing: NaN,
    messages: NaN,
    longTasks: 0,
    longTaskMs: 0,
    pointsPerSec: NaN,
    pointsShown: NaN,
    errors: [],
    panels: 0,
    heapStartMiB: NaN,
    heapEndMiB: NaN,
    heapMaxMiB: NaN,
    rateAsked: null,
    rateChanges: 0,
    error: err instanceof Error ? err.message : String(err),
  };
}

/** The panels benchmark as a Markdown table, and its targets (<= 1 redraw per frame, <= 25 %). */
export function panelsReport(cases: PanelsCase[]): { table: string; targets: string[] } {
  const pct = (f: number) => Number.isFinite(f) ? (f * 100).toFixed(0) + "%" : "–";
  const n = (v: number, d = 0) => Number.isFinite(v) ? v.toFixed(d) : "–";
  const head = [
    "case",
    "points/s received",
    "rate asked",
    "panels",
    "redraws/s",
    "frames/s",
    "max redraws in one frame",
    "main thread busy",
    "script",
    "layout+style",
    "other",
    "main thread CPU",
    "page drawing / messages",
    "renderer CPU (cores)",
    "long tasks (ms)",
    "JS heap MiB (start / end / max)",
  ];
  const rows = cases.map(({ label, result: r }) =>
    r.error ? [label, `failed: ${r.error}`, ...head.slice(2).map(() => "")] : [
      label,
      n(r.pointsPerSec),
      (r.rateAsked === null ? "exact" : `${r.rateAsked}/s`) + ` (${r.rateChanges} sent)`,
      String(r.panels),
      n(r.redrawsPerSec, 1),
      n(r.framesPerSec, 1),
      String(r.maxRedrawsPerFrame),
      pct(r.busy),
      pct(r.script),
      pct(r.layout),
      pct(r.other),
      pct(r.mainCpu),
      `${pct(r.drawing)} / ${pct(r.messages)}`,
      n(r.rendererCpu, 2),
      `${r.longTasks} (${n(r.longTaskMs)})`,
      `${n(r.heapStartMiB, 1)} / ${n(r.heapEndMiB, 1)} / ${n(r.heapMaxMiB, 1)}`,
    ]
  );
  const table = [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
  const mark = (ok: boolean) => ok ? "met" : "NOT met";
  const targets = cases.filter((c) => !c.result.error).map(({ label, result: r }) =>
    `page, ${PANELS_SERIES} series in ${PANELS} panels at ${PANELS_RATE} points/s, ${label}: at ` +
    `most ${r.maxRedrawsPerFrame} redraw per frame (target <= 1): ${
      mark(r.maxRedrawsPerFrame <= 1)
    }; main thread busy ${pct(r.busy)}, its CPU ${pct(r.mainCpu)} (target <= 25%): ${
      mark(r.busy <= 0.25)
    }; JS heap ${n(r.heapStartMiB, 1)} -> ${n(r.heapEndMiB, 1)} MiB`
  );
  return { table, targets };
}
