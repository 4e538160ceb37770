/**
 * The close codes the server sends (WebSocket close frames; the SSE stream's `close` event carries
 * the same), each with its meaning and what a client should do: `resume` (reconnect with
 * since/epoch), `fresh` (reconnect without resuming) or `stop` (retrying will not help). The
 * registry is `CLOSE_CODES` in `static/protocol.js`, the module the page loads too, so server and
 * page read one table; the server names codes only through it (`tests/unit/protocol_shared_test.ts`).
 *
 * @module
 */
import { CLOSE, CLOSE_CODES, closeAction } from "../../static/protocol.js";

export { CLOSE, CLOSE_CODES, closeAction };
export type { CloseAction, CloseCode } from "../../static/protocol.js";

/** A close code of the registry. */
export type CloseCodeNumber = typeof CLOSE[keyof typeof CLOSE];
