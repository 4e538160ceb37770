/**
 * The messages between the HTTP front's owner (`front_thread.ts`, main thread) and its Worker
 * (`front_worker.ts`). Types only.
 *
 * @module
 */
import type { FrontStats } from "./front_constants.ts";

/** What the worker needs to bind the public port and run the front. */
export interface FrontStart {
  type: "start";
  bind: { port: number; hostname: string; reusePort: boolean };
  /** PEM certificate and key: the front terminates TLS. */
  tls: { cert: string; key: string } | null;
  /** The loopback port of the `Deno.serve` behind. */
  upstreamPort: number;
  peerToken: string;
  requestTimeoutMs: number;
  maxConnections: number;
  maxWsMessageBytes: number;
}

/**
 * Main thread -> front worker. `stats` asks for the counters now (`/metrics`); `crash` is for
 * tests: the worker throws, as a bug would.
 */
export type ToFront =
  | FrontStart
  | { type: "stopAccepting" }
  | { type: "close" }
  | { type: "stats" }
  | { type: "crash" };

/** Front worker -> main thread. */
export type FromFront =
  | { type: "listening"; hostname: string; port: number }
  | { type: "error"; name: string; message: string }
  | { type: "stats"; stats: FrontStats }
  | { type: "closed"; stats: FrontStats };
