/** Unit tests of the slow-client policy's budget for one round of sends (no sockets). */
import assert from "node:assert/strict";
import { ROUND_MS, SlowClients } from "../../src/hub/slow_clients.ts";
import type { Client } from "../../src/hub/client.ts";

/** A client whose transport reports `buffered` bytes queued (or what `buffered()` says). */
function client(session: string, buffered: number | (() => number) = 0): Client {
  const read = typeof buffered === "number" ? () => buffered : buffered;
  return {
    session,
    transport: { send() {}, bufferedAmount: read, close() {} },
    lastSent: 0,
    queued: 0,
    seriesListVersion: 0,
  };
}

/** A policy over `clients` with `budget` (none: undefined); catch-ups send `catchUp`'s bytes. */
function policy(
  clients: Client[],
  budget: number | undefined,
  catchUp: (c: Client) => number = () => 0,
  end: (c: Client) => void = () => {},
): SlowClients {
  return new SlowClients({
    bound: 1 << 20,
    timeoutMs: 10_000,
    budget,
    clients: () => clients,
    catchUp,
    end,
  });
}

/** Runs one round: measure, then a frame of `bytes` offered to each client in order. */
function round(slow: SlowClients, clients: Client[], bytes: number): boolean[] {
  slow.measure();
  return clients.map((c) => !slow.holdBack(c, 0, false, bytes));
}

Deno.test("SlowClients: one round's frames are charged, and past the budget the rest are held back", () => {
  const clients = Array.from({ length: 10 }, (_, i) => client(`c${i}`));
  const slow = policy(clients, 1000);
  try {
    // 300 bytes each: 3 fit in 1000, the fourth would make 1200.
    assert.deepEqual(round(slow, clients, 300), [true, true, true, ...Array(7).fill(false)]);
    assert.equal(slow.queuedBytes, 900);
    assert.equal(slow.heldForBudgetTotal, 7);
    for (const c of clients.slice(3)) assert.notEqual(c.slowSince, undefined);
  } finally {
    slow.close();
  }
});

Deno.test("SlowClients: one frame larger than the budget still goes; without a budget all go", () => {
  const a = [client("a"), client("b")];
  const tight = policy(a, 100);
  const b = Array.from({ length: 50 }, (_, i) => client(`n${i}`));
  const none = policy(b, undefined);
  try {
    assert.deepEqual(round(tight, a, 500), [true, false]);
    assert.deepEqual(round(none, b, 500), Array(50).fill(true));
    assert.equal(none.queuedBytes, 25_000);
  } finally {
    tight.close();
    none.close();
  }
});

Deno.test("SlowClients: stalled clients over the budget do not hold back a round for the others", () => {
  // 5 stalled with 1 KiB queued each (held back already by the water level) and 3 that keep up.
  const stalled = Array.from({ length: 5 }, (_, i) => client(`s${i}`, 1024));
  const ok = Array.from({ length: 3 }, (_, i) => client(`k${i}`, 0));
  const all = [...stalled, ...ok];
  const slow = policy(all, 2048);
  try {
    assert.deepEqual(round(slow, all, 100), [...Array(5).fill(false), true, true, true]);
  } finally {
    slow.close();
  }
});

Deno.test("SlowClients: catch-ups are charged too; past the budget the rest wait, drained, not closed", async () => {
  const clients = Array.from({ length: 10 }, (_, i) => client(`h${i}`));
  const caught: string[] = [];
  const slow = policy(clients, 1000, (c) => {
    caught.push(c.session);
    return 300;
  }, () => assert.fail("no drained client is closed"));
  try {
    slow.measure();
    for (const c of clients) assert.ok(slow.holdBack(c, performance.now(), true));
    // The check runs every 100 ms: 0, 300, 600 and 900 are under the budget, 1,200 is not.
    for (let i = 0; i < 400 && caught.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(caught, ["h0", "h1", "h2", "h3"]);
    assert.equal(clients.filter((c) => c.slowSince !== undefined).length, 6);
  } finally {
    slow.close();
  }
});

Deno.test("SlowClients: a round that has gone on past ROUND_MS holds back the rest of it", () => {
  const clients = [client("a"), client("b"), client("c")];
  const slow = policy(clients, 1 << 30);
  try {
    slow.measure();
    assert.equal(slow.holdBack(clients[0], 0, false, 100), false);
    // The round's sends took longer than ROUND_MS (a busy wait stands in for them).
    const t0 = performance.now();
    while (performance.now() - t0 <= ROUND_MS + 1) { /* spin */ }
    assert.equal(slow.holdBack(clients[1], 0, false, 100), true);
    assert.equal(slow.holdBack(clients[2], 0, false, 0), false, "no frame: nothing to hold back");
    // The next round starts afresh.
    slow.measure();
    assert.equal(slow.holdBack(clients[2], 0, false, 100), false);
  } finally {
    slow.close();
  }
});

/** A client whose queued bytes are read from `box.buffered` (changed by the test). */
function boxed(session: string, box: { buffered: number }): Client {
  return client(session, () => box.buffered);
}

/** Waits (5 ms steps, up to 2 s) until `done()`. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
}

Deno.test("SlowClients: catch-ups wait while all clients together are at the budget, and go once under it", async () => {
  // 3 stalled clients hold 1,800 bytes (budget 1,000); 2 held-back clients have drained.
  const stalledBox = { buffered: 600 };
  const stalled = Array.from({ length: 3 }, (_, i) => boxed(`s${i}`, stalledBox));
  const drained = [client("d0"), client("d1")];
  const all = [...stalled, ...drained];
  const caught: string[] = [];
  const slow = policy(all, 1000, (c) => {
    caught.push(c.session);
    return 100;
  });
  try {
    slow.measure();
    for (const c of all) assert.ok(slow.holdBack(c, performance.now(), true));
    await new Promise((r) => setTimeout(r, 350)); // 3 checks
    assert.equal(caught.length, 0, "no catch-up while the total is over the budget");
    stalledBox.buffered = 100; // the stalled ones read: 300 in all
    await until(() => caught.length >= 2);
    assert.deepEqual(caught.filter((s) => s.startsWith("d")), ["d0", "d1"]);
  } finally {
    slow.close();
  }
});

Deno.test("SlowClients.trySend: under the budget it sends and charges; at it, or held back, it holds back", () => {
  const box = { buffered: 0 };
  const big = boxed("big", box);
  const a = client("a");
  const all = [big, a];
  const slow = policy(all, 1000);
  let sends = 0;
  const send = () => (sends++, 400);
  try {
    slow.measure();
    assert.equal(slow.trySend(a, 0, send), true);
    assert.equal(slow.queuedBytes, 400);
    assert.equal(a.queued, 400);
    box.buffered = 2000; // another client's queue takes the total over the budget
    slow.measure();
    assert.equal(slow.trySend(a, 5, send), false);
    assert.equal(sends, 1, "not sent");
    assert.equal(a.slowSince, 5, "held back: it catches up from history");
    assert.equal(slow.heldForBudgetTotal, 1);
    box.buffered = 0;
    slow.measure();
    assert.equal(slow.trySend(a, 6, send), false, "held back already: its catch-up will do");
    assert.equal(sends, 1);
  } finally {
    slow.close();
  }
});
