/**
 * Gives freed native memory back to the system: glibc's `malloc_trim(0)`, through Deno's FFI.
 *
 * Why: the bytes queued to WebSocket clients are native (Rust) allocations. When clients that
 * stalled are closed, glibc frees them into its heap but keeps the pages: the heap's top stays
 * pinned by live allocations above them, so only a trim returns what lies below. Measured
 * (`bench/stalled_memory.ts`, `docs/reliability.md`): 500 stalled clients closed, RSS 838 MB held
 * 30 s later; one `malloc_trim(0)` brought it to 83 MB.
 *
 * Needs `--allow-ffi` for the libc path (the start task grants the usual Linux paths); without it,
 * or on a libc without `malloc_trim` (musl, macOS), {@link openMallocTrim} returns undefined and
 * nothing is trimmed.
 *
 * @module
 */

import { LIBC_PATHS, openLibc } from "./libc.ts";

export { LIBC_PATHS };

/**
 * Opens `malloc_trim` from the first of `paths` that may be opened (the FFI permission is queried
 * first, so there is never a prompt) and has it. Returns a function that trims and says whether
 * memory was released, or undefined when none can be used.
 */
export function openMallocTrim(paths: readonly string[] = LIBC_PATHS): (() => boolean) | undefined {
  const libc = openLibc({ malloc_trim: { parameters: ["usize"], result: "i32" } }, paths);
  return libc ? () => libc.malloc_trim(0n) === 1 : undefined;
}
