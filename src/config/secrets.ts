/**
 * Loads what the security flags point at (viewer-token secret, TLS certificate and key, CURVE keys
 * and allow-list) into {@link Secrets}. Every failure is one line that names the flag and the path,
 * never a file's content or a secret.
 *
 * @module
 */
import type { Config } from "./config.ts";
import { MIN_AUTH_SECRET_BYTES } from "./config.ts";
import { parseAllowList, parseKeyFile, publicKeyFromSecret } from "../zmq/curve.ts";
import { errorMessage } from "../runtime/log.ts";

/** The loaded security material. Never log it. */
export interface Secrets {
  /** Viewer-token secret; `null` when viewers need no token. */
  authSecret: Uint8Array | null;
  /** PEM certificate and key; `null` for plain HTTP. */
  tls: { cert: string; key: string } | null;
  /** The ingress's CURVE keys and allowed producers; `null` for a plain ingress. */
  curve: { secretKey: string; publicKey: string; allow: string[] } | null;
}

/** No security material: plain HTTP, no tokens, plain ingress. */
export const NO_SECRETS: Readonly<Secrets> = Object.freeze({
  authSecret: null,
  tls: null,
  curve: null,
});

/** Reads a text file (injectable for tests). */
export type ReadTextFile = (path: string) => Promise<string>;

/** Where zws's `deno task start` may read files given on the command line. */
export const SECRETS_DIR = "./secrets";

/** Loads every file the config names; throws one clean line on the first problem. */
export async function loadSecrets(
  config: Config,
  read: ReadTextFile = (p) => Deno.readTextFile(p),
): Promise<Secrets> {
  const file = async (flag: string, path: string): Promise<string> => {
    try {
      return await read(path);
    } catch (err) {
      throw new Error(`cannot read ${flag} ${path}: ${readProblem(err)}`);
    }
  };

  let authSecret: Uint8Array | null = null;
  if (config.authSecret !== null) {
    authSecret = new TextEncoder().encode(config.authSecret);
  } else if (config.authSecretFile !== null) {
    const text = (await file("--auth-secret-file", config.authSecretFile)).trim();
    authSecret = new TextEncoder().encode(text);
    if (authSecret.length < MIN_AUTH_SECRET_BYTES) {
      throw new Error(
        `--auth-secret-file ${config.authSecretFile}: the secret must be at least ` +
          `${MIN_AUTH_SECRET_BYTES} bytes (e.g. openssl rand -base64 32 > ${config.authSecretFile})`,
      );
    }
  }

  let tls: Secrets["tls"] = null;
  if (config.tlsCert !== null && config.tlsKey !== null) {
    const cert = await file("--cert", config.tlsCert);
    const key = await file("--key", config.tlsKey);
    if (!/-----BEGIN [A-Z ]*CERTIFICATE-----/.test(cert)) {
      throw new Error(`--cert ${config.tlsCert} is not a PEM certificate`);
    }
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) {
      throw new Error(`--key ${config.tlsKey} is not a PEM private key`);
    }
    tls = { cert, key };
  }

  let curve: Secrets["curve"] = null;
  let secretKey = config.curveSecretKey;
  if (secretKey === null && config.curveSecretKeyFile !== null) {
    const path = config.curveSecretKeyFile;
    const text = await file("--curve-secret-key-file", path);
    try {
      secretKey = parseKeyFile(text).secretKey ?? null;
    } catch (err) {
      throw new Error(`--curve-secret-key-file ${path}: ${errorMessage(err)}`);
    }
    if (secretKey === null) {
      throw new Error(`--curve-secret-key-file ${path} holds no secret key`);
    }
  }
  if (secretKey !== null) {
    const allow = [...config.curveAllow];
    if (config.curveAllowFile !== null) {
      const path = config.curveAllowFile;
      const text = await file("--curve-allow-file", path);
      try {
        allow.push(...parseAllowList(text));
      } catch (err) {
        throw new Error(`--curve-allow-file ${path}: ${errorMessage(err)}`);
      }
    }
    if (allow.length === 0) {
      throw new Error(
        "CURVE needs at least one allowed producer public key; the allow-list is empty",
      );
    }
    const publicKey = publicKeyFromSecret(secretKey);
    if (allow.includes(publicKey)) {
      // Harmless, but a sign that the server's key pair was handed to a producer.
      throw new Error(
        "the allow-list contains the server's own public key: give each producer its own key pair",
      );
    }
    curve = { secretKey, publicKey, allow: [...new Set(allow)] };
  }
  return { authSecret, tls, curve };
}

function readProblem(err: unknown): string {
  if (err instanceof Deno.errors.NotFound) return "no such file";
  if (err instanceof Deno.errors.NotCapable) {
    return `no read permission: deno task start may read only files under ${SECRETS_DIR}/ ` +
      `(put it there, or run deno run with --allow-read for it: see docs/securing.md)`;
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return "permission denied by the file system (check its owner and mode)";
  }
  if (err instanceof Deno.errors.IsADirectory) return "is a directory";
  // Strip Deno's own "(os error N)" details and anything after the first line.
  return errorMessage(err).split("\n")[0];
}
