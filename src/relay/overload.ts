/**
 * Telling "busy" from "overloaded" at the ingress, before the costly parse. The relay's receive
 * loop reports how long it waited for each message; when, over a window, it hardly ever waited
 * (input was always queued: the producers offer more than the worker can parse), messages are shed
 * unparsed for a short spell, so the backlog in the ingress drains at the cost of a byte scan
 * instead of growing until latency is seconds. Shed points are counted (`overload`) by
 * {@link countPoints}. Pure: no I/O.
 *
 * @module
 */

/** Options of {@link IngressGovernor}. */
export interface GovernorOptions {
  /** Length of one measuring window, in ms (default 250). */
  windowMs?: number;
  /** Below this much waiting in a window (ms), the window counts as saturated (default 1). */
  minWaitMs?: number;
  /** How long to shed unparsed once saturated, in ms (default 50). */
  shedMs?: number;
}

/** Decides per message whether the relay parses it or sheds it unparsed. */
export class IngressGovernor {
  #windowStart: number;
  #waited = 0;
  #shedUntil = -Infinity;
  readonly #windowMs: number;
  readonly #minWaitMs: number;
  readonly #shedMs: number;

  constructor(opts: GovernorOptions = {}, now = performance.now()) {
    this.#windowMs = opts.windowMs ?? 250;
    this.#minWaitMs = opts.minWaitMs ?? 1;
    this.#shedMs = opts.shedMs ?? 50;
    this.#windowStart = now;
  }

  /**
   * Records one message that took `waitedMs` to arrive; returns true when it should be shed.
   * @param now the clock (ms), `performance.now()` by default
   */
  shed(waitedMs: number, now = performance.now()): boolean {
    this.#waited += waitedMs;
    if (now - this.#windowStart >= this.#windowMs) {
      if (this.#waited < this.#minWaitMs) this.#shedUntil = now + this.#shedMs;
      this.#windowStart = now;
      this.#waited = 0;
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
