/**
 * ZeroMQ CURVE keys: Z85 text (40 characters for a 32-byte key), key files as printed by
 * `deno task keygen`, producer allow-lists, and the ZAP (ZeroMQ RFC 27) decision for one request.
 * Pure: no sockets, no file access.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createPrivateKey, createPublicKey } from "node:crypto";

const Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const Z85_INDEX = new Map([...Z85].map((c, i) => [c, i]));

/** Encodes bytes (length a multiple of 4) as Z85 text. */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw new RangeError(`Z85 needs a multiple of 4 bytes`);
  let out = "";
  for (let i = 0; i < bytes.length; i += 4) {
    let v = ((bytes[i] << 24) >>> 0) + (bytes[i + 1] << 16) + (bytes[i + 2] << 8) + bytes[i + 3];
    let chunk = "";
    for (let k = 0; k < 5; k++) {
      chunk = Z85[v % 85] + chunk;
      v = Math.floor(v / 85);
    }
    out += chunk;
  }
  return out;
}

/** Decodes Z85 text (length a multiple of 5); throws a RangeError on anything else. */
export function z85Decode(text: string): Uint8Array {
  if (text.length % 5 !== 0) throw new RangeError(`Z85 text length must be a multiple of 5`);
  const out = new Uint8Array((text.length / 5) * 4);
  for (let i = 0, j = 0; i < text.length; i += 5) {
    let v = 0;
    for (let k = 0; k < 5; k++) {
      const d = Z85_INDEX.get(text[i + k]);
      if (d === undefined) throw new RangeError(`not a Z85 character at position ${i + k}`);
      v = v * 85 + d;
    }
    if (v > 0xffffffff) throw new RangeError(`Z85 group out of range at position ${i}`);
    out[j++] = (v >>> 24) & 255;
    out[j++] = (v >>> 16) & 255;
    out[j++] = (v >>> 8) & 255;
    out[j++] = v & 255;
  }
  return out;
}

/** Whether `s` is a CURVE key in Z85 (40 characters that decode to 32 bytes). */
export function isCurveKey(s: string): boolean {
  if (s.length !== 40) return false;
  try {
    z85Decode(s);
    return true;
  } catch {
    return false;
  }
}

// PKCS#8 DER prefix of an X25519 private key; the 32 raw bytes follow.
const X25519_PKCS8_PREFIX = Uint8Array.from([
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x04,
  0x22,
  0x04,
  0x20,
]);

/** The public key (Z85) that belongs to a CURVE secret key (Z85): CURVE keys are X25519 keys. */
export function publicKeyFromSecret(secretKey: string): string {
  if (!isCurveKey(secretKey)) throw new RangeError("not a CURVE secret key (40 Z85 characters)");
  const der = new Uint8Array(X25519_PKCS8_PREFIX.length + 32);
  der.set(X25519_PKCS8_PREFIX);
  der.set(z85Decode(secretKey), X25519_PKCS8_PREFIX.length);
  const priv = createPrivateKey({ key: Buffer.from(der), format: "der", type: "pkcs8" });
  const jwk = createPublicKey(priv).export({ format: "jwk" }) as { x?: string };
  if (typeof jwk.x !== "string") throw new Error("could not derive the CURVE public key");
  return z85Encode(Buffer.from(jwk.x, "base64url"));
}

/** What a key file holds (see {@link parseKeyFile}). */
export interface KeyFile {
  publicKey?: string;
  secretKey?: string;
}

/** The text `deno task keygen` prints: a key file with both keys. */
export function formatKeyFile(pair: { publicKey: string; secretKey: string }): string {
  return [
    "# zws CURVE key pair (ZeroMQ Z85). Share public-key; keep secret-key private.",
    `public-key = ${pair.publicKey}`,
    `secret-key = ${pair.secretKey}`,
    "",
  ].join("\n");
}

/**
 * Reads a key file: `deno task keygen` output (`public-key = …` / `secret-key = …` lines), or a
 * single bare key, taken as the secret key. Lines starting with `#` are comments. Throws with a
 * message that names the line number but never the key text.
 */
export function parseKeyFile(text: string): KeyFile {
  const out: KeyFile = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(public-key|secret-key)\s*[=:]\s*(\S+)$/.exec(line);
    const [kind, key] = m ? [m[1], m[2]] : ["bare", line];
    if (!isCurveKey(key)) throw new Error(`line ${i + 1} is not a CURVE key (40 Z85 characters)`);
    if (kind === "public-key") out.publicKey = key;
    else if (kind === "secret-key" || out.secretKey === undefined) out.secretKey = key;
    else throw new Error(`line ${i + 1}: more than one bare key`);
  }
  if (out.secretKey && out.publicKey && publicKeyFromSecret(out.secretKey) !== out.publicKey) {
    throw new Error("its public-key does not belong to its secret-key");
  }
  return out;
}

/**
 * Reads an allow-list of producer public keys: one key per line, optionally followed by a
 * `# comment`, or `public-key = …` lines (so a producer's keygen output can be appended). A
 * `secret-key` line is refused: zws must only ever hold producers' public keys.
 */
export function parseAllowList(text: string): string[] {
  const keys: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    if (/^secret-key\b/.test(line)) {
      throw new Error(`line ${i + 1} is a secret key: list only producers' public keys`);
    }
    const m = /^(?:public-key\s*[=:]\s*)?(\S+)(?:\s+#.*)?$/.exec(line);
    if (!m || !isCurveKey(m[1])) {
      throw new Error(`line ${i + 1} is not a CURVE public key (40 Z85 characters)`);
    }
    keys.push(m[1]);
  }
  return keys;
}

/** ZAP domain the relay's CURVE ingress sets, and the handler checks. */
export const ZAP_DOMAIN = "zws";

/** The outcome of one ZAP request. */
export interface ZapDecision {
  /** The reply frames after the routing envelope: version, request id, status, text, user, meta. */
  reply: Array<string | Uint8Array>;
  /** Whether the peer may connect. */
  allowed: boolean;
  /** The peer's public key (Z85), when the request carried a CURVE key. */
  publicKey?: string;
  /** The peer's address as libzmq reported it. */
  address: string;
  /** Why it was refused (for the log). */
  reason?: "unknown_key" | "bad_request";
}

/**
 * Decides one ZAP request, given as the frames after the routing envelope: version, request id,
 * domain, address, identity, mechanism, credentials... Only CURVE requests in {@link ZAP_DOMAIN}
 * whose key is in `allow` (Z85 public keys) pass.
 */
export function zapDecide(frames: readonly Uint8Array[], allow: ReadonlySet<string>): ZapDecision {
  const text = (i: number) => frames[i] ? new TextDecoder().decode(frames[i]) : "";
  const requestId = frames[1] ?? new Uint8Array();
  const address = text(3);
  const answer = (
    status: "200" | "400" | "500",
    statusText: string,
    extra: Partial<ZapDecision> = {},
  ): ZapDecision => ({
    reply: [
      "1.0",
      requestId,
      status,
      statusText,
      status === "200" ? extra.publicKey ?? "" : "",
      "",
    ],
    allowed: status === "200",
    address,
    ...extra,
  });
  if (
    frames.length < 7 || text(0) !== "1.0" || text(2) !== ZAP_DOMAIN || text(5) !== "CURVE" ||
    frames[6].length !== 32
  ) {
    return answer(frames.length >= 2 && text(0) === "1.0" ? "400" : "500", "bad request", {
      reason: "bad_request",
    });
  }
  const publicKey = z85Encode(frames[6]);
  if (!allow.has(publicKey)) {
    return answer("400", "unknown key", { publicKey, reason: "unknown_key" });
  }
  return answer("200", "OK", { publicKey });
}
