/**
 * Telling "busy" from "overloaded" at the ingress, before the costly parse. Pure: no I/O.
 *
 * - **zws's ZMTP reader** (the default way in): its queue (`message_queue.ts`) takes from each
 *   producer connection in turn and knows how long each message waited. One that waited over
 *   {@link MAX_INGRESS_WAIT_MS} is shed unparsed ({@link waitedTooLong}): while producers offer
 *   more than the worker can parse, the relay parses at its full rate and sheds the rest at the
 *   cost of a byte scan. What waits that long is a flooding producer's backlog (the others'
 *   messages wait one turn), so the others' points go on flowing; TCP pushes back on the flood.
 * - **libzmq's socket** (`--native-ingress`, the proxy): its queue cannot be seen from here. The
 *   relay sends itself a probe through it every second (`relay.ts`); the time since the last
 *   probe came out is how far behind the receive is. When that exceeds a window, messages are
 *   shed unparsed for a short spell ({@link IngressGovernor}). A relay that is busy but keeps up
 *   sees a probe every second and sheds nothing.
 *
 * Shed points are counted (`overload`) by {@link countPoints}.
 *
 * @module
 */

/**
 * Longest a producer message may wait in the ZMTP reader's queue before it is shed unparsed, in
 * ms: well above the queue's ordinary jitter (TCP delivers in bursts), well below the seconds of
 * a backlog.
 */
export const MAX_INGRESS_WAIT_MS = 250;

/**
 * Whether a message that waited `waitMs` in the ZMTP reader's queue is shed unparsed.
 * @param maxMs the bound ({@link MAX_INGRESS_WAIT_MS} by default)
 */
export function waitedTooLong(waitMs: number, maxMs: number = MAX_INGRESS_WAIT_MS): boolean {
  return waitMs > maxMs;
}

/** Options of {@link IngressGovernor}. */
export interface GovernorOptions {
  /**
   * How long without a probe coming out of the ingress before shedding starts, in ms (default
   * 2500: the probe interval of 1 s plus 1.5 s of backlog).
   */
  windowMs?: number;
  /** How long to shed unparsed once behind, in ms (default 50). */
  shedMs?: number;
  /** The clock at construction (ms), `performance.now()` by default. */
  now?: number;
}

/** Decides per message whether the relay parses it or sheds it unparsed. */
export class IngressGovernor {
  /** When a probe last came out of the ingress (or the governor started). */
  #lastProbe: number;
  #shedUntil = -Infinity;
  readonly #windowMs: number;
  readonly #shedMs: number;

  constructor(opts: GovernorOptions = {}) {
    this.#windowMs = opts.windowMs ?? 2500;
    this.#shedMs = opts.shedMs ?? 50;
    this.#lastProbe = opts.now ?? performance.now();
  }

  /** Records that the relay's own probe came out of the ingress queue. */
  probeSeen(now: number = performance.now()): void {
    this.#lastProbe = now;
  }

  /**
   * Returns true when the message just received should be shed: no probe came through for
   * `windowMs` (the queue is that far behind), or a spell of shedding is on.
   * @param now the clock (ms), `performance.now()` by default
   */
  shed(now: number = performance.now()): boolean {
    if (now - this.#lastProbe >= this.#windowMs && now >= this.#shedUntil) {
      this.#shedUntil = now + this.#shedMs;
    }
    return now < this.#shedUntil;
  }
}

const QUOTE = 0x22;
const X = 0x78;

/**
 * Counts the points in an unparsed producer message: the `"x"` keys in its last frame (a byte
 * scan, about 1/50 of a parse). Exact for valid JSON (a `"x"` inside a string is escaped as
 * `\"x\"`, which does not match); a malformed message counts what it looks like it holds, at
 * least 1.
 */
export function countPoints(frames: readonly Uint8Array[]): number {
  const b = frames[frames.length - 1];
  if (!b) return 1;
  let n = 0;
  for (let i = 0; i + 2 < b.length; i++) {
    if (b[i] === QUOTE && b[i + 1] === X && b[i + 2] === QUOTE) n++;
  }
  return Math.max(1, n);
}
