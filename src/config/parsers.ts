/**
 * Value parsers of the flag tables (`flags.ts`): each takes the raw text and the flag's name and
 * returns the value, or throws an Error with a one-line message that names the flag. Pure: no I/O.
 *
 * @module
 */
import { LOG_LEVELS, type LogLevel } from "../runtime/log.ts";
import { isCurveKey } from "../zmq/curve.ts";

/** A parser of one flag's text. */
export type Parser<T> = (raw: string, flag: string) => T;

/** A whole number in [min, max]. */
export function int(min: number, max: number): Parser<number> {
  return (raw, flag) => {
    if (!/^\d+$/.test(raw)) throw new Error(`${flag} must be a whole number, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`${flag} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

/** A number >= 0 (decimals allowed, no exponent) up to `max`. */
export function decimal(max: number): Parser<number> {
  return (raw, flag) => {
    if (!/^\d+(\.\d+)?$/.test(raw)) throw new Error(`${flag} must be a number >= 0, got "${raw}"`);
    const n = Number(raw);
    if (n > max) throw new Error(`${flag} must be at most ${max}, got ${n}`);
    return n;
  };
}

/** A file or directory path: not blank, no control characters. */
export function path(raw: string, flag: string): string {
  // deno-lint-ignore no-control-regex
  if (raw.trim() === "" || /[\u0000-\u001f]/.test(raw)) throw new Error(`${flag} is not a path`);
  return raw;
}

/** Any text, as given. */
export function text(raw: string): string {
  return raw;
}

/** A host name or address to listen on; `[IPv6]` is unwrapped. */
export function hostname(raw: string, flag = "--hostname"): string {
  if (!/^[A-Za-z0-9.\-:\[\]]+$/.test(raw)) throw new Error(`${flag} is not a host: "${raw}"`);
  return raw.replace(/^\[(.*)\]$/, "$1");
}

/**
 * Checks a ZeroMQ bind endpoint: `tcp://host:port` (port may be `*`), `ipc://path`,
 * `inproc://name`. `flag` names the option in the error.
 */
export function endpoint(raw: string, flag = "--ingress"): string {
  const tcp = /^tcp:\/\/([^\s:\/]+|\[[0-9a-fA-F:.]+\]):(\d{1,5}|\*)$/.exec(raw);
  if (tcp) {
    if (tcp[2] !== "*" && Number(tcp[2]) > 65535) {
      throw new Error(`${flag} port out of range in "${raw}"`);
    }
    return raw;
  }
  if (/^(ipc|inproc):\/\/\S+$/.test(raw)) return raw;
  throw new Error(
    `${flag} must look like tcp://127.0.0.1:5000 (or ipc://path, inproc://name), got "${raw}"`,
  );
}

/** Checks a ZeroMQ endpoint to connect to: like {@link endpoint}, but a tcp port must be given. */
export function connectEndpoint(raw: string, flag: string): string {
  const checked = endpoint(raw, flag);
  if (/^tcp:.*:\*$/.test(checked)) {
    throw new Error(`${flag} needs a port to connect to, got "${raw}"`);
  }
  return checked;
}

/**
 * Whether a ZeroMQ bind endpoint is reachable from other hosts: any `tcp://` endpoint whose host is
 * not a loopback address or `localhost` (`ipc://` and `inproc://` stay on this machine).
 */
export function ingressExposed(ep: string): boolean {
  const m = /^tcp:\/\/(.+):(\d+|\*)$/.exec(ep);
  if (!m) return false;
  const host = m[1].replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (host === "localhost" || host === "::1") return false;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return false;
  return true;
}

/** Origins (`https://example.com`), trimmed, blanks skipped, normalized by `URL`. */
export function origins(list: string[], flag = "--allow-origin"): string[] {
  return list.map((o) => o.trim()).filter((o) => o !== "").map((o) => {
    const problem = `${flag} is not an origin: "${o}" (expected e.g. https://example.com)`;
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      throw new Error(problem);
    }
    if (
      url.origin === "null" || (url.pathname !== "/" && url.pathname !== "") ||
      url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== ""
    ) {
      throw new Error(problem);
    }
    return url.origin;
  });
}

/** Host names (`Host` header) to serve: lower-cased names, `.suffix` or `*`, comma-separated. */
export function hostNames(list: string[], flag = "--allowed-hosts"): string[] {
  return list.flatMap((v) => v.split(","))
    .map((h) => h.trim().toLowerCase().replace(/\.$/, ""))
    .filter((h) => h !== "")
    .map((h) => {
      if (h !== "*" && !/^\.?[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(h) && !/^[0-9a-f:.]+$/.test(h)) {
        throw new Error(
          `${flag}: "${h}" is not a host name (expected e.g. zws.example.com, ` +
            `.example.com or *)`,
        );
      }
      return h;
    });
}

/** One of {@link LOG_LEVELS}. */
export function logLevel(raw: string, flag = "--log-level"): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) {
    throw new Error(`${flag} must be one of ${LOG_LEVELS.join(", ")}, got "${raw}"`);
  }
  return raw as LogLevel;
}

/** CURVE public keys (Z85), trimmed, blanks skipped; the message never quotes a key. */
export function curveKeys(list: string[], flag = "--curve-allow"): string[] {
  const keys = list.map((k) => k.trim()).filter((k) => k !== "");
  keys.forEach((k, i) => {
    if (!isCurveKey(k)) {
      throw new Error(`${flag} value ${i + 1} is not a CURVE public key (40 Z85 characters)`);
    }
  });
  return keys;
}

/** One line for a `parseArgs` error, with a hint for values that start with "-" (Z85 keys may). */
export function argsProblem(err: unknown): string {
  const line = (err instanceof Error ? err.message : String(err)).split("\n")[0];
  const m = /^Option '(--[\w-]+)[^']*' argument is ambiguous/.exec(line);
  // Do not repeat parseArgs' suggestion: it quotes the value, which may be a secret key.
  return m ? `${m[1]}: a value that starts with "-" needs the form ${m[1]}=VALUE` : line;
}
