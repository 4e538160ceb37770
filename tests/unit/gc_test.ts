import assert from "node:assert/strict";
import { collectAfterChurn, trimPeriodically } from "../../src/runtime/gc.ts";
import { openMallocTrim } from "../../src/runtime/malloc_trim.ts";
import { sleep, waitFor } from "../_helpers.ts";

Deno.test("gc: a full collection runs only after connections ended, once per change", async () => {
  let closed = 0;
  let runs = 0;
  const stop = collectAfterChurn(() => closed, 20, () => runs++);
  try {
    await sleep(150);
    assert.equal(runs, 0, "no churn, no collection");
    closed = 5;
    await waitFor(() => runs === 2, 5000, "a collection after the churn, and one as it settles");
    await sleep(150);
    assert.equal(runs, 2, "two collections for the churn, not one per tick");
    closed = 6;
    await waitFor(() => runs === 4, 5000, "two collections after more churn");
  } finally {
    stop();
  }
});

Deno.test("gc: without --expose-gc it is a no-op", () => {
  const stop = collectAfterChurn(() => 1, 10, null, null);
  stop();
});

Deno.test("gc: freed native memory is trimmed after each collection, also without --expose-gc", async () => {
  let closed = 0;
  const calls: string[] = [];
  const stop = collectAfterChurn(
    () => closed,
    20,
    () => calls.push("gc"),
    () => calls.push("trim"),
  );
  const bare = collectAfterChurn(() => closed, 20, null, () => calls.push("bare-trim"));
  try {
    closed = 1;
    await waitFor(() => calls.filter((c) => c === "trim").length === 2, 5000, "trims");
    assert.deepEqual(calls.filter((c) => c !== "bare-trim"), ["gc", "trim", "gc", "trim"]);
    await waitFor(() => calls.includes("bare-trim"), 5000, "a trim without gc");
  } finally {
    stop();
    bare();
  }
});

Deno.test("gc: trimPeriodically trims on every tick, churn or not, until stopped", async () => {
  let trims = 0;
  const stop = trimPeriodically(10, () => trims++);
  try {
    await waitFor(() => trims >= 3, 5000, "three trims without any churn");
  } finally {
    stop();
  }
  const after = trims;
  await sleep(60);
  assert.equal(trims, after, "none after stop");
  trimPeriodically(10, null)(); // no trim available: a no-op
});

Deno.test("openMallocTrim() is undefined without the FFI permission or the library", () => {
  assert.equal(openMallocTrim(["/nonexistent/libc.so.6"]), undefined);
});
