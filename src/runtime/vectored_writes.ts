/**
 * Turns on Deno's vectored writes for WebSockets (and HTTP) in this process: `DENO_USE_WRITEV`.
 *
 * Why: without it, Deno (2.9.6, with fastwebsockets 0.8.1) copies every frame into a per-socket
 * write buffer (`WriteHalf::write_frame`: `frame.write(&mut self.write_buffer)`, which grows the
 * buffer to the frame and never shrinks it), so each socket holds, for as long as it is open, as
 * many bytes as the largest frame it was ever sent. With it, a frame over the library's writev
 * threshold goes out as header and payload in one vectored write (partial writes finished with
 * `write_all`), without the copy. Measured (`docs/reliability.md`,
 * "Memory per socket"): 3,000 clients sent one 60 KB frame each kept +183 MB of RSS through GC,
 * `malloc_trim` and later small frames (8 KB: +26 MB, 120 KB: +362 MB); with `DENO_USE_WRITEV=1`,
 * +7 MB. Under `deno task bench:scale` (12,000 clients caught up from history in frames of tens of
 * KB) that was most of a gateway's peak RSS.
 *
 * Deno reads the variable once, at the first WebSocket or HTTP connection, so this must run before
 * the server listens. A value the user set (even empty, which Deno reads as off) is kept.
 *
 * @module
 */

/** The environment variable Deno reads (its `ext/websocket` and `ext/http`). */
export const WRITEV_ENV = "DENO_USE_WRITEV";

/** What {@link useVectoredWrites} did: set it, kept the user's value, or had no permission. */
export type VectoredWrites = "set" | "kept" | "denied";

/** Sets `DENO_USE_WRITEV=1` in `env` unless it is set already. Never throws. */
export function useVectoredWrites(
  env: Pick<typeof Deno.env, "get" | "set"> = Deno.env,
): VectoredWrites {
  try {
    if (env.get(WRITEV_ENV) !== undefined) return "kept";
    env.set(WRITEV_ENV, "1");
    return "set";
  } catch {
    return "denied";
  }
}
