/**
 * glibc through Deno's FFI, for what Deno has no API for (`malloc_trim`, `getrlimit`, counting
 * open files). Needs `--allow-ffi` for the libc path (the start task grants the usual Linux
 * paths); the permission is queried first, so there is never a prompt, and without it (or on
 * another libc) {@link openLibc} returns undefined and the caller does without.
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
 * Opens `symbols` from the first of `paths` that may be opened and has them all, or returns
 * undefined (not Linux, no permission, not there, or a libc without one of them).
 */
export function openLibc<S extends Deno.ForeignLibraryInterface>(
  symbols: S,
  paths: readonly string[] = LIBC_PATHS,
): Deno.DynamicLibrary<S>["symbols"] | undefined {
  if (Deno.build.os !== "linux") return undefined;
  for (const path of paths) {
    try {
      if (Deno.permissions.querySync({ name: "ffi", path }).state !== "granted") continue;
      return Deno.dlopen(path, symbols).symbols;
    } catch {
      // Not there, or not glibc: try the next.
    }
  }
  return undefined;
}
