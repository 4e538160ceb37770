/**
 * Ending a JavaScript receive loop on a ZeroMQ socket without closing the socket under it: closing
 * a socket while a receive is pending can crash the process under Deno (a uv_poll callback runs on
 * the freed poller). So a loop is ended in-band: a stop message, carrying a random token, is sent
 * through the same native proxy the loop reads from, and the loop breaks when it sees it.
 *
 * @module
 */
import * as zmq from "zeromq";

/** The three frames of a stop message: `["", "zws-stop", token]`. */
export function stopMessage(token: string): string[] {
  return ["", "zws-stop", token];
}

/** Whether `frames` is the stop message carrying `token`. */
export function isStopMessage(frames: readonly Uint8Array[], token: string): boolean {
  if (frames.length !== 3 || frames[0].length !== 0) return false;
  const text = new TextDecoder();
  return text.decode(frames[1]) === "zws-stop" && text.decode(frames[2]) === token;
}

/**
 * Sends the stop message to `control` (an inproc endpoint the proxy's XSubscriber is bound on)
 * until `loop` has ended, at most ~1 s. Repeats because the first sends may go out before the
 * XSubscriber's subscription has reached the new publisher.
 */
export async function endReceiveLoop(
  control: string,
  token: string,
  loop: Promise<void>,
): Promise<void> {
  const pub = new zmq.Publisher({ linger: 0 });
  pub.connect(control);
  let ended = false;
  loop.then(() => ended = true, () => ended = true);
  for (let i = 0; i < 50 && !ended; i++) {
    await pub.send(stopMessage(token)).catch(() => {});
    await new Promise((r) => setTimeout(r, 20));
  }
  pub.close();
}
