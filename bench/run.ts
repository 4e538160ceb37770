/**
 * `deno task bench [--quick] [--only W1,W6,W6P,W7,W9,page] [--no-baseline] [--no-write]
 * [--rounds N]` (W6P's rounds, default 3): runs
 * workloads W1-W5 and W8 against zws and against the naive baseline (`bench/baseline.ts`) in the
 * same run, W9 (decimated against exact clients of one 100,000 points/s series; zws only),
 * the W6 ingest-ceiling ladder (both), W6P (zws's W6 persisting against `--no-persist`) and the W7
 * burst (zws; `bench/ingest.ts`), then the page cost
 * in headless Chromium, prints the tables and zws/baseline ratios, and (full runs) writes
 * `docs/benchmarks.md`.
 *
 * Every workload gets a fresh server process. Load comes from separate processes:
 * `bench/producer_load.ts` (ZeroMQ PUB, each point's `x` = its send time) and one or more
 * `bench/loadgen.ts` (raw WebSocket clients measuring latency = receive time - `x`). Server RSS
 * and CPU come from `/proc/<pid>/status` and `/proc/<pid>/stat`. Everything targets 127.0.0.1.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  Histogram,
  jsonLines,
  MACHINE,
  type MemInfo,
  readCpuSeconds,
  readMem,
  readProc,
  sleep,
} from "./common.ts";
import type { LoadgenConnected, LoadgenReport, LoadgenStats } from "./loadgen.ts";
import type { ProducerDone } from "./producer_load.ts";
import { failed, measurePage, type PageResult, panelsReport, runPanelsPage } from "./page.ts";
import {
  type BurstResult,
  type IngestDeps,
  median,
  runW6,
  runW6P,
  runW7,
  w6Ladder,
  type W6PResult,
  type W6Result,
} from "./ingest.ts";
import { CHROMIUM } from "../tests/_support/browser.ts";
import { taskArgs } from "../tests/_support/tasks.ts";

const ROOT = new URL("../", import.meta.url);
/** The `deno` on PATH (the one `deno task` runs; `--allow-run=deno` names it). */
const DENO = "deno";
/** The bridge's per-client buffer bound (`--client-buffer-bytes` default, src/config/config.ts), bytes. */
const ZWS_CLIENT_BUFFER = 1024 * 1024;
/** Deno keeps ~2.3x a WebSocket's queued bytes in memory (docs/architecture.md, "ZeroMQ under Deno"). */
const DENO_QUEUE_FACTOR = 2.3;

/** One workload: how many clients, how fast, how long. */
export interface Workload {
  id: string;
  title: string;
  /** Reading clients. */
  clients: number;
  /** Clients that stop reading after the handshake. */
  stalled: number;
  /** Producer messages per second. */
  rate: number;
  /** Points per producer message. */
  pointsPerMessage: number;
  durationMs: number;
  /** Load generator processes the clients are spread over. */
  loadgens: number;
  /** Initial read buffer per client, bytes. */
  readBuffer: number;
  /** Series the producer spreads its points over (default 5). */
  series?: number;
  /** Points per second per series every client asks for (`{"type":"rate"}`); absent: exact. */
  decimateRate?: number;
  /** Run against zws only (the baseline has no such feature). */
  zwsOnly?: boolean;
  /** Clients count frames and bytes only, no latency (`loadgen.ts --no-latency`). */
  noLatency?: boolean;
  /** zws in memory only (`--no-persist`; default: as `ZWS_NO_PERSIST=1` says). */
  noPersist?: boolean;
}

/** W1-W5 and W8 as the issues state them (full) or scaled down (quick); W6 and W7: ingest.ts. */
export function workloads(quick: boolean): Workload[] {
  const d = quick ? 3000 : 10000;
  // ~1 KB producer messages for W5: an array of 18 points of ~56 bytes (see producer_load.ts).
  return [
    {
      id: "W1",
      title: "100 clients x 1,000 msg/s",
      clients: quick ? 20 : 100,
      stalled: 0,
      rate: 1000,
      pointsPerMessage: 1,
      durationMs: d,
      loadgens: 1,
      readBuffer: 65536,
    },
    {
      id: "W2",
      title: "1,000 clients x 100 msg/s",
      clients: quick ? 200 : 1000,
      stalled: 0,
      rate: 100,
      pointsPerMessage: 1,
      durationMs: d,
      loadgens: 1,
      readBuffer: 16384,
    },
    {
      id: "W3",
      title: "15,000 mostly idle clients x 1 msg/s",
      clients: quick ? 2000 : 15000,
      stalled: 0,
      rate: 1,
      pointsPerMessage: 1,
      durationMs: d,
      loadgens: quick ? 2 : 4,
      readBuffer: 2048,
    },
    {
      id: "W4",
      title: "100 clients x 10,000 msg/s",
      clients: quick ? 20 : 100,
      stalled: 0,
      rate: 10000,
      pointsPerMessage: 1,
      durationMs: d,
      loadgens: 1,
      readBuffer: 65536,
    },
    {
      id: "W5",
      title: "10 clients + 5 stalled x 2,000 msg/s of ~1 KB",
      clients: 10,
      stalled: 5,
      rate: 2000,
      pointsPerMessage: 18,
      durationMs: quick ? 5000 : 15000,
      loadgens: 1,
      readBuffer: 65536,
    },
    {
      // W5's load without the stalled clients: what the stalled ones cost is the difference.
      id: "W5c",
      title: "W5 control: 10 clients, no stalled ones, same load",
      clients: 10,
      stalled: 0,
      rate: 2000,
      pointsPerMessage: 18,
      durationMs: quick ? 5000 : 15000,
      loadgens: 1,
      readBuffer: 65536,
    },
    {
      id: "W8",
      title: "1,000 clients x 100,000 points/s in 100-point messages",
      clients: 1000,
      stalled: 0,
      rate: 1000,
      pointsPerMessage: 100,
      durationMs: d,
      loadgens: 2,
      readBuffer: 65536,
    },
    // W9: one series at 100,000 points/s, 100 clients at the page's rate for a 10 s window on
    // 1,000 px (200 points/s), against the same clients on the exact stream (W9x).
    ...(["W9", "W9x"] as const).map((id): Workload => ({
      id,
      title: id === "W9"
        ? "100 decimated clients (200 pts/s) x one series at 100,000 points/s"
        : "W9 control: the same 100 clients on the exact stream",
      clients: quick ? 20 : 100,
      stalled: 0,
      rate: 1000,
      pointsPerMessage: 100,
      durationMs: d,
      loadgens: 1,
      readBuffer: 65536,
      series: 1,
      ...(id === "W9" ? { decimateRate: 200 } : { noLatency: true }),
      zwsOnly: true,
    })),
  ];
}

/** Which server a run measured. */
export type ServerKind = "zws" | "baseline";

/** Everything measured in one run of one workload against one server. */
export interface RunResult {
  workload: Workload;
  server: ServerKind;
  clientsConnected: number;
  stalledConnected: number;
  connectFailed: number;
  connectMs: number;
  expected: number;
  delivered: number;
  /** Delivered points / (last receive - first send). */
  deliveredPerSec: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Mean latency, ms. */
  mean?: number;
  /** Fewest points one reading client received, as a fraction of what it should have. */
  worstClient: number;
  /** Data frames per second the busiest client received (over first send to last receive). */
  framesPerClientSec: number;
  rssIdleKiB: number;
  rssConnectedKiB: number;
  rssPeakKiB: number;
  /** RSS growth during the load (peak sample - after connect). */
  rssGrowthKiB: number;
  /**
   * RSS growth in the second half of the load: highest sample in the second half minus highest in
   * the first. Near 0 when memory is bounded; keeps growing with a backlog that is not.
   */
  rssLateGrowthKiB: number;
  rssPerConnKiB: number;
  /** Server CPU, fraction of one core, over the load window. */
  serverCpu: number;
  /** Load generators' (clients') and producer's CPU, fraction of one core. */
  clientsCpu: number;
  producerCpu: number;
  /**
   * CPU used on the machine by anything else (other processes, this orchestrator), fraction of
   * one core: a noisy neighbour shows here.
   */
  otherCpu: number;
  windowSec: number;
  /** Producer message size, bytes. */
  messageBytes: number;
  /** Bytes each reading client read after its hello, on average. */
  bytesPerClient?: number;
  /** zws /metrics counters read at the end (zws only). */
  metrics?: Record<string, number>;
  error?: string;
}

/** Most open files a server or load generator needs (W3: 15,000 sockets in one server). */
const FILE_LIMIT = 20000;

/**
 * `sh` arguments that raise the open-files limit to {@link FILE_LIMIT} (or the hard limit, if
 * lower) and then `exec` deno with `args`, so the child's pid is deno's.
 */
function withFileLimit(args: string[]): string[] {
  return [
    "-c",
    `ulimit -n ${FILE_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`,
    DENO,
    ...args,
  ];
}

/** A child process speaking JSON lines on stdout. */
export class Child {
  readonly proc: Deno.ChildProcess;
  readonly pid: number;
  #queue: Array<Record<string, unknown>> = [];
  #wake: Array<() => void> = [];
  #ended = false;
  #stderr = "";
  #writer?: WritableStreamDefaultWriter<Uint8Array>;
  #status?: Promise<Deno.CommandStatus>;

  constructor(readonly name: string, args: string[]) {
    const proc = new Deno.Command("sh", {
      args: withFileLimit(args),
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.proc = proc;
    this.pid = proc.pid;
    this.#writer = proc.stdin.getWriter();
    this.#status = proc.status;
    (async () => {
      for await (const m of jsonLines<Record<string, unknown>>(proc.stdout)) {
        this.#queue.push(m);
        this.#wake.splice(0).forEach((w) => w());
      }
    })().catch(() => {}).finally(() => {
      this.#ended = true;
      this.#wake.splice(0).forEach((w) => w());
    });
    (async () => {
      for await (const s of proc.stderr.pipeThrough(new TextDecoderStream())) {
        this.#stderr = (this.#stderr + s).slice(-4000);
      }
    })().catch(() => {});
  }

  /** Waits for the next message of `type` (others before it are dropped). */
  async expect<T>(type: string, ms: number): Promise<T> {
    const deadline = Date.now() + ms;
    for (let i = 0; i < 100000; i++) {
      const idx = this.#queue.findIndex((m) => m.type === type);
      if (idx >= 0) return this.#queue.splice(0, idx + 1)[idx] as T;
      if (this.#ended) break;
      const left = deadline - Date.now();
      if (left <= 0) break;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        this.#wake.push(r);
        timer = setTimeout(r, left);
      });
      clearTimeout(timer);
    }
    throw new Error(
      `${this.name}: no "${type}" within ${ms} ms${this.#ended ? " (exited)" : ""}; stderr: ` +
        this.#stderr.slice(-800),
    );
  }

  /** Sends one command line. */
  async send(line: string): Promise<void> {
    await this.#writer?.write(new TextEncoder().encode(line + "\n")).catch(() => {});
  }

  /** Sends `exit`, then SIGKILL if still running after `ms`. */
  async stop(ms = 3000): Promise<void> {
    await this.send("exit");
    await this.#writer?.close().catch(() => {});
    this.#writer = undefined;
    await waitExit(this.proc, this.#status!, ms);
  }
}

async function waitExit(
  proc: Deno.ChildProcess,
  status: Promise<Deno.CommandStatus>,
  ms: number,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    status.then(() => true),
    new Promise<boolean>((r) => timer = setTimeout(() => r(false), ms)),
  ]);
  clearTimeout(timer);
  if (!exited) {
    try {
      proc.kill("SIGKILL");
    } catch { /* gone */ }
    await status;
  }
}

/** A server under test in a child process. */
export interface Server {
  kind: ServerKind;
  pid: number;
  base: string;
  ingress: string;
  stop(): Promise<void>;
  stderr(): string;
}

/**
 * Starts zws with the flags of `deno task start`, persisting (the default) into a data directory
 * of its own under ./data, removed when it stops: each workload starts with an empty history.
 */
export async function startServer(
  kind: ServerKind,
  maxClients: number,
  noPersist: boolean = Deno.env.get("ZWS_NO_PERSIST") === "1",
): Promise<Server> {
  const dataDir = `./data/bench-${crypto.randomUUID().slice(0, 8)}`;
  const args = kind === "zws"
    ? [
      ...(await taskArgs("start")),
      "--port",
      "0",
      "--hostname",
      "127.0.0.1",
      "--ingress",
      "tcp://127.0.0.1:*",
      "--no-demo",
      "--max-clients",
      String(maxClients),
      // ZWS_NO_PERSIST=1 deno task bench …: the same workloads in memory only (W6P compares both).
      ...(noPersist ? ["--no-persist"] : ["--data-dir", dataDir]),
    ]
    : [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read=./node_modules,/etc/alpine-release",
      "--allow-ffi=./node_modules",
      "bench/baseline.ts",
      "--port",
      "0",
      "--ingress",
      "tcp://127.0.0.1:*",
    ];
  const proc = new Deno.Command("sh", {
    args: withFileLimit(args),
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const status = proc.status;
  let err = "";
  (async () => {
    for await (const s of proc.stderr.pipeThrough(new TextDecoderStream())) {
      err = (err + s).slice(-8000);
    }
  })().catch(() => {});
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  let m: RegExpExecArray | null = null;
  const deadline = Date.now() + 20000;
  for (let i = 0; i < 1000 && !m && Date.now() < deadline; i++) {
    const timer = setTimeout(() => reader.cancel().catch(() => {}), deadline - Date.now());
    const { value, done } = await reader.read().catch(() => ({ value: "", done: true }));
    clearTimeout(timer);
    if (done) break;
    out += value;
    m = /listening on (http:\/\/[^\s/]+)\/ \(ingress (\S+)\)/.exec(out);
  }
  (async () => {
    for (let i = 0; i < 1e9 && !(await reader.read()).done; i++) { /* drain */ }
  })().catch(() => {});
  const stop = async () => {
    try {
      proc.kill("SIGTERM");
    } catch { /* gone */ }
    await waitExit(proc, status, 4000);
    if (kind === "zws") {
      await Deno.remove(new URL(dataDir, ROOT), { recursive: true }).catch(() => {});
    }
  };
  if (!m) {
    await stop();
    throw new Error(`${kind} did not start: ${out} ${err}`);
  }
  return { kind, pid: proc.pid, base: m[1], ingress: m[2], stop, stderr: () => err };
}

/** CPU seconds of the server, the load generators, the producer and the machine, in one go. */
async function cpuNow(
  server: number,
  clients: number[],
  producer: number,
): Promise<{ server: number; clients: number; producer: number; machine: number; t: number }> {
  const m = await readCpuSeconds([server, ...clients, producer]);
  return {
    server: m.get(server) ?? 0,
    clients: clients.reduce((s, p) => s + (m.get(p) ?? 0), 0),
    producer: m.get(producer) ?? 0,
    machine: m.get(MACHINE) ?? 0,
    t: performance.now(),
  };
}

/** Sums every sample of a Prometheus metric (all label sets). */
function metricSum(text: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
      const v = Number(line.slice(line.lastIndexOf(" ") + 1));
      if (Number.isFinite(v)) sum = (sum ?? 0) + v;
    }
  }
  return sum;
}

/** Runs one workload against one server; never throws (errors land in `error`). */
export async function runWorkload(w: Workload, kind: ServerKind): Promise<RunResult> {
  const result: RunResult = {
    workload: w,
    server: kind,
    clientsConnected: 0,
    stalledConnected: 0,
    connectFailed: 0,
    connectMs: 0,
    expected: 0,
    delivered: 0,
    deliveredPerSec: 0,
    p50: NaN,
    p90: NaN,
    p99: NaN,
    max: NaN,
    worstClient: 0,
    framesPerClientSec: 0,
    rssIdleKiB: 0,
    rssConnectedKiB: 0,
    rssPeakKiB: 0,
    rssGrowthKiB: 0,
    rssLateGrowthKiB: 0,
    rssPerConnKiB: 0,
    serverCpu: 0,
    clientsCpu: 0,
    producerCpu: 0,
    otherCpu: 0,
    windowSec: 0,
    messageBytes: 0,
  };
  let server: Server | undefined;
  const children: Child[] = [];
  try {
    server = await startServer(
      kind,
      Math.max(10000, w.clients + w.stalled + 100),
      w.noPersist ?? Deno.env.get("ZWS_NO_PERSIST") === "1",
    );
    const pid = server.pid;
    await sleep(500);
    result.rssIdleKiB = (await readMem(pid))?.rssKiB ?? 0;

    const producer = startProducer(
      server.ingress,
      w.rate,
      w.durationMs,
      w.pointsPerMessage,
      w.series,
    );
    children.push(producer);
    const loadgens: Child[] = [];
    const wsUrl = server.base.replace(/^http/, "ws") + "/ws";
    for (let i = 0; i < w.loadgens; i++) {
      const share = Math.floor(w.clients / w.loadgens) +
        (i < w.clients % w.loadgens ? 1 : 0);
      const lg = new Child(`loadgen-${i}`, [
        "run",
        "--allow-net=127.0.0.1",
        "bench/loadgen.ts",
        "--url",
        wsUrl,
        "--clients",
        String(share),
        "--stalled",
        String(i === w.loadgens - 1 ? w.stalled : 0),
        "--read-buffer",
        String(w.readBuffer),
        ...(kind === "zws" ? ["--await-hello"] : []),
        ...(w.decimateRate ? ["--rate", String(w.decimateRate)] : []),
        ...(w.noLatency ? ["--no-latency"] : []),
      ]);
      loadgens.push(lg);
      children.push(lg);
    }
    const connected = await Promise.all(
      loadgens.map((lg) => lg.expect<LoadgenConnected>("connected", 120000)),
    );
    await producer.expect("ready", 20000);
    for (const c of connected) {
      result.clientsConnected += c.ok;
      result.stalledConnected += c.stalledOk;
      result.connectFailed += c.failed;
      result.connectMs = Math.max(result.connectMs, c.ms);
      if (c.errors.length) console.error(`  ${w.id} ${kind}: connect errors: ${c.errors[0]}`);
    }
    // Let the server register the last clients (the baseline sends no hello to wait for).
    await sleep(1000);
    const connMem = await readMem(pid);
    result.rssConnectedKiB = connMem?.rssKiB ?? 0;
    const conns = result.clientsConnected + result.stalledConnected;
    result.rssPerConnKiB = conns > 0 ? (result.rssConnectedKiB - result.rssIdleKiB) / conns : 0;

    const lgPids = loadgens.map((l) => l.pid);
    const cpu0 = await cpuNow(pid, lgPids, producer.pid);
    const t0 = cpu0.t;
    await producer.send("go");
    let peak = result.rssConnectedKiB;
    const half = t0 + w.durationMs / 2;
    const halves = [result.rssConnectedKiB, 0];
    let sampling = true;
    const sampler = (async () => {
      for (let i = 0; i < 10000 && sampling; i++) {
        const m = await readMem(pid);
        if (m) {
          peak = Math.max(peak, m.rssKiB);
          if (performance.now() <= t0 + w.durationMs) {
            const k = performance.now() < half ? 0 : 1;
            halves[k] = Math.max(halves[k], m.rssKiB);
          }
        }
        await sleep(200);
      }
    })();
    try {
      const done = await producer.expect<ProducerDone>("done", w.durationMs + 20000);
      result.messageBytes = done.messageBytes;
      result.expected = done.points * result.clientsConnected;
      // Drain: poll until every expected point arrived, or nothing arrived for 1 s, or 5 s.
      let last = { points: -1, at: performance.now(), lastRecvMs: 0 };
      let cpuEnd = await cpuNow(pid, lgPids, producer.pid);
      const drainEnd = performance.now() + 5000;
      for (let i = 0; i < 200 && performance.now() < drainEnd; i++) {
        await Promise.all(loadgens.map((l) => l.send("stats")));
        const stats = await Promise.all(loadgens.map((l) => l.expect<LoadgenStats>("stats", 5000)));
        const points = stats.reduce((s, x) => s + x.points, 0);
        const lastRecvMs = Math.max(...stats.map((x) => x.lastRecvMs));
        if (points !== last.points) {
          last = { points, at: performance.now(), lastRecvMs };
          cpuEnd = await cpuNow(pid, lgPids, producer.pid);
        }
        if (points >= result.expected || performance.now() - last.at > 1000) break;
        await sleep(200);
      }
      const window = Math.max(0.001, (cpuEnd.t - t0) / 1000);
      result.windowSec = window;
      result.serverCpu = (cpuEnd.server - cpu0.server) / window;
      result.clientsCpu = (cpuEnd.clients - cpu0.clients) / window;
      result.producerCpu = (cpuEnd.producer - cpu0.producer) / window;
      result.otherCpu = (cpuEnd.machine - cpu0.machine) / window - result.serverCpu -
        result.clientsCpu - result.producerCpu;

      await Promise.all(loadgens.map((l) => l.send("report")));
      const reports = await Promise.all(
        loadgens.map((l) => l.expect<LoadgenReport>("report", 10000)),
      );
      const hist = new Histogram();
      let worst = Infinity;
      let frames = 0;
      let lastRecv = 0;
      for (const r of reports) {
        hist.merge(r.latency);
        result.delivered += r.points;
        worst = Math.min(worst, r.minClientPoints);
        frames = Math.max(frames, r.maxClientFrames);
        lastRecv = Math.max(lastRecv, r.lastRecvMs);
      }
      const bytes = reports.reduce((n, r) => n + r.bytes, 0);
      result.bytesPerClient = result.clientsConnected ? bytes / result.clientsConnected : 0;
      const span = Math.max(lastRecv, done.lastSendMs) - done.firstSendMs;
      result.deliveredPerSec = span > 0 ? result.delivered / (span / 1000) : 0;
      result.p50 = hist.quantile(0.5);
      result.p90 = hist.quantile(0.9);
      result.p99 = hist.quantile(0.99);
      result.mean = hist.mean();
      result.max = hist.total ? hist.max : NaN;
      result.worstClient = done.points > 0 && Number.isFinite(worst) ? worst / done.points : 0;
      result.framesPerClientSec = span > 0 ? frames / (span / 1000) : 0;
    } finally {
      sampling = false;
      await sampler;
    }
    const mem: MemInfo | undefined = await readMem(pid);
    peak = Math.max(peak, mem?.rssKiB ?? 0);
    result.rssGrowthKiB = peak - result.rssConnectedKiB;
    result.rssLateGrowthKiB = halves[1] ? halves[1] - halves[0] : 0;
    // The peak over the process's life (VmHWM) also covers the connect phase.
    result.rssPeakKiB = Math.max(peak, mem?.hwmKiB ?? 0);
    if (kind === "zws") {
      const text = await fetch(server.base + "/metrics").then((r) => r.text()).catch(() => "");
      const metrics: Record<string, number> = {};
      for (
        const name of [
          "zws_ingress_points_total",
          "zws_points_sent_total",
          "zws_frames_sent_total",
          "zws_points_dropped_total",
          "zws_ingress_rejected_total",
          "zws_bus_wait_seconds_total",
          "zws_decimated_streams",
          "zws_store_points_written_total",
          "zws_store_points_dropped_total",
          "zws_store_flush_max_seconds",
        ]
      ) {
        const v = metricSum(text, name);
        if (v !== undefined) metrics[name] = v;
      }
      result.metrics = metrics;
    }
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await server?.stop();
  }
  return result;
}

/**
 * Waits (at most `maxMs`) until the machine is nearly idle — under 0.25 core busy over one second —
 * so that a run does not start while other processes (or the last run's exiting children) still
 * use the CPU. Says so when it gives up.
 */
async function waitQuiet(maxMs = 15000): Promise<void> {
  const deadline = performance.now() + maxMs;
  let busy = 0;
  for (let i = 0; i < 100 && performance.now() < deadline; i++) {
    const a = (await readCpuSeconds([])).get(MACHINE) ?? 0;
    await sleep(1000);
    const b = (await readCpuSeconds([])).get(MACHINE) ?? 0;
    busy = b - a;
    if (busy < 0.25) return;
  }
  console.log(`  (machine still busy: ${pct(busy)} of a core used by others; running anyway)`);
}

/**
 * `bench/producer_load.ts` in its own process: `rate` messages/s of `pointsPerMessage` points over
 * `series` series (default 5), for `durationMs` once told "go".
 */
export function startProducer(
  ingress: string,
  rate: number,
  durationMs: number,
  pointsPerMessage: number,
  series = 5,
  lingerMs = 2000,
): Child {
  return new Child("producer", [
    "run",
    "--allow-read=./node_modules,/etc/alpine-release",
    "--allow-ffi=./node_modules",
    "bench/producer_load.ts",
    ...["--endpoint", ingress, "--rate", String(rate), "--duration-ms", String(durationMs)],
    ...["--points-per-message", String(pointsPerMessage), "--series", String(series)],
    ...["--linger-ms", String(lingerMs)],
  ]);
}

/** Page cost: zws + producer at 1,000 points/s over 5 series + headless Chromium. */
async function runPage(quick: boolean): Promise<PageResult & { error?: string }> {
  const warmupMs = quick ? 3000 : 30000;
  const measureMs = quick ? 5000 : 10000;
  let server: Server | undefined;
  let producer: Child | undefined;
  try {
    server = await startServer("zws", 100);
    producer = startProducer(server.ingress, 1000, warmupMs + measureMs + 5000, 1);
    await producer.expect("ready", 20000);
    const p = producer;
    return await measurePage({
      url: server.base + "/",
      startLoad: () => void p.send("go"),
      warmupMs,
      measureMs,
    });
  } catch (err) {
    return failed(err);
  } finally {
    await producer?.stop();
    await server?.stop();
  }
}

// ---- formatting ----

const int = (n: number) => Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–";
const ms = (n: number) =>
  !Number.isFinite(n) ? "–" : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : Math.round(n) + "";
const mib = (kib: number) => Number.isFinite(kib) ? (kib / 1024).toFixed(1) : "–";
const pct = (f: number) => Number.isFinite(f) ? (f * 100).toFixed(0) + "%" : "–";
const ratio = (a: number, b: number) =>
  Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? (a / b).toFixed(2) + "x" : "–";

function resultsTable(results: RunResult[]): string {
  const head = [
    "workload",
    "server",
    "clients",
    "delivered / expected",
    "delivered pts/s",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "max ms",
    "frames/s/client",
    "RSS idle→connected→peak MiB",
    "RSS/conn KiB",
    "server CPU",
    "loadgen CPU (clients+producer)",
    "other CPU",
  ];
  const rows = results.map((r) => {
    if (r.error) {
      return [r.workload.id, r.server, "", `error: ${r.error.replace(/\|/g, "/").slice(0, 200)}`];
    }
    const clients = `${int(r.clientsConnected)}${
      r.stalledConnected ? ` + ${r.stalledConnected} stalled` : ""
    }${r.connectFailed ? ` (${int(r.connectFailed)} failed)` : ""}`;
    return [
      r.workload.id,
      r.server,
      clients,
      `${int(r.delivered)} / ${int(r.expected)} (${
        r.expected ? ((100 * r.delivered) / r.expected).toFixed(1) : "–"
      }%)`,
      int(r.deliveredPerSec),
      ms(r.p50),
      ms(r.p90),
      ms(r.p99),
      ms(r.max),
      r.framesPerClientSec.toFixed(0),
      `${mib(r.rssIdleKiB)} → ${mib(r.rssConnectedKiB)} → ${mib(r.rssPeakKiB)}`,
      r.rssPerConnKiB.toFixed(1),
      pct(r.serverCpu),
      `${pct(r.clientsCpu + r.producerCpu)} (${pct(r.clientsCpu)}+${pct(r.producerCpu)})`,
      pct(r.otherCpu),
    ];
  });
  return markdownTable(head, rows);
}

function ratioTable(results: RunResult[]): string {
  const head = [
    "workload",
    "delivered pts/s",
    "p99 latency",
    "RSS/conn",
    "RSS growth under load (2nd half)",
    "server CPU",
  ];
  const rows: string[][] = [];
  for (const w of new Set(results.map((r) => r.workload.id))) {
    const z = results.find((r) => r.workload.id === w && r.server === "zws");
    const b = results.find((r) => r.workload.id === w && r.server === "baseline");
    if (!z || !b || z.error || b.error) continue;
    rows.push([
      w,
      ratio(z.deliveredPerSec, b.deliveredPerSec),
      ratio(z.p99, b.p99),
      ratio(z.rssPerConnKiB, b.rssPerConnKiB),
      `${mib(z.rssGrowthKiB)} (${mib(z.rssLateGrowthKiB)}) vs ${mib(b.rssGrowthKiB)} (${
        mib(b.rssLateGrowthKiB)
      }) MiB`,
      ratio(z.serverCpu, b.serverCpu),
    ]);
  }
  return markdownTable(head, rows);
}

function w6Table(w6: Record<string, W6Result>): string {
  const rows = Object.values(w6).flatMap((x) =>
    x.rungs.map((r) => [
      r.server,
      int(r.offered),
      pct(r.share).replace("%", "") === "100" ? (r.share * 100).toFixed(2) + "%" : pct(r.share),
      ms(r.meanMs),
      ms(r.p99Ms),
      pct(r.serverCpu),
      r.error ? `error: ${r.error}` : r.ok ? "yes" : "no",
    ])
  );
  return markdownTable(
    ["server", "offered pts/s", "delivered", "mean lag ms", "p99 ms", "server CPU", "passes"],
    rows,
  );
}

function w6pTable(r: W6PResult): string {
  const rows = r.persisting.map((c, i) => [String(i + 1), int(c), int(r.memory[i] ?? NaN)]);
  rows.push(["median", int(median(r.persisting)), int(median(r.memory))]);
  return markdownTable(["round", "persisting: ceiling pts/s", "--no-persist: ceiling pts/s"], rows);
}

/** Issue 15's target: W6 persisting within 10 % of W6 with `--no-persist` (medians of the rounds). */
function w6pTarget(r: W6PResult): string {
  const p = median(r.persisting), m = median(r.memory);
  return `W6P: median ceiling persisting ${int(p)} points/s, --no-persist ${int(m)} (${
    m > 0 ? ((p / m - 1) * 100).toFixed(1) : "–"
  } %; target within 10 %: ${mark(m > 0 && p >= 0.9 * m)})`;
}

function w7Table(r: BurstResult): string {
  return markdownTable(
    [
      "offered",
      "accepted",
      "shed (overload)",
      "unaccounted",
      "healthz worst ms",
      "healthz fails",
      "healthz 503",
      "recovery s",
      "all input taken in after s",
      "alive",
    ],
    [[
      int(r.offered),
      int(r.accepted),
      int(r.shedOverload),
      int(r.unaccounted),
      ms(r.healthzWorstMs),
      int(r.healthzFailures),
      int(r.healthz503),
      Number.isFinite(r.recoverySec) ? r.recoverySec.toFixed(2) : "–",
      r.drainSec !== undefined ? r.drainSec.toFixed(1) : "–",
      r.error ? `error: ${r.error}` : r.alive ? "yes" : "no",
    ]],
  );
}

const mark = (ok: boolean) => ok ? "met" : "NOT met";

/** W9: decimated against exact clients, side by side. */
function w9Table(results: RunResult[]): string {
  const rows = results.filter((r) => /^W9x?$/.test(r.workload.id) && !r.error).map((r) => [
    r.workload.decimateRate ? `decimated (${r.workload.decimateRate} pts/s)` : "exact",
    int(r.clientsConnected),
    // Counted by the server (an exact client does not scan its points: --no-latency).
    int((r.metrics?.zws_points_sent_total ?? NaN) / Math.max(1, r.clientsConnected)),
    int((r.bytesPerClient ?? 0) / 1024),
    int((r.bytesPerClient ?? 0) / 1024 / Math.max(0.001, r.windowSec)),
    r.workload.noLatency ? "–" : ms(r.p50),
    r.workload.noLatency ? "–" : ms(r.p99),
    int(r.metrics?.zws_ingress_points_total ?? NaN),
    int(r.metrics?.zws_ingress_rejected_total ?? NaN),
    pct(r.serverCpu),
    // CPU per point taken in: fair when one mode had to shed input and the other not.
    ((r.serverCpu * r.windowSec) / ((r.metrics?.zws_ingress_points_total ?? NaN) / 1e6)).toFixed(
      2,
    ),
    `${pct(r.clientsCpu + r.producerCpu)} (${pct(r.clientsCpu)}+${pct(r.producerCpu)})`,
    pct(r.otherCpu),
  ]);
  return markdownTable(
    [
      "mode",
      "clients",
      "points per client",
      "KiB per client",
      "KiB/s per client",
      "p50 ms",
      "p99 ms",
      "points taken in",
      "points shed",
      "server CPU",
      "server CPU s per M points taken in",
      "loadgen CPU (clients+producer)",
      "other CPU",
    ],
    rows,
  );
}

/** W9's targets (issue 16): >= 20x fewer bytes per client, server CPU lower than exact. */
function w9Targets(results: RunResult[]): string[] {
  const d = results.find((r) => r.workload.id === "W9" && !r.error);
  const x = results.find((r) => r.workload.id === "W9x" && !r.error);
  if (!d || !x) return [];
  const fewer = (x.bytesPerClient ?? 0) / Math.max(1, d.bytesPerClient ?? 0);
  const shed = (r: RunResult) => r.metrics?.zws_ingress_rejected_total ?? 0;
  return [
    `W9: ${fewer.toFixed(0)}x fewer bytes per client decimated than exact (target >= 20x: ${
      mark(fewer >= 20)
    }); server CPU ${pct(d.serverCpu)} vs ${pct(x.serverCpu)} exact (target lower: ${
      mark(d.serverCpu < x.serverCpu)
    })` +
    (shed(x) > shed(d)
      ? `; the exact run shed ${int(shed(x))} points it could not take in (the decimated run ` +
        `${int(shed(d))}): compare CPU per point taken in`
      : ""),
  ];
}

/** W6, W7 and W8's targets (issue 11). */
function ingestTargets(
  w6: Record<string, W6Result>,
  w7: BurstResult | undefined,
  results: RunResult[],
): string[] {
  const out: string[] = [];
  const z = w6.zws?.ceiling;
  const b = w6.baseline?.ceiling;
  if (z !== undefined) {
    out.push(
      `W6: zws ceiling ${int(z)} points/s (target >= 1,000,000: ${mark(z >= 1_000_000)})` +
        (b ? `; baseline ${int(b)}, ${ratio(z, b)} (target >= 0.6x: ${mark(z / b >= 0.6)})` : ""),
    );
  }
  if (w7) {
    out.push(
      `W7: alive ${mark(w7.alive)}; /healthz worst ${ms(w7.healthzWorstMs)} ms, ` +
        `${w7.healthzFailures} failures (target: within 1 s: ${
          mark(w7.healthzFailures === 0 && w7.healthzWorstMs <= 1000)
        }); unaccounted points ${int(w7.unaccounted)} of ${int(w7.offered)} (target 0: ${
          mark(w7.unaccounted === 0)
        }); data again after ${
          Number.isFinite(w7.recoverySec) ? w7.recoverySec.toFixed(2) : "–"
        } s (target <= 2 s: ${mark(w7.recoverySec <= 2)})`,
    );
  }
  const w8 = results.find((r) => r.workload.id === "W8" && r.server === "zws" && !r.error);
  if (w8) {
    const share = w8.expected ? w8.delivered / w8.expected : 0;
    out.push(
      `W8: delivered ${(share * 100).toFixed(3)}% (target 100%: ${mark(share >= 1)}), p99 ${
        ms(w8.p99)
      } ms`,
    );
  }
  return out;
}

function pageTable(p: PageResult & { error?: string }): string {
  if (p.error) return `page measurement failed: ${p.error}`;
  return markdownTable(
    [
      "window s",
      "points/s received",
      "redraws/s",
      "animation frames/s",
      "max redraws in one frame",
      "main thread busy",
      "script",
      "layout+style",
      "other (paint, raster)",
      "long tasks (ms)",
      "points on chart",
    ],
    [[
      p.seconds.toFixed(1),
      int(p.pointsPerSec),
      p.redrawsPerSec.toFixed(1),
      p.framesPerSec.toFixed(1),
      String(p.maxRedrawsPerFrame),
      pct(p.busy),
      pct(p.script),
      pct(p.layout),
      pct(p.other),
      `${p.longTasks} (${int(p.longTaskMs)})`,
      int(p.pointsShown),
    ]],
  );
}

function markdownTable(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** The issue's targets, checked against this run's figures. */
function targets(results: RunResult[], page?: PageResult & { error?: string }): string[] {
  const get = (w: string, s: ServerKind) =>
    results.find((r) => r.workload.id === w && r.server === s && !r.error);
  const lines: string[] = [];
  const share = (r: RunResult) => r.expected ? r.delivered / r.expected : 0;
  const w4 = get("W4", "zws");
  const w4b = get("W4", "baseline");
  if (w4) {
    lines.push(
      `W4: delivered ${pct(share(w4))} (target >= 95%): ${mark(share(w4) >= 0.95)}; ` +
        `p99 ${ms(w4.p99)} ms (target <= 100): ${mark(w4.p99 <= 100)}` +
        (w4b
          ? `; ${ratio(w4.deliveredPerSec, w4b.deliveredPerSec)} the baseline's delivered ` +
            `points/s (target >= 10x): ${mark(w4.deliveredPerSec >= 10 * w4b.deliveredPerSec)}`
          : ""),
    );
  }
  for (const [w, factor] of [["W1", 1], ["W2", 0.8]] as const) {
    const z = get(w, "zws");
    const b = get(w, "baseline");
    if (!z) continue;
    lines.push(
      `${w}: delivered ${pct(share(z))} (target 100%): ${mark(z.delivered >= z.expected)}` +
        (b
          ? `; p99 ${ms(z.p99)} vs baseline ${ms(b.p99)} ms (target <= ${factor}x): ` +
            mark(z.p99 <= factor * b.p99)
          : ""),
    );
  }
  const w3 = get("W3", "zws");
  const w3b = get("W3", "baseline");
  if (w3) {
    lines.push(
      `W3: ${int(w3.clientsConnected)} of ${int(w3.workload.clients)} connected, the worst ` +
        `client got ${pct(w3.worstClient)} of the points: ` +
        mark(w3.clientsConnected >= w3.workload.clients && w3.worstClient > 0) +
        (w3b
          ? `; RSS/conn ${w3.rssPerConnKiB.toFixed(1)} vs baseline ` +
            `${w3b.rssPerConnKiB.toFixed(1)} KiB (target <=): ` +
            mark(w3.rssPerConnKiB <= w3b.rssPerConnKiB)
          : ""),
    );
  }
  const w5 = get("W5", "zws");
  const w5c = get("W5c", "zws");
  const w5b = get("W5", "baseline");
  const w5bc = get("W5c", "baseline");
  if (w5) {
    const bound = (w5.workload.stalled * ZWS_CLIENT_BUFFER * DENO_QUEUE_FACTOR) / 1024;
    const stalledCost = (r: RunResult, c: RunResult | undefined) =>
      c ? r.rssGrowthKiB - c.rssGrowthKiB : NaN;
    const cost = stalledCost(w5, w5c);
    lines.push(
      `W5: RSS growth due to the stalled clients (W5 − W5c) ${mib(cost)} MiB ` +
        `(baseline ${w5b ? mib(stalledCost(w5b, w5bc)) : "–"} MiB) vs the slow-client bound ` +
        `${mib(bound)} MiB (${w5.workload.stalled} stalled x ${
          ZWS_CLIENT_BUFFER / 1048576
        } MiB x ${DENO_QUEUE_FACTOR}): ${mark(cost <= bound)}; whole-load growth ` +
        `${mib(w5.rssGrowthKiB)} MiB (W5c ${w5c ? mib(w5c.rssGrowthKiB) : "–"}); normal clients ` +
        `${pct(share(w5))} delivered: ${mark(w5.delivered >= w5.expected)}`,
    );
  }
  if (page && !page.error) {
    lines.push(
      `page: ${page.redrawsPerSec.toFixed(1)} redraws/s at ${
        page.framesPerSec.toFixed(1)
      } frames/s, at most ${page.maxRedrawsPerFrame} per frame (target <= 1): ${
        mark(page.maxRedrawsPerFrame <= 1)
      }; main thread busy ${pct(page.busy)} (target <= 25%): ${mark(page.busy <= 0.25)}`,
    );
  }
  return lines;
}

async function machine(): Promise<string> {
  const cpuinfo = await readProc(["/proc/cpuinfo"]);
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? "?";
  const cores = (cpuinfo.match(/^processor\s*:/gm) ?? []).length;
  const memKiB = Number(
    /MemTotal:\s+(\d+)/.exec(await readProc(["/proc/meminfo"]))?.[1] ?? 0,
  );
  const kernel = (await readProc(["/proc/sys/kernel/osrelease"])).trim() || "?";
  // `cat` inherits this process's limits, so its /proc/self/limits are ours.
  const nofile = /Max open files\s+(\d+)/.exec(await readProc(["/proc/self/limits"]))?.[1] ?? "?";
  return `${cores} x ${model}, ${(memKiB / 1048576).toFixed(1)} GiB RAM, Linux ${kernel}, ` +
    `Deno ${Deno.version.deno} (V8 ${Deno.version.v8}), open files limit ${nofile}`;
}

/** The commit checked out (read from .git, without running git), or "?". */
async function gitHead(): Promise<string> {
  try {
    const head = (await Deno.readTextFile(new URL(".git/HEAD", ROOT))).trim();
    const ref = /^ref: (refs\/heads\/[\w./-]+)$/.exec(head)?.[1];
    const hash = ref ? (await Deno.readTextFile(new URL(`.git/${ref}`, ROOT))).trim() : head;
    return `${hash.slice(0, 12)}${ref ? ` (${ref.slice("refs/heads/".length)})` : ""}`;
  } catch {
    return "?";
  }
}

const BEGIN = "<!-- bench:begin (written by deno task bench; edit outside these markers) -->";
const END = "<!-- bench:end -->";

async function writeDoc(section: string): Promise<void> {
  const path = new URL("docs/benchmarks.md", ROOT);
  let doc = await Deno.readTextFile(path).catch(() => "");
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  const block = `${BEGIN}\n${section}\n${END}`;
  if (a >= 0 && b > a) doc = doc.slice(0, a) + block + doc.slice(b + END.length);
  else doc = `# Benchmarks\n\n${block}\n`;
  await Deno.writeTextFile(path, doc);
  // Keep `deno fmt --check` green: let deno format the tables it wrote.
  await new Deno.Command(DENO, {
    args: ["fmt", "docs/benchmarks.md"],
    cwd: ROOT,
    stdout: "null",
    stderr: "null",
  }).output().catch(() => {});
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      "no-baseline": { type: "boolean", default: false },
      "no-write": { type: "boolean", default: false },
      rounds: { type: "string" },
    },
  });
  const quick = values.quick;
  const only = values.only?.split(",").map((s) => s.trim().toUpperCase());
  // `--only W5` includes W5's control run W5c.
  // `--only W9` includes W9's control run W9x.
  const want = (id: string) =>
    !only || only.includes(id.toUpperCase()) ||
    only.includes(id.toUpperCase().replace(/[CX]$/, ""));
  const servers: ServerKind[] = values["no-baseline"] ? ["zws"] : ["zws", "baseline"];
  const started = performance.now();
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const host = await machine();
  const commit = await gitHead();
  const load = (await readProc(["/proc/loadavg"])).split(" ").slice(0, 3).join(" ") || "?";
  console.log(`zws benchmark${quick ? " (--quick)" : ""} — ${date}\n${host}`);
  console.log(`load average at start: ${load} (the figures assume an otherwise idle machine)`);
  console.log(
    "Note: load generators, producer and server share this machine's cores; on 2 cores the " +
      "load generator competes with the server for CPU (see the loadgen CPU column).",
  );

  const results: RunResult[] = [];
  for (const w of workloads(quick)) {
    if (!want(w.id)) continue;
    for (const kind of w.zwsOnly ? servers.filter((k) => k === "zws") : servers) {
      const t = performance.now();
      console.log(`\n${w.id} ${w.title} — ${kind} ...`);
      await waitQuiet();
      const r = await runWorkload(w, kind);
      results.push(r);
      const s = r.error
        ? `error: ${r.error}`
        : `${int(r.clientsConnected)} clients, ${int(r.delivered)}/${int(r.expected)} points, ` +
          `${int(r.deliveredPerSec)} pts/s, p50 ${ms(r.p50)} p99 ${ms(r.p99)} max ${
            ms(r.max)
          } ms, ` +
          `RSS ${mib(r.rssConnectedKiB)}→${mib(r.rssPeakKiB)} MiB, server CPU ${
            pct(r.serverCpu)
          }, ` +
          `loadgen CPU ${pct(r.clientsCpu + r.producerCpu)}, other CPU ${pct(r.otherCpu)}`;
      console.log(`  ${s} (${((performance.now() - t) / 1000).toFixed(0)} s)`);
      if (r.metrics && Object.keys(r.metrics).length) {
        console.log(`  zws /metrics: ${JSON.stringify(r.metrics)}`);
      }
    }
  }

  const ingestDeps: IngestDeps = { runWorkload, startServer, startProducer, waitQuiet };
  const w6: Record<string, W6Result> = {};
  if (want("W6")) {
    for (const kind of servers) {
      console.log(`\nW6 ingest ceiling — ${kind}, ladder ${w6Ladder(quick).join(", ")} ...`);
      w6[kind] = await runW6(ingestDeps, kind, quick, console.log, { refine: 2 });
    }
  }
  let w6p: W6PResult | undefined;
  if (want("W6P")) {
    const rounds = values.rounds ? Math.max(1, Number(values.rounds)) : quick ? 2 : 3;
    console.log(
      `\nW6P persistence cost — zws persisting and --no-persist, alternating, ${rounds} rounds ...`,
    );
    w6p = await runW6P(ingestDeps, quick, rounds, console.log);
  }
  let w7: BurstResult | undefined;
  if (want("W7")) {
    console.log(`\nW7 burst at 2,000,000 points/s, then 1,000 points/s — zws ...`);
    w7 = await runW7(ingestDeps, quick);
    console.log(`  ${JSON.stringify(w7)}`);
  }

  let page: (PageResult & { error?: string }) | undefined;
  let panels: { table: string; targets: string[] } | undefined;
  if (want("PAGE")) {
    const haveChromium = await Deno.stat(CHROMIUM).then((s) => s.isFile, () => false);
    if (haveChromium) {
      console.log(`\npage: headless Chromium at 1,000 points/s over 5 series ...`);
      await waitQuiet();
      page = await runPage(quick);
      console.log(`\npage: 50 series in 5 panels at 10,000 points/s (issue 16) ...`);
      await waitQuiet();
      panels = panelsReport(await runPanelsPage({ startServer, startProducer }, quick));
    } else console.log(`\npage: skipped (${CHROMIUM} not found)`);
  }

  const runtime = (performance.now() - started) / 1000;
  const command = `deno task bench${quick ? " --quick" : ""}${
    only ? ` --only ${only.join(",")}` : ""
  }${values["no-baseline"] ? " --no-baseline" : ""}`;
  const parts = [
    `Run: ${date}, \`${command}\`, ${runtime.toFixed(0)} s, commit ${commit} (plus any ` +
    `uncommitted changes in the working tree).`,
    `Machine: ${host}; load average at start ${load}.`,
    "",
    "Load generators, producer and server share the machine's cores: on 2 cores the load " +
    "generator competes with the server for CPU (loadgen CPU column, in % of one core). " +
    '"other CPU" is what the rest of the machine used meanwhile (other processes): when it ' +
    "is high, the run was disturbed.",
    "",
    "### Per workload",
    "",
    resultsTable(results),
  ];
  if (servers.length > 1) parts.push("", "### zws / baseline", "", ratioTable(results));
  if (results.some((r) => /^W9x?$/.test(r.workload.id))) {
    parts.push("", "### W9 decimated against exact", "", w9Table(results));
  }
  if (page) parts.push("", "### Page (headless Chromium)", "", pageTable(page));
  if (panels) {
    parts.push("", "### Page: 50 series in 5 panels (headless Chromium)", "", panels.table);
  }
  if (Object.keys(w6).length) parts.push("", "### W6 ingest ceiling", "", w6Table(w6));
  if (w6p) parts.push("", "### W6P: W6 persisting and with --no-persist", "", w6pTable(w6p));
  if (w7) parts.push("", "### W7 burst", "", w7Table(w7));
  const t = [
    ...targets(results, page),
    ...(panels?.targets ?? []),
    ...ingestTargets(w6, w7, results),
    ...(w6p ? [w6pTarget(w6p)] : []),
    ...w9Targets(results),
  ];
  if (t.length) parts.push("", "### Targets", "", ...t.map((l) => `- ${l}`));
  const section = parts.join("\n");
  console.log("\n" + section);
  if (!quick && !only && !values["no-write"]) {
    await writeDoc(section);
    console.log("\nwrote docs/benchmarks.md");
  }
}

if (import.meta.main) await main();
