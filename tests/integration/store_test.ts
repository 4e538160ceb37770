/**
 * The point store (src/store/): schema, batched writes, load, epoch and seq across clean stops and
 * crashes (a real SIGKILL of a child process), retention, and bad disks and files. Temp dirs, no
 * sockets.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { classifyError, StoreError } from "../../src/store/errors.ts";
import { parseRetention, RetentionLedger } from "../../src/store/retention.ts";
import { PointStore } from "../../src/store/point_store.ts";
import type { RangeQuery, RangeSeries } from "../../src/store/range.ts";
import type { SeriesBatch } from "../../src/store/rows.ts";
import { STORE_FILE } from "../../src/store/point_store_options.ts";
import { openWriter } from "../../src/store/open_writer.ts";
import { StoreWriter } from "../../src/store/writer.ts";
import { setLogSink } from "../../src/runtime/log.ts";

const pt = (series: string, seq: number) =>
  `{"seq":${seq},"x":${seq},"y":1.5,"series":"${series}"}`;

/** Points seq from..to, round-robin over `series`, as one batch per series. */
function batches(from: number, to: number, series = ["a"]): SeriesBatch[] {
  const m = new Map<string, SeriesBatch>();
  for (let seq = from; seq <= to; seq++) {
    const s = series[seq % series.length];
    let b = m.get(s);
    if (!b) m.set(s, b = { series: s, seqs: [], xs: [], ys: [] });
    b.seqs.push(seq);
    b.xs.push(seq);
    b.ys.push(1.5);
  }
  return [...m.values()];
}

async function withDir(f: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "zws-store-" });
  const restore = setLogSink(() => {});
  try {
    await f(dir);
  } finally {
    setLogSink(restore);
    await Deno.remove(dir, { recursive: true });
  }
}

const RET = { count: 1000 };

/** What `f` throws (fails when it returns). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new assert.AssertionError({ message: "expected an error" });
}

Deno.test("parseRetention: counts, ages, both, and clear errors", () => {
  assert.deepEqual(parseRetention("5000", 1000), { count: 5000 });
  assert.deepEqual(parseRetention("24h", 1000), { count: 1000, ageMs: 86_400_000 });
  assert.deepEqual(parseRetention("100000, 15m", 1000), { count: 100000, ageMs: 900_000 });
  assert.deepEqual(parseRetention("7d,10", 1000), { count: 10, ageMs: 7 * 86_400_000 });
  for (const bad of ["", "0", "1x", "10,20", "1h,2h", "-5", "0s", "1,2,3"]) {
    const r = parseRetention(bad, 1000);
    assert(typeof r === "string" && r.startsWith("--retention"), `${bad}: ${JSON.stringify(r)}`);
  }
});

Deno.test("RetentionLedger: drops whole rows beyond the count, oldest first, within the budget", () => {
  const l = new RetentionLedger({ count: 250 });
  for (let i = 1; i <= 10; i++) l.add("a", { id: i, n: 100, writtenMs: 0 });
  l.add("b", { id: 11, n: 10, writtenMs: 0 });
  const first = l.trim(0, 3);
  assert.deepEqual(first, [{ series: "a", upToId: 3, rows: 3, points: 300 }]);
  const rest = l.trim(0, 100);
  assert.deepEqual(rest, [{ series: "a", upToId: 7, rows: 4, points: 400 }]);
  assert.deepEqual(l.points("a"), 300); // 250 plus what the oldest kept row holds beyond
  assert.deepEqual(l.points("b"), 10);
  assert.deepEqual(l.trim(0, 100), []);
});

Deno.test("RetentionLedger: drops rows older than the age", () => {
  const l = new RetentionLedger({ count: 1e6, ageMs: 1000 });
  l.add("a", { id: 1, n: 5, writtenMs: 100 });
  l.add("a", { id: 2, n: 5, writtenMs: 900 });
  l.add("b", { id: 3, n: 5, writtenMs: 200 });
  assert.deepEqual(l.trim(1500, 100), [
    { series: "a", upToId: 1, rows: 1, points: 5 },
    { series: "b", upToId: 3, rows: 1, points: 5 },
  ]);
  assert.deepEqual(l.seriesNames(), ["a"]);
});

Deno.test("store: a fresh file, a clean stop, and the next run continues epoch and seq", () =>
  withDir((dir) => {
    const s1 = PointStore.open(dir, { retention: RET, newEpoch: "ep1" });
    assert.deepEqual(s1.start, { epoch: "ep1", lastSeq: 0, recovered: "fresh" });
    assert(s1.reserved >= 1);
    s1.write(batches(1, 300, ["a", "b", "c"]));
    s1.close(300);
    const s2 = PointStore.open(dir, { retention: RET, newEpoch: "other" });
    assert.deepEqual(s2.start, { epoch: "ep1", lastSeq: 300, recovered: "clean" });
    const loaded = s2.load(1000);
    assert.deepEqual(loaded.length, 300);
    assert.deepEqual(loaded.map((p) => p.seq), Array.from({ length: 300 }, (_, i) => i + 1));
    assert.deepEqual(loaded[4], { series: "c", seq: 5, json: pt("c", 5) });
    s2.close(300);
  }));

Deno.test("store: load gives the last N of each series, in seq order, of the newest series", () =>
  withDir((dir) => {
    const s = PointStore.open(dir, { retention: RET });
    for (let from = 1; from <= 1000; from += 100) s.write(batches(from, from + 99, ["a", "b"]));
    s.write(batches(1001, 1003, ["c"]));
    const last10 = s.load(10);
    assert.deepEqual(last10.length, 23);
    assert.deepEqual(last10.filter((p) => p.series === "a").map((p) => p.seq)[0], 982);
    assert.deepEqual(last10.filter((p) => p.series === "c").length, 3);
    assert(last10.every((p, i) => i === 0 || p.seq > last10[i - 1].seq));
    const two = s.load(5, 2);
    assert.deepEqual(new Set(two.map((p) => p.series)), new Set(["c", "a"]));
    const upTo = s.load(5, Infinity, 990);
    assert.deepEqual(upTo[upTo.length - 1].seq, 990);
    s.close(1003);
  }));

Deno.test("store: after a crash (no clean stop) the run continues after every reserved seq", () =>
  withDir((dir) => {
    const s1 = PointStore.open(dir, { retention: RET, reserveAhead: 1000 });
    s1.write(batches(1, 400), 400);
    const reserved = s1.reserved;
    assert(reserved >= 400);
    // Closed without a clean stop: the file as SIGKILL leaves it (as the last commit left it).
    s1.close();
    const s2 = PointStore.open(dir, { retention: RET, reserveAhead: 1000 });
    assert.deepEqual(s2.start.recovered, "crash");
    assert.deepEqual(s2.start.epoch, s1.start.epoch);
    assert.deepEqual(s2.start.lastSeq, reserved);
    assert.deepEqual(s2.start.lostAfter, 400);
    assert(s2.reserved > reserved);
    assert.deepEqual(s2.load(1000).length, 400);
    s2.close(reserved);
  }));

Deno.test("store: seqs handed out by a SIGKILLed process are never reused by the next run", () =>
  withDir(async (dir) => {
    // A child sequences points as fast as it can through the writer (reserve, append, flush
    // every 20 ms) and prints every 1000th seq it handed out; killed mid-stream.
    const child = `
      import { openWriter } from "${new URL("../../src/store/open_writer.ts", import.meta.url)}";
      const w = openWriter(${
      JSON.stringify(dir)
    }, { retention: { count: 100000 }, reserveAhead: 5000 },
        { flushMs: 20 });
      let seq = w.start.lastSeq;
      const enc = new TextEncoder();
      setInterval(() => {
        for (let i = 0; i < 2000; i++) {
          seq++;
          if (!w.reserve(seq)) throw new Error("cannot reserve");
          w.append("s" + (seq % 3), seq, seq, 0);
          if (seq % 1000 === 0) Deno.stdout.writeSync(enc.encode(seq + "\\n"));
        }
      }, 5);
    `;
    let maxSeen = 0;
    let epoch = "";
    for (let run = 0; run < 3; run++) {
      const p = new Deno.Command(Deno.execPath(), {
        args: ["run", `--allow-read=${dir}`, `--allow-write=${dir}`, "-"],
        stdin: "piped",
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const w = p.stdin.getWriter();
      await w.write(new TextEncoder().encode(child));
      await w.close();
      const reader = p.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      let first = 0;
      while (text.split("\n").length < 40) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
      p.kill("SIGKILL");
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
      await p.status;
      const seqs = text.trim().split("\n").map(Number);
      first = seqs[0];
      assert(first > maxSeen, `run ${run} started at ${first}, after ${maxSeen} was handed out`);
      maxSeen = seqs[seqs.length - 1];
      const s = PointStore.open(dir, { retention: { count: 100000 } });
      assert.deepEqual(s.start.recovered, run === 0 ? "crash" : "crash");
      if (epoch) assert.deepEqual(s.start.epoch, epoch);
      epoch = s.start.epoch;
      assert(s.start.lastSeq >= maxSeen, `reserved ${s.start.lastSeq} < handed out ${maxSeen}`);
      const loaded = s.load(100000);
      assert(loaded.length > 0, "points written before the kill are kept");
      // Also seqs handed out after the last one printed (and written) are below the restart.
      const lastWritten = loaded[loaded.length - 1].seq;
      assert(lastWritten <= s.start.lastSeq, `written ${lastWritten} > restart ${s.start.lastSeq}`);
      // Never reading a point twice or out of order.
      assert(loaded.every((p, i) => i === 0 || p.seq > loaded[i - 1].seq));
      s.close(); // leave it as a crash left it
    }
  }));

Deno.test("store: retention by count trims on write, and the file stops growing", () =>
  withDir((dir) => {
    const s = PointStore.open(dir, { retention: { count: 500 } });
    const sizes: number[] = [];
    for (let i = 0; i < 600; i++) {
      s.write(batches(i * 100 + 1, i * 100 + 100, ["a", "b"]));
      if (i % 100 === 99) {
        const wal = `${dir}/${STORE_FILE}-wal`;
        sizes.push(Deno.statSync(`${dir}/${STORE_FILE}`).size + Deno.statSync(wal).size);
      }
    }
    assert(s.pointsOf("a") >= 500 && s.pointsOf("a") <= 550, `a: ${s.pointsOf("a")}`);
    assert.deepEqual(s.load(500).filter((p) => p.series === "a").length, 500);
    const trimmed = s.counters.pointsTrimmed;
    s.close(60000);
    // Freed pages and the write-ahead log are reused: once warm, the files stop growing.
    assert(sizes[5] <= sizes[2], `file sizes ${sizes}`);
    const db = new DatabaseSync(`${dir}/${STORE_FILE}`, { readOnly: true });
    const n = db.prepare("SELECT sum(n) AS n FROM batches").get() as { n: number };
    db.close();
    assert(n.n <= 1100, `on disk: ${n.n} points`);
    assert.deepEqual(trimmed, 60000 - n.n);
  }));

Deno.test("store: retention by age drops old rows, in bounded steps", () =>
  withDir((dir) => {
    let now = 1_000_000;
    const s = PointStore.open(dir, {
      retention: { count: 1e6, ageMs: 10_000 },
      maxTrimRows: 5,
      now: () => now,
    });
    for (let i = 0; i < 20; i++) s.write(batches(i * 10 + 1, i * 10 + 10));
    now += 20_000;
    assert.deepEqual(s.load(1000), []); // older than the age: never served
    const first = s.trimAll();
    assert.deepEqual(first.reduce((a, t) => a + t.rows, 0), 5);
    while (s.trimAll().length > 0);
    assert.deepEqual(s.rows, 0);
    s.close(200);
  }));

Deno.test("store: a full disk is a typed error; the writer goes on in memory and counts", () =>
  withDir((dir) => {
    const logs: string[] = [];
    setLogSink((l) => logs.push(l));
    const store = PointStore.open(dir, { retention: { count: 1e6 }, maxPages: 30 });
    assert.throws(
      () => {
        for (let i = 0; i < 100; i++) store.write(batches(i * 100 + 1, i * 100 + 100));
      },
      (e: unknown) => e instanceof StoreError && e.kind === "full",
    );
    store.close();
    const w = openWriter(dir, { retention: { count: 1e6 }, maxPages: 30 }, { flushMs: 1e6 });
    let seq = w.start!.lastSeq;
    let refused = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 100; i++) {
        if (!w.reserve(++seq)) refused++;
        w.append("a", seq, seq, 1.5);
      }
      w.flush();
    }
    const st = w.status();
    assert.deepEqual(st.mode, "memory");
    assert.deepEqual(st.error?.kind, "full");
    assert(st.pointsNotPersisted > 0 && st.pointsPersisted + st.pointsNotPersisted === 5000);
    assert.deepEqual(refused, 0, "seqs inside the reservation are still safe");
    assert(logs.filter((l) => l.includes("disk full")).length === 1, logs.join("\n"));
    w.close(seq);
  }));

Deno.test("store: after a failure, seqs past the reservation are refused (a new epoch is due)", () =>
  withDir((dir) => {
    const w = openWriter(dir, { retention: { count: 1e6 }, reserveAhead: 100_000, maxPages: 30 }, {
      flushMs: 1e6,
    });
    let seq = 0;
    while (w.status().mode === "disk") {
      for (let i = 0; i < 100; i++) {
        assert(w.reserve(++seq));
        w.append("a", seq, seq, 1.5);
      }
      w.flush();
    }
    assert.equal(w.status().error?.kind, "full");
    const reserved = 100_001;
    assert(seq < reserved);
    assert.equal(w.reserve(reserved), true, "inside the durable reservation");
    assert.equal(w.reserve(reserved + 1), false, "past it: a crash now could reuse it");
    w.close(seq);
  }));

Deno.test("store: an unwritable data directory is a typed error, never a crash", () =>
  withDir((dir) => {
    const file = `${dir}/file`;
    Deno.writeTextFileSync(file, "x");
    const e = thrown(() => PointStore.open(`${file}/data`, { retention: RET }));
    assert.ok(e instanceof StoreError);
    assert.deepEqual((e as StoreError).kind, "unwritable");
    const w = openWriter(`${file}/data`, { retention: RET });
    assert.deepEqual(w.status().mode, "memory");
    assert.deepEqual(w.status().error?.kind, "unwritable");
    assert.deepEqual(w.load(10), []);
    assert.deepEqual(w.reserve(1e9), true, "an epoch with no store was never reserved on disk");
    w.close(0);
    const ro = `${dir}/ro`;
    Deno.mkdirSync(ro);
    Deno.chmodSync(ro, 0o555);
    let root = false;
    try {
      Deno.writeTextFileSync(`${ro}/probe`, "x"); // root writes anyway: nothing to test then
      root = true;
    } catch { /* not root: the directory is read-only to us */ }
    if (!root) {
      const e2 = thrown(() => PointStore.open(ro, { retention: RET }));
      assert.deepEqual((e2 as StoreError).kind, "unwritable");
    }
    Deno.chmodSync(ro, 0o755);
  }));

Deno.test("store: a corrupt file is refused, never served from", () =>
  withDir((dir) => {
    // Not a database at all.
    Deno.writeTextFileSync(`${dir}/${STORE_FILE}`, "garbage ".repeat(1000));
    const e1 = thrown(() => PointStore.open(dir, { retention: RET }));
    assert.deepEqual((e1 as StoreError).kind, "corrupt");
    Deno.removeSync(`${dir}/${STORE_FILE}`);
    // Another application's SQLite file.
    const other = new DatabaseSync(`${dir}/${STORE_FILE}`);
    other.exec("CREATE TABLE t (x)");
    other.close();
    const e2 = thrown(() => PointStore.open(dir, { retention: RET }));
    assert.deepEqual((e2 as StoreError).kind, "corrupt");
    Deno.removeSync(`${dir}/${STORE_FILE}`);
    // A zws store with damaged pages.
    const s = PointStore.open(dir, { retention: { count: 1e6 } });
    for (let i = 0; i < 50; i++) s.write(batches(i * 100 + 1, i * 100 + 100, ["a", "b"]));
    s.close(5000);
    const bytes = Deno.readFileSync(`${dir}/${STORE_FILE}`);
    for (let i = 4096 * 3; i < bytes.length - 4096; i += 4096) bytes.fill(0xa5, i + 8, i + 64);
    Deno.writeFileSync(`${dir}/${STORE_FILE}`, bytes);
    const e3 = thrown(() => PointStore.open(dir, { retention: RET }));
    assert.deepEqual((e3 as StoreError).kind, "corrupt");
    const w = openWriter(dir, { retention: RET });
    assert.deepEqual(w.status().mode, "memory");
    assert.deepEqual(w.load(1000), []);
    w.close(0);
  }));

Deno.test("classifyError: SQLite codes and messages map to kinds", () => {
  assert.deepEqual(classifyError({ errcode: 13, message: "x" }, "p").kind, "full");
  assert.deepEqual(classifyError({ errcode: 26, message: "x" }, "p").kind, "corrupt");
  assert.deepEqual(
    classifyError(new Error("attempt to write a readonly database"), "p").kind,
    "unwritable",
  );
  assert.deepEqual(
    classifyError(new Error("No space left on device (os error 28)"), "p").kind,
    "full",
  );
  assert.deepEqual(
    classifyError(new Error("database disk image is malformed"), "p").kind,
    "corrupt",
  );
  assert.deepEqual(classifyError(new Error("something else"), "p").kind, "io");
});

Deno.test("StoreWriter: appends are written in one batch per series per flush", () =>
  withDir((dir) => {
    const w = openWriter(dir, { retention: RET }, { flushMs: 1e6 });
    for (let seq = 1; seq <= 1000; seq++) {
      assert(w.reserve(seq));
      w.append(seq % 2 ? "odd" : "even", seq, seq, 1.5);
    }
    w.flush();
    assert.deepEqual(w.status().pointsPersisted, 1000);
    w.close(1000);
    const db = new DatabaseSync(`${dir}/${STORE_FILE}`, { readOnly: true });
    const rows = db.prepare("SELECT series, n FROM batches ORDER BY id").all();
    db.close();
    assert.deepEqual(rows.map((r) => [r.series, r.n]), [["odd", 500], ["even", 500]]);
    const again = openWriter(dir, { retention: RET });
    assert.deepEqual(again.start?.recovered, "clean");
    assert.deepEqual(again.load(1000).length, 1000);
    again.close(1000);
  }));

Deno.test("StoreWriter: off (--no-persist) keeps nothing and refuses nothing", () => {
  const w = new StoreWriter(undefined);
  assert(w.reserve(123456789));
  w.append("a", 1, 1, 1);
  assert.deepEqual(w.status().mode, "off");
  assert.deepEqual(w.status().pointsNotPersisted, 0);
  assert.deepEqual(w.load(10), []);
  w.close(1);
});

Deno.test("store: one process per data directory: a second open is refused as locked", () =>
  withDir((dir) => {
    const first = PointStore.open(dir, { retention: RET });
    const e = thrown(() => PointStore.open(dir, { retention: RET }));
    assert.equal((e as StoreError).kind, "locked");
    first.close(0);
    PointStore.open(dir, { retention: RET }).close(0);
  }));

Deno.test("store: a clean stop after the last seq sent drops what was sequenced but never sent", () =>
  withDir((dir) => {
    const w = openWriter(dir, { retention: RET }, { flushMs: 1e6 });
    for (let seq = 1; seq <= 30; seq++) {
      assert(w.reserve(seq));
      w.append(seq % 2 ? "odd" : "even", seq, seq, 1.5);
      if (seq === 20) w.flush(); // 1..20 written; 21..30 pending
    }
    w.close(15); // 16..30 were cut into a batch that was never sent
    const s = PointStore.open(dir, { retention: RET });
    assert.deepEqual(s.start, { epoch: s.start.epoch, lastSeq: 15, recovered: "clean" });
    const loaded = s.load(1000);
    assert.deepEqual(loaded.map((p) => p.seq), Array.from({ length: 15 }, (_, i) => i + 1));
    // The next run gives 16.. to new points: stored once each.
    s.write(batches(16, 18, ["odd"]));
    s.close(18);
    const again = PointStore.open(dir, { retention: RET });
    assert.deepEqual(again.load(1000).map((p) => p.seq).slice(-4), [15, 16, 17, 18]);
    again.close(18);
  }));

Deno.test("store: range() reads a series' points in an x range, but for the seqs held in memory", () =>
  withDir((dir) => {
    let now = 1_000_000;
    const s = PointStore.open(dir, { retention: { count: 100_000 }, now: () => now });
    try {
      s.write(batches(1, 100, ["a", "b"])); // x = seq; a: even seqs, b: odd
      now += 60_000;
      s.write(batches(101, 200, ["a", "b"]));
      const range = (q: RangeQuery, max?: number): RangeSeries[] => {
        const r = s.range(q, max);
        if (!Array.isArray(r)) throw new Error(`too many: ${r.tooMany}`);
        return r;
      };
      const pairs = (xy: Float64Array) =>
        Array.from({ length: xy.length / 2 }, (_, i) => [xy[2 * i], xy[2 * i + 1]]);
      const all = range({ series: ["a"], allowed: null, skip: {} });
      assert.deepEqual(all.map((r) => r.name), ["a"]);
      assert.equal(all[0].xy.length / 2, 100);
      const r = range({ series: ["a"], allowed: null, from: 10, to: 20, skip: {} });
      assert.deepEqual(pairs(r[0].xy), [10, 12, 14, 16, 18, 20].map((x) => [x, 1.5]));
      // Seqs 150..200 are in memory: not read again.
      const skipped = range({ series: ["a"], allowed: null, from: 140, skip: { a: [150, 200] } });
      assert.deepEqual(pairs(skipped[0].xy).map((p) => p[0]), [140, 142, 144, 146, 148]);
      // Every series stored, within what the viewer may see.
      assert.deepEqual(
        range({ series: null, allowed: null, skip: {} }).map((r) => r.name).sort(),
        [
          "a",
          "b",
        ],
      );
      assert.deepEqual(range({ series: null, allowed: ["b"], skip: {} }).map((r) => r.name), [
        "b",
      ]);
      assert.deepEqual(range({ series: ["nothing"], allowed: null, skip: {} }), []);
      // Rows written outside [writtenFrom, writtenTo] are not looked at.
      const late = range({ series: ["a"], allowed: null, skip: {}, writtenFrom: 1_030_000 });
      assert.equal(late[0].xy.length / 2, 50, "only the second write's points");
      assert.equal(
        range({ series: ["a"], allowed: null, skip: {}, writtenTo: 999_999 })[0]
          .xy.length,
        0,
      );
      // More stored points than one request may read: said, not cut silently.
      assert.deepEqual(s.range({ series: ["a"], allowed: null, skip: {} }, 99), { tooMany: 99 });
      assert.equal(range({ series: ["a"], allowed: null, skip: {} }, 100)[0].xy.length, 200);
    } finally {
      s.close(200);
    }
  }));

Deno.test("store: units are kept across a clean stop, any series name", () =>
  withDir((dir) => {
    const s1 = PointStore.open(dir, { retention: { count: 10 } });
    assert.deepEqual(s1.units(), []);
    s1.setUnits([["t", "°C"], ["__proto__", "m"]]);
    s1.close(0);
    const s2 = PointStore.open(dir, { retention: { count: 10 } });
    try {
      assert.deepEqual(s2.units(), [["t", "°C"], ["__proto__", "m"]]);
    } finally {
      s2.close(0);
    }
  }));
