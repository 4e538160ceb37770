/**
 * Guard for the NATS client's sockets: `@nats-io/transport-node` removes a socket's listeners
 * before it destroys it, and under Deno a read that fails after that (ECONNRESET from a server
 * that closed the connection, e.g. after refusing credentials) is still emitted as `"error"`.
 * An `"error"` event without a listener throws, and thrown from a socket callback it ends the
 * process. This guard turns such late errors into one rate-limited log line.
 *
 * @module
 */
import { Socket } from "node:net";
import { errorMessage, RateLimitedLog } from "../runtime/log.ts";

let installed = false;
let late = 0;
const rate = new RateLimitedLog(10_000);

/** How many socket errors arrived with no listener left (since the process started). */
export function lateSocketErrors(): number {
  return late;
}

/**
 * Installs the guard once per process: an `"error"` on a `node:net` socket (TLS ones included)
 * that has no `"error"` listener is counted and logged instead of thrown.
 */
export function guardLateSocketErrors(): void {
  if (installed) return;
  installed = true;
  const emit = Socket.prototype.emit;
  Socket.prototype.emit = function (
    this: Socket,
    event: string | symbol,
    ...args: unknown[]
  ): boolean {
    if (event === "error" && this.listenerCount("error") === 0) {
      late++;
      rate.log(
        "warn",
        "nats",
        "late-socket-error",
        `socket error after close: ${errorMessage(args[0])}`,
      );
      return false;
    }
    return emit.apply(this, [event, ...args] as Parameters<Socket["emit"]>);
  };
}
