/**
 * ZMTP 3.x framing (RFC 23/ZMTP 3.0): the flag bits and greeting size both sides use, and the
 * frames this side sends to a producer (its greeting, READY, PONG, a subscription). Read by
 * `zmtp_reader.ts`. Pure: no I/O.
 *
 * @module
 */

/** Frame flag bits (ZMTP 3.0 §"Framing"): more frames of this message follow. */
export const MORE = 0x01;
/** Frame flag bit: the size is 8 bytes (else 1). */
export const LONG = 0x02;
/** Frame flag bit: a command frame. */
export const COMMAND = 0x04;
/** Bytes of a greeting. */
export const GREETING_BYTES = 64;

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/**
 * This side's greeting: ZMTP 3.0 (so a ZMTP 3.1 peer sends subscriptions as 3.0 messages), the
 * NULL mechanism, as-server 0 (ignored by NULL).
 */
export function greeting(): Uint8Array {
  const g = new Uint8Array(GREETING_BYTES);
  g[0] = 0xff;
  g[9] = 0x7f;
  g[10] = 3;
  g[11] = 0;
  g.set(ascii("NULL"), 12);
  return g;
}

/** One command frame: `name` and its body. */
export function commandFrame(name: string, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const payload = 1 + name.length + body.length;
  const long = payload > 255;
  const head = long ? 9 : 2;
  const out = new Uint8Array(head + payload);
  out[0] = COMMAND | (long ? LONG : 0);
  if (long) new DataView(out.buffer).setBigUint64(1, BigInt(payload));
  else out[1] = payload;
  out[head] = name.length;
  out.set(ascii(name), head + 1);
  out.set(body, head + 1 + name.length);
  return out;
}

/** A READY command announcing `socketType` (e.g. "SUB"). */
export function readyCommand(socketType: string): Uint8Array {
  const name = "Socket-Type";
  const body = new Uint8Array(1 + name.length + 4 + socketType.length);
  body[0] = name.length;
  body.set(ascii(name), 1);
  new DataView(body.buffer).setUint32(1 + name.length, socketType.length);
  body.set(ascii(socketType), 1 + name.length + 4);
  return commandFrame("READY", body);
}

/** A PONG answering a PING's body (its 2-byte TTL, then up to 16 bytes of context echoed). */
export function pongFor(pingBody: Uint8Array): Uint8Array {
  return commandFrame("PONG", pingBody.subarray(2, 18));
}

/** One single-frame message (`body` up to 255 bytes). */
export function messageFrame(body: Uint8Array): Uint8Array {
  if (body.length > 255) throw new RangeError("messageFrame: body over 255 bytes");
  const out = new Uint8Array(2 + body.length);
  out[1] = body.length;
  out.set(body, 2);
  return out;
}

/** A ZMTP 3.0 subscription to every topic: the one-frame message `[0x01]`. */
export const SUBSCRIBE_ALL: Uint8Array = messageFrame(Uint8Array.of(1));
