/**
 * The memory budget for all clients together: besides each client's own bound, the bytes queued
 * to all clients are bounded. Over the budget, the clients with the most queued are held back
 * (and caught up from history later, like slow clients: `slow_clients.ts`). Who is held back is a
 * water level: the highest `level` at which `sum(min(queued_i, level)) <= budget`. Clients with
 * more than `level` queued are held back; the others, with little queued (clients that keep up),
 * go on receiving. The level is never below `budget / clients`, so a client's fair share is
 * always served.
 *
 * @module
 */

/**
 * The water level of `queued[0..count)` under `budget`: clients with more than it queued are held
 * back. `Infinity` when all of them together fit in the budget. Pure; `scratch`, when given and
 * large enough, is used for the sort instead of a new array.
 */
export function budgetLevel(
  queued: ArrayLike<number>,
  count: number,
  budget: number,
  scratch?: Float64Array,
): number {
  let total = 0;
  for (let i = 0; i < count; i++) total += queued[i];
  if (total <= budget) return Infinity;
  const sorted = scratch && scratch.length >= count
    ? scratch.subarray(0, count)
    : new Float64Array(count);
  for (let i = 0; i < count; i++) sorted[i] = queued[i];
  sorted.sort();
  // With the k smallest whole and the rest capped at the level: prefix + (count - k) * level.
  let prefix = 0;
  for (let k = 0; k < count; k++) {
    const level = (budget - prefix) / (count - k);
    if (level < sorted[k]) return Math.max(0, level);
    prefix += sorted[k];
  }
  return Infinity; // not reached: total > budget
}

/** Which of `queued` are held back under `budget` (indices, most queued first). Pure. */
export function heldBackForBudget(queued: readonly number[], budget: number): number[] {
  const level = budgetLevel(queued, queued.length, budget);
  const held: number[] = [];
  for (let i = 0; i < queued.length; i++) if (queued[i] > level) held.push(i);
  return held.sort((a, b) => queued[b] - queued[a]);
}
