/**
 * Native memory of closed connections (Deno's WebSocket and HTTP resources) is released only when
 * V8 collects the JavaScript objects that hold it, and V8 runs full collections rarely while the
 * JS heap is small. Under connection churn that makes RSS climb for minutes before it levels off
 * (measured by `deno task soak`: +30 MB in 2 minutes without this, +8 MB with it). So after
 * connections have ended, the server asks for a full collection, at most once per interval.
 *
 * Needs `--v8-flags=--expose-gc` (set in the start and compile tasks); without it no collection
 * runs. After each collection, freed native memory goes back to the system
 * (`runtime/malloc_trim.ts`): without that, glibc keeps what closed clients had queued.
 *
 * @module
 */
import { openMallocTrim } from "./malloc_trim.ts";

/** Default time between two collections, in ms. */
export const GC_INTERVAL_MS = 10_000;

/** Default time between two trims while the server runs, in ms. */
export const TRIM_INTERVAL_MS = 2_000;

/** V8's `gc()`, when the process runs with `--v8-flags=--expose-gc`; undefined otherwise. */
export function exposedGc(): (() => void) | undefined {
  return (globalThis as { gc?: () => void }).gc;
}

/**
 * Every `intervalMs`, runs a full collection (`gc`) and then `trim` when `closedSoFar()` (a count
 * of ended connections) changed since the last one, and once more on the tick after it stopped
 * changing. Returns a function that stops it.
 */
export function collectAfterChurn(
  closedSoFar: () => number,
  intervalMs: number = GC_INTERVAL_MS,
  gc: (() => void) | null = exposedGc() ?? null,
  trim: (() => unknown) | null = openMallocTrim() ?? null,
): () => void {
  if (!gc && !trim) return () => {};
  let seen = closedSoFar();
  // One more pass on the tick after the churn stopped: a closed connection's native memory is
  // freed some time after its close (measured: hundreds of MB still held after the first pass).
  let settle = false;
  const timer = setInterval(() => {
    const now = closedSoFar();
    if (now === seen) {
      if (!settle) return;
      settle = false;
    } else {
      seen = now;
      settle = true;
    }
    gc?.();
    trim?.();
  }, intervalMs);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}

/**
 * Every `intervalMs`, gives freed native memory back to the system (`trim`), churn or not. Under
 * load, the copies of frames Deno is writing are freed once written, and glibc keeps their pages
 * for the next ones; a trim returns what the current load does not use. Measured (`deno task
 * bench:scale`, 12,000 clients on one gateway, docs/scaling.md): peak RSS 419-484 MB without, 417-431
 * MB with a trim every 2 s. Returns a function that stops it.
 */
export function trimPeriodically(
  intervalMs: number = TRIM_INTERVAL_MS,
  trim: (() => unknown) | null = openMallocTrim() ?? null,
): () => void {
  if (!trim) return () => {};
  const timer = setInterval(() => trim(), intervalMs);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}
