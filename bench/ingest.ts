/**
 * The data path at its limit (issue 11), run by `bench/run.ts`:
 *
 * - **W6, ingest ceiling**: 100-point messages to 2 clients, a ladder of offered rates; the result
 *   is the highest rate delivered >= 99.9 % with a mean lag <= 100 ms (zws and the baseline),
 *   refined after the first rung that fails by two rungs halving the gap to the last that passed.
 * - **W6P, persistence cost** (issue 15): zws's W6 ladder persisting and with `--no-persist`,
 *   alternating round by round, each refined by bisection; the medians of the ceilings are
 *   compared (target: persisting within 10 %).
 * - **W7, burst**: 8 s at 2,000,000 points/s offered, then normal input (1,000 points/s) for 5 s,
 *   zws only: the process lives, `/healthz` answers within 1 s throughout, every offered point is
 *   delivered or counted (accepted + shed as `overload`), data flows again within 2 s (a client
 *   opened after the burst gets the normal input with a lag under 200 ms).
 *
 * W8 (1,000 clients at 100,000 points/s in 100-point messages) is an ordinary workload of
 * `run.ts`'s table.
 *
 * @module
 */
import type { RunResult, Server, ServerKind, Workload } from "./run.ts";
import type { ProducerDone } from "./producer_load.ts";
import { sleep } from "./common.ts";

/** What the ladder needs from `run.ts`. */
export interface IngestDeps {
  runWorkload(w: Workload, kind: ServerKind): Promise<RunResult>;
  startServer(kind: ServerKind, maxClients: number): Promise<Server>;
  startProducer(
    ingress: string,
    rate: number,
    durationMs: number,
    perMessage: number,
    series?: number,
    lingerMs?: number,
  ): {
    pid: number;
    expect<T>(type: string, ms: number): Promise<T>;
    send(line: string): Promise<void>;
    stop(ms?: number): Promise<void>;
  };
  waitQuiet(): Promise<void>;
}

/** One rung of the W6 ladder. */
export interface Rung {
  server: ServerKind;
  offered: number;
  delivered: number;
  share: number;
  meanMs: number;
  p99Ms: number;
  serverCpu: number;
  ok: boolean;
  error?: string;
}

/** Offered points/s of the W6 ladder. */
export function w6Ladder(quick: boolean): number[] {
  return quick
    ? [250_000, 500_000, 1_000_000, 1_500_000]
    : [250_000, 500_000, 750_000, 1_000_000, 1_250_000, 1_500_000, 2_000_000];
}

/** What zws did with the input, from its counters: what tells a rung lost to shedding from one lost to lag. */
function inputNote(m: Record<string, number> | undefined): string {
  if (!m) return "";
  const n = (k: string) => (m[k] ?? 0).toLocaleString("en-US");
  return `; taken in ${n("zws_ingress_points_total")}, rejected ${
    n("zws_ingress_rejected_total")
  }, dropped for slow clients ${n("zws_points_dropped_total")}`;
}

/** Options of {@link runW6}. */
export interface W6Options {
  /** zws in memory only (`--no-persist`). */
  noPersist?: boolean;
  /**
   * After the first rung that fails, how many rungs halve the gap between it and the last that
   * passed (default 0): the ceiling to within (gap / 2^refine), rounded to 10,000 points/s.
   */
  refine?: number;
}

/** A W6 ladder's rungs and its ceiling (the highest offered rate that passed; 0: none did). */
export interface W6Result {
  rungs: Rung[];
  ceiling: number;
}

/**
 * Runs the W6 ladder for one server, stopping after the first rung that fails; then, with
 * `refine`, bisects between that rung and the last that passed.
 */
export async function runW6(
  deps: IngestDeps,
  kind: ServerKind,
  quick: boolean,
  log: (s: string) => void,
  opts: W6Options = {},
): Promise<W6Result> {
  const rungs: Rung[] = [];
  let ceiling = 0;
  let failed = 0;
  for (const offered of w6Ladder(quick)) {
    if (await runRung(deps, kind, quick, log, offered, opts, rungs)) ceiling = offered;
    else {
      failed = offered;
      break;
    }
  }
  for (let i = 0; failed && i < (opts.refine ?? 0); i++) {
    const offered = Math.round((ceiling + failed) / 2 / 10_000) * 10_000;
    if (offered <= ceiling || offered >= failed) break;
    if (await runRung(deps, kind, quick, log, offered, opts, rungs)) ceiling = offered;
    else failed = offered;
  }
  return { rungs, ceiling };
}

/** One W6 rung: runs it, records it in `rungs`, logs it; returns whether it passed. */
async function runRung(
  deps: IngestDeps,
  kind: ServerKind,
  quick: boolean,
  log: (s: string) => void,
  offered: number,
  opts: W6Options,
  rungs: Rung[],
): Promise<boolean> {
  await deps.waitQuiet();
  const w: Workload = {
    id: "W6",
    title: `2 clients x ${offered.toLocaleString("en-US")} points/s in 100-point messages`,
    clients: 2,
    stalled: 0,
    rate: offered / 100,
    pointsPerMessage: 100,
    durationMs: quick ? 3000 : 5000,
    loadgens: 1,
    readBuffer: 1 << 20,
    ...(opts.noPersist !== undefined ? { noPersist: opts.noPersist } : {}),
  };
  const r = await deps.runWorkload(w, kind);
  const share = r.expected > 0 ? r.delivered / r.expected : 0;
  const meanMs = r.mean ?? NaN;
  const ok = !r.error && share >= 0.999 && meanMs <= 100;
  rungs.push({
    server: kind,
    offered,
    delivered: r.deliveredPerSec,
    share,
    meanMs,
    p99Ms: r.p99,
    serverCpu: r.serverCpu,
    ok,
    ...(r.error ? { error: r.error } : {}),
  });
  const label = kind === "zws" && opts.noPersist !== undefined
    ? `${kind} (${opts.noPersist ? "--no-persist" : "persisting"})`
    : kind;
  log(
    `  W6 ${label} ${offered.toLocaleString("en-US")} pts/s: delivered ${
      (share * 100).toFixed(2)
    }%, mean ${meanMs.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, server CPU ${
      (r.serverCpu * 100).toFixed(0)
    }%${inputNote(r.metrics)}${r.error ? `, error: ${r.error}` : ""}${ok ? "" : " (fails)"}`,
  );
  return ok;
}

/** W6P: W6 with persistence on and with `--no-persist`, alternating (issue 15). */
export interface W6PResult {
  /** Ceilings of each round, persisting. */
  persisting: number[];
  /** Ceilings of each round, `--no-persist`. */
  memory: number[];
}

/**
 * Runs W6P: `rounds` rounds, each a refined zws ladder persisting and then one with
 * `--no-persist`, so a disturbance of the machine hits both alike; the medians are compared.
 */
export async function runW6P(
  deps: IngestDeps,
  quick: boolean,
  rounds: number,
  log: (s: string) => void,
): Promise<W6PResult> {
  const out: W6PResult = { persisting: [], memory: [] };
  for (let i = 0; i < rounds; i++) {
    for (const noPersist of [false, true]) {
      const r = await runW6(deps, "zws", quick, log, { noPersist, refine: 5 });
      (noPersist ? out.memory : out.persisting).push(r.ceiling);
    }
  }
  return out;
}

/** The median of `xs` (NaN when empty). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** What W7 measured. */
export interface BurstResult {
  offered: number;
  accepted: number;
  shedOverload: number;
  unaccounted: number;
  healthzWorstMs: number;
  healthzFailures: number;
  healthz503: number;
  alive: boolean;
  /** Seconds from the burst's end until a new client's points arrive with lag < 200 ms. */
  recoverySec: number;
  /** Seconds from the burst's end until the server had taken in or shed every point. */
  drainSec?: number;
  error?: string;
}

async function metricValue(base: string, name: string): Promise<number> {
  const text = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(2000) })
    .then((r) => r.text());
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}

/** Runs W7 against zws (see the module doc). */
export async function runW7(deps: IngestDeps, quick: boolean): Promise<BurstResult> {
  const burstMs = quick ? 4000 : 8000;
  const result: BurstResult = {
    offered: 0,
    accepted: 0,
    shedOverload: 0,
    unaccounted: 0,
    healthzWorstMs: 0,
    healthzFailures: 0,
    healthz503: 0,
    alive: false,
    recoverySec: NaN,
  };
  await deps.waitQuiet();
  const server = await deps.startServer("zws", 100);
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const t = performance.now();
      try {
        const r = await fetch(`${server.base}/healthz`, { signal: AbortSignal.timeout(1000) });
        await r.body?.cancel();
        if (r.status === 503) result.healthz503++;
      } catch {
        result.healthzFailures++;
      }
      result.healthzWorstMs = Math.max(result.healthzWorstMs, performance.now() - t);
      await sleep(250);
    }
  })();
  // The burst's producer may flush what it queued for up to 60 s after its last send: every point
  // it offered then reaches the server, which must deliver or count it (TCP pushes back, so the
  // rest waits in the producer's own queue, not in the server).
  const burst = deps.startProducer(server.ingress, 20_000, burstMs, 100, 5, 60_000);
  // The normal input comes from a producer connected all along (as real ones are), idle during the
  // burst: its process start is not the server's recovery.
  const normal = deps.startProducer(server.ingress, 10, 6000, 100);
  let ws: WebSocket | undefined;
  try {
    await burst.expect("ready", 20000);
    await normal.expect("ready", 20000);
    await burst.send("go");
    const done = await burst.expect<ProducerDone>("done", burstMs + 30000);
    const burstEnd = performance.now();
    await normal.send("go");
    // A new client after the burst: when do the normal input's points reach it promptly?
    ws = new WebSocket(server.base.replace(/^http/, "ws") + "/ws");
    let recoveredAt = NaN;
    ws.onmessage = (e) => {
      if (Number.isFinite(recoveredAt)) return;
      const f = JSON.parse(e.data);
      if (f.type !== "points" || !f.points.length) return;
      // Burst points still in flight may share the frame: the freshest point tells.
      let x = 0;
      for (const p of f.points) x = Math.max(x, p.x);
      if (performance.timeOrigin + performance.now() - x < 200) recoveredAt = performance.now();
    };
    const normalDone = await normal.expect<ProducerDone>("done", 30000);
    // Until the server has taken in (or shed) everything: its input counters stand still for 1 s.
    const input = async () =>
      (await metricValue(server.base, "zws_ingress_points_total")) +
      (await metricValue(server.base, "zws_ingress_rejected_total"));
    let seen = await input();
    for (let still = 0, i = 0; still < 4 && i < 240; i++) {
      await sleep(250);
      const now = await input();
      still = now === seen ? still + 1 : 0;
      seen = now;
    }
    result.drainSec = (performance.now() - burstEnd) / 1000;
    result.recoverySec = (recoveredAt - burstEnd) / 1000;
    result.offered = done.points + normalDone.points;
    result.accepted = await metricValue(server.base, "zws_ingress_points_total");
    result.shedOverload = await metricValue(
      server.base,
      'zws_ingress_rejected_total{reason="overload"}',
    );
    result.unaccounted = result.offered - result.accepted - result.shedOverload;
    result.alive = (await fetch(`${server.base}/healthz`).then((r) => r.status)) === 200;
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
  } finally {
    polling = false;
    await poller;
    ws?.close();
    await burst.stop();
    await normal.stop();
    await server.stop();
  }
  return result;
}
