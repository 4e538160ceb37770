/**
 * The history frames a client is sent: exactly the points it missed after `since` when the
 * history can vouch for them, else a reset snapshot of its series. Snapshots are built once per
 * series set until the next batch changes the history, so a crowd connecting at once costs one;
 * so are catch-ups by `since` and series set (clients held back together resume from the same
 * seq: one frame between them, not one string per client).
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

/** Most catch-ups (distinct `since` and series set) held between two changes of the history. */
export const MAX_CACHED_CATCH_UPS = 64;

/** History frames of one history, with reset snapshots and catch-ups cached by series set. */
export class HistoryFrameCache {
  #history: History;
  #snapshots = new Map<string, HistoryFrames>();
  #catchUps = new Map<string, HistoryFrames>();

  constructor(history: History) {
    this.#history = history;
  }

  /** Forgets the snapshots (the history changed). */
  clear(): void {
    this.#snapshots.clear();
    this.#catchUps.clear();
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
      const at = `${since}\u0000${key}`;
      let cached = this.#catchUps.get(at);
      if (!cached) {
        const points = this.#history.after(since!, series);
        cached = {
          reset: false,
          frames: historyFrames(points.map((p) => p.json), false),
          points: points.length,
        };
        if (this.#catchUps.size < MAX_CACHED_CATCH_UPS) this.#catchUps.set(at, cached);
      }
      return cached;
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
