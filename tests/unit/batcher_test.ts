import assert from "node:assert/strict";
import { Batcher, type Clock, type TimerId } from "../../src/hub/batcher.ts";

/** A manual clock with a timer queue: time moves only through advance(). */
class FakeClock implements Clock {
  t = 0;
  #nextId = 1;
  #timers = new Map<number, { at: number; fn: () => void }>();
  /** Every delay asked of setTimeout, in order. */
  requested: number[] = [];

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerId {
    const id = this.#nextId++;
    this.requested.push(ms);
    this.#timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id as unknown as TimerId;
  }

  clearTimeout(id: TimerId): void {
    this.#timers.delete(id as unknown as number);
  }

  /** Timers not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing due timers in time order (then creation order). */
  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      let best: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at > target) continue;
        if (!best || entry[1].at < best[1].at) best = entry;
      }
      if (!best) break;
      this.#timers.delete(best[0]);
      this.t = best[1].at;
      best[1].fn();
    }
    this.t = target;
  }
}

interface Flush<T> {
  at: number;
  items: T[];
}

function setup<T = number>(tickMs = 16) {
  const clock = new FakeClock();
  const flushes: Flush<T>[] = [];
  const batcher = new Batcher<T>(
    (items) => flushes.push({ at: clock.now(), items }),
    tickMs,
    clock,
  );
  return { clock, flushes, batcher };
}

Deno.test("batcher: the default tick is 16 ms", () => {
  const b = new Batcher<number>(() => {});
  assert.equal(b.tickMs, 16);
  b.close();
});

Deno.test("batcher: the first item on an idle line is flushed on the next turn, not synchronously", () => {
  const { clock, flushes, batcher } = setup();
  batcher.push(1);
  assert.deepEqual(flushes, [], "not flushed inside push");
  assert.equal(batcher.pending, 1);
  assert.deepEqual(clock.requested, [0], "a zero-delay timer");
  clock.advance(0);
  assert.deepEqual(flushes, [{ at: 0, items: [1] }]);
  assert.equal(batcher.pending, 0);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("batcher: a burst pushed in one turn leaves as one batch", () => {
  const { clock, flushes, batcher } = setup();
  for (let i = 0; i < 100; i++) batcher.push(i);
  assert.equal(clock.pendingTimers, 1, "only one timer for the whole burst");
  clock.advance(0);
  assert.equal(flushes.length, 1);
  assert.deepEqual(flushes[0].items, [...Array(100).keys()]);
});

Deno.test("batcher: items arriving within a tick after a flush are batched together", () => {
  const { clock, flushes, batcher } = setup(16);
  batcher.push(1);
  clock.advance(0); // flush [1] at 0
  clock.advance(3);
  batcher.push(2); // at 3: must wait until 16
  assert.deepEqual(clock.requested, [0, 13]);
  clock.advance(5);
  batcher.push(3); // at 8
  clock.advance(7);
  batcher.push(4); // at 15
  assert.equal(batcher.pending, 3);
  assert.equal(flushes.length, 1, "nothing before the tick is over");
  clock.advance(1); // 16
  assert.deepEqual(flushes, [{ at: 0, items: [1] }, { at: 16, items: [2, 3, 4] }]);
  assert.equal(batcher.pending, 0);
});

Deno.test("batcher: after an idle tick, the next item goes out at once again", () => {
  const { clock, flushes, batcher } = setup(16);
  batcher.push(1);
  clock.advance(0);
  clock.advance(100);
  batcher.push(2);
  assert.equal(clock.requested.at(-1), 0);
  clock.advance(0);
  assert.deepEqual(flushes.map((f) => f.at), [0, 100]);
  // Exactly one tick after the previous flush also counts as idle.
  clock.advance(16);
  batcher.push(3);
  assert.equal(clock.requested.at(-1), 0);
  clock.advance(0);
  assert.deepEqual(flushes.map((f) => f.at), [0, 100, 116]);
});

Deno.test("batcher: flushes are never closer than tickMs, and no item waits longer", () => {
  for (const tickMs of [1, 5, 16, 50]) {
    const { clock, flushes, batcher } = setup<{ id: number; at: number }>(tickMs);
    let seed = 42 + tickMs;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const pushed: { id: number; at: number }[] = [];
    for (let id = 0; id < 2000; id++) {
      // Mostly bursts, sometimes pauses longer than a tick.
      const r = rand();
      clock.advance(r < 0.6 ? 0 : r < 0.9 ? rand() * tickMs : rand() * tickMs * 4);
      const item = { id, at: clock.now() };
      pushed.push(item);
      batcher.push(item);
    }
    clock.advance(tickMs * 2);
    assert.equal(batcher.pending, 0);
    for (let i = 1; i < flushes.length; i++) {
      const gap = flushes[i].at - flushes[i - 1].at;
      assert(gap >= tickMs - 1e-9, `tick ${tickMs}: flushes ${gap} ms apart`);
    }
    const flushedAt = new Map<number, number>();
    for (const f of flushes) {
      assert(f.items.length > 0, "never an empty batch");
      for (const item of f.items) flushedAt.set(item.id, f.at);
    }
    // Every item out exactly once, in order, within one tick of its arrival.
    const order = flushes.flatMap((f) => f.items.map((i) => i.id));
    assert.deepEqual(order, pushed.map((p) => p.id));
    for (const p of pushed) {
      const wait = flushedAt.get(p.id)! - p.at;
      assert(wait >= 0 && wait <= tickMs + 1e-9, `item ${p.id} waited ${wait} ms`);
    }
    assert(flushes.length < pushed.length, "bursts were batched");
  }
});

Deno.test("batcher: under constant load, exactly one flush per tick", () => {
  const { clock, flushes, batcher } = setup(10);
  for (let t = 0; t < 1000; t++) {
    batcher.push(t);
    clock.advance(1);
  }
  clock.advance(20);
  // One item per ms for 1000 ms with a 10 ms tick: about 100 flushes, never more.
  assert(flushes.length <= 101, `${flushes.length} flushes`);
  assert(flushes.length >= 99, `${flushes.length} flushes`);
  assert.deepEqual(flushes.flatMap((f) => f.items), [...Array(1000).keys()]);
});

Deno.test("batcher: order is preserved across many batches", () => {
  const { clock, flushes, batcher } = setup<string>(4);
  const sent: string[] = [];
  for (let i = 0; i < 300; i++) {
    const s = `p${i}`;
    sent.push(s);
    batcher.push(s);
    if (i % 7 === 0) clock.advance(1);
    if (i % 50 === 0) clock.advance(9);
  }
  clock.advance(10);
  assert.deepEqual(flushes.flatMap((f) => f.items), sent);
});

Deno.test("batcher: the flushed array is handed over, not reused", () => {
  const { clock, flushes, batcher } = setup();
  batcher.push(1);
  clock.advance(0);
  const first = flushes[0].items;
  batcher.push(2);
  clock.advance(16);
  assert.deepEqual(first, [1], "later pushes do not land in a flushed batch");
  assert.notEqual(flushes[1].items, first);
});

Deno.test("batcher: close() cancels the pending flush and drops pending items", () => {
  const { clock, flushes, batcher } = setup();
  batcher.push(1);
  batcher.push(2);
  assert.equal(clock.pendingTimers, 1);
  batcher.close();
  assert.equal(clock.pendingTimers, 0, "timer cleared");
  assert.equal(batcher.pending, 0);
  clock.advance(1000);
  assert.deepEqual(flushes, []);
});

Deno.test("batcher: close() during a tick wait cancels the delayed flush", () => {
  const { clock, flushes, batcher } = setup(16);
  batcher.push(1);
  clock.advance(0);
  batcher.push(2);
  assert.equal(clock.pendingTimers, 1);
  batcher.close();
  assert.equal(clock.pendingTimers, 0);
  clock.advance(100);
  assert.deepEqual(flushes.map((f) => f.items), [[1]]);
});

Deno.test("batcher: pushes after close() are ignored and arm no timer", () => {
  const { clock, flushes, batcher } = setup();
  batcher.close();
  batcher.push(1);
  assert.equal(clock.pendingTimers, 0);
  assert.equal(batcher.pending, 0);
  clock.advance(100);
  assert.deepEqual(flushes, []);
  batcher.close(); // idempotent
});

Deno.test("batcher: close() on an idle batcher is harmless", () => {
  const { clock, batcher } = setup();
  batcher.close();
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("batcher: a flush callback may push again; that item waits for the next tick", () => {
  const clock = new FakeClock();
  const flushes: Flush<number>[] = [];
  const batcher: Batcher<number> = new Batcher<number>(
    (items) => {
      flushes.push({ at: clock.now(), items });
      if (items[0] === 1) batcher.push(2);
    },
    16,
    clock,
  );
  batcher.push(1);
  clock.advance(0);
  assert.deepEqual(flushes, [{ at: 0, items: [1] }]);
  assert.equal(batcher.pending, 1);
  clock.advance(16);
  assert.deepEqual(flushes, [{ at: 0, items: [1] }, { at: 16, items: [2] }]);
});

Deno.test("batcher: a throwing flush callback loses only its batch", () => {
  const clock = new FakeClock();
  const got: number[][] = [];
  let fail = true;
  const batcher = new Batcher<number>(
    (items) => {
      if (fail) {
        fail = false;
        throw new Error("boom");
      }
      got.push(items);
    },
    16,
    clock,
  );
  batcher.push(1);
  assert.throws(() => clock.advance(0), /boom/);
  batcher.push(2);
  clock.advance(16);
  assert.deepEqual(got, [[2]]);
});

Deno.test("batcher: works with the real clock", async () => {
  const got: number[][] = [];
  let done!: () => void;
  const flushed = new Promise<void>((r) => done = r);
  const batcher = new Batcher<number>((items) => {
    got.push(items);
    done();
  }, 5);
  try {
    batcher.push(1);
    batcher.push(2);
    assert.deepEqual(got, []);
    await flushed;
    assert.deepEqual(got, [[1, 2]]);
  } finally {
    batcher.close();
  }
});
