/**
 * The producers' TCP ingress without CURVE: a ZMTP 3 subscriber written in TypeScript on
 * `Deno.listen`, so that `--max-message-bytes` holds for a whole message before any of it is held
 * (`zmq/zmtp_reader.ts` says why libzmq cannot). Producers are ZeroMQ PUB (or XPUB) sockets from
 * any binding (libzmq 4.x: pyzmq, zeromq.js, czmq...); they see an ordinary SUB that subscribes
 * to everything.
 *
 * Per connection: our greeting and, once the peer's is read (ZMTP 3.0 or later, mechanism NULL),
 * READY with `Socket-Type: SUB`; once the peer's READY names PUB or XPUB, the subscription to
 * every topic. Then each message goes to `deliver` (awaited: a slow relay stops this connection's
 * reads, and TCP pushes back on the producer, as libzmq would); a PING gets its PONG. A message
 * over the limit (or with too many frames) is given up as it comes and counted through `onDropped`;
 * the connection stays up. A peer that breaks the protocol, or has not completed its handshake
 * within {@link HANDSHAKE_TIMEOUT_MS}, is disconnected (one log line, rate-limited); ZeroMQ
 * reconnects by itself.
 *
 * This is not a zeromq.js socket, so the hazard of JS sockets receiving on TCP under Deno
 * (docs/architecture.md) does not apply: it is plain `Deno.Conn` reads.
 *
 * @module
 */
import { greeting, pongFor, readyCommand, SUBSCRIBE_ALL } from "./zmtp_frames.ts";
import { parseProperties, type ZmtpEvent, ZmtpReader } from "./zmtp_reader.ts";
import { errorMessage, RateLimitedLog } from "../runtime/log.ts";
import type { FdBudget } from "../runtime/fd_limit.ts";

/** How long a producer may take from connecting to a completed handshake, in ms. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Bytes read at once from one producer. */
const READ_BYTES = 64 * 1024;

/** Options of {@link listenPlainIngress}. */
export interface PlainIngressOptions {
  /** `tcp://host:port` (`*` for any interface or any port). */
  endpoint: string;
  /** Largest message, all frames together, in bytes. */
  maxMessageBytes: number;
  /**
   * Takes one message from producer connection `from` (numbered from 1 in the order accepted); a
   * returned promise holds this producer's reads until it settles.
   */
  deliver(frames: Uint8Array[], from: number): Promise<void> | void;
  /** A message given up (counted by the caller as a rejection). */
  onDropped(reason: "oversize" | "frame_count", detail: string): void;
  /** Asked before each accepted connection: false refuses it (near the open-files limit). */
  fds?: FdBudget;
}

/** Counters of a {@link PlainIngress}. */
export interface PlainIngressStats {
  /** Producer connections open now (handshake done or not). */
  connections: number;
  /** Connections accepted since start. */
  accepted: number;
  /** Connections closed for a protocol error or a handshake not completed in time. */
  protocolErrors: number;
  /** Connections refused near the open-files limit. */
  refused: number;
}

/** A bound plain ingress; {@link listenPlainIngress} makes one. */
export interface PlainIngress {
  /** The endpoint bound, a `*` port resolved (as libzmq's `lastEndpoint` writes it). */
  readonly endpoint: string;
  /** Starts accepting producers (call once the delivery path is ready). */
  start(): void;
  /** Counters (a copy). */
  stats(): PlainIngressStats;
  /** Stops accepting, closes every producer connection, and waits for their readers to end. */
  close(): Promise<void>;
}

/** `tcp://host:port` -> Deno.listen's hostname and port; null for other transports. */
export function tcpListenAddress(endpoint: string): { hostname: string; port: number } | null {
  const m = /^tcp:\/\/([^\s\/]+|\[[0-9a-fA-F:.]+\]):(\d{1,5}|\*)$/.exec(endpoint);
  if (!m) return null;
  const host = m[1] === "*" ? "0.0.0.0" : m[1].replace(/^\[(.*)\]$/, "$1");
  return { hostname: host, port: m[2] === "*" ? 0 : Number(m[2]) };
}

/** Binds `opts.endpoint`. Throws (Deno's error) when it cannot be bound; accepts after `start()`. */
export function listenPlainIngress(opts: PlainIngressOptions): PlainIngress {
  const addr = tcpListenAddress(opts.endpoint);
  if (!addr) throw new Error(`not a tcp:// endpoint: ${opts.endpoint}`);
  const listener = Deno.listen({ ...addr, transport: "tcp" });
  const bound = listener.addr;
  const host = bound.hostname.includes(":") ? `[${bound.hostname}]` : bound.hostname;
  const stats: PlainIngressStats = { connections: 0, accepted: 0, protocolErrors: 0, refused: 0 };
  const rateLog = new RateLimitedLog(5000);
  const open = new Set<Deno.TcpConn>();
  const readers = new Set<Promise<void>>();
  let closed = false;
  let acceptLoop: Promise<void> | undefined;

  const serve = async (conn: Deno.TcpConn, id: number) => {
    const peer = `${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`;
    const reader = new ZmtpReader({ maxMessageBytes: opts.maxMessageBytes });
    let phase: "greeting" | "ready" | "open" = "greeting";
    // `kind` is the rate limit's key: never the peer's own words, which would make every line
    // a key of its own (one line per connection, at the peer's will).
    const refuse = (kind: string, why: string) => {
      stats.protocolErrors++;
      rateLog.log("warn", "relay", `ingress-${kind}`, `producer ${peer}: ${why}`);
      throw new ClosedByUs();
    };
    const timer = setTimeout(() => {
      if (phase === "open") return;
      stats.protocolErrors++;
      rateLog.log(
        "warn",
        "relay",
        "ingress-handshake-timeout",
        `producer ${peer}: no ZeroMQ handshake within ${HANDSHAKE_TIMEOUT_MS / 1000} s`,
      );
      close(conn);
    }, HANDSHAKE_TIMEOUT_MS);
    const handle = async (ev: ZmtpEvent) => {
      switch (ev.kind) {
        case "greeting":
          if (ev.mechanism !== "NULL") {
            refuse(
              "mechanism",
              `uses the ${ev.mechanism} mechanism; this ingress runs without CURVE ` +
                "(docs/securing.md)",
            );
          }
          phase = "ready";
          await writeAll(conn, readyCommand("SUB"));
          return;
        case "command":
          if (ev.name === "READY" && phase === "ready") {
            const type = parseProperties(ev.body)?.get("socket-type");
            const name = type ? String.fromCharCode(...type) : "(none)";
            if (name !== "PUB" && name !== "XPUB") {
              refuse("socket-type", `is a ${name} socket; producers publish with PUB`);
            }
            phase = "open";
            clearTimeout(timer);
            await writeAll(conn, SUBSCRIBE_ALL);
          } else if (ev.name === "PING") {
            await writeAll(conn, pongFor(ev.body));
          } else if (ev.name === "ERROR") {
            const said = String.fromCharCode(...ev.body.subarray(1, 1 + ev.body[0]));
            refuse("error-command", `sent ERROR: ${said}`);
          } else if (ev.name === "READY") {
            refuse("ready-twice", "sent READY twice");
          }
          // Others (PONG, SUBSCRIBE from a confused peer...) are ignored, as libzmq does.
          return;
        case "message":
          if (phase !== "open") refuse("early-message", "sent a message before its handshake");
          await opts.deliver(ev.frames, id);
          return;
        case "dropped":
          opts.onDropped(ev.reason, ev.detail);
          return;
        case "error":
          refuse("protocol", ev.reason);
      }
    };
    const buf = new Uint8Array(READ_BYTES);
    try {
      conn.setNoDelay(true);
      await writeAll(conn, greeting());
      while (!closed) {
        const n = await conn.read(buf);
        if (n === null) break;
        for (const ev of reader.push(buf.subarray(0, n))) await handle(ev);
      }
    } catch (err) {
      if (!(err instanceof ClosedByUs) && !closed && !isDisconnect(err)) {
        rateLog.log("warn", "relay", "ingress-read", `producer ${peer}: ${errorMessage(err)}`);
      }
    } finally {
      clearTimeout(timer);
      close(conn);
      open.delete(conn);
      stats.connections--;
    }
  };

  const accept = async () => {
    while (!closed) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (closed) return;
        rateLog.log("error", "relay", "ingress-accept", `ingress accept: ${errorMessage(err)}`);
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (closed) {
        close(conn);
        return;
      }
      if (opts.fds && !opts.fds.admit(1)) {
        stats.refused++;
        rateLog.log(
          "warn",
          "relay",
          "ingress-fds",
          `refused a producer connection: near the open-files limit (${stats.refused} so far)`,
        );
        close(conn);
        continue;
      }
      stats.accepted++;
      stats.connections++;
      open.add(conn);
      const r = serve(conn, stats.accepted);
      readers.add(r);
      r.finally(() => readers.delete(r));
    }
  };

  return {
    endpoint: `tcp://${host}:${bound.port}`,
    start() {
      acceptLoop ??= accept();
    },
    stats: () => ({ ...stats }),
    async close() {
      if (closed) return;
      closed = true;
      try {
        listener.close();
      } catch { /* already closed */ }
      for (const c of open) close(c);
      await acceptLoop;
      await Promise.all(readers);
    },
  };
}

/** Thrown inside a connection's reader when zws ends it (already logged). */
class ClosedByUs extends Error {}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

function isDisconnect(err: unknown): boolean {
  return err instanceof Deno.errors.ConnectionReset ||
    err instanceof Deno.errors.BrokenPipe ||
    err instanceof Deno.errors.BadResource ||
    err instanceof Deno.errors.Interrupted;
}

/** Writes all of `bytes` to `conn`. */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}
