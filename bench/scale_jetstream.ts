/**
 * The JetStream variant of the scale benchmark (`deno task bench:scale --jetstream`): one zws
 * process against 2 JetStream relays + 2 gateways + one nats-server, all on this machine, with the
 * same input and the same clients, alternately, in one run.
 *
 * Per phase: the servers, producer processes (`bench/scale.ts producer`; one per relay, the rate
 * split between them), one client process holding `--clients` raw WebSocket connections spread
 * over the gateways (reading and discarding, `bench/scale.ts clients`), and `--probes` WebSocket
 * clients in this process that parse every frame and time each point from the producer's clock
 * (`x` is `Date.now()` when it was sent) to its arrival: the end-to-end latency (p50, p99).
 * "Delivered" is the gateways' `zws_points_sent_total` per second; RSS per gateway is read at the
 * end of the window.
 *
 *   deno task bench:scale --jetstream [--clients 2000] [--rate 4000] [--seconds 10]
 *                                     [--warmup 5] [--rounds 2] [--probes 4] [--max-rss-mb 3000]
 *                                     [--only one|jetstream]
 *                                     [--json]
 *
 * Bounded: every phase runs `--warmup` + `--seconds`, and every process is stopped after it; a
 * server whose RSS passes `--max-rss-mb` ends the run (the machine is shared).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { taskArgs } from "../tests/_support/tasks.ts";
import { startNatsServer } from "../tests/_support/nats.ts";
import {
  cpuSeconds,
  machineTicks,
  metricsOf,
  type Proc,
  rssBytes,
  spawn,
  waitForQuiet,
} from "./scale.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Options {
  clients: number;
  rate: number;
  batch: number;
  seconds: number;
  warmup: number;
  probes: number;
  sink: string;
  maxRssMB: number;
}

/** What a phase measured. */
interface JsPhase {
  setup: "one process" | "jetstream";
  deliveredPerSecond: number;
  perGateway: number[];
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  latencySamples: number;
  rssPerGatewayMB: number[];
  cpu: Record<string, number>;
  shed: number;
  /** Stream messages a gateway had not read yet at the end (JetStream), per gateway. */
  lagMessages: number[];
  otherCores: number;
}

/** A WebSocket client that records each point's delay (receive time - its x). */
function probe(url: string, delays: { on: boolean; values: number[] }): Promise<WebSocket> {
  const ws = new WebSocket(url);
  ws.onmessage = (e) => {
    if (!delays.on) return;
    const now = Date.now();
    const msg = JSON.parse(e.data);
    if (msg.type !== "points") return;
    for (const p of msg.points) delays.values.push(now - p.x);
  };
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`probe ${url} failed`));
  });
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function runPhase(setup: JsPhase["setup"], opts: Options): Promise<JsPhase> {
  const start = await taskArgs("start");
  const relayTask = await taskArgs("relay");
  const run = await taskArgs("bench:scale");
  const helper = run.slice(0, run.length - 1);
  const self = new URL("./scale.ts", import.meta.url).pathname;
  const procs: Proc[] = [];
  const gateways: Array<{ proc: Proc; base: string }> = [];
  const relays: Array<{ proc: Proc; base: string; ingress: string }> = [];
  const sockets: WebSocket[] = [];
  const nats = setup === "jetstream" ? await startNatsServer() : undefined;
  const common = ["--no-demo", "--log-level", "warn"];
  const gwFlags = [
    "--port",
    "0",
    "--hostname",
    "127.0.0.1",
    "--max-clients",
    "100000",
    "--slow-client-timeout",
    "3600",
  ];
  try {
    let ingresses: string[];
    if (!nats) {
      const [proc, m] = await spawn("server", [
        ...start,
        ...common,
        ...gwFlags,
        "--ingress",
        "tcp://127.0.0.1:*",
      ], /listening on (http:\/\/[^\s/]+)\/ \(ingress (\S+)\)/);
      procs.push(proc);
      gateways.push({ proc, base: m[1] });
      ingresses = [m[2]];
    } else {
      for (let i = 0; i < 2; i++) {
        const [proc, m] = await spawn(`relay-${i + 1}`, [
          ...relayTask,
          ...common,
          "--nats",
          nats.url,
          "--port",
          "0",
          "--ingress",
          "tcp://127.0.0.1:*",
        ], /ingress (\S+), JetStream \S+ stream \S+, http (http:\/\/[^\s/]+)\//);
        procs.push(proc);
        relays.push({ proc, ingress: m[1], base: m[2] });
      }
      for (let i = 0; i < 2; i++) {
        const [proc, m] = await spawn(`gateway-${i + 1}`, [
          ...start,
          ...common,
          ...gwFlags,
          "--nats",
          nats.url,
        ], /listening on (http:\/\/[^\s/]+)\//);
        procs.push(proc);
        gateways.push({ proc, base: m[1] });
      }
      ingresses = relays.map((r) => r.ingress);
    }
    const wsUrls = gateways.map((g) => g.base.replace("http", "ws") + "/ws");
    const [clients] = await spawn("clients", [
      ...helper,
      self,
      "clients",
      String(opts.clients),
      wsUrls.join(","),
      "50",
      opts.sink,
    ], /\{"open":\d+/);
    procs.push(clients);
    const delays = { on: false, values: [] as number[] };
    for (let i = 0; i < opts.probes; i++) {
      sockets.push(await probe(wsUrls[i % wsUrls.length], delays));
    }
    for (const [i, ingress] of ingresses.entries()) {
      const [producer] = await spawn(`producer-${i + 1}`, [
        ...helper,
        self,
        "producer",
        ingress,
        String(Math.round(opts.rate / ingresses.length)),
        String(opts.batch),
      ], /producing/);
      procs.push(producer);
    }
    // A guard for the shared machine: a server over --max-rss-mb ends the phase (and says so).
    let overRss = "";
    const guard = setInterval(async () => {
      for (const g of gateways) {
        const rss = await rssBytes(g.proc.child.pid).catch(() => 0);
        if (rss > opts.maxRssMB * 1e6 && !overRss) {
          overRss = `${g.proc.name} reached ${(rss / 1e6).toFixed(0)} MB RSS`;
          for (const p of procs) p.child.kill("SIGKILL");
        }
      }
    }, 500);
    const check = () => {
      if (overRss) {
        throw new Error(`phase aborted: ${overRss} (over --max-rss-mb ${opts.maxRssMB})`);
      }
    };
    try {
      await sleep(opts.warmup * 1000);
      check();
    } catch (err) {
      clearInterval(guard);
      throw err;
    }
    const pids = procs.map((p) => p.child.pid);
    const names = procs.map((p) => p.name);
    if (nats?.pid) {
      pids.push(nats.pid);
      names.push("nats-server");
    }
    const snap = async () => ({
      at: performance.now(),
      metrics: await Promise.all(gateways.map((g) => metricsOf(g.base))),
      cpu: await Promise.all(pids.map(cpuSeconds)),
      machine: await machineTicks(),
    });
    const a = await snap().catch((err) => (check(), Promise.reject(err)));
    delays.on = true;
    await sleep(opts.seconds * 1000);
    delays.on = false;
    clearInterval(guard);
    check();
    const b = await snap().catch((err) => (check(), Promise.reject(err)));
    const secs = (b.at - a.at) / 1000;
    const perGateway = gateways.map((_, i) =>
      ((b.metrics[i].get("zws_points_sent_total") ?? 0) -
        (a.metrics[i].get("zws_points_sent_total") ?? 0)) / secs
    );
    const cpu: Record<string, number> = {};
    names.forEach((n, i) => cpu[n] = (b.cpu[i] - a.cpu[i]) / secs);
    const busy = (b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total) *
      navigator.hardwareConcurrency;
    const ours = Object.values(cpu).reduce((x, y) => x + y, 0);
    const rss = await Promise.all(gateways.map((g) => rssBytes(g.proc.child.pid)));
    let shed = 0;
    for (const r of relays) {
      shed += (await metricsOf(r.base)).get("zws_nats_points_shed_total") ?? 0;
    }
    const sorted = delays.values.sort((x, y) => x - y);
    return {
      setup,
      deliveredPerSecond: perGateway.reduce((x, y) => x + y, 0),
      perGateway,
      p50Ms: quantile(sorted, 0.5),
      p99Ms: quantile(sorted, 0.99),
      maxMs: sorted.at(-1) ?? NaN,
      latencySamples: sorted.length,
      rssPerGatewayMB: rss.map((x) => Math.round(x / 1e5) / 10),
      cpu,
      shed,
      lagMessages: b.metrics.map((m) =>
        (m.get("zws_nats_stream_last_seq") ?? 0) - (m.get("zws_nats_stream_seq") ?? 0)
      ),
      otherCores: Math.max(0, busy - ours),
    };
  } finally {
    for (const ws of sockets) ws.close();
    for (const p of procs.reverse()) await p.stop();
    await nats?.stop();
  }
}

/** `bench:scale --jetstream [flags]`. */
export async function jetstreamMain(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      clients: { type: "string", default: "2000" },
      rate: { type: "string", default: "4000" },
      batch: { type: "string", default: "20" },
      seconds: { type: "string", default: "10" },
      warmup: { type: "string", default: "5" },
      rounds: { type: "string", default: "2" },
      probes: { type: "string", default: "4" },
      sink: { type: "string", default: Deno.build.os === "linux" ? "kernel" : "deno" },
      json: { type: "boolean", default: false },
      "max-rss-mb": { type: "string", default: "3000" },
      only: { type: "string" },
    },
  });
  const opts: Options = {
    clients: Number(values.clients),
    rate: Number(values.rate),
    batch: Number(values.batch),
    seconds: Number(values.seconds),
    warmup: Number(values.warmup),
    probes: Number(values.probes),
    sink: values.sink!,
    maxRssMB: Number(values["max-rss-mb"]),
  };
  const rounds = Number(values.rounds);
  const setups = (["one process", "jetstream"] as const).filter((x) =>
    values.only === undefined || x.startsWith(values.only)
  );
  console.log(
    `zws scale benchmark, JetStream variant: ${opts.clients} clients + ${opts.probes} probes, ` +
      `${opts.rate} points/s in (messages of ${opts.batch}), ${opts.seconds} s measured after ` +
      `${opts.warmup} s, ${rounds} round(s) of one process vs 2 relays + 2 gateways + nats-server, ` +
      `${navigator.hardwareConcurrency} cores (shared machine: see "other load")`,
  );
  const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
  const results: JsPhase[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const setup of setups) {
      await waitForQuiet([Deno.pid], 0.3, 60);
      const r = await runPhase(setup, opts);
      results.push(r);
      const cpu = Object.entries(r.cpu).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ");
      console.log(
        `round ${round}, ${setup}: delivered ${fmt(r.deliveredPerSecond)} points/s ` +
          `(per gateway ${r.perGateway.map(fmt).join(" + ")}), latency p50 ${r.p50Ms} ms, ` +
          `p99 ${r.p99Ms} ms, max ${r.maxMs} ms (${fmt(r.latencySamples)} samples), RSS per ` +
          `gateway ${r.rssPerGatewayMB.join(" / ")} MB, shed ${r.shed}, behind ` +
          `${r.lagMessages.join("/")} messages; CPU cores: ${cpu}; ` +
          `other load ${r.otherCores.toFixed(2)} cores`,
      );
    }
  }
  if (values.json) console.log(JSON.stringify({ opts, results }));
}
