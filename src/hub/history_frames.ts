/**
 * The history frames a client is sent: exactly the points it missed after `since` when the
 * history can vouch for them, else a reset snapshot of its series. Snapshots are built once per
 * series set until the next batch changes the history, so a crowd connecting at once costs one.
 *
 * @module
 */
import { historyFrames } from "../protocol/frames.ts";
import type { History } from "./history.ts";

/** History frames ready to send, and what they hold. */
export interface HistoryFrames {
  reset: boolean;
  frames: string[];
  points: number;
}

/** History frames of one history, with reset snapshots cached by series set. */
export class HistoryFrameCache {
  #history: History;
  #snapshots = new Map<string, HistoryFrames>();

  constructor(history: History) {
    this.#history = history;
  }

  /** Forgets the snapshots (the history changed). */
  clear(): void {
    this.#snapshots.clear();
  }

  /**
   * The frames a client needs after `since` (undefined: a new client) for `series` (`key`: its
   * series set's key, `"*"` for all).
   */
  for(
    since: number | undefined,
    series: ReadonlySet<string> | undefined,
    key: string,
  ): HistoryFrames {
    if (this.#history.canResume(since)) {
      const points = this.#history.after(since!, series);
      return {
        reset: false,
        frames: historyFrames(points.map((p) => p.json), false),
        points: points.length,
      };
    }
    let cached = this.#snapshots.get(key);
    if (!cached) {
      const points = this.#history.snapshot(series);
      cached = {
        reset: true,
        frames: historyFrames(points.map((p) => p.json), true),
        points: points.length,
      };
      this.#snapshots.set(key, cached);
    }
    return cached;
  }
}
