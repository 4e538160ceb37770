/**
 * Messages a browser may send on `/ws`, validated. Pure: no I/O.
 *
 * - `{"type":"ping"}` -> the server answers `{"type":"pong"}`.
 *
 * Anything else closes the connection: a binary frame with 1003, a text frame that is not one of
 * these messages with 1007, a frame over {@link MAX_CLIENT_MESSAGE_CHARS} with 1009.
 *
 * @module
 */

/** Longest text message accepted from a client. */
export const MAX_CLIENT_MESSAGE_CHARS = 4096;

/** A valid client message. */
export type ClientMessage = { type: "ping" };

/** Why a client message was refused: the WebSocket close code and reason to use. */
export interface ClientMessageError {
  code: 1003 | 1007 | 1009;
  reason: string;
}

/** Parses one received WebSocket message. */
export function parseClientMessage(data: unknown): ClientMessage | ClientMessageError {
  if (typeof data !== "string") return { code: 1003, reason: "binary frames are not accepted" };
  if (data.length > MAX_CLIENT_MESSAGE_CHARS) return { code: 1009, reason: "message too big" };
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
