/**
 * The HTTP front's settings, counters and constants (`front.ts` starts it, `front_link.ts` runs
 * each connection).
 *
 * @module
 */
import type { FdBudget } from "../runtime/fd_limit.ts";

/** A connection with no traffic either way for this long between requests is closed, in ms. */
export const IDLE_TIMEOUT_MS = 120_000;
/**
 * A connection whose client has read nothing of what the front is writing to it for this long is
 * cut, both sides, in ms. At high rates the server has held such a client back and closed it by
 * then (`--slow-client-timeout`, 10 s by default), but its close frame waits behind the bytes the
 * client does not read, and Deno keeps those bytes (up to the client's bound) until the
 * connection ends: 300 clients closed as slow held 420 MB until they went away. (A blocked write
 * completes once about a third of the send buffer is free: a client reading less than that in
 * this time, while data waits, is cut too.)
 */
export const WRITE_STALL_MS = 30_000;
/** Open files of a connection once it is passed on (client, front -> server, server's end). */
export const FDS_PER_CONNECTION = 3;
/** The request header that carries the client's address to the server: `<token> <ip> <port>`. */
export const PEER_HEADER = "x-zws-peer";

/** Why the front refused a connection. */
export type FrontRefusal = "capacity" | "fd_limit";
/** Why the front closed a connection it had accepted. */
export type FrontClosure =
  | "request_timeout"
  | "idle_timeout"
  | "write_stall"
  | "bad_request"
  | "ws_message_too_big"
  | "ws_message_flood"
  | "ws_protocol_error";

/** Where a front connection (`front_link.ts`) stands. */
export type LinkPhase =
  | "head" // reading a request head (the first, or the next on a kept-alive connection)
  | "upgrading" // an upgrade passed on; the server's answer not seen yet
  | "ws" // after a 101: WebSocket frames both ways
  | "closing"; // ending: the client's further bytes are read and dropped

/** The front's counters. */
export interface FrontStats {
  /** Connections open now. */
  connections: number;
  /** Connections accepted since start. */
  accepted: number;
  /** Connections refused at accept, by reason. */
  refused: Record<FrontRefusal, number>;
  /** Connections closed by the front, by reason. */
  closed: Record<FrontClosure, number>;
  /** Times the front's worker died and was restarted (`front_thread.ts`). */
  restarts?: number;
}

/** Counters of a front that has seen nothing yet. */
export function emptyFrontStats(): FrontStats {
  return {
    connections: 0,
    accepted: 0,
    refused: { capacity: 0, fd_limit: 0 },
    closed: {
      request_timeout: 0,
      idle_timeout: 0,
      write_stall: 0,
      bad_request: 0,
      ws_message_too_big: 0,
      ws_message_flood: 0,
      ws_protocol_error: 0,
    },
  };
}

/** Options of {@link startFront}. */
export interface FrontOptions {
  /** The public listener (TCP, or TLS: then the front terminates TLS). */
  listener: Deno.Listener;
  /** Whether `listener` is TLS (no plain-text refusal is written then). */
  tls: boolean;
  /** Where the server listens: a Unix socket path, or a port on 127.0.0.1. */
  upstream: { path: string } | { port: number };
  /** The secret that {@link PEER_HEADER} carries, so the server can trust it. */
  peerToken: string;
  /** How long a request head may take, in ms. */
  requestTimeoutMs: number;
  /** Idle time between requests before a connection is closed, in ms. */
  idleTimeoutMs?: number;
  /** Time a write to the client may make no progress before the connection is cut, in ms. */
  writeStallMs?: number;
  /** Most connections at once (0: no cap but the open-files margin). */
  maxConnections: number;
  /** Largest WebSocket message a client may send, in bytes. */
  maxWsMessageBytes: number;
  /** Open-files budget (absent: unknown limit, only `maxConnections` applies). */
  fds?: FdBudget;
}

/** A running front; {@link startFront} makes one. */
export interface Front {
  /** Counters (a copy). */
  stats(): FrontStats;
  /** Stops accepting; open connections go on. */
  stopAccepting(): void;
  /** Stops accepting and closes every connection. */
  close(): Promise<void>;
}
