import assert from "node:assert/strict";
import { FdBudget, fdMargin } from "../../src/runtime/fd_limit.ts";

Deno.test("FdBudget refuses within the margin of the limit, and recounts before refusing", () => {
  let open = 100;
  let counts = 0;
  let t = 0;
  const budget = new FdBudget({
    limit: 256,
    count: () => {
      counts++;
      return open;
    },
  }, { now: () => t });
  assert.equal(budget.ceiling, 256 - fdMargin(256));
  assert.equal(fdMargin(256), 32);
  assert.equal(fdMargin(20000), 256);
  let admitted = 0;
  while (budget.admit(3)) admitted++;
  assert.equal(admitted, Math.floor((224 - 100) / 3), "3 files per connection up to the ceiling");
  const before = counts;
  open = 150; // some closed: seen at the next count (at most every 50 ms near the ceiling)
  assert.equal(budget.admit(3), false, "no recount within 50 ms");
  t += 60;
  assert.equal(budget.admit(3), true, "recounted: room again");
  assert.equal(counts, before + 1);
});
