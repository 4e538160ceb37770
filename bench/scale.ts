/**
 * Scale-out benchmark (`deno task bench:scale`): delivered points per second at saturation with 1
 * and with 2 gateway processes behind one forwarder, in the same run, on this machine.
 *
 * Setup per phase: a forwarder (`main.ts relay`, kept across phases), N gateways
 * (`main.ts --upstream`), one producer process publishing `--rate` points/s, and one client process
 * holding `--clients` WebSocket connections spread evenly over the gateways. Clients read and
 * discard (raw TCP, no parsing), so the gateways, which fan every point out to every client, are
 * what saturates. "Delivered" is the sum over gateways of `zws_points_sent_total` per second (points
 * written to client WebSockets), measured over `--seconds` after `--warmup`; the clients' byte
 * counts are a cross-check. CPU per process comes from /proc/<pid>/stat.
 *
 *   deno task bench:scale [--clients 12000] [--rate 4000] [--seconds 10] [--warmup 6]
 *                         [--rounds 3] [--gateways 1,2] [--read-every 200] [--sink kernel|deno]
 *                         [--quiet 0.3] [--quiet-wait 120] [--front]
 *                         [--json]
 *   deno task bench:scale --jetstream [...]   the JetStream variant (bench/scale_jetstream.ts)
 *
 * Phases alternate (1, 2, 1, 2, ...) for `--rounds` rounds and the medians are compared, because
 * other load on the machine moves single runs. Before each phase the benchmark waits (at most
 * `--quiet-wait` s) until that other load is under `--quiet` cores, and each line reports it
 * (machine busy cores minus this benchmark's processes). `--json` prints every figure last.
 *
 * Gateways run with `--no-front` unless `--front` is given: scaled out, they sit behind a load
 * balancer that bounds request heads and connections, and the front holds 3 open files per client
 * (its TCP socket and both ends of the hop to `Deno.serve`), so 12,000 clients on one gateway need
 * 36,000 where this machine's hard limit is 20,000 (`docs/scaling.md`).
 *
 * The same file runs the helper processes (`bench/scale.ts producer ...`, `... clients ...`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as zmq from "zeromq";
import { taskArgs } from "../tests/_support/tasks.ts";
import { jetstreamMain } from "./scale_jetstream.ts";

const ROOT = new URL("../", import.meta.url);

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------
// Helper roles.

/** `producer <ingress> <rate> <batch>`: publishes `rate` points/s in messages of `batch` points. */
async function producerRole(ingress: string, rate: number, batch: number): Promise<void> {
  const pub = new zmq.Publisher({ sendHighWaterMark: 100000, linger: 0 });
  pub.connect(ingress);
  await sleep(500);
  const series = Array.from({ length: 8 }, (_, i) => `series-${i}`);
  let y = 0;
  const tickMs = 10;
  const perTick = rate * tickMs / 1000;
  let owed = 0;
  const t0 = performance.now();
  let ticks = 0;
  console.log("producing");
  while (true) {
    owed += perTick;
    while (owed >= 1) {
      const n = Math.min(batch, Math.floor(owed));
      const pts = [];
      for (let i = 0; i < n; i++) {
        pts.push({ x: Date.now(), y: y++ % 1000, series: series[y % series.length] });
      }
      await pub.send(JSON.stringify(pts));
      owed -= n;
    }
    ticks++;
    const wait = t0 + ticks * tickMs - performance.now();
    if (wait > 0) await sleep(wait);
  }
}

/**
 * `clients <n> <url,url,...> <readEveryMs> <sink>`: n raw WebSocket clients, round-robin over the
 * urls, discarding what they receive; prints the bytes received so far twice a second.
 *
 * Each client reads in bursts every `readEveryMs` (the kernel buffers in between), so a read takes
 * several frames. With sink "kernel" (Linux), the bytes are discarded inside the kernel
 * (`recv(MSG_TRUNC)` through FFI) instead of being copied into JavaScript: the load generator
 * shares this machine's CPU with the gateways it measures, and should take as little as it can.
 * So the default is one read per client every 200 ms (about 40 KB at 40 M points/s over 12,000
 * clients, well within a socket's receive buffer): every 50 ms the clients took 0.28-0.34 of the
 * 2 cores and left 2 gateways 1.55 of them (docs/scaling.md).
 * Sink "deno" reads with `Deno.connect` like any client.
 */
async function clientsRole(
  n: number,
  urls: string[],
  readEveryMs: number,
  sink: string,
): Promise<void> {
  let bytes = 0;
  let open = 0;
  const request = (u: URL) => {
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    return new TextEncoder().encode(
      `GET /ws HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  };
  const accepted = (head: Uint8Array, url: string) => {
    if (!new TextDecoder().decode(head.subarray(0, 12)).startsWith("HTTP/1.1 101")) {
      throw new Error(`handshake refused by ${url}`);
    }
  };
  if (sink === "kernel") {
    const libc = Deno.dlopen(`/lib/${Deno.build.arch}-linux-gnu/libc.so.6`, {
      socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
      connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
      send: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
      recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
    }).symbols;
    const MSG_TRUNC = 0x20;
    const MSG_DONTWAIT = 0x40;
    const fds: number[] = [];
    const head = new Uint8Array(4096);
    for (let i = 0; i < n; i++) {
      const url = urls[i % urls.length];
      const u = new URL(url);
      const fd = libc.socket(2, 1, 0); // AF_INET, SOCK_STREAM
      const sa = new Uint8Array(16);
      const view = new DataView(sa.buffer);
      view.setUint16(0, 2, true);
      view.setUint16(2, Number(u.port), false);
      sa.set(u.hostname.split(".").map(Number), 4);
      if (fd < 0 || libc.connect(fd, sa, 16) !== 0) throw new Error(`cannot connect to ${url}`);
      const req = request(u);
      libc.send(fd, req, BigInt(req.length), 0);
      const got = Number(libc.recv(fd, head, BigInt(head.length), 0)); // blocks for the 101
      accepted(head.subarray(0, Math.max(got, 0)), url);
      fds.push(fd);
      open++;
    }
    setInterval(() => {
      for (const fd of fds) {
        while (true) {
          const r = Number(libc.recv(fd, null, 1n << 30n, MSG_TRUNC | MSG_DONTWAIT));
          if (r <= 0) break;
          bytes += r;
        }
      }
    }, readEveryMs);
  } else {
    const buf = new Uint8Array(256 * 1024);
    for (let i = 0; i < n; i++) {
      const url = urls[i % urls.length];
      const u = new URL(url);
      const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
      await conn.write(request(u));
      const first = await conn.read(buf);
      accepted(buf.subarray(0, first ?? 0), url);
      open++;
      (async () => {
        while (true) {
          const r = await conn.read(buf);
          if (r === null) break;
          bytes += r;
          await sleep(readEveryMs);
        }
      })().catch(() => {}).finally(() => open--);
    }
  }
  console.log(JSON.stringify({ open, bytes }));
  setInterval(() => console.log(JSON.stringify({ open, bytes })), 500);
}

// ---------------------------------------------------------------------------------------------
// The benchmark.

export interface Proc {
  name: string;
  child: Deno.ChildProcess;
  /** Last stdout line seen. */
  lastLine(): string;
  stop(): Promise<void>;
}

/** A gateway's memory from its own gauges (`/metrics`, as {@link metricsOf} reads it), in MB. */
function memoryGauges(m: Map<string, number>): string {
  const mb = (name: string) => ((m.get(name) ?? 0) / 1e6).toFixed(0);
  return `V8 heap ${mb('zws_process_heap_bytes{kind="used"}')} MB, external ` +
    `${mb("zws_process_external_bytes")} MB, queued to clients ` +
    `${mb("zws_clients_queued_bytes")} MB, RSS ${mb("zws_process_resident_bytes")} MB`;
}

/** Spawns `deno <args>`, waits for a stdout line matching `ready`, keeps draining both pipes. */
export async function spawn(
  name: string,
  args: string[],
  ready: RegExp,
): Promise<[Proc, RegExpExecArray]> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  let err = "";
  (async () => {
    for await (const c of child.stderr.pipeThrough(new TextDecoderStream())) {
      err = (err + c).slice(-4000);
    }
  })().catch(() => {});
  let out = "";
  let last = "";
  let match: RegExpExecArray | null = null;
  let found: (m: RegExpExecArray) => void = () => {};
  const matched = new Promise<RegExpExecArray>((r) => found = r);
  (async () => {
    for await (const c of child.stdout.pipeThrough(new TextDecoderStream())) {
      out = (out + c).slice(-8000);
      const lines = out.split("\n");
      if (lines.length > 1) last = lines[lines.length - 2];
      if (!match && (match = ready.exec(out))) found(match);
    }
  })().catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const m = await Promise.race([
    matched,
    child.status.then(() => undefined),
    new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), 30000)),
  ]);
  clearTimeout(timer);
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await child.status;
  };
  if (!m) {
    await stop();
    throw new Error(`${name} did not start:\n${out}\n${err}`);
  }
  return [{ name, child, lastLine: () => last, stop }, m];
}

/** CPU seconds (user + system, all threads) a process has used so far. */
export async function cpuSeconds(pid: number): Promise<number> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`] }).output();
  const text = new TextDecoder().decode(out.stdout);
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in ticks of 1/100 s
}

/** Resident memory of a process, in bytes (from ps). */
export async function rssBytes(pid: number): Promise<number> {
  const out = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] }).output();
  return Number(new TextDecoder().decode(out.stdout).trim()) * 1024;
}

/** Machine-wide busy and total CPU ticks (from /proc/stat). */
export async function machineTicks(): Promise<{ busy: number; total: number }> {
  const out = await new Deno.Command("cat", { args: ["/proc/stat"] }).output();
  const line = new TextDecoder().decode(out.stdout).split("\n")[0].trim().split(/\s+/).slice(1);
  const v = line.map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = v[3] + v[4];
  return { busy: total - idle, total };
}

export async function metricsOf(base: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || !line) continue;
    const i = line.lastIndexOf(" ");
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

/** What one phase measured. */
interface PhaseResult {
  gateways: number;
  clients: number;
  inputRate: number;
  /** Points written to client WebSockets per second, all gateways together. */
  deliveredPerSecond: number;
  /** Same, per gateway process. */
  perGateway: number[];
  /** Bytes per second the clients read (cross-check). */
  clientBytesPerSecond: number;
  /** Points per second each gateway received from the forwarder. */
  receivedPerSecond: number[];
  /** WebSocket frames per second, all gateways together. */
  framesPerSecond: number;
  /** Resident memory a gateway gained per connected client (before data flowed), in bytes. */
  rssPerClient: number;
  /** Highest resident memory of any one gateway, sampled every second from the warm-up on. */
  peakGatewayRss: number;
  /** The peak gateway's own memory gauges when its peak was sampled (empty if not scraped). */
  atPeak: string;
  /** The first gateway's memory gauges with its clients connected, before any data. */
  connectedAt: string;
  /** The gateways' memory budget for all clients' queues (`zws_clients_buffer_budget_bytes`). */
  budgetBytes: number;
  /** Points held back from slow clients during the window (should be 0). */
  droppedSlow: number;
  /** CPU use over the window, in cores, per role. */
  cpu: Record<string, number>;
  /** Machine CPU busy over the window, 0..1. */
  machineBusy: number;
  /** Cores busy with anything else than this benchmark's processes (other load on the machine). */
  otherCores: number;
}

/**
 * Waits (at most `maxWaitS`) until the machine is nearly idle apart from this benchmark: the busy
 * cores over 2 s, minus what `pids` used, below `cores`. Returns that other load when it stopped.
 */
export async function waitForQuiet(
  pids: number[],
  cores: number,
  maxWaitS: number,
): Promise<number> {
  const deadline = performance.now() + maxWaitS * 1000;
  let other = Infinity;
  while (true) {
    const t0 = performance.now();
    const m0 = await machineTicks();
    const c0 = await Promise.all(pids.map(cpuSeconds));
    await sleep(2000);
    const m1 = await machineTicks();
    const c1 = await Promise.all(pids.map(cpuSeconds));
    const secs = (performance.now() - t0) / 1000;
    const busy = (m1.busy - m0.busy) / (m1.total - m0.total) * navigator.hardwareConcurrency;
    const ours = c1.reduce((sum, c, i) => sum + (c - c0[i]), 0) / secs;
    other = Math.max(0, busy - ours);
    if (other <= cores || performance.now() > deadline) return other;
  }
}

async function runPhase(
  n: number,
  fwd: { egress: string; ingress: string; pid: number },
  opts: {
    clients: number;
    rate: number;
    batch: number;
    seconds: number;
    warmup: number;
    readEveryMs: number;
    sink: string;
    front: boolean;
  },
): Promise<PhaseResult> {
  const start = await taskArgs("start");
  const gateways: Array<{ proc: Proc; base: string }> = [];
  const procs: Proc[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const [proc, m] = await spawn(`gateway-${i + 1}`, [
        ...start,
        "--upstream",
        fwd.egress,
        "--no-demo",
        "--port",
        "0",
        "--hostname",
        "127.0.0.1",
        "--max-clients",
        "100000",
        "--slow-client-timeout",
        "3600",
        "--log-level",
        "warn",
        ...(opts.front ? [] : ["--no-front"]),
      ], /listening on (http:\/\/[^\s/]+)\//);
      gateways.push({ proc, base: m[1] });
      procs.push(proc);
    }
    const rssOf = async () => {
      let sum = 0;
      for (const g of gateways) sum += await rssBytes(g.proc.child.pid);
      return sum;
    };
    const rssBefore = await rssOf();
    const self = new URL(import.meta.url).pathname;
    const run = await taskArgs("bench:scale");
    const helper = run.slice(0, run.length - 1); // everything but the script
    const [clients] = await spawn("clients", [
      ...helper,
      self,
      "clients",
      String(opts.clients),
      gateways.map((g) => g.base.replace("http", "ws") + "/ws").join(","),
      String(opts.readEveryMs),
      opts.sink,
    ], /\{"open":\d+/);
    procs.push(clients);
    await sleep(1000); // the history sends and handshakes settle
    const rssPerClient = (await rssOf() - rssBefore) / opts.clients;
    const connectedAt = memoryGauges(await metricsOf(gateways[0].base));
    const [producer] = await spawn("producer", [
      ...helper,
      self,
      "producer",
      fwd.ingress,
      String(opts.rate),
      String(opts.batch),
    ], /producing/);
    procs.push(producer);
    let peakGatewayRss = 0;
    let atPeak = "";
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const g of gateways) {
          const rss = await rssBytes(g.proc.child.pid);
          if (rss <= peakGatewayRss) continue;
          peakGatewayRss = rss;
          // Where the memory is, from the gateway's own gauges (a slow scrape under load is skipped).
          const m = await metricsOf(g.base).catch(() => undefined);
          atPeak = m ? memoryGauges(m) : "";
        }
        await sleep(1000);
      }
    })();
    await sleep(opts.warmup * 1000);

    const pids = [...procs.map((p) => p.child.pid), fwd.pid, Deno.pid];
    const names = [...procs.map((p) => p.name), "forwarder", "bench"];
    const snap = async () => ({
      at: performance.now(),
      metrics: await Promise.all(gateways.map((g) => metricsOf(g.base))),
      cpu: await Promise.all(pids.map(cpuSeconds)),
      bytes: JSON.parse(clients.lastLine()).bytes as number,
      machine: await machineTicks(),
    });
    const a = await snap();
    await sleep(opts.seconds * 1000);
    const b = await snap();
    sampling = false;
    await sampler;
    const secs = (b.at - a.at) / 1000;
    const delta = (name: string, i: number) =>
      (b.metrics[i].get(name) ?? 0) - (a.metrics[i].get(name) ?? 0);
    const perGateway = gateways.map((_, i) => delta("zws_points_sent_total", i) / secs);
    const cpu: Record<string, number> = {};
    names.forEach((name, i) => cpu[name] = (b.cpu[i] - a.cpu[i]) / secs);
    const machineBusy = (b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total);
    const ours = Object.values(cpu).reduce((x, y) => x + y, 0);
    return {
      gateways: n,
      clients: opts.clients,
      inputRate: opts.rate,
      deliveredPerSecond: perGateway.reduce((x, y) => x + y, 0),
      perGateway,
      clientBytesPerSecond: (b.bytes - a.bytes) / secs,
      receivedPerSecond: gateways.map((_, i) => delta("zws_points_received_total", i) / secs),
      framesPerSecond: gateways.reduce((sum, _, i) => sum + delta("zws_frames_sent_total", i), 0) /
        secs,
      rssPerClient,
      peakGatewayRss,
      atPeak,
      connectedAt,
      budgetBytes: b.metrics[0].get("zws_clients_buffer_budget_bytes") ?? 0,
      droppedSlow: gateways.reduce(
        (s, _, i) => s + delta('zws_points_dropped_total{reason="slow_client"}', i),
        0,
      ),
      cpu,
      machineBusy,
      otherCores: Math.max(0, machineBusy * navigator.hardwareConcurrency - ours),
    };
  } finally {
    for (const p of procs.reverse()) await p.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      clients: { type: "string", default: "12000" },
      rate: { type: "string", default: "4000" },
      batch: { type: "string", default: "20" },
      seconds: { type: "string", default: "10" },
      warmup: { type: "string", default: "6" },
      gateways: { type: "string", default: "1,2" },
      "read-every": { type: "string", default: "200" },
      sink: { type: "string", default: Deno.build.os === "linux" ? "kernel" : "deno" },
      json: { type: "boolean", default: false },
      rounds: { type: "string", default: "3" },
      quiet: { type: "string", default: "0.3" },
      "quiet-wait": { type: "string", default: "120" },
      front: { type: "boolean", default: false },
    },
  });
  const opts = {
    clients: Number(values.clients),
    rate: Number(values.rate),
    batch: Number(values.batch),
    seconds: Number(values.seconds),
    warmup: Number(values.warmup),
    readEveryMs: Number(values["read-every"]),
    sink: values.sink!,
    quiet: Number(values.quiet),
    quietWait: Number(values["quiet-wait"]),
    front: values.front!,
  };
  const counts = values.gateways!.split(",").map(Number);
  const rounds = Number(values.rounds);
  const relay = await taskArgs("relay");
  const [fwdProc, m] = await spawn("forwarder", [
    ...relay,
    "--no-demo",
    "--port",
    "0",
    "--ingress",
    "tcp://127.0.0.1:*",
    "--egress",
    "tcp://127.0.0.1:*",
    "--log-level",
    "warn",
  ], /ingress (\S+), egress (\S+), http/);
  const fwd = { ingress: m[1], egress: m[2], pid: fwdProc.child.pid };
  const results: PhaseResult[] = [];
  console.log(
    `zws scale benchmark: ${opts.clients} clients, ${opts.rate} points/s in, ` +
      `${opts.seconds} s measured after ${opts.warmup} s, ${rounds} round(s) of ` +
      `${counts.join(", ")} gateway(s) ${
        opts.front ? "behind their fronts" : "with --no-front"
      }, ` +
      `${navigator.hardwareConcurrency} cores`,
  );
  const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
  const mb = (x: number) => Math.round(x / 1e6).toLocaleString("en-US");
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const n of counts) {
        const before = await waitForQuiet([fwd.pid, Deno.pid], opts.quiet, opts.quietWait);
        if (before > opts.quiet) {
          console.log(
            `(other load ${before.toFixed(2)} cores: not quiet after ${opts.quietWait} s)`,
          );
        }
        const r = await runPhase(n, fwd, opts);
        results.push(r);
        const cpu = Object.entries(r.cpu).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ");
        console.log(
          `round ${round}, ${n} gateway(s): delivered ${fmt(r.deliveredPerSecond)} points/s ` +
            `(per gateway ${r.perGateway.map(fmt).join(" + ")}) in ${fmt(r.framesPerSecond)} ` +
            `frames/s, clients read ` +
            `${(r.clientBytesPerSecond / 1e6).toFixed(0)} MB/s, received ` +
            `${r.receivedPerSecond.map(fmt).join("/")} points/s per gateway, held back ` +
            `${r.droppedSlow}; CPU cores: ${cpu}; other load ${r.otherCores.toFixed(2)} cores; ` +
            `gateway memory ${(r.rssPerClient / 1024).toFixed(1)} KiB per client, peak ` +
            `${mb(r.peakGatewayRss)} MB per gateway (budget ${mb(r.budgetBytes)} MB + 300 MB: ` +
            `${r.peakGatewayRss <= r.budgetBytes + 300e6 ? "within" : "OVER"}` +
            `${r.atPeak ? `; at the peak: ${r.atPeak}` : ""}; connected, before data: ` +
            `${r.connectedAt})`,
        );
      }
    }
  } finally {
    await fwdProc.stop();
  }
  const median = (xs: number[]) => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  const of = (n: number) => results.filter((r) => r.gateways === n);
  /** Delivered points per second of gateway CPU (all gateway processes together). */
  const perCore = (r: PhaseResult) =>
    r.deliveredPerSecond /
    Object.entries(r.cpu).filter(([k]) => k.startsWith("gateway")).reduce((a, [, v]) => a + v, 0);
  for (const n of counts) {
    const d = of(n).map((r) => r.deliveredPerSecond);
    console.log(
      `${n} gateway(s): median ${fmt(median(d))} points/s delivered ` +
        `(min ${fmt(Math.min(...d))}, max ${fmt(Math.max(...d))}); ` +
        `${fmt(median(of(n).map(perCore)))} points per gateway CPU-second`,
    );
  }
  if (of(1).length && of(2).length) {
    const ratios = of(2).map((two, i) => two.deliveredPerSecond / of(1)[i].deliveredPerSecond);
    console.log(
      `scaling 2 vs 1 gateway: ${
        (median(of(2).map((r) => r.deliveredPerSecond)) /
          median(of(1).map((r) => r.deliveredPerSecond))).toFixed(2)
      }x from the medians; per ` +
        `round ${ratios.map((x) => x.toFixed(2)).join(", ")} (target >= 1.7x)`,
    );
  }
  if (values.json) console.log(JSON.stringify({ opts, results }));
}

if (import.meta.main) {
  const [role, ...rest] = Deno.args;
  if (role === "producer") await producerRole(rest[0], Number(rest[1]), Number(rest[2]));
  else if (role === "clients") {
    await clientsRole(Number(rest[0]), rest[1].split(","), Number(rest[2]), rest[3]);
  } else if (Deno.args.includes("--jetstream")) {
    await jetstreamMain(Deno.args.filter((a) => a !== "--jetstream"));
  } else await main();
}
