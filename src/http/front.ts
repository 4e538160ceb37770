/**
 * The HTTP front: the public port is a `Deno.listen` (or `Deno.listenTls`) owned by zws, and each
 * connection is passed on, byte for byte, to the `Deno.serve` that serves zws on a loopback port.
 * It exists for what `Deno.serve` (2.9.6) does not do, each of which crashed or locked up the
 * server (issue 12; docs/securing.md, docs/upstream/README.md):
 *
 * - **A request head must come within `--request-timeout`** (default 10 s) of the connection (or,
 *   on a kept-alive connection, of its first byte); a connection idle between requests for
 *   {@link IDLE_TIMEOUT_MS} is closed. Deno times out neither.
 * - **Open files stay below the limit:** a connection costs 1 file until its first request head is
 *   complete, then 3 (the client's, the front's to the server, the server's); one is refused (503,
 *   counted, logged at most every 5 s) when the process is within a margin of `ulimit -n`
 *   (`runtime/fd_limit.ts`) or holds `--max-connections`. Deno dies when it reaches the limit.
 * - **One WebSocket message is bounded before Deno holds it:** after a 101, the client's frames are
 *   followed (headers only) and a message whose frames add up to more than
 *   `--max-ws-message-bytes` is cut at the frame that crosses it: the client gets close 1009 and
 *   the server a closed connection (its client is removed). Deno assembles any message whole, and
 *   a fragmented one of 512 MiB crashed the process.
 *
 * A request body must have a `Content-Length` of at most 64 KiB (zws serves GET and HEAD only: a
 * body only gets its 405); a WebSocket upgrade must be the first request of its connection
 * (browsers always open a new one). Each request head passed on carries the client's address in
 * {@link PEER_HEADER}, with a secret of this process (`peerToken`; a client's own header of that
 * name is removed), so the per-IP limits see clients, not the front; the server refuses a request
 * without it.
 *
 * A cost to know: the loopback hop doubles what a client that stopped reading takes up in kernel
 * buffers before Deno counts it in `bufferedAmount` (about 4 -> 8 MB measured), which the clients'
 * buffer budget does not see (it is not the process's RSS either). A Unix socket would add only
 * 0.2 MB, but Deno 2.9 wants its absolute path in `--allow-net=unix:<path>`.
 *
 * @module
 */
import { errorMessage, RateLimitedLog } from "../runtime/log.ts";
import { closeQuietly, peerName, plainResponse } from "./front_io.ts";
import { Link, type LinkContext } from "./front_link.ts";
import {
  emptyFrontStats,
  type Front,
  type FrontOptions,
  type FrontRefusal,
  type FrontStats,
  IDLE_TIMEOUT_MS,
  WRITE_STALL_MS,
} from "./front_constants.ts";

export * from "./front_constants.ts";

/** How often deadlines are checked, in ms. */
const SWEEP_MS = 500;

const rateLog = new RateLimitedLog(5000);

/** Starts accepting on `opts.listener`. */
export function startFront(opts: FrontOptions): Front {
  const stats: FrontStats = emptyFrontStats();
  const links = new Set<Link>();
  const idleMs = opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  const stallMs = opts.writeStallMs ?? WRITE_STALL_MS;
  let accepting = true;

  const refuse = (conn: Deno.Conn, reason: FrontRefusal) => {
    stats.refused[reason]++;
    const why = reason === "capacity"
      ? `${opts.maxConnections} connections open (--max-connections)`
      : "near the open-files limit (ulimit -n)";
    rateLog.log(
      "warn",
      "http",
      `front-${reason}`,
      `refused a connection from ${peerName(conn)}: ${why}; ${stats.refused[reason]} so far`,
    );
    if (opts.tls) return closeQuietly(conn);
    const answer = plainResponse("503 Service Unavailable", "server busy\n", "Retry-After: 5\r\n");
    // A fresh socket takes a small write at once; never wait on it.
    conn.write(answer).catch(() => {}).finally(() => closeQuietly(conn));
  };

  const ctx: LinkContext = {
    opts,
    stats,
    links,
    closed: (reason, link) => {
      stats.closed[reason]++;
      rateLog.log(
        "info",
        "http",
        `front-${reason}`,
        `closed a connection from ${link.peer}: ${reason.replaceAll("_", " ")} ` +
          `(${stats.closed[reason]} so far)`,
      );
    },
  };

  const acceptLoop = (async () => {
    while (accepting) {
      let conn: Deno.Conn;
      try {
        conn = await opts.listener.accept();
      } catch (err) {
        if (!accepting) return;
        rateLog.log("error", "http", "front-accept", `accept failed: ${errorMessage(err)}`);
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (opts.maxConnections > 0 && links.size >= opts.maxConnections) {
        refuse(conn, "capacity");
        continue;
      }
      if (opts.fds && !opts.fds.admit(1)) {
        refuse(conn, "fd_limit");
        continue;
      }
      stats.accepted++;
      // As Deno.serve does: no Nagle delay on answers and frames written in pieces.
      try {
        (conn as Deno.TcpConn).setNoDelay?.(true);
      } catch { /* not settable (TLS before its handshake): left as it is */ }
      const link = new Link(conn, ctx);
      links.add(link);
      stats.connections = links.size;
      link.run().finally(() => {
        links.delete(link);
        stats.connections = links.size;
      });
    }
  })();

  const sweep = setInterval(() => {
    const now = performance.now();
    for (const link of links) link.checkTimers(now, idleMs, stallMs);
  }, SWEEP_MS);
  Deno.unrefTimer(sweep);

  const stopAccepting = () => {
    if (!accepting) return;
    accepting = false;
    try {
      opts.listener.close();
    } catch { /* already closed */ }
  };
  return {
    stats: () => ({
      ...stats,
      refused: { ...stats.refused },
      closed: { ...stats.closed },
    }),
    stopAccepting,
    async close() {
      stopAccepting();
      clearInterval(sweep);
      await acceptLoop;
      // Connections the server has answered on end with it (its last bytes, e.g. close frames,
      // still go out); those waiting for a request head, and any left after 1 s, are cut.
      const all = [...links];
      for (const l of all) if (!l.passedOn) void l.end();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(all.map((l) => l.run())),
        new Promise((r) => timer = setTimeout(r, 1000)),
      ]);
      clearTimeout(timer);
      await Promise.all(all.map((l) => l.end()));
    },
  };
}
