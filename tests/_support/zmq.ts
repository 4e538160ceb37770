/**
 * ZeroMQ publishers for tests: plain or CURVE, connected once their handshake is done.
 *
 * @module
 */
import * as zmq from "zeromq";
import { sleep, withTimeout } from "./async.ts";

/** CURVE client keys for a test publisher (all Z85). */
export interface CurveClient {
  serverKey: string;
  publicKey: string;
  secretKey: string;
}

/** A publisher socket, with CURVE client keys when given. */
function newPublisher(curve?: CurveClient): zmq.Publisher {
  return new zmq.Publisher({
    linger: 0,
    sendHighWaterMark: 100000,
    ...(curve
      ? {
        curveServerKey: curve.serverKey,
        curvePublicKey: curve.publicKey,
        curveSecretKey: curve.secretKey,
      }
      : {}),
  });
}

/**
 * Connects a publisher and resolves with the first handshake outcome: `"handshake"` (accepted)
 * or a `"handshake:error:…"` event type. Rejects if neither comes within `ms`.
 */
export async function handshakeOutcome(
  endpoint: string,
  curve?: CurveClient,
  ms = 5000,
): Promise<{ pub: zmq.Publisher; outcome: string }> {
  const pub = newPublisher(curve);
  const outcome = new Promise<string>((resolve) => {
    (async () => {
      for await (const ev of pub.events) {
        if (ev.type === "handshake" || ev.type.startsWith("handshake:error")) {
          return resolve(ev.type);
        }
      }
    })().catch(() => resolve("events ended"));
  });
  pub.connect(endpoint);
  try {
    return { pub, outcome: await withTimeout(outcome, ms, `a handshake with ${endpoint}`) };
  } catch (err) {
    pub.close();
    throw err;
  }
}

/**
 * A ZeroMQ PUB connected to `endpoint` (as a CURVE client with `curve`), returned once its
 * connection is up (so the first messages are not lost to the PUB/SUB slow-joiner effect).
 */
export async function connectPublisher(
  endpoint: string,
  curve?: CurveClient,
): Promise<zmq.Publisher> {
  const { pub, outcome } = await handshakeOutcome(endpoint, curve);
  if (outcome !== "handshake") {
    pub.close();
    throw new Error(`ZeroMQ handshake with ${endpoint} failed: ${outcome}`);
  }
  // The XSUB's subscription travels back to the PUB after the handshake.
  await sleep(100);
  return pub;
}

/** Publishes `perTick` points every `tickMs` until stopped; y counts up from 0. */
export function streamPoints(
  pub: zmq.Publisher,
  tickMs: number,
  perTick: number,
  series = ["a", "b"],
) {
  let stop = false;
  let sent = 0;
  const done = (async () => {
    while (!stop) {
      const batch = [];
      for (let i = 0; i < perTick; i++) {
        batch.push({ x: Date.now(), y: sent++, series: series[sent % series.length] });
      }
      await pub.send(JSON.stringify(batch));
      await sleep(tickMs);
    }
  })();
  return {
    get sent() {
      return sent;
    },
    async stop() {
      stop = true;
      await done;
    },
  };
}
