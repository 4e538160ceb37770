/**
 * The soak (`deno task soak`, not part of `deno task test`): a zws server in a child process (as
 * `tests/_support/processes.ts` `startZws` starts it, the permissions of `deno task start`) under moderate
 * load for `--minutes` (default 10):
 *
 * - 2 producers (ZeroMQ PUB over TCP), each `--rate` points/s (default 200) in batches every
 *   50 ms, spread over 5 series; a point's `y` names its producer and its index there;
 * - 20 long-lived WebSocket clients, connected before the first point, that check every `seq`
 *   arrives once and in order, and every producer's points without a gap;
 * - 10 churning clients that connect, read 2-5 s, disconnect, stay away 0.2-2 s and come back
 *   with `/ws?since=<last seq>&epoch=<epoch>`: each resume must be exact (no gap, no duplicate);
 * - 1 stalled client (raw TCP, never reads after the handshake; `--stalled 0` for none); once the
 *   server closes it as a slow client (4008), a new one takes its place.
 *
 * It prints the server's RSS at start, every minute and at the end (with the server's JS heaps
 * after their last full GC: the server runs with V8's `--trace-gc`, its only change to
 * `deno task start`), and a summary. It exits 1 when a point was lost or duplicated, a resume was
 * not exact, a long-lived client was closed, RSS grew by more than `--rss-growth-mb` (default 30)
 * after the first minute, or by more than `--rss-tail-mb` (default 10) over the second half of the
 * run (a leak keeps growing there; a warm-up has levelled off).
 *
 * The stalled client sends an empty pong every 5 s (it never reads): without it Deno's idle timeout
 * (`idleTimeout: 60` in ws_bridge.ts) would close it after a minute, before it meets the bridge's
 * slow-client bound (the kernel holds a few MB first).
 *
 * @module
 */
import { parseArgs } from "node:util";
import type * as zmq from "zeromq";
import { sleep } from "../tests/_support/async.ts";
import { metric } from "../tests/_support/metrics.ts";
import { rssBytes, taskArgs } from "../tests/_support/processes.ts";
import { type RawWsClient, rawWsConnect } from "../tests/_support/raw_ws.ts";
import { connectPublisher } from "../tests/_support/zmq.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "10" },
    rate: { type: "string", default: "200" },
    clients: { type: "string", default: "20" },
    churners: { type: "string", default: "10" },
    stalled: { type: "string", default: "1" },
    "rss-growth-mb": { type: "string", default: "30" },
    "rss-tail-mb": { type: "string", default: "10" },
  },
});
const num = (name: string, v: string | undefined, min: number, max: number): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) {
    console.error(`soak: --${name} must be a number from ${min} to ${max}`);
    Deno.exit(2);
  }
  return n;
};
const MINUTES = num("minutes", values.minutes, 1, 240);
const RATE = num("rate", values.rate, 1, 20000);
const LONG_LIVED = num("clients", values.clients, 1, 1000);
const CHURNERS = num("churners", values.churners, 0, 1000);
const STALLED = num("stalled", values.stalled, 0, 1);
const RSS_BOUND = num("rss-growth-mb", values["rss-growth-mb"], 1, 100000) * 1e6;
const RSS_TAIL_BOUND = num("rss-tail-mb", values["rss-tail-mb"], 1, 100000) * 1e6;
const PRODUCERS = 2;
const SERIES = Array.from({ length: 5 }, (_, k) => `soak-${k}-${"s".repeat(32)}`);
/** `y = producer * Y_STRIDE + index`: a point names its producer and its place in that stream. */
const Y_STRIDE = 1e9;
const TICK_MS = 50;

type Pt = { seq: number; x: number; y: number; series: string };

/** A client that checks continuity: every seq once, in order, across resumes. */
class CheckedClient {
  /** Last seq this client has (its continuity baseline), 0 before any. */
  last = 0;
  epoch = "";
  /** Points taken (live, or history that continues what it had). */
  received = 0;
  /** Seqs skipped (gaps), and seqs received again or out of order. */
  lost = 0;
  dup = 0;
  /** Per producer, the next index expected (set when the client first sees that producer). */
  nextIndex = new Map<number, number>();
  /** Points whose producer index broke that producer's sequence. */
  indexBreaks = 0;
  connections = 0;
  resumesExact = 0;
  resumesNotExact = 0;
  /** Closes the client did not ask for: code -> count. */
  unexpectedCloses = new Map<number, number>();
  firstSeq = 0;
  ws?: WebSocket;
  #closing = false;
  #closed?: Promise<void>;

  constructor(readonly name: string, readonly base: string, readonly checkFromZero: boolean) {}

  /** Opens a connection (resuming when it has seen points) and resolves on the hello frame. */
  async connect(): Promise<void> {
    const resume = this.connections > 0 ? `?since=${this.last}&epoch=${this.epoch}` : "";
    const ws = new WebSocket(this.base + resume);
    this.ws = ws;
    this.#closing = false;
    const isResume = resume !== "";
    let helloSeen = false;
    let resolveHello!: () => void;
    let rejectHello!: (e: Error) => void;
    const hello = new Promise<void>((res, rej) => {
      resolveHello = res;
      rejectHello = rej;
    });
    this.#closed = new Promise<void>((resolve) => {
      ws.onclose = (e) => {
        if (!this.#closing) {
          this.unexpectedCloses.set(e.code, (this.unexpectedCloses.get(e.code) ?? 0) + 1);
        }
        if (!helloSeen) rejectHello(new Error(`${this.name}: closed before hello (${e.code})`));
        resolve();
      };
    });
    /** Seqs at or below this came in a reset snapshot of a fresh connection: not checked. */
    let snapshotUpTo = -1;
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data as string);
      if (msg.type === "hello") {
        helloSeen = true;
        this.connections++;
        if (isResume) {
          if (msg.resumed === true && msg.epoch === this.epoch) this.resumesExact++;
          else {
            this.resumesNotExact++;
            // A reset: continuity is broken; count what it skipped and start again from here.
            if (msg.seq > this.last) this.lost += msg.seq - this.last;
            this.last = msg.seq;
            snapshotUpTo = msg.seq;
          }
        } else {
          // A fresh client continues from the server's last seq; the snapshot is context.
          this.last = msg.seq;
          snapshotUpTo = msg.seq;
        }
        this.epoch = msg.epoch;
        resolveHello();
        return;
      }
      if (msg.type !== "points" && msg.type !== "history") return;
      for (const p of msg.points as Pt[]) {
        if (p.seq <= snapshotUpTo) continue;
        this.#take(p);
      }
    };
    ws.onerror = () => {};
    try {
      await Promise.race([
        hello,
        sleep(10000).then(() => {
          throw new Error(`${this.name}: no hello within 10 s`);
        }),
      ]);
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  #take(p: Pt): void {
    if (this.firstSeq === 0) this.firstSeq = p.seq;
    if (p.seq <= this.last) {
      this.dup++;
      return;
    }
    if (p.seq > this.last + 1) this.lost += p.seq - this.last - 1;
    this.last = p.seq;
    this.received++;
    const producer = Math.floor(p.y / Y_STRIDE);
    const index = p.y % Y_STRIDE;
    const expected = this.nextIndex.get(producer) ?? (this.checkFromZero ? 0 : index);
    if (index !== expected) this.indexBreaks++;
    this.nextIndex.set(producer, index + 1);
  }

  /** Closes the connection it asked for and waits until it is closed. */
  async close(): Promise<void> {
    this.#closing = true;
    const ws = this.ws;
    if (ws && ws.readyState < WebSocket.CLOSING) ws.close();
    await Promise.race([this.#closed, sleep(5000)]);
  }

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Closed without asking (for example 4008): reconnects, resuming. */
  async reconnectIfDropped(): Promise<void> {
    if (this.ws && this.ws.readyState === WebSocket.CLOSED && !this.#closing) {
      await this.connect().catch(() => {});
    }
  }
}

/** The server under test: a child process started like `deno task start`. */
interface Server {
  base: string;
  wsUrl: string;
  ingress: string;
  pid: number;
  /** Per isolate (main thread, relay worker), MB used and committed after its
   * last full (mark-compact) GC, and the count of full GCs. */
  heaps: Map<string, { used: number; committed: number; fullGcs: number }>;
  stderrTail(): string;
  stop(): Promise<number>;
}

/**
 * Starts `main.ts` with the flags of `deno task start` on ephemeral ports, like `startZws` in
 * `tests/_support/processes.ts`, but through the `deno` on PATH (the one `--allow-run=deno` names; the
 * test helper runs `Deno.execPath()`, which needs run access to wherever that points).
 */
async function startServer(flags: string[]): Promise<Server> {
  const start = await taskArgs("start");
  // The only change to `deno task start`'s command: V8 logs each GC, so the soak can tell the
  // JS heap (live data after a full GC) from the rest of the process's memory.
  start.splice(1, 0, "--v8-flags=--trace-gc");
  const child = new Deno.Command("deno", {
    args: [
      ...start,
      ...["--port", "0", "--hostname", "127.0.0.1", "--ingress", "tcp://127.0.0.1:*"],
      ...flags,
    ],
    cwd: new URL("../", import.meta.url),
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  let err = "";
  const errDone = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      err = (err + chunk).slice(-65536);
    }
  })();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  let listening: RegExpExecArray | null = null;
  const deadline = Date.now() + 20000;
  while (!listening && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
    listening = /listening on (http:\/\/[^\s/]+)\/ \(ingress (\S+)\)/.exec(out);
  }
  // Keep reading stdout (so the child never blocks on a full pipe), noting full GCs per isolate:
  // "[pid:0xISOLATE]  1234 ms: Mark-Compact 30.1 (45.2) -> 20.3 (44.0) MB, ...".
  const heaps = new Map<string, { used: number; committed: number; fullGcs: number }>();
  const gcLine = /^\[\d+:(0x[0-9a-f]+)\].*Mark-Compact[^(]*\([\d.]+\) -> ([\d.]+) \(([\d.]+)\) MB/;
  const outDone = (async () => {
    let rest = out.slice(out.indexOf("\n", listening?.index ?? 0) + 1);
    while (true) {
      const lines = rest.split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        const m = gcLine.exec(line);
        if (!m) continue;
        const h = heaps.get(m[1]) ?? { used: 0, committed: 0, fullGcs: 0 };
        heaps.set(m[1], { used: Number(m[2]), committed: Number(m[3]), fullGcs: h.fullGcs + 1 });
      }
      const { value, done } = await reader.read();
      if (done) break;
      rest = (rest + value).slice(-65536);
    }
  })();
  let exited: Promise<Deno.CommandStatus> | undefined;
  const stop = async () => {
    if (!exited) {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      exited = child.status;
    }
    const status = await exited;
    await Promise.all([errDone, outDone]);
    return status.code;
  };
  if (!listening) {
    await stop();
    throw new Error(`zws did not start:\nstdout: ${out}\nstderr: ${err}`);
  }
  const base = listening[1];
  return {
    base,
    wsUrl: base.replace(/^http/, "ws") + "/ws",
    ingress: listening[2],
    pid: child.pid,
    heaps,
    stderrTail: () => err,
    stop,
  };
}

/** "JS heaps after last full GC 8.5 MB (committed 20.1 MB, 2 full GCs)", one figure per isolate. */
function heapNote(zws: Server): string {
  const hs = [...zws.heaps.values()];
  if (!hs.length) return "  JS heaps: no full GC yet";
  return `  JS heaps after last full GC ${hs.map((h) => h.used.toFixed(1)).join(" + ")} MB ` +
    `(committed ${hs.map((h) => h.committed.toFixed(1)).join(" + ")} MB, ` +
    `${hs.reduce((a, h) => a + h.fullGcs, 0)} full GCs)`;
}

function fmtMB(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function clock(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

async function metricsText(zws: Server): Promise<string> {
  const r = await fetch(`${zws.base}/metrics`, { signal: AbortSignal.timeout(10000) });
  return await r.text();
}

/** Publishes `rate` points/s in batches every 50 ms until `stop` is set; returns points sent. */
async function produce(
  pub: zmq.Publisher,
  producer: number,
  state: { stop: boolean; sent: number[] },
): Promise<void> {
  const t0 = performance.now();
  let n = 0;
  while (!state.stop) {
    const due = Math.floor((performance.now() - t0) * RATE / 1000);
    // Catch up after a late tick, a bounded amount per tick.
    let budget = Math.max(1, Math.ceil(RATE * TICK_MS / 1000)) * 4;
    while (n < due && budget > 0) {
      const count = Math.min(due - n, Math.ceil(RATE * TICK_MS / 1000), budget);
      const batch: Array<{ x: number; y: number; series: string }> = [];
      for (let i = 0; i < count; i++, n++) {
        batch.push({
          x: Date.now(),
          y: producer * Y_STRIDE + n,
          series: SERIES[n % SERIES.length],
        });
      }
      await pub.send(JSON.stringify(batch));
      state.sent[producer] = n;
      budget -= count;
    }
    await sleep(TICK_MS);
  }
}

/** A churning client: connect, read 2-5 s, leave for 0.2-2 s, come back resuming; until stopped. */
async function churn(c: CheckedClient, stopped: () => boolean): Promise<void> {
  while (true) {
    await c.connect();
    const until = performance.now() + 2000 + Math.random() * 3000;
    while (!stopped() && performance.now() < until) await sleep(100);
    if (stopped()) return; // ends connected, for the final count
    await c.close();
    await sleep(200 + Math.random() * 1800);
  }
}

async function main(): Promise<number> {
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  console.log(
    `soak: ${date}, ${MINUTES} min, ${PRODUCERS} producers x ${RATE} points/s over ` +
      `${SERIES.length} series, ${LONG_LIVED} long-lived + ${CHURNERS} churning clients, ` +
      `${STALLED} stalled client; Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs`,
  );
  // A store of its own (persistence is on by default): the run starts at seq 1 with no history.
  const dataDir = `./data/soak-${crypto.randomUUID().slice(0, 8)}`;
  const dataUrl = new URL(`../${dataDir}/`, import.meta.url);
  const storeBytes = async () => {
    let n = 0;
    for (const f of ["points.db", "points.db-wal"]) {
      n += await Deno.stat(new URL(f, dataUrl)).then((s) => s.size, () => 0);
    }
    return n;
  };
  const zws = await startServer(["--no-demo", "--data-dir", dataDir]);
  console.log(`soak: server pid ${zws.pid} on ${zws.base}, ingress ${zws.ingress}`);
  const pubs: zmq.Publisher[] = [];
  const longLived: CheckedClient[] = [];
  const churners: CheckedClient[] = [];
  const stalled: RawWsClient[] = [];
  const prod = { stop: false, sent: new Array<number>(PRODUCERS).fill(0) };
  let stopChurn = false;
  const rss: Array<{ at: number; label: string; bytes: number }> = [];
  let peak = 0;
  let failure = "";
  let producing: Promise<unknown> = Promise.resolve();
  let churning: Promise<unknown> = Promise.resolve();
  try {
    for (let i = 0; i < LONG_LIVED; i++) {
      const c = new CheckedClient(`long-${i}`, zws.wsUrl, true);
      await c.connect();
      longLived.push(c);
    }
    if (STALLED) stalled.push(await rawWsConnect(zws.base));
    for (let p = 0; p < PRODUCERS; p++) pubs.push(await connectPublisher(zws.ingress));
    const t0 = performance.now();
    producing = Promise.all(pubs.map((pub, p) => produce(pub, p, prod)));
    for (let i = 0; i < CHURNERS; i++) {
      churners.push(new CheckedClient(`churn-${i}`, zws.wsUrl, false));
    }
    churning = Promise.all(churners.map(async (c, i) => {
      await sleep(i * 300); // staggered
      await churn(c, () => stopChurn);
    }));
    await sleep(2000);
    const sample = async (label: string) => {
      const bytes = await rssBytes(zws.pid);
      peak = Math.max(peak, bytes);
      rss.push({ at: performance.now() - t0, label, bytes });
      return bytes;
    };
    console.log(`[${clock(performance.now() - t0)}] RSS ${fmtMB(await sample("start"))} (start)`);
    let slowClosedSeen = 0;
    let nextMinute = 1;
    // Every 5 s: a peak sample and the stalled client's fate; at every minute mark, a line.
    while (nextMinute <= MINUTES) {
      const mark = nextMinute * 60_000;
      await sleep(Math.max(0, Math.min(5000, mark - (performance.now() - t0))));
      peak = Math.max(peak, await rssBytes(zws.pid));
      const text = await metricsText(zws);
      const slowClosed = metric(text, "zws_slow_clients_closed_total");
      if (slowClosed > slowClosedSeen) {
        // The server closed the stalled client (4008): a new one stalls in its place.
        slowClosedSeen = slowClosed;
        stalled.at(-1)?.close();
        stalled.push(await rawWsConnect(zws.base));
      }
      // The stalled client never reads, but sends an (unsolicited) pong now and then, so Deno's
      // idle timeout (60 s without a pong) does not close it first: it must meet the bridge's
      // slow-client bound. If the connection is gone anyway, a new one takes its place.
      const st = stalled.at(-1);
      if (st && !(await st.sendFrame(10, new Uint8Array(0)).then(() => true, () => false))) {
        st.close();
        stalled.push(await rawWsConnect(zws.base));
      }
      for (const c of longLived) await c.reconnectIfDropped();
      const elapsed = performance.now() - t0;
      if (elapsed < mark) continue;
      const bytes = await sample(`minute ${nextMinute}`);
      const published = prod.sent.reduce((a, b) => a + b, 0);
      console.log(
        `[${clock(elapsed)}] RSS ${fmtMB(bytes)}  published ${published}  ` +
          `clients ${metric(text, "zws_clients")}  ` +
          `slow now ${metric(text, "zws_slow_clients")}  slow closed ${slowClosed}  ` +
          `churn connections ${churners.reduce((a, c) => a + c.connections, 0)}` +
          heapNote(zws),
      );
      nextMinute++;
    }
    // Stop: producers first, then churners (each ends connected), then wait for the last point.
    prod.stop = true;
    await producing;
    stopChurn = true;
    await churning;
    const published = prod.sent.reduce((a, b) => a + b, 0);
    const deadline = performance.now() + 30000;
    let lastSeq = 0;
    while (performance.now() < deadline) {
      lastSeq = metric(await metricsText(zws), "zws_last_seq");
      const all = [...longLived, ...churners];
      if (lastSeq >= published && all.every((c) => c.last >= lastSeq)) break;
      for (const c of churners) await c.reconnectIfDropped();
      await sleep(200);
    }
    const endText = await metricsText(zws);
    const endBytes = await sample("end");
    console.log(`[${clock(performance.now() - t0)}] RSS ${fmtMB(endBytes)} (end)${heapNote(zws)}`);

    // Summary.
    const rejected = endText.split("\n").filter((l) => l.startsWith("zws_ingress_rejected_total{"))
      .reduce((a, l) => a + Number(l.split(" ")[1]), 0);
    const minuteOne = rss.find((s) => s.label === "minute 1") ?? rss[0];
    const after = rss.filter((s) => s.at > minuteOne.at);
    const growth = after.length ? Math.max(...after.map((s) => s.bytes)) - minuteOne.bytes : 0;
    // A leak keeps growing; a warm-up levels off: the second half tells them apart.
    const half = rss.find((s) => s.label === `minute ${Math.ceil(MINUTES / 2)}`) ?? minuteOne;
    const secondHalf = endBytes - half.bytes;
    const tail = rss.filter((s) => s.at > half.at);
    const tailGrowth = tail.length ? Math.max(...tail.map((s) => s.bytes)) - half.bytes : 0;
    const sign = (n: number) => (n >= 0 ? "+" : "") + fmtMB(n);
    const stats = (cs: CheckedClient[]) => {
      const got = cs.map((c) => c.received);
      return { min: Math.min(...got), max: Math.max(...got) };
    };
    const sum = (cs: CheckedClient[], f: (c: CheckedClient) => number) =>
      cs.reduce((a, c) => a + f(c), 0);
    const all = [...longLived, ...churners];
    const lost = sum(all, (c) => c.lost) +
      sum(longLived, (c) => Math.max(0, published - c.received - c.lost));
    const dup = sum(all, (c) => c.dup);
    const breaks = sum(all, (c) => c.indexBreaks);
    const notExact = sum(churners, (c) => c.resumesNotExact);
    const unexpected = all.flatMap((c) => [...c.unexpectedCloses].map(([k, v]) => `${k}x${v}`));
    const behind = all.filter((c) => c.last < published).map((c) => `${c.name}@${c.last}`);
    const ll = stats(longLived);
    const ch = CHURNERS ? stats(churners) : { min: 0, max: 0 };
    const lines = [
      `summary:`,
      `  RSS start ${fmtMB(rss[0].bytes)}; ` +
      rss.filter((s) => s.label.startsWith("minute")).map((s) => `${s.label} ${fmtMB(s.bytes)}`)
        .join(", ") +
      `; end ${fmtMB(endBytes)}; peak ${fmtMB(peak)}`,
      `  RSS growth after minute 1: ${sign(growth)} (bound ${fmtMB(RSS_BOUND)}); ` +
      `${half.label} to end: ${sign(secondHalf)} (peak ${sign(tailGrowth)}, bound ` +
      `${fmtMB(RSS_TAIL_BOUND)}); server ${heapNote(zws).trim()}`,
      `  points published ${published}; server last seq ${lastSeq}; ingress rejected ${rejected}`,
      `  long-lived clients (${LONG_LIVED}): delivered per client min ${ll.min} max ${ll.max}`,
      `  churning clients (${CHURNERS}): connections ${sum(churners, (c) => c.connections)}, ` +
      `exact resumes ${sum(churners, (c) => c.resumesExact)}, not exact ${notExact}, ` +
      `delivered per client min ${ch.min} max ${ch.max}`,
      `  lost ${lost}, duplicated ${dup}, producer-order breaks ${breaks}`,
      `  store: ${metric(endText, "zws_store_points_written_total")} points written, ` +
      `${metric(endText, "zws_store_points_trimmed_total")} trimmed by retention, files ` +
      `${fmtMB(await storeBytes())} at the end, up ${metric(endText, "zws_store_up")}`,
      `  slow-client closes (4008) ${metric(endText, "zws_slow_clients_closed_total")}; ` +
      `stalled clients opened ${stalled.length}; unexpected closes of checked clients: ` +
      `${unexpected.length ? unexpected.join(" ") : "none"}`,
    ];
    const problems: string[] = [];
    if (lost > 0) problems.push(`${lost} points lost`);
    if (dup > 0) problems.push(`${dup} points duplicated`);
    if (breaks > 0) problems.push(`${breaks} producer-order breaks`);
    if (notExact > 0) problems.push(`${notExact} resumes not exact`);
    if (lastSeq !== published) problems.push(`server last seq ${lastSeq} != published`);
    if (metric(endText, "zws_store_up") !== 1) problems.push("the store failed (in memory)");
    if (rejected > 0) problems.push(`${rejected} producer messages rejected`);
    if (behind.length) problems.push(`clients behind at the end: ${behind.join(" ")}`);
    if (longLived.some((c) => c.unexpectedCloses.size > 0)) {
      problems.push("a long-lived client was closed by the server");
    }
    if (growth > RSS_BOUND) {
      problems.push(`RSS grew ${fmtMB(growth)} after minute 1 (bound ${fmtMB(RSS_BOUND)})`);
    }
    if (tailGrowth > RSS_TAIL_BOUND) {
      problems.push(
        `RSS grew ${fmtMB(tailGrowth)} after ${half.label} (bound ${fmtMB(RSS_TAIL_BOUND)})`,
      );
    }
    failure = problems.join("; ");
    lines.push(`  result: ${failure ? `FAIL (${failure})` : "PASS"}`);
    console.log(lines.join("\n"));
  } catch (err) {
    failure = `soak aborted: ${(err as Error).stack ?? err}`;
    console.error(failure);
  } finally {
    prod.stop = true;
    stopChurn = true;
    await Promise.race([Promise.allSettled([producing, churning]), sleep(15000)]);
    await Promise.all([...longLived, ...churners].map((c) => c.close()));
    stalled.forEach((s) => s.close());
    pubs.forEach((p) => p.close());
    const code = await zws.stop();
    await Deno.remove(dataUrl, { recursive: true }).catch(() => {});
    if (code !== 0) {
      failure ||= `server exited ${code}`;
      console.log(`server exit code ${code}; stderr tail:\n${zws.stderrTail().slice(-2000)}`);
    }
  }
  return failure ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
