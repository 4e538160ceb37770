/**
 * The store's writer on a thread of its own (src/store/writer_thread.ts, writer_worker.ts): a
 * real Worker writing a real SQLite file in a temp dir. Its death and its stall are noticed and
 * it is restarted with the writes going on; its queue is bounded (counted drops, never a wait);
 * a seq is never handed out past the durable reservation. No sockets.
 */
import assert from "node:assert/strict";
import { PointStore } from "../../src/store/point_store.ts";
import { STORE_FILE } from "../../src/store/point_store_options.ts";
import { WriterThread } from "../../src/store/writer_thread.ts";
import type { WriterThreadOptions } from "../../src/store/writer_thread_options.ts";
import { setLogSink } from "../../src/runtime/log.ts";
import { waitFor } from "../_helpers.ts";

const RET = { count: 100_000 };

async function withDir(f: (dir: string, logs: string[]) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "zws-writer-" });
  const logs: string[] = [];
  const restore = setLogSink((l) => logs.push(l));
  try {
    await f(dir, logs);
  } finally {
    setLogSink(restore);
    await Deno.remove(dir, { recursive: true });
  }
}

function open(dir: string, opts: WriterThreadOptions = {}, reserveAhead?: number) {
  return WriterThread.open({
    dataDir: dir,
    store: { retention: RET, ...(reserveAhead ? { reserveAhead } : {}) },
    load: { perSeries: 100_000, maxSeries: 10 },
  }, opts);
}

/** Sequences `from..to` as the relay does: reserve, then append (round-robin over 3 series). */
function sequence(w: WriterThread, from: number, to: number): void {
  for (let seq = from; seq <= to; seq++) {
    assert(w.reserve(seq), `seq ${seq} refused`);
    w.append(`s${seq % 3}`, seq, seq, seq / 2);
  }
}

/** The seqs the file holds, and how it says the last run ended. */
function onDisk(dir: string): { seqs: number[]; start: PointStore["start"] } {
  const s = PointStore.open(dir, { retention: RET });
  const seqs = s.load(100_000).map((p) => p.seq);
  const start = s.start;
  s.close();
  return { seqs, start };
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

Deno.test("WriterThread: points are written by the worker; close records a clean stop and the next open loads them", () =>
  withDir(async (dir) => {
    const w = await open(dir);
    assert.equal(w.start?.recovered, "fresh");
    sequence(w, 1, 20_000);
    await waitFor(() => w.status().pointsPersisted === 20_000, 5000, "20,000 points written");
    await w.close(20_000);
    const again = await open(dir);
    assert.equal(again.start?.recovered, "clean");
    assert.equal(again.start?.epoch, w.start?.epoch);
    assert.deepEqual(again.takeHeld().map((p) => p.seq), range(1, 20_000));
    assert.equal(again.status().pointsDropped, 0);
    await again.close(20_000);
  }));

Deno.test("WriterThread: points reach the worker while the thread never yields (sustained input starves its timers)", () =>
  withDir(async (dir) => {
    const w = await open(dir, { flushMs: 50, chunkPoints: 1000 });
    // 50,000 points over about 500 ms of a thread that never gives its timers a turn, as the
    // relay's loops under sustained input.
    for (let k = 0; k < 50; k++) {
      sequence(w, k * 1000 + 1, k * 1000 + 1000);
      const until = performance.now() + 10;
      while (performance.now() < until) { /* busy */ }
    }
    // Still not yielding: the queue (read from the shared counters) drains as the worker writes.
    const deadline = performance.now() + 5000;
    while (w.status().queuedPoints > 5000 && performance.now() < deadline) { /* busy */ }
    assert(w.status().queuedPoints <= 5000, `${w.status().queuedPoints} queued: nothing was sent`);
    await w.close(50_000);
    assert.deepEqual(onDisk(dir).seqs, range(1, 50_000));
  }));

Deno.test("WriterThread: a worker that dies is restarted, the writes go on in the same epoch, no seq reused", () =>
  withDir(async (dir, logs) => {
    const w = await open(dir);
    const epoch = w.start!.epoch;
    sequence(w, 1, 1000);
    await waitFor(() => w.status().pointsPersisted === 1000, 5000, "first points written");
    w.fault("throw");
    await waitFor(() => w.status().writerRestarts === 1, 5000, "writer restarted");
    assert.equal(logs.filter((l) => l.includes("writer died")).length, 1, logs.join("\n"));
    sequence(w, 1001, 3000);
    await waitFor(
      () => w.status().pointsPersisted === 3000,
      5000,
      "points after the restart written",
    );
    assert.equal(w.status().mode, "disk");
    assert.equal(w.status().pointsDropped, 0);
    await w.close(3000);
    const { seqs, start } = onDisk(dir);
    assert.deepEqual(start, { epoch, lastSeq: 3000, recovered: "clean" });
    assert.deepEqual(seqs, range(1, 3000), "every point once, before and after the restart");
  }));

Deno.test("WriterThread: a worker that stops answering is restarted; its queued points are counted as dropped", () =>
  withDir(async (dir) => {
    const w = await open(dir, { stallMs: 300 });
    sequence(w, 1, 500);
    await waitFor(() => w.status().pointsPersisted === 500, 5000, "first points written");
    // Hung for 1.5 s (Deno ends a worker only once it returns to JavaScript): the new worker
    // takes the file over when the old one has gone.
    w.fault("hang", 1500);
    await new Promise((r) => setTimeout(r, 50));
    sequence(w, 501, 600); // reaches the hung worker: lost with it
    await waitFor(() => w.status().writerRestarts === 1, 5000, "a hung writer is replaced");
    await waitFor(() => w.status().queuedPoints === 0, 5000, "queue empty");
    assert.equal(w.status().pointsDropped, 100);
    sequence(w, 601, 700);
    await w.close(700);
    const { seqs, start } = onDisk(dir);
    assert.equal(start.recovered, "clean");
    assert.equal(start.lastSeq, 700);
    assert.deepEqual(seqs, [...range(1, 500), ...range(601, 700)]);
  }));

Deno.test("WriterThread: a disk that cannot keep up: the queue stays bounded, the rest is dropped and counted, nothing waits", () =>
  withDir(async (dir, logs) => {
    const w = await open(dir, { maxQueuedPoints: 1000, chunkPoints: 100 });
    w.fault("slow", 300);
    const t0 = performance.now();
    sequence(w, 1, 5000);
    const appendMs = performance.now() - t0;
    const st = w.status();
    assert(st.queuedPoints <= 1000, `queued ${st.queuedPoints}`);
    assert(st.pointsDropped >= 3000, `dropped ${st.pointsDropped}`);
    assert.equal(logs.filter((l) => l.includes("writer is behind")).length, 1, "one line");
    await waitFor(
      () => w.status().pointsPersisted + w.status().pointsDropped === 5000,
      10_000,
      "the slow writer catches up: every point written or counted as dropped",
    );
    const end = w.status();
    assert.equal(end.queuedPoints, 0);
    await w.close(5000);
    const { seqs } = onDisk(dir);
    assert.equal(seqs.length, end.pointsPersisted);
    assert(seqs.every((s, i) => i === 0 || s > seqs[i - 1]), "in seq order, each once");
    // The appends never waited for the disk (a write there takes 300 ms).
    assert(appendMs < 300, `5000 appends took ${appendMs} ms`);
  }));

Deno.test("WriterThread: a seq past the reservation waits for it; when it never comes the store is set aside and the run goes on in memory", () =>
  withDir(async (dir, logs) => {
    const w = await open(dir, { reservationWaitMs: 300, stallMs: 60_000 }, 1000);
    // Fresh: seqs 1..1001 reserved (1 + 1000 ahead).
    sequence(w, 1, 1001);
    assert.equal(w.reserve(1002), false, "past the durable reservation");
    await w.whenReserved();
    assert(w.reserve(1002), "the worker reserved more");
    sequence(w, 1002, 1800);
    await waitFor(() => w.status().pointsPersisted === 1800, 5000, "written");
    w.fault("hang", 1500);
    await new Promise((r) => setTimeout(r, 200)); // hung by now: no more top-ups
    let seq = 1801;
    while (w.reserve(seq)) w.append("s", seq++, 0, 0);
    const refused = seq;
    await w.whenReserved();
    assert.equal(w.status().mode, "memory");
    assert.match(w.status().error?.message ?? "", /did not reserve seqs within 300 ms/);
    assert(w.reserve(refused) && w.reserve(refused + 1e6), "no file to continue: any seq goes");
    assert.equal(logs.filter((l) => l.includes("going on in memory")).length, 1, logs.join("\n"));
    const files = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert(!files.includes(STORE_FILE), `moved aside: ${files}`);
    assert(files.some((f) => f.startsWith(`${STORE_FILE}.failed-`)), `${files}`);
    await w.close(refused);
    assert.equal(onDisk(dir).start.recovered, "fresh", "the next run starts a new epoch");
  }));

Deno.test("WriterThread: a disk that fills up while running: one line, memory only, counted, the file moved aside", () =>
  withDir(async (dir) => {
    const w = await WriterThread.open({
      dataDir: dir,
      store: { retention: { count: 1e6 }, maxPages: 40 },
    });
    let seq = 0;
    for (let round = 0; round < 200 && w.status().mode === "disk"; round++) {
      sequence(w, seq + 1, seq + 1000);
      seq += 1000;
      await new Promise((r) => setTimeout(r, 20));
    }
    await waitFor(() => w.status().error !== undefined, 5000, "the failure reported");
    const st = w.status();
    assert.equal(st.mode, "memory");
    assert.equal(st.error?.kind, "full");
    assert(st.pointsPersisted > 0, "what fitted was written");
    sequence(w, seq + 1, seq + 1000); // the file is gone: no reservation to respect
    seq += 1000;
    const end = w.status();
    assert.equal(end.pointsPersisted + end.pointsNotPersisted + end.pointsDropped, seq);
    const files = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert(files.some((f) => f.startsWith(`${STORE_FILE}.failed-`)), `${files}`);
    await w.close(seq);
  }));

Deno.test("WriterThread: off (--no-persist) has no worker, refuses nothing, keeps nothing", async () => {
  const w = await WriterThread.open(null);
  assert(w.reserve(1e12));
  w.append("a", 1, 1, 1);
  assert.deepEqual([w.status().mode, w.status().pointsNotPersisted, w.start], [
    "off",
    0,
    undefined,
  ]);
  await w.close(1);
});
