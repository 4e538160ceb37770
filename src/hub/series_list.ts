/**
 * The `series_list` broadcast: when the names of the series held change, every client is told
 * them (one `series_list` frame), at most once per second; a client held back for being slow is
 * told once it keeps up again. A client is told only the names its token allows
 * ({@link Client.allowed}): a viewer limited to `alpha` does not learn that other series exist.
 * Clients allowed the same set share one frame. The frame also names the units of the series it
 * lists that have one (`units.ts`); a unit that changes is told the same way.
 *
 * @module
 */
import { type Client, seriesKey } from "./client.ts";
import { seriesListFrame } from "../protocol/frames.ts";

/** What the broadcast reads from the history. */
export interface SeriesNames {
  /** Bumped whenever the set of series held changes. */
  readonly seriesVersion: number;
  /** Names of the series held. */
  seriesNames(): string[];
}

/** What the broadcast reads of the units (`SeriesUnits`). */
export interface UnitsOf {
  /** Bumped whenever a unit changes. */
  readonly version: number;
  /** The units of those of `names` that have one. */
  of(names: Iterable<string>): Record<string, string>;
}

/** Options of {@link SeriesListBroadcast}. */
export interface SeriesListOptions {
  /** The history whose series are named. */
  history: SeriesNames;
  /** The series' units (absent: none). */
  units?: UnitsOf;
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

  /**
   * Changes whenever the series held or a unit does (both counters only go up, so their sum
   * does too): what {@link Client.seriesListVersion} is compared with.
   */
  get version(): number {
    return this.#opts.history.seriesVersion + (this.#opts.units?.version ?? 0);
  }

  /** The `series_list` frame a new client gets now. */
  frameFor(c: Client): string {
    const frame = this.#frame(visibleNames(this.#opts.history.seriesNames(), c.allowed));
    c.lastSeriesList = frame;
    return frame;
  }

  #frame(names: string[]): string {
    return seriesListFrame(names, this.#opts.units?.of(names) ?? {});
  }

  /** Call after the history or a unit changed: schedules a broadcast when the list changed. */
  changed(): void {
    if (this.version !== this.#shipped) this.#schedule();
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    const wait = Math.max(0, this.#sentAt + (this.#opts.intervalMs ?? 1000) - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#sentAt = performance.now();
      const version = this.version;
      this.#shipped = version;
      let names: string[] | undefined;
      /** Frames by allowed set ("" for clients allowed every series). */
      const frames = new Map<string, string>();
      let pending = false;
      for (const c of this.#opts.clients()) {
        if (c.seriesListVersion === version) continue;
        if (c.slowSince !== undefined) {
          pending = true;
          continue;
        }
        names ??= this.#opts.history.seriesNames();
        const key = c.allowed ? "=" + seriesKey(c.allowed) : "";
        let frame = frames.get(key);
        if (frame === undefined) {
          frame = this.#frame(visibleNames(names, c.allowed));
          frames.set(key, frame);
        }
        c.seriesListVersion = version;
        // Nothing it may see changed: not even that something did.
        if (frame === c.lastSeriesList) continue;
        c.lastSeriesList = frame;
        c.transport.send(frame);
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

/** The names of `names` a client allowed `allowed` may see (all when undefined). */
export function visibleNames(names: string[], allowed: ReadonlySet<string> | undefined): string[] {
  return allowed ? names.filter((n) => allowed.has(n)) : names;
}
