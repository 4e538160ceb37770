import assert from "node:assert/strict";
import {
  ENTRY_OVERHEAD_BYTES,
  entrySize,
  FRAME_OVERHEAD_BYTES,
  mergeInputs,
  MessageQueue,
} from "../../src/relay/message_queue.ts";
import { waitedTooLong } from "../../src/relay/overload.ts";

const bytes = (n: number) => [new Uint8Array(n)];

Deno.test("MessageQueue is a FIFO that asks pushers to wait past its byte bound, and wakes them", async () => {
  const q = new MessageQueue(2 * entrySize(bytes(60)) + entrySize(bytes(0)) - 1);
  assert.equal(q.push(bytes(60)), undefined);
  assert.equal(q.push(bytes(0)), undefined);
  const wait = q.push(bytes(60));
  assert.ok(wait instanceof Promise, "over the bound: wait");
  let woke = false;
  wait.then(() => woke = true);
  assert.equal(q.length, 3);
  assert.equal(q.bytes, 120 + 3 * (ENTRY_OVERHEAD_BYTES + FRAME_OVERHEAD_BYTES));
  assert.equal(q.shift()![0].length, 60);
  await Promise.resolve();
  assert.ok(woke, "back under the bound: the pusher is woken");
  assert.equal(q.shift()![0].length, 0, "the empty one, in its place");
  assert.equal(q.shift()![0].length, 60);
  assert.equal(q.shift(), undefined);
});

Deno.test("MessageQueue: empty messages are charged their overhead, so a flood of them waits too", () => {
  const maxBytes = 8 * 1024 * 1024;
  const q = new MessageQueue(maxBytes);
  let first = -1;
  for (let i = 0; i < 1_000_000 && first < 0; i++) if (q.push(bytes(0), 1)) first = i;
  assert.ok(first > 0, "an empty flood is asked to wait");
  assert.equal(first, Math.floor(maxBytes / entrySize(bytes(0))));
  assert.deepEqual(
    entrySize([new Uint8Array(3), new Uint8Array(4)]),
    7 + ENTRY_OVERHEAD_BYTES + 2 * FRAME_OVERHEAD_BYTES,
  );
});

Deno.test("MessageQueue.ready() settles on the next push; close() drops everything and wakes pushers", async () => {
  const q = new MessageQueue(10);
  let ready = false;
  q.ready().then(() => ready = true);
  await Promise.resolve();
  assert.equal(ready, false);
  const wait = q.push(bytes(20))!;
  await Promise.resolve();
  assert.ok(ready);
  q.close();
  await wait; // settles: a reader blocked on it can finish
  assert.equal(q.length, 0);
  assert.equal(q.push(bytes(1)), undefined);
  assert.equal(q.length, 0, "nothing is queued after close");
});

Deno.test("MessageQueue keeps order over many entries (its storage is compacted)", () => {
  const q = new MessageQueue(1e9);
  for (let i = 0; i < 5000; i++) q.push([Uint8Array.of(i & 0xff, i >> 8)]);
  for (let i = 0; i < 5000; i++) {
    const f = q.shift()![0];
    assert.equal(f[0] | (f[1] << 8), i);
  }
  assert.equal(q.shift(), undefined);
});

Deno.test("MessageQueue tells how long the entry it gave out waited", () => {
  let t = 1000;
  const q = new MessageQueue(1e9, () => t);
  assert.equal(q.lastWaitMs, 0);
  q.push(bytes(1));
  t += 40;
  q.push(bytes(2));
  t += 600;
  q.shift();
  assert.equal(q.lastWaitMs, 640, "the first waited from 1000 to 1640");
  assert.ok(waitedTooLong(q.lastWaitMs), "over 500 ms: shed");
  q.shift();
  assert.equal(q.lastWaitMs, 600);
  q.push(bytes(3));
  t += 10;
  q.shift();
  assert.equal(q.lastWaitMs, 10);
  assert.ok(!waitedTooLong(q.lastWaitMs), "10 ms: parsed");
  for (let i = 0; i < 3000; i++) {
    q.push(bytes(1));
    t += 1;
  }
  for (let i = 0; i < 2999; i++) q.shift(); // compacts its storage on the way
  t += 5;
  q.shift();
  assert.equal(q.lastWaitMs, 6, "times stay with their entries across compaction");
});

Deno.test("MessageQueue takes from its producers in turn: a flood does not hold another's message back", () => {
  let t = 0;
  const q = new MessageQueue(1e9, () => t);
  for (let i = 0; i < 1000; i++) q.push([Uint8Array.of(1, i & 0xff)], 1); // producer 1 floods
  t += 500;
  q.push([Uint8Array.of(2, 0)], 2);
  q.push([Uint8Array.of(2, 1)], 2);
  assert.equal(q.sources, 2);
  const order = Array.from({ length: 4 }, () => {
    const f = q.shift()![0];
    return `${f[0]}:${f[1]}`;
  });
  assert.deepEqual(order, ["1:0", "2:0", "1:1", "2:1"], "in turn, each producer in its own order");
  assert.equal(q.lastWaitMs, 0, "producer 2's message waited for one turn, not behind 1,000");
  assert.equal(q.sources, 1, "producer 2 has nothing left");
  let n = 0;
  for (let f = q.shift(); f; f = q.shift()) {
    assert.equal(f[0][1], (n + 2) & 0xff, "producer 1's messages stay in order");
    n++;
  }
  assert.equal(n, 998);
  assert.equal(q.length, 0);
  assert.equal(q.bytes, 0);
  assert.equal(q.sources, 0);
});

Deno.test("mergeInputs: onWait is called only when nothing is ready (the relay then flushes its batch)", async () => {
  const q = new MessageQueue(1 << 20);
  let waits = 0;
  let deliver!: (frames: Uint8Array[]) => void;
  const inbox = () => new Promise<Uint8Array[]>((r) => deliver = r);
  const next = mergeInputs(inbox, q, () => waits++);
  q.push(bytes(1), 1);
  q.push(bytes(2), 1);
  assert.equal((await next()).frames[0].length, 1);
  assert.equal((await next()).frames[0].length, 2);
  assert.equal(waits, 0, "messages were ready: no wait");
  const third = next();
  await Promise.resolve();
  assert.equal(waits, 1, "the queue ran dry: one wait");
  q.push(bytes(3), 2);
  assert.deepEqual(await third, { frames: [new Uint8Array(3)], plain: true });
  deliver([new Uint8Array(4)]);
  await Promise.resolve();
  const fromInbox = await next();
  assert.deepEqual([fromInbox.plain, fromInbox.frames[0].length, waits], [false, 4, 1]);
});
