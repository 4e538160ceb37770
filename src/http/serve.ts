/**
 * The one HTTP port: `Deno.serve` behind the front (`http/front.ts`, the default), or `Deno.serve`
 * on the port itself (`--no-front`). Either way the handler gets the client's real address.
 *
 * @module
 */
import { FDS_PER_CONNECTION, type Front, PEER_HEADER, startFront } from "./front.ts";
import { FdBudget, fdMargin, openFdProbe } from "../runtime/fd_limit.ts";
import { log } from "../runtime/log.ts";
import type { RequestInfo } from "./handler.ts";
import {
  httpUrl,
  internalError,
  listen,
  listenError,
  type ListenOptions,
} from "../runtime/process.ts";

/** Options of {@link serveHttp}: the port's, and the front's settings (null: `--no-front`). */
export interface ServeHttpOptions extends ListenOptions {
  front: { maxConnections: number; requestTimeoutMs: number; maxWsMessageBytes: number } | null;
}

/** The port, served. */
export interface HttpService {
  /** The public address, e.g. `http://127.0.0.1:8000/` (`https:` with TLS). */
  url: string;
  /** The front (absent with `--no-front`). */
  front?: Front;
  /** Stops accepting, ends the server gracefully, then closes what the front still holds. */
  shutdown(): Promise<void>;
}

const NOT_THROUGH_FRONT = () =>
  new Response("connect to the public port\n", {
    status: 403,
    headers: { "Content-Type": "text/plain; charset=utf-8" },
  });

/** The client's address from {@link PEER_HEADER}, when it carries `token`. */
export function peerFromHeader(value: string | null, token: string): Deno.NetAddr | undefined {
  if (value === null) return undefined;
  const [t, hostname, port] = value.split(" ");
  if (t === undefined || t.length !== token.length || hostname === undefined) return undefined;
  let diff = 0;
  for (let i = 0; i < t.length; i++) diff |= t.charCodeAt(i) ^ token.charCodeAt(i);
  if (diff !== 0) return undefined;
  return { transport: "tcp", hostname, port: Number(port) || 0 };
}

/**
 * Serves `handler` on the port (behind the front unless `opts.front` is null). Throws an Error
 * with one line when the port cannot be bound.
 */
export function serveHttp(
  opts: ServeHttpOptions,
  handler: (req: Request, info: RequestInfo) => Response | Promise<Response>,
): HttpService {
  if (!opts.front) {
    const { server, url } = listen(opts, handler);
    return { url, shutdown: () => server.shutdown() };
  }
  const bind = { port: opts.port, hostname: opts.hostname, reusePort: opts.reusePort ?? false };
  let listener: Deno.Listener;
  try {
    listener = opts.tls
      ? Deno.listenTls({ ...bind, ...opts.tls, alpnProtocols: ["http/1.1"] })
      : Deno.listen(bind);
  } catch (err) {
    throw listenError(opts, err);
  }
  const token = crypto.randomUUID();
  const behind = (req: Request) => {
    const peer = peerFromHeader(req.headers.get(PEER_HEADER), token);
    return peer ? handler(req, { remoteAddr: peer }) : NOT_THROUGH_FRONT();
  };
  // The server on a loopback port. (A Unix socket would hold less for a client that stopped
  // reading, but Deno 2.9 wants each socket's absolute path in --allow-net=unix:<path>.)
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen: () => {}, onError: internalError },
      behind,
    );
  } catch (err) {
    listener.close();
    throw listenError({ port: 0, hostname: "127.0.0.1" }, err);
  }
  const probe = openFdProbe();
  if (probe) {
    const ceiling = probe.limit - fdMargin(probe.limit);
    log(
      "info",
      "http",
      `open files: limit ${probe.limit} (ulimit -n), ${probe.count()} open; new connections are ` +
        `refused above ${ceiling} (a connection takes ${FDS_PER_CONNECTION} once its request came)`,
    );
  } else {
    log(
      "info",
      "http",
      "open-files limit unknown (no FFI access to libc): only --max-connections bounds " +
        "connections",
    );
  }
  const f: Front = startFront({
    listener,
    tls: !!opts.tls,
    upstream: { port: server.addr.port },
    peerToken: token,
    requestTimeoutMs: opts.front.requestTimeoutMs,
    maxConnections: opts.front.maxConnections,
    maxWsMessageBytes: opts.front.maxWsMessageBytes,
    ...(probe ? { fds: new FdBudget(probe) } : {}),
  });
  return {
    url: httpUrl(listener.addr as Deno.NetAddr, !!opts.tls),
    front: f,
    async shutdown() {
      f.stopAccepting();
      await server.shutdown();
      await f.close();
    },
  };
}
