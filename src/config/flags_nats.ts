/**
 * The JetStream backbone's flag table (`--nats`, both roles; validated by `src/nats/config.ts`).
 *
 * @module
 */
import { type FlagTable, ruled } from "./flag.ts";
import { DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX } from "../nats/codec.ts";

/** The JetStream backbone's flags (`--nats`, both roles; read by `src/nats/config.ts`). */
export const NATS_FLAG_TABLE = {
  servers: ruled({
    flag: "nats",
    arg: "<url>",
    multiple: true,
    env: "ZWS_NATS",
    help: "NATS server(s), repeatable or comma-separated: nats://host:4222 (tls://… for TLS)",
  }),
  stream: ruled({
    flag: "nats-stream",
    arg: "<name>",
    env: "ZWS_NATS_STREAM",
    shown: DEFAULT_STREAM,
    help: "stream name",
  }),
  subjectPrefix: ruled({
    flag: "nats-subject",
    arg: "<prefix>",
    env: "ZWS_NATS_SUBJECT",
    shown: DEFAULT_SUBJECT_PREFIX,
    help: "subject prefix, one subject per series",
  }),
  replicas: ruled({
    flag: "nats-replicas",
    arg: "<n>",
    env: "ZWS_NATS_REPLICAS",
    shown: "1",
    help: "replicas of the stream a relay creates",
  }),
  keepPerSeries: ruled({
    flag: "nats-keep",
    arg: "<n>",
    env: "ZWS_NATS_KEEP",
    shown: "1000",
    help: "batches kept per series (>= points kept)",
  }),
  maxAgeSeconds: ruled({
    flag: "nats-max-age",
    arg: "<s>",
    env: "ZWS_NATS_MAX_AGE",
    shown: "0",
    help: "drop stored points older than this, 0 = never",
  }),
  maxPendingPoints: ruled({
    flag: "nats-max-pending",
    arg: "<n>",
    env: "ZWS_NATS_MAX_PENDING",
    shown: "100000",
    help: "points a relay queues while NATS is slow; beyond: shed, counted",
  }),
  user: ruled({
    flag: "nats-user",
    arg: "<name>",
    env: "ZWS_NATS_USER",
    help: "user; its password from ZWS_NATS_PASSWORD or --nats-password-file",
  }),
  password: ruled({
    env: "ZWS_NATS_PASSWORD",
    help: "password of --nats-user (environment only: ps would show a flag)",
  }),
  passwordFile: ruled({
    flag: "nats-password-file",
    arg: "<path>",
    env: "ZWS_NATS_PASSWORD_FILE",
    help: "file holding the password of --nats-user",
  }),
  token: ruled({
    env: "ZWS_NATS_TOKEN",
    help: "token (environment only: ps would show a flag)",
  }),
  tokenFile: ruled({
    flag: "nats-token-file",
    arg: "<path>",
    env: "ZWS_NATS_TOKEN_FILE",
    help: "file holding the token",
  }),
  nkeyFile: ruled({
    flag: "nats-nkey-file",
    arg: "<path>",
    env: "ZWS_NATS_NKEY_FILE",
    help: "NKey seed file",
  }),
  credsFile: ruled({
    flag: "nats-creds-file",
    arg: "<path>",
    env: "ZWS_NATS_CREDS_FILE",
    help: "credentials file (JWT + seed)",
  }),
  tlsCa: ruled({
    flag: "nats-tls-ca",
    arg: "<path>",
    env: "ZWS_NATS_TLS_CA",
    help: "CA to trust for the NATS servers",
  }),
  tlsCert: ruled({
    flag: "nats-tls-cert",
    arg: "<path>",
    env: "ZWS_NATS_TLS_CERT",
    help: "client certificate (mutual TLS), with --nats-tls-key",
  }),
  tlsKey: ruled({
    flag: "nats-tls-key",
    arg: "<path>",
    env: "ZWS_NATS_TLS_KEY",
    help: "client key of --nats-tls-cert",
  }),
} as const satisfies FlagTable;
