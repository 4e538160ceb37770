/**
 * The forwarder's flag table (`deno task forwarder`); see `flags.ts`.
 *
 * @module
 */
import { type FlagTable, ruled, value } from "./flag.ts";
import { connectEndpoint, endpoint, hostname, int, text } from "./parsers.ts";
import { level, maxMessageBytes, nativeIngress, noDemo, noPersist } from "./flags_shared.ts";

/** The forwarder's settings (`deno task forwarder`). */
export const FORWARDER_FLAGS = {
  /** Endpoint producers connect to (XSUB bound), e.g. `tcp://127.0.0.1:5000`. */
  ingress: value({
    flag: "ingress",
    arg: "<endpoint>",
    env: "ZWS_INGRESS",
    fallback: "tcp://127.0.0.1:5000",
    shown: "tcp://127.0.0.1:5000",
    parse: endpoint,
    help: "producers connect here (XSUB bound); tcp://host:* picks a free port",
  }),
  /** Endpoint gateways and chained forwarders connect to (XPUB bound), e.g. `tcp://127.0.0.1:5001`. */
  egress: value({
    flag: "egress",
    arg: "<endpoint>",
    env: "ZWS_EGRESS",
    fallback: "tcp://127.0.0.1:5001",
    shown: "tcp://127.0.0.1:5001",
    parse: endpoint,
    help: "gateways connect here (XPUB bound)",
  }),
  /**
   * A parent forwarder's egress: this one is then a pure pass-through (no ingress, no sequencing),
   * one level of a tree. Absent: the root, which validates and sequences.
   */
  upstream: value<string | undefined>({
    flag: "upstream",
    arg: "<endpoint>",
    env: "ZWS_FORWARDER_UPSTREAM",
    fallback: undefined,
    parse: connectEndpoint,
    help: "chain: follow a parent forwarder's egress instead of an ingress (a pure " +
      "pass-through, one level of a tree)",
  }),
  dataDir: ruled({
    flag: "data-dir",
    arg: "<dir>",
    env: "ZWS_DATA_DIR",
    shown: "./data/relay",
    help: "keep points, epoch and seq there (SQLite): a restart continues the sequence, after a " +
      "crash too (seqs are reserved ahead)",
  }),
  noPersist,
  retention: ruled({
    flag: "retention",
    arg: "<count,age>",
    env: "ZWS_RETENTION",
    shown: "1000",
    help: "points kept per series on disk, e.g. 100000,24h",
  }),
  /** File that keeps the epoch and last seq across clean restarts (root, with `--no-persist`). */
  stateFile: value<string | undefined>({
    flag: "state-file",
    arg: "<path>",
    env: "ZWS_STATE_FILE",
    fallback: undefined,
    parse: text,
    help: "instead of --data-dir: keep only epoch and seq, across clean restarts; after a crash " +
      "a new epoch starts",
  }),
  /** HTTP port of `/healthz` and `/metrics` (0 picks a free one). */
  port: value({
    flag: "port",
    arg: "<n>",
    env: "ZWS_FORWARDER_PORT",
    fallback: 8001,
    shown: "8001",
    parse: int(0, 65535),
    help: "HTTP port of /healthz and /metrics, 0 = any",
  }),
  /** Interface of that HTTP server. */
  hostname: value({
    flag: "hostname",
    arg: "<host>",
    env: "ZWS_FORWARDER_HOSTNAME",
    fallback: "127.0.0.1",
    shown: "127.0.0.1",
    parse: hostname,
    help: "interface of that port",
  }),
  /** Whether the built-in demo producer runs (root only). */
  demo: noDemo,
  /** Largest producer message accepted, in bytes. */
  maxMessageBytes,
  /** Plain producers connect to libzmq's socket, not the ZMTP reader (size limit per frame). */
  nativeIngress,
  /** Lowest log level printed. */
  logLevel: level,
} as const satisfies FlagTable;
