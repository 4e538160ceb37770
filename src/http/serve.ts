/**
 * The one HTTP port: `Deno.serve` behind the front (`http/front.ts`, the default; in a Worker of
 * its own, `front_thread.ts`), or `Deno.serve` on the port itself (`--no-front`). Either way the
 * handler gets the client's real address.
 *
 * @module
 */
import { FDS_PER_CONNECTION, PEER_HEADER } from "./front_constants.ts";
import { type FrontThread, startFrontThread } from "./front_thread.ts";
import { fdMargin, openFdProbe } from "../runtime/fd_limit.ts";
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
  front?: FrontThread;
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
 * Serves `handler` on the port (behind the front unless `opts.front` is null). Rejects with an
 * Error of one line when the port cannot be bound.
 */
export async function serveHttp(
  opts: ServeHttpOptions,
  handler: (req: Request, info: RequestInfo) => Response | Promise<Response>,
): Promise<HttpService> {
  if (!opts.front) {
    const { server, url } = listen(opts, handler);
    return { url, shutdown: () => server.shutdown() };
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
    throw listenError({ port: 0, hostname: "127.0.0.1" }, err);
  }
  let f: FrontThread;
  try {
    f = await startFrontThread({
      bind: { port: opts.port, hostname: opts.hostname, reusePort: opts.reusePort ?? false },
      tls: opts.tls ? { cert: opts.tls.cert, key: opts.tls.key } : null,
      upstreamPort: server.addr.port,
      peerToken: token,
      requestTimeoutMs: opts.front.requestTimeoutMs,
      maxConnections: opts.front.maxConnections,
      maxWsMessageBytes: opts.front.maxWsMessageBytes,
    });
  } catch (err) {
    await server.shutdown();
    throw listenError(opts, err);
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
  return {
    url: httpUrl({ transport: "tcp", ...f.addr }, !!opts.tls),
    front: f,
    async shutdown() {
      f.stopAccepting();
      await server.shutdown();
      await f.close();
    },
  };
}
