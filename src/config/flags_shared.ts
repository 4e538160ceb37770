/**
 * Flags both roles take (the same flag, the same variable) and the sizes the tables use; see
 * `flags.ts`.
 *
 * @module
 */
import { ruled, toggle, value } from "./flag.ts";
import { int, logLevel } from "./parsers.ts";
import type { LogLevel } from "../runtime/log.ts";

/** Sizes in bytes. */
export const KiB = 1024;
/** 1024 KiB. */
export const MiB = 1024 * KiB;
/** 1024 MiB. */
export const GiB = 1024 * MiB;

/** Largest producer message accepted, in bytes (all frames together). */
export const maxMessageBytes = value({
  flag: "max-message-bytes",
  arg: "<n>",
  env: "ZWS_MAX_MESSAGE_BYTES",
  fallback: 65536,
  shown: "65536",
  parse: int(64, 64 * MiB),
  help: "largest producer message accepted, in bytes (all frames together)",
});

/**
 * `--native-ingress`: plain producers connect to libzmq's socket instead of zws's ZMTP reader
 * (`src/zmq/plain_ingress.ts`); the size limit then holds per frame only. For libzmq < 4.0.
 */
export const nativeIngress = toggle({
  flag: "native-ingress",
  env: "ZWS_NATIVE_INGRESS",
  help: "plain producers connect to libzmq's own socket, not zws's ZMTP reader: for libzmq < 4.0 " +
    "producers; the size limit then holds per frame only",
});

/** `--no-demo`: the setting is whether the demo runs. */
export const noDemo = toggle({
  flag: "no-demo",
  env: "ZWS_NO_DEMO",
  meaning: (on: boolean) => !on,
  help: "do not run the built-in demo producer",
});

/** Lowest log level printed. */
export const level = value<LogLevel>({
  flag: "log-level",
  arg: "<level>",
  env: "ZWS_LOG_LEVEL",
  fallback: "info",
  shown: "info",
  parse: logLevel,
  help: "debug | info | warn | error",
});

/** `--no-persist` (read with `--data-dir` by the persistence rule). */
export const noPersist = ruled({
  flag: "no-persist",
  env: "ZWS_NO_PERSIST",
  help: "keep nothing across restarts (memory only)",
});
