/**
 * A ZAP (ZeroMQ RFC 27) handler: the allow-list of producer public keys for the relay's CURVE
 * ingress. zeromq.js has none built in; libzmq asks whatever is bound at
 * `inproc://zeromq.zap.01` in the socket's context, so this must run in the relay's process (the
 * global context is shared by the main thread and the relay Worker) and before the ingress binds.
 *
 * Under Deno a JavaScript Router that waits in `receive()` and also sends stops receiving after its
 * first reply (measured: the second and later producers' handshakes would hang). So this handler
 * never waits in `receive()`: it polls with `receiveTimeout: 0` every `pollMs`. Handshakes are
 * rare, so the cost is one cheap timer; and since no receive is ever pending, closing is safe.
 *
 * @module
 */
import * as zmq from "zeromq";
import { zapDecide, type ZapDecision } from "./curve.ts";
import { errorMessage, log } from "../runtime/log.ts";
import { faults, superviseLoop } from "../runtime/loop.ts";

/** The well-known endpoint libzmq sends ZAP requests to. */
export const ZAP_ENDPOINT = "inproc://zeromq.zap.01";

/** Options of {@link startZapHandler}. */
export interface ZapOptions {
  /** Allowed producer public keys (Z85). */
  allow: readonly string[];
  /** Called for every refused request. */
  onRefused?: (d: ZapDecision) => void;
  /** Poll interval in ms (default 20). */
  pollMs?: number;
}

/** A running ZAP handler. */
export interface ZapHandler {
  /** Requests answered 200 so far. */
  readonly allowed: number;
  /** Requests refused so far. */
  readonly refused: number;
  /** Times its loop ended and was restarted. */
  readonly restarts: number;
  /** Stops polling and closes the socket. */
  close(): Promise<void>;
}

/** Binds the ZAP endpoint and answers requests. Throws when another handler holds the endpoint. */
export async function startZapHandler(opts: ZapOptions): Promise<ZapHandler> {
  const allow = new Set(opts.allow);
  const pollMs = opts.pollMs ?? 20;
  const router = new zmq.Router({ receiveTimeout: 0, sendTimeout: 0, linger: 0 });
  // A handler closed a moment ago (a relay restart) may still hold the endpoint: libzmq releases
  // it asynchronously. Retry briefly before giving up.
  for (let attempt = 0;; attempt++) {
    try {
      await router.bind(ZAP_ENDPOINT);
      break;
    } catch (err) {
      const inUse = (err as { code?: string }).code === "EADDRINUSE";
      if (!inUse || attempt >= 10) {
        router.close();
        throw new Error(`cannot start the CURVE allow-list (ZAP handler): ${errorMessage(err)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  let stopped = false;
  let allowed = 0;
  let refused = 0;
  let wake: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const sleep = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, pollMs);
    });

  let restarts = 0;
  // One request per turn; an exception (a bad request, a fault) never ends the handler for good:
  // the loop is restarted by superviseLoop (the pending handshake is retried by its peer).
  const once = async () => {
    while (!stopped) {
      // The fault point sits before the receive: a test's failure then loses no request (an
      // unanswered ZAP request stalls that handshake until libzmq's handshake timeout).
      const fault = faults.check("zap.loop");
      if (fault) await fault;
      let frames: Buffer[];
      try {
        frames = await router.receive();
      } catch (err) {
        if ((err as { code?: string }).code !== "EAGAIN") {
          log("error", "relay", `ZAP handler: ${errorMessage(err)}`);
        }
        await sleep();
        continue;
      }
      // A ZAP request via a Router: [routing id, empty delimiter, version, request id, ...].
      if (frames.length < 3 || frames[1].length !== 0) continue;
      const decision = zapDecide(frames.slice(2), allow);
      if (decision.allowed) allowed++;
      else {
        refused++;
        opts.onRefused?.(decision);
      }
      try {
        await router.send([frames[0], frames[1], ...decision.reply]);
      } catch { /* the handshake is gone */ }
    }
  };
  const loop = superviseLoop(once, {
    component: "relay",
    name: "ZAP handler loop",
    stopped: () => stopped,
    onRestart: (n) => restarts = n,
  }).done;

  let closing: Promise<void> | undefined;
  return {
    get allowed() {
      return allowed;
    },
    get refused() {
      return refused;
    },
    get restarts() {
      return restarts;
    },
    close() {
      closing ??= (async () => {
        stopped = true;
        clearTimeout(timer);
        wake?.();
        await loop;
        // Unbind first: frees the endpoint now rather than when libzmq reaps the socket.
        await router.unbind(ZAP_ENDPOINT).catch(() => {});
        router.close();
      })();
      return closing;
    },
  };
}
