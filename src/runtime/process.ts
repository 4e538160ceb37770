/**
 * The process edges both roles share (`main.ts`, `forwarder.ts`, the JetStream relay): flags
 * parsed or the process exits with their one-line message, one HTTP listener with one-line
 * errors, and the stop on SIGINT/SIGTERM with a hard deadline.
 *
 * @module
 */
import { errorMessage, log } from "./log.ts";

/** What a role's flag parser returns (`ParseResult` of `src/config/rules.ts`). */
export type Parsed<C> =
  | { kind: "config"; config: C }
  | { kind: "help" }
  | { kind: "error"; message: string };

/**
 * The config of `parsed`, or the process ends: `--help` prints `usage` and exits 0; a bad flag
 * prints `<name>: <message>` and a hint, and exits 2.
 */
export function configOrExit<C>(parsed: Parsed<C>, name: string, usage: string): C {
  if (parsed.kind === "help") {
    console.log(usage);
    Deno.exit(0);
  }
  if (parsed.kind === "error") {
    console.error(`${name}: ${parsed.message}\nRun with --help for the flags.`);
    Deno.exit(2);
  }
  return parsed.config;
}

/** Options of {@link listen}. */
export interface ListenOptions {
  port: number;
  hostname: string;
  /** PEM certificate and key: HTTPS. */
  tls?: { cert: string; key: string } | null;
  /** SO_REUSEPORT (Linux): several processes on one port. */
  reusePort?: boolean;
}

/** A listening HTTP server. */
export interface Listening {
  server: Deno.HttpServer<Deno.NetAddr>;
  /** Its address, e.g. `http://127.0.0.1:8000/` (`https:` with TLS; IPv6 in brackets). */
  url: string;
}

/**
 * Serves `handler` (one `Deno.serve`). Throws an Error with one line when it cannot listen: the
 * port is taken, or the address or the certificate is refused. A handler's exception is logged
 * and answered with 500.
 */
export function listen(
  opts: ListenOptions,
  handler: (
    req: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ) => Response | Promise<Response>,
): Listening {
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      port: opts.port,
      hostname: opts.hostname,
      ...(opts.tls ?? {}),
      ...(opts.reusePort ? { reusePort: true } : {}),
      onListen: () => {},
      onError: internalError,
    }, handler);
  } catch (err) {
    throw listenError(opts, err);
  }
  return { server, url: httpUrl(server.addr, !!opts.tls) };
}

/** `http://host:port/` of `addr` (`https:` with TLS; IPv6 in brackets). */
export function httpUrl(addr: Deno.NetAddr, tls: boolean): string {
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return `${tls ? "https" : "http"}://${host}:${addr.port}/`;
}

/** Answers a request whose handler threw: the error logged, 500. */
export function internalError(err: unknown): Response {
  log("error", "http", errorMessage(err));
  return new Response("internal error\n", { status: 500 });
}

/** Why the port of `opts` could not be bound, in one line. */
export function listenError(opts: ListenOptions, err: unknown): Error {
  if (err instanceof Deno.errors.AddrInUse) {
    return new Error(`port ${opts.port} on ${opts.hostname} is already in use`);
  }
  const what = opts.tls ? " with --cert/--key" : "";
  return new Error(
    `cannot listen on ${opts.hostname}:${opts.port}${what}: ${errorMessage(err).split("\n")[0]}`,
  );
}

/** Options of {@link runUntilSignal}. */
export interface SignalOptions {
  /** The log line's component. */
  component: string;
  /** Stops the role (undefined: nothing is running yet). */
  stop: () => Promise<void> | undefined;
  /** Exit 0 after this long whatever happens, in ms (default 1800: out within 2 s). */
  deadlineMs?: number;
}

/**
 * On the first SIGINT or SIGTERM: one log line, `stop()`, exit 0 (at the latest after the
 * deadline). The returned signal is aborted then, so the role can tell a stop from a failure.
 */
export function runUntilSignal(opts: SignalOptions): AbortSignal {
  const stopping = new AbortController();
  const onSignal = async (sig: Deno.Signal) => {
    if (stopping.signal.aborted) return;
    stopping.abort();
    log("info", opts.component, `${sig}: shutting down`);
    const deadline = opts.deadlineMs ?? 1800;
    setTimeout(() => {
      log(
        "warn",
        opts.component,
        `shutdown did not finish within ${deadline / 1000} s; exiting anyway`,
      );
      Deno.exit(0);
    }, deadline);
    await opts.stop()?.catch((err) => log("error", opts.component, errorMessage(err)));
    log("debug", opts.component, "exiting");
    Deno.exit(0);
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, () => onSignal(sig));
  }
  return stopping.signal;
}

/** Exits 1 with `name: message` (a role that cannot start: the port taken, the ingress bound). */
export function failToStart(name: string, err: unknown): never {
  console.error(`${name}: ${errorMessage(err)}`);
  Deno.exit(1);
}
