/**
 * Messages a browser may send on `/ws`, validated. Pure: no I/O.
 *
 * - `{"type":"ping"}` -> the server answers `{"type":"pong"}`.
 *
 * Anything else closes the connection: a message over the size limit (default
 * {@link MAX_CLIENT_MESSAGE_BYTES}, `--max-ws-message-bytes`) with 1009, a binary frame with 1003,
 * a text frame that is not one of these messages with 1007.
 *
 * @module
 */

/** Default largest message accepted from a client, in bytes. */
export const MAX_CLIENT_MESSAGE_BYTES = 4096;

/** A valid client message. */
export type ClientMessage = { type: "ping" };

/** Why a client message was refused: the WebSocket close code and reason to use. */
export interface ClientMessageError {
  code: 1003 | 1007 | 1009;
  reason: string;
}

/**
 * Size of a received message in bytes, or a stand-in that is over `limit` exactly when the real
 * size is (a long string is not encoded just to be measured).
 */
export function messageBytes(data: unknown, limit: number): number {
  if (typeof data === "string") {
    if (data.length > limit) return data.length; // UTF-8 is never shorter than UTF-16 units
    if (data.length * 3 <= limit) return data.length; // at most 3 bytes per unit: within limit
    return new TextEncoder().encode(data).length;
  }
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  if (data instanceof Blob) return data.size;
  return 0;
}

/** Parses one received WebSocket message; `maxBytes` bounds its size. */
export function parseClientMessage(
  data: unknown,
  maxBytes: number = MAX_CLIENT_MESSAGE_BYTES,
): ClientMessage | ClientMessageError {
  if (messageBytes(data, maxBytes) > maxBytes) return { code: 1009, reason: "message too big" };
  if (typeof data !== "string") return { code: 1003, reason: "binary frames are not accepted" };
  let msg: unknown;
  try {
    msg = JSON.parse(data);
  } catch {
    return { code: 1007, reason: "message is not JSON" };
  }
  if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
    return { code: 1007, reason: "message is not a JSON object" };
  }
  const type = (msg as Record<string, unknown>).type;
  if (type === "ping") return { type: "ping" };
  return { code: 1007, reason: "unknown message type" };
}
