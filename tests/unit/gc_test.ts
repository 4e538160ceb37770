import assert from "node:assert/strict";
import { collectAfterChurn } from "../../src/runtime/gc.ts";
import { sleep, waitFor } from "../_helpers.ts";

Deno.test("gc: a full collection runs only after connections ended, once per change", async () => {
  let closed = 0;
  let runs = 0;
  const stop = collectAfterChurn(() => closed, 20, () => runs++);
  try {
    await sleep(150);
    assert.equal(runs, 0, "no churn, no collection");
    closed = 5;
    await waitFor(() => runs === 1, 5000, "a collection after the churn");
    await sleep(150);
    assert.equal(runs, 1, "one collection for the churn, not one per tick");
    closed = 6;
    await waitFor(() => runs === 2, 5000, "a collection after more churn");
  } finally {
    stop();
  }
});

Deno.test("gc: without --expose-gc it is a no-op", () => {
  const stop = collectAfterChurn(() => 1, 10, undefined);
  stop();
});
