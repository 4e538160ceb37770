/**
 * The slow-client policy: a client whose unsent bytes go over its bound is held back (it gets no
 * live frames), and catches up from history once its buffer has drained to half the bound; one
 * that stays over the bound longer than the timeout is closed with {@link CLOSE_SLOW_CLIENT}. No
 * client's queue grows without bound, and none is closed for a short stall.
 *
 * All clients together have a budget too (`--clients-buffer-budget`): when the bytes queued to
 * all of them pass it, the bound of each becomes the budget's water level (`budget.ts`), so the
 * clients with the most queued are held back, and the ones that keep up go on. Each frame sent
 * is charged as it goes ({@link holdBack} with its size): Deno copies a frame for each client it
 * is sent to, and those copies are not in `bufferedAmount` until the event loop turns, so one
 * round of sends of a 400 KB frame to 1,000 clients held 400 MB that no measure saw (2 GB of RSS
 * under 1,000 clients at 100,000 points/s, with 5 MB "queued"). A frame that would take one
 * round's copies past the budget is held back instead (its client catches up from history), so
 * a round adds at most the budget plus one frame, whatever the number of clients. A round is
 * bounded in time as well ({@link ROUND_MS}): sending a frame costs about a nanosecond per byte
 * per client in Deno, and with 1,000 clients a round of catch-ups took over a second, in which
 * the event loop answered nothing (`/healthz` included). Past it, the rest of the round is held
 * back the same way.
 *
 * @module
 */
import type { Client } from "./client.ts";
import { budgetLevel } from "./budget.ts";
import { RateLimitedLog } from "../runtime/log.ts";
import { CLOSE } from "../protocol/close_codes.ts";

/** WebSocket close code for a client that stayed over its buffer bound too long. */
export const CLOSE_SLOW_CLIENT = CLOSE.slow_client;

/** Longest a round of sends (or of catch-ups) goes on before the rest of it is held back, in ms. */
export const ROUND_MS = 25;

/** Options of {@link SlowClients}. */
export interface SlowClientsOptions {
  /** Unsent bytes a client may have queued; over it the client is held back. */
  bound: number;
  /** How long a client may stay over its bound before it is closed, in ms. */
  timeoutMs: number;
  /** Unsent bytes all clients together may have queued (default: no budget). */
  budget?: number;
  /** The clients connected now. */
  clients: () => Iterable<Client>;
  /**
   * Sends a held-back client what it missed since `lastSent` (it keeps up again); returns the
   * bytes sent, charged to the round like any frame.
   */
  catchUp: (c: Client) => number;
  /** Forgets a client that is being closed (before its transport is closed). */
  end: (c: Client) => void;
}

/** Holds back clients over their bound, catches them up, closes those slow too long. */
export class SlowClients {
  #opts: SlowClientsOptions;
  #timer?: ReturnType<typeof setInterval>;
  #closed = 0;
  #log = new RateLimitedLog(5000);
  #budget: number;
  /** The per-client bound now: the budget's water level, or the bound when all fit. */
  #level = Infinity;
  #queued = 0;
  /** Bytes of the frames charged since the last {@link measure} (this round's copies). */
  #charged = 0;
  /** When the round began (the last {@link measure}, `performance.now()`). */
  #roundAt = 0;
  #queuedMax = 0;
  #heldForBudget = 0;
  /** Reused arrays for the level: the queued bytes, and their sorted copy. */
  #values = new Float64Array(0);
  #sortBuf = new Float64Array(0);

  constructor(opts: SlowClientsOptions) {
    this.#opts = opts;
    this.#budget = opts.budget ?? Infinity;
  }

  /** Bytes queued to all clients together, as last measured, plus the frames charged since. */
  get queuedBytes(): number {
    return this.#queued;
  }

  /** The highest {@link queuedBytes} measured since start. */
  get queuedBytesMax(): number {
    return this.#queuedMax;
  }

  /** Times a client within its own bound was held back because all were over the budget. */
  get heldForBudgetTotal(): number {
    return this.#heldForBudget;
  }

  /** The budget for all clients together, in bytes (`Infinity`: none). */
  get budget(): number {
    return this.#budget;
  }

  /**
   * Reads what is queued to every client (once per batch, before {@link holdBack}) and, when all
   * together are over the budget, the water level that decides who is held back.
   */
  measure(): void {
    this.#charged = 0;
    this.#roundAt = performance.now();
    let total = 0;
    let n = 0;
    for (const c of this.#opts.clients()) {
      const q = c.transport.bufferedAmount();
      c.queued = q;
      total += q;
      n++;
    }
    this.#queued = total;
    if (total > this.#queuedMax) this.#queuedMax = total;
    if (total <= this.#budget) {
      this.#level = Infinity;
      return;
    }
    if (this.#values.length < n) {
      this.#values = new Float64Array(2 * n);
      this.#sortBuf = new Float64Array(2 * n);
    }
    let i = 0;
    for (const c of this.#opts.clients()) if (i < n) this.#values[i++] = c.queued;
    this.#level = budgetLevel(this.#values, i, this.#budget, this.#sortBuf);
  }

  /** Clients closed for staying slow too long, since start. */
  get closedTotal(): number {
    return this.#closed;
  }

  /**
   * Whether `c` must be skipped for a frame of `bytes`: it is held back already, or what it has
   * queued (as of {@link measure}, plus the frames charged since) is over its bound or the
   * budget's level now, or the frame would take all clients together past the budget (then it is
   * held back from `now` and watched until it drains or times out). False: the caller sends the
   * frame, which is charged to the client and the total. `force`: held back whatever it has
   * queued (a gap in seq: it catches up with a reset snapshot at the next check).
   */
  holdBack(c: Client, now: number, force = false, bytes = 0): boolean {
    if (c.slowSince !== undefined) return true;
    if (!force) {
      const overBudget = bytes > 0 && this.#roundFull(bytes);
      if (!overBudget && c.queued <= this.#opts.bound && c.queued <= this.#level) {
        this.#charge(c, bytes);
        return false;
      }
      if (c.queued <= this.#opts.bound) this.#heldForBudget++;
    }
    this.#hold(c, now);
    return true;
  }

  /** Holds `c` back from `now`: it resumes from history (from `c.lastSent`) once it drains. */
  #hold(c: Client, now: number): void {
    c.slowSince = now;
    this.#timer ??= setInterval(() => this.#check(), 100);
  }

  /**
   * Sends `c` a frame outside a round (a snapshot for a new series selection, say) when the
   * budget allows: `send` runs and the bytes it returns are charged. Else (all clients together
   * are at the budget, or `c` is held back already) `c` is held back and catches up from history
   * later, like a slow client (as when it has more queued than its bound or the budget's level);
   * returns false then, and the caller makes that catch-up what it needs (a reset snapshot).
   * Without it, clients that changed their selection a few times a second had 1.4 GB queued
   * against a 128 MiB budget.
   */
  trySend(c: Client, now: number, send: () => number): boolean {
    const fits = c.queued <= this.#opts.bound && c.queued <= this.#level;
    if (c.slowSince === undefined && fits && this.#queued < this.#budget) {
      this.#charge(c, send());
      return true;
    }
    if (c.slowSince === undefined) {
      if (c.queued <= this.#opts.bound) this.#heldForBudget++;
      this.#hold(c, now);
    }
    return false;
  }

  #notBefore = 0;

  /** Counts `bytes` sent to `c` in this round: to the client, the round and the total. */
  #charge(c: Client, bytes: number): void {
    c.queued += bytes;
    this.#charged += bytes;
    this.#queued += bytes;
    if (this.#queued > this.#queuedMax) this.#queuedMax = this.#queued;
  }

  /**
   * Whether this round can take no `bytes` more: its copies would pass the budget, or it has gone
   * on for {@link ROUND_MS}. Never before its first frame: one always goes, however large.
   */
  #roundFull(bytes: number): boolean {
    return this.#charged > 0 &&
      (this.#charged + bytes > this.#budget || performance.now() - this.#roundAt > ROUND_MS);
  }

  #check(): void {
    const { timeoutMs } = this.#opts;
    const now = performance.now();
    this.measure();
    const bound = Math.min(this.#opts.bound, this.#level);
    let slow = 0;
    for (const c of this.#opts.clients()) {
      if (c.slowSince === undefined) continue;
      if (c.queued <= bound / 2) {
        // Drained. Catch-ups are copies like any frame: while all clients together are at the
        // budget, or this round's copies would pass it, the rest wait for the next check
        // (drained, so never closed as slow). Without the first, each check added up to the
        // budget again: stalled clients whose bytes the kernel took got a snapshot per check,
        // and 800 of them had 817 MB-1.2 GB queued against a 128 MiB budget.
        if (now < this.#notBefore || this.#roundFull(1) || this.#queued >= this.#budget) {
          slow++;
          continue;
        }
        c.slowSince = undefined;
        this.#charge(c, this.#opts.catchUp(c));
      } else if (now - c.slowSince > timeoutMs) {
        this.#closed++;
        this.#log.log(
          "info",
          "bridge",
          "slow-client",
          `closed slow client ${c.session.slice(0, 8)}: over ${Math.round(bound)} bytes ` +
            `queued for ${Math.round(timeoutMs / 1000)} s`,
        );
        this.#opts.end(c);
        c.transport.close(CLOSE_SLOW_CLIENT, "slow client");
      } else slow++;
    }
    if (slow === 0) this.close();
  }

  /**
   * Held-back clients catch up (from history) no earlier than `until` (`performance.now()` time):
   * under a stream of gaps, the resets they get are spaced out instead of one per check.
   */
  deferCatchUp(until: number): void {
    this.#notBefore = Math.max(this.#notBefore, until);
  }

  /** Stops watching (the bridge is closing, or no client is held back). */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
