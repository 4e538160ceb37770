/**
 * The slow-client policy: a client whose unsent bytes go over its bound is held back (it gets no
 * live frames), and catches up from history once its buffer has drained to half the bound; one
 * that stays over the bound longer than the timeout is closed with {@link CLOSE_SLOW_CLIENT}. No
 * client's queue grows without bound, and none is closed for a short stall.
 *
 * @module
 */
import type { Client } from "./client.ts";
import { RateLimitedLog } from "../log.ts";

/** WebSocket close code for a client that stayed over its buffer bound too long. */
export const CLOSE_SLOW_CLIENT = 4008;

/** Options of {@link SlowClients}. */
export interface SlowClientsOptions {
  /** Unsent bytes a client may have queued; over it the client is held back. */
  bound: number;
  /** How long a client may stay over its bound before it is closed, in ms. */
  timeoutMs: number;
  /** The clients connected now. */
  clients: () => Iterable<Client>;
  /** Sends a held-back client what it missed since `lastSent` (it keeps up again). */
  catchUp: (c: Client) => void;
  /** Forgets a client that is being closed (before its transport is closed). */
  end: (c: Client) => void;
}

/** Holds back clients over their bound, catches them up, closes those slow too long. */
export class SlowClients {
  #opts: SlowClientsOptions;
  #timer?: ReturnType<typeof setInterval>;
  #closed = 0;
  #log = new RateLimitedLog(5000);

  constructor(opts: SlowClientsOptions) {
    this.#opts = opts;
  }

  /** Clients closed for staying slow too long, since start. */
  get closedTotal(): number {
    return this.#closed;
  }

  /**
   * Whether `c` must be skipped for this batch: it is held back already, or its buffer is over the
   * bound now (then it is held back from `now` and watched until it drains or times out).
   */
  holdBack(c: Client, now: number): boolean {
    if (c.slowSince !== undefined) return true;
    if (c.transport.bufferedAmount() <= this.#opts.bound) return false;
    // Held back: it resumes from history (from c.lastSent) once its buffer drains.
    c.slowSince = now;
    this.#timer ??= setInterval(() => this.#check(), 100);
    return true;
  }

  #check(): void {
    const { bound, timeoutMs } = this.#opts;
    const now = performance.now();
    let slow = 0;
    for (const c of this.#opts.clients()) {
      if (c.slowSince === undefined) continue;
      if (c.transport.bufferedAmount() <= bound / 2) {
        c.slowSince = undefined;
        this.#opts.catchUp(c);
      } else if (now - c.slowSince > timeoutMs) {
        this.#closed++;
        this.#log.log(
          "info",
          "bridge",
          "slow-client",
          `closed slow client ${c.session.slice(0, 8)}: over ${bound} bytes queued for ` +
            `${Math.round(timeoutMs / 1000)} s`,
        );
        this.#opts.end(c);
        c.transport.close(CLOSE_SLOW_CLIENT, "slow client");
      } else slow++;
    }
    if (slow === 0) this.close();
  }

  /** Stops watching (the bridge is closing, or no client is held back). */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
