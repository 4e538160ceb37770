/**
 * Native memory of closed connections (Deno's WebSocket and HTTP resources) is released only when
 * V8 collects the JavaScript objects that hold it, and V8 runs full collections rarely while the
 * JS heap is small. Under connection churn that makes RSS climb for minutes before it levels off
 * (measured by `deno task soak`: +30 MB in 2 minutes without this, +8 MB with it). So after
 * connections have ended, the server asks for a full collection, at most once per interval.
 *
 * Needs `--v8-flags=--expose-gc` (set in the start and compile tasks); without it this is a no-op.
 *
 * @module
 */

/** Default time between two collections, in ms. */
export const GC_INTERVAL_MS = 10_000;

/**
 * Every `intervalMs`, runs a full collection when `closedSoFar()` (a count of ended connections)
 * changed since the last one. Returns a function that stops it.
 */
export function collectAfterChurn(
  closedSoFar: () => number,
  intervalMs: number = GC_INTERVAL_MS,
  gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc,
): () => void {
  if (!gc) return () => {};
  let seen = closedSoFar();
  const timer = setInterval(() => {
    const now = closedSoFar();
    if (now === seen) return;
    seen = now;
    gc();
  }, intervalMs);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}
