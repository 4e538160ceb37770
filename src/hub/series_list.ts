/**
 * The `series_list` broadcast: when the names of the series held change, every client is told
 * them (one `series_list` frame), at most once per second; a client held back for being slow is
 * told once it keeps up again.
 *
 * @module
 */
import type { Client } from "./client.ts";
import { seriesListFrame } from "../frames.ts";

/** What the broadcast reads from the history. */
export interface SeriesNames {
  /** Bumped whenever the set of series held changes. */
  readonly seriesVersion: number;
  /** Names of the series held. */
  seriesNames(): string[];
}

/** Options of {@link SeriesListBroadcast}. */
export interface SeriesListOptions {
  /** The history whose series are named. */
  history: SeriesNames;
  /** The clients connected now. */
  clients: () => Iterable<Client>;
  /** Called for each frame sent (for the bridge's counters). */
  onSent: () => void;
  /** Least time between two broadcasts, in ms (default 1000). */
  intervalMs?: number;
}

/** Sends `series_list` frames to clients when the series held change, at most once per interval. */
export class SeriesListBroadcast {
  #opts: SeriesListOptions;
  #timer?: ReturnType<typeof setTimeout>;
  #sentAt = -Infinity;
  #shipped = 0;

  constructor(opts: SeriesListOptions) {
    this.#opts = opts;
  }

  /** The `series_list` frame a new client gets now. */
  frameFor(_c: Client): string {
    return seriesListFrame(this.#opts.history.seriesNames());
  }

  /** Call after the history changed: schedules a broadcast when the names changed. */
  changed(): void {
    if (this.#opts.history.seriesVersion !== this.#shipped) this.#schedule();
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    const wait = Math.max(0, this.#sentAt + (this.#opts.intervalMs ?? 1000) - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#sentAt = performance.now();
      const version = this.#opts.history.seriesVersion;
      this.#shipped = version;
      let frame: string | undefined;
      let pending = false;
      for (const c of this.#opts.clients()) {
        if (c.seriesListVersion === version) continue;
        if (c.slowSince !== undefined) {
          pending = true;
          continue;
        }
        frame ??= seriesListFrame(this.#opts.history.seriesNames());
        c.transport.send(frame);
        c.seriesListVersion = version;
        this.#opts.onSent();
      }
      if (pending) this.#schedule();
    }, wait);
  }

  /** Cancels a scheduled broadcast (the bridge is closing). */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
