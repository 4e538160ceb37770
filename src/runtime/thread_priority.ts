/**
 * Lowers the calling thread's CPU priority (its nice value), through glibc's `setpriority` and
 * Deno's FFI. On Linux a nice value belongs to a thread, and `setpriority(PRIO_PROCESS, 0, n)`
 * sets the calling thread's: a Worker can step back for the threads that must not wait (the
 * store's writer for the relay's, `src/store/writer_worker.ts`), and get the CPU they leave.
 *
 * Needs `--allow-ffi` for the libc path (the start task grants the usual Linux paths); without it,
 * or off Linux, nothing changes.
 *
 * @module
 */
import { LIBC_PATHS } from "./malloc_trim.ts";

/**
 * Sets the calling thread's nice value to `nice` (0 to 19: higher yields more). Returns whether
 * it was set.
 */
export function lowerThreadPriority(nice: number, paths: readonly string[] = LIBC_PATHS): boolean {
  if (Deno.build.os !== "linux") return false;
  for (const path of paths) {
    try {
      if (Deno.permissions.querySync({ name: "ffi", path }).state !== "granted") continue;
      const lib = Deno.dlopen(path, {
        setpriority: { parameters: ["i32", "u32", "i32"], result: "i32" },
      });
      try {
        // PRIO_PROCESS (0) with who = 0: the calling thread, on Linux.
        return lib.symbols.setpriority(0, 0, Math.max(0, Math.min(19, Math.round(nice)))) === 0;
      } finally {
        lib.close();
      }
    } catch {
      // Not there, or not glibc: try the next.
    }
  }
  return false;
}
