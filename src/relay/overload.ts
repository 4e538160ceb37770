/**
 * Telling "busy" from "overloaded" at the ingress, before the costly parse. The relay's receive
 * loop reports, for each message, whether more input was already queued behind it (the socket's
 * `readable`); when over a whole window the queue never ran dry (the producers offer more than the
 * worker can parse), messages are shed
 * unparsed for a short spell, so the backlog in the ingress drains at the cost of a byte scan
 * instead of growing until latency is seconds. Shed points are counted (`overload`) by
 * {@link countPoints}. Pure: no I/O.
 *
 * @module
 */

/** Options of {@link IngressGovernor}. */
export interface GovernorOptions {
  /** How long the queue may stay non-empty before shedding starts, in ms (default 1000: by then the backlog already costs a second of latency). */
  windowMs?: number;
  /** How long to shed unparsed once saturated, in ms (default 50). */
  shedMs?: number;
}

/** Decides per message whether the relay parses it or sheds it unparsed. */
export class IngressGovernor {
  /** Since when every message had more input queued behind it (undefined: it ran dry). */
  #backlogSince: number | undefined;
  #shedUntil = -Infinity;
  readonly #windowMs: number;
  readonly #shedMs: number;

  constructor(opts: GovernorOptions = {}) {
    this.#windowMs = opts.windowMs ?? 1000;
    this.#shedMs = opts.shedMs ?? 50;
  }

  /**
   * Records one message; `more` says whether further input was already queued behind it. Returns
   * true when the message should be shed: the queue has not run dry for `windowMs`, or a spell
   * of shedding is on. (A queue-state signal rather than a wait time: on a machine short of CPU,
   * scheduling delays would look like waiting.)
   * @param now the clock (ms), `performance.now()` by default
   */
  shed(more: boolean, now = performance.now()): boolean {
    if (!more) this.#backlogSince = undefined;
    else if (this.#backlogSince === undefined) this.#backlogSince = now;
    else if (now - this.#backlogSince >= this.#windowMs) {
      this.#shedUntil = now + this.#shedMs;
      this.#backlogSince = now;
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
