/**
 * The server's security flags (docs/securing.md): viewer tokens, TLS, CURVE on the ingress.
 *
 * @module
 */
import { list, ruled, value } from "./flag.ts";
import type { FlagTable } from "./flag.ts";
import { curveKeys, path } from "./parsers.ts";

/** The server's security flags (docs/securing.md). */
export const SECURITY_FLAGS = {
  authSecret: ruled({
    flag: "auth-secret",
    arg: "<secret>",
    env: "ZWS_AUTH_SECRET",
    secret: true,
    help: "require viewer tokens (HS256 JWT) signed with this secret, at least 32 bytes; " +
      "prefer the file or the environment variable",
  }),
  authSecretFile: ruled({
    flag: "auth-secret-file",
    arg: "<path>",
    env: "ZWS_AUTH_SECRET_FILE",
    help: "the same, read from a file",
  }),
  /** PEM certificate (chain) file for HTTPS/wss. */
  tlsCert: value<string | null>({
    flag: "cert",
    arg: "<path>",
    env: "ZWS_TLS_CERT",
    fallback: null,
    parse: path,
    help: "PEM certificate: serve HTTPS and wss:",
  }),
  /** PEM private key file for HTTPS/wss. */
  tlsKey: value<string | null>({
    flag: "key",
    arg: "<path>",
    env: "ZWS_TLS_KEY",
    fallback: null,
    parse: path,
    help: "PEM private key for --cert",
  }),
  curveSecretKey: ruled({
    flag: "curve-secret-key",
    arg: "<key>",
    env: "ZWS_CURVE_SECRET_KEY",
    secret: true,
    help: "encrypt the ingress with ZeroMQ CURVE using this server secret key (Z85); prefer " +
      "the file or the environment variable",
  }),
  curveSecretKeyFile: ruled({
    flag: "curve-secret-key-file",
    arg: "<path>",
    env: "ZWS_CURVE_SECRET_KEY_FILE",
    help: "the same, from `deno task keygen` output",
  }),
  /** Producer public keys (Z85) allowed on a CURVE ingress. */
  curveAllow: list({
    flag: "curve-allow",
    arg: "<pubkey>",
    equals: true,
    env: "ZWS_CURVE_ALLOW",
    fallback: [] as string[],
    parse: curveKeys,
    help: 'a producer public key allowed in; repeatable (write it with "=": Z85 keys may start ' +
      'with "-")',
  }),
  /** File listing more allowed producer public keys, one per line. */
  curveAllowFile: value<string | null>({
    flag: "curve-allow-file",
    arg: "<path>",
    env: "ZWS_CURVE_ALLOW_FILE",
    fallback: null,
    parse: path,
    help: "more allowed producer keys, one per line",
  }),
} as const satisfies FlagTable;
