/**
 * DNS-rebinding guard: which `Host` headers the server answers. A page served from a name the
 * attacker controls (`evil.example`, re-pointed at 127.0.0.1) sends that name in `Host`, and
 * usually in `Origin` too, so the origin check alone lets it read the stream; the host check
 * refuses it. IP literals cannot be rebound and loopback names (`localhost`, `*.localhost`) always
 * mean this machine, so those pass; other names must be listed (`--allowed-hosts`). Pure: no I/O.
 *
 * @module
 */

/** A compiled host policy: `null` accepts every host. */
export type HostPolicy = ((host: string) => boolean) | null;

/** Whether `host` (a bare hostname, lower case) is an IP address literal. */
function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":");
}

/** Whether `host` (a bare hostname, lower case) names this machine's loopback interface. */
export function isLoopbackName(host: string): boolean {
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (/^127(\.\d{1,3}){3}$/.test(host)) return true;
  return host === "::1" || host === "::ffff:127.0.0.1" || /^::ffff:7f[0-9a-f]{2}:/.test(host);
}

/**
 * The bare host name of a `Host` header value (`Name.Example.:8000` -> `name.example`,
 * `[::1]:8000` -> `::1`), or null when it is not one.
 */
export function hostOf(header: string): string | null {
  const h = header.trim().toLowerCase();
  const m = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h) ?? /^([a-z0-9._-]+)(?::\d{1,5})?$/.exec(h);
  if (!m) return null;
  const name = m[1].replace(/\.$/, "");
  return name === "" ? null : name;
}

/**
 * The host policy of a server bound to `bindHost` with `allowed` names (`--allowed-hosts`; `"*"`:
 * any, a leading `.` also allows subdomains: `.example.com`). Bound to loopback: loopback names
 * and `allowed`. Bound elsewhere: IP literals, loopback names and `allowed`; with `allowed` empty,
 * any host (as before the check existed: the caller warns once).
 */
export function hostPolicy(bindHost: string, allowed: readonly string[]): HostPolicy {
  if (allowed.includes("*")) return null;
  const bind = bindHost.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  const loopbackBind = isLoopbackName(bind);
  if (!loopbackBind && allowed.length === 0) return null;
  const exact = new Set(allowed.filter((a) => !a.startsWith(".")));
  const suffixes = allowed.filter((a) => a.startsWith("."));
  return (host) => {
    if (isLoopbackName(host)) return true;
    if (!loopbackBind && isIpLiteral(host)) return true;
    if (exact.has(host)) return true;
    return suffixes.some((s) => host.endsWith(s) || host === s.slice(1));
  };
}

/** Whether a request with this `Host` header value passes `policy` (a missing Host never does). */
export function hostAllowed(policy: HostPolicy, header: string | null): boolean {
  if (policy === null) return true;
  if (header === null) return false;
  const host = hostOf(header);
  return host !== null && policy(host);
}
