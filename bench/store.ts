/**
 * `deno run --allow-read=/tmp,./src --allow-write=/tmp --allow-run=sh bench/store.ts`: what a point costs in the store
 * (src/store/), on a file in a temp dir with the store's pragmas (WAL, synchronous NORMAL), one
 * transaction per flush: a row per point (its JSON), a row per series per flush (JSON joined), and
 * the store's layout (a row per series per flush, seqs and x/y as binary), appended through
 * `StoreWriter`; then the relay's sequencer with no store, with the writer on its thread (as before
 * issue 15's worker) and with the store's worker (`WriterThread`, as now). Prints CPU and wall time
 * per point. Bounded: 200,000 points each (1,000,000 for the sequencer).
 *
 * @module
 */
import process from "node:process";
import { DatabaseSync } from "node:sqlite";
import { openWriter } from "../src/store/open_writer.ts";
import { WriterThread } from "../src/store/writer_thread.ts";
import { encodePoint } from "../src/protocol/frames.ts";
import { Sequencer } from "../src/relay/sequencer.ts";
import type { Point } from "../src/protocol/ingress.ts";

const N = 200_000;
const SERIES = 5;
const x = (i: number) => 1.7e12 + i * 10;
const y = (i: number) => Math.sin(i / 100);
const series = (i: number) => `s${i % SERIES}`;
const jsons = Array.from(
  { length: N },
  (_, i) => encodePoint(i + 1, { series: series(i), x: x(i), y: y(i) }),
);

function measure(name: string, perFlush: number, run: () => number): void {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const flushes = run();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  console.log(
    `${name}, ${perFlush} points per flush: ${
      ((c.user + c.system) / N).toFixed(2)
    } us CPU/point, ` +
      `${(wall * 1000 / N).toFixed(2)} us wall/point, ${(wall / flushes).toFixed(1)} ms per flush`,
  );
}

/** CPU so far of each thread of this process (tid -> kind and microseconds; Linux, 100 Hz). */
function threadsCpu(): Map<number, { kind: "main" | "workers" | "other"; us: number }> {
  // Through `sh`: Deno lets a program read its own /proc entries only with --allow-all.
  const out = new Deno.Command("sh", {
    args: ["-c", `for t in /proc/${Deno.pid}/task/*; do echo "\${t##*/} $(cat $t/stat)"; done`],
  }).outputSync();
  const threads = new Map<number, { kind: "main" | "workers" | "other"; us: number }>();
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    if (!line) continue;
    const tid = Number(line.slice(0, line.indexOf(" ")));
    const comm = line.slice(line.indexOf("(") + 1, line.lastIndexOf(")"));
    const f = line.slice(line.lastIndexOf(")") + 2).split(" ");
    const us = (Number(f[11]) + Number(f[12])) * 10_000;
    const kind = tid === Deno.pid ? "main" : comm.startsWith("worker") ? "workers" : "other";
    threads.set(tid, { kind, us });
  }
  return threads;
}

/** CPU used since `before` by this thread, Worker threads and the rest, in microseconds. */
function cpuSince(
  before: ReturnType<typeof threadsCpu>,
): Record<"main" | "workers" | "other", number> {
  const sum = { main: 0, workers: 0, other: 0 };
  for (const [tid, t] of threadsCpu()) sum[t.kind] += t.us - (before.get(tid)?.us ?? 0);
  return sum;
}

function sqlite(path: string, columns: string): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
  db.exec(`CREATE TABLE p (id INTEGER PRIMARY KEY, ${columns})`);
  db.exec("CREATE INDEX p_series ON p (series, id)");
  return db;
}

const dir = await Deno.makeTempDir({ prefix: "zws-store-bench-" });
try {
  for (const perFlush of [1000, 10_000, 50_000]) {
    measure("row per point (JSON)", perFlush, () => {
      const db = sqlite(`${dir}/row-${perFlush}.db`, "series TEXT, seq INTEGER, json TEXT");
      const ins = db.prepare("INSERT INTO p (series, seq, json) VALUES (?, ?, ?)");
      for (let from = 0; from < N; from += perFlush) {
        db.exec("BEGIN");
        for (let i = from; i < from + perFlush; i++) ins.run(series(i), i + 1, jsons[i]);
        db.exec("COMMIT");
      }
      db.close();
      return N / perFlush;
    });
    measure("row per batch (JSON joined)", perFlush, () => {
      const db = sqlite(`${dir}/text-${perFlush}.db`, "series TEXT, seqs TEXT, points TEXT");
      const ins = db.prepare("INSERT INTO p (series, seqs, points) VALUES (?, ?, ?)");
      for (let from = 0; from < N; from += perFlush) {
        const seqs: string[][] = Array.from({ length: SERIES }, () => []);
        const pts: string[][] = Array.from({ length: SERIES }, () => []);
        for (let i = from; i < from + perFlush; i++) {
          seqs[i % SERIES].push(String(i - from));
          pts[i % SERIES].push(jsons[i]);
        }
        db.exec("BEGIN");
        for (let s = 0; s < SERIES; s++) ins.run(`s${s}`, seqs[s].join(","), pts[s].join("\n"));
        db.exec("COMMIT");
      }
      db.close();
      return N / perFlush;
    });
    measure("store (row per batch, binary)", perFlush, () => {
      const w = openWriter(`${dir}/store-${perFlush}`, { retention: { count: N } }, {
        flushMs: 1e9,
      });
      for (let i = 0; i < N; i++) {
        w.reserve(i + 1);
        w.append(series(i), i + 1, x(i), y(i));
        if ((i + 1) % perFlush === 0) w.flush();
      }
      w.close(N);
      return N / perFlush;
    });
  }
  // The relay's hot path: sequencing 100-point messages into bus batches, without a store, with
  // the writer on the same thread (before: its flushes every 100 ms of wall time), and with the
  // store's own worker (WriterThread; the relay's thread only hands points over). CPU of this
  // thread (/proc/thread-self) and of the whole process (the worker included), 1,000,000 points.
  const M = 1_000_000;
  const msgs: Point[][] = [];
  for (let i = 0; i < M; i += 100) {
    msgs.push(
      Array.from({ length: 100 }, (_, k) => ({ series: series(i + k), x: x(i + k), y: y(i + k) })),
    );
  }
  type Variant = "no store" | "writer on this thread" | "writer worker";
  const variants: Variant[] = ["no store", "writer on this thread", "writer worker"];
  for (const variant of [...variants, ...variants]) {
    const inline = variant === "writer on this thread"
      ? openWriter(`${dir}/seq-inline`, { retention: { count: 1000 } }, { flushMs: 0 })
      : undefined;
    const worker = variant === "writer worker"
      ? await WriterThread.open({
        dataDir: `${dir}/seq-worker`,
        store: { retention: { count: 1000 } },
      })
      : undefined;
    const seq = new Sequencer(
      "bench",
      inline?.start?.lastSeq ?? worker?.start?.lastSeq ?? 0,
      M,
      // The relay hands the sequencer the writer's per-point path itself (relay.ts).
      inline ?? worker?.sink,
    );
    const first = seq.lastSeq;
    const th0 = threadsCpu();
    let flushedAt = performance.now();
    for (const m of msgs) {
      seq.offer(m);
      while (seq.cut());
      if (inline && performance.now() - flushedAt >= 100) {
        inline.flush();
        flushedAt = performance.now();
      }
      if (seq.blocked) await worker?.whenReserved();
    }
    inline?.flush();
    const main = cpuSince(th0).main;
    if (worker) {
      const done = () => worker.status().pointsPersisted + worker.status().pointsDropped >= M;
      while (!done()) await new Promise((r) => setTimeout(r, 10));
    }
    const th = cpuSince(th0);
    const st = (inline ?? worker)?.status();
    inline?.close(seq.lastSeq);
    await worker?.close(seq.lastSeq);
    if (seq.lastSeq - first !== M) throw new Error(`sequenced ${seq.lastSeq - first}`);
    if (st && st.pointsPersisted !== M) throw new Error(`store: ${JSON.stringify(st)}`);
    const per = (us: number) => (us / M).toFixed(2);
    console.log(
      `sequencer, 100-point messages, ${variant}: this thread ${per(main)} us CPU/point, ` +
        `worker threads ${per(th.workers)}, other threads (GC, I/O) ${per(th.other)}`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
