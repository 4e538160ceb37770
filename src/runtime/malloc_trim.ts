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

/** Where glibc usually is (Debian/Ubuntu x86-64 and arm64, Fedora/RHEL). */
export const LIBC_PATHS: readonly string[] = [
  "/lib/x86_64-linux-gnu/libc.so.6",
  "/lib/aarch64-linux-gnu/libc.so.6",
  "/lib64/libc.so.6",
];

/**
 * Opens `malloc_trim` from the first of `paths` that may be opened (the FFI permission is queried
 * first, so there is never a prompt) and has it. Returns a function that trims and says whether
 * memory was released, or undefined when none can be used.
 */
export function openMallocTrim(paths: readonly string[] = LIBC_PATHS): (() => boolean) | undefined {
  if (Deno.build.os !== "linux") return undefined;
  for (const path of paths) {
    try {
      if (Deno.permissions.querySync({ name: "ffi", path }).state !== "granted") continue;
      const lib = Deno.dlopen(path, { malloc_trim: { parameters: ["usize"], result: "i32" } });
      return () => lib.symbols.malloc_trim(0n) === 1;
    } catch {
      // Not there, or not glibc: try the next.
    }
  }
  return undefined;
}
