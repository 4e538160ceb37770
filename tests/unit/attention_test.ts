import assert from "node:assert/strict";
import { Attention } from "../../src/runtime/attention.ts";

Deno.test("attention: counts posted messages; the worker side sees them until each is handled", async () => {
  const poster = new Attention();
  const worker = new Attention(poster.buffer);
  assert.equal(worker.raised, false);
  poster.raise();
  poster.raise();
  assert.equal(worker.raised, true);
  // A loop that yields before a message has arrived does not lower the count.
  await worker.yieldTurn();
  assert.equal(worker.raised, true);
  worker.handled();
  assert.equal(worker.raised, true, "one of two handled");
  worker.handled();
  assert.equal(worker.raised, false);
  worker.handled(); // a message not raised for (the start message) never goes below zero
  assert.equal(worker.raised, false);
  poster.raise();
  assert.equal(worker.raised, true);
});
