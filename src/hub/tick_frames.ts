/**
 * The frames of one batching tick: the bodies of its bus batches joined into one `points` frame
 * for clients that see every series, and one per distinct series set for the others, each built
 * once, when a client first needs it. A point is touched one by one only for clients whose series
 * set splits a mixed batch.
 *
 * @module
 */
import type { BusBatch } from "../protocol/bus.ts";
import { pointJson } from "../protocol/bus_decode.ts";
import { pointsFrame } from "../protocol/frames.ts";
import type { Client } from "./client.ts";

/** A frame and the points it holds ("" and 0: nothing for that client this tick). */
export interface TickFrame {
  frame: string;
  count: number;
}

/** The frames of one tick's batches, built lazily. */
export class TickFrames {
  #batches: readonly BusBatch[];
  #built: () => void;
  #all?: TickFrame;
  #filtered?: Map<string, TickFrame>;

  /** `built` is called for each frame built (`zws`' `framesBuilt`). */
  constructor(batches: readonly BusBatch[], built: () => void) {
    this.#batches = batches;
    this.#built = built;
  }

  #build(parts: string[], count: number): TickFrame {
    if (count === 0) return { frame: "", count: 0 };
    this.#built();
    return { frame: pointsFrame(parts), count };
  }

  /** The frame for `c`'s series. */
  for(c: Client): TickFrame {
    const batches = this.#batches;
    if (!c.series) {
      return this.#all ??= this.#build(
        batches.map((b) => b.body),
        batches.reduce((n, b) => n + b.count, 0),
      );
    }
    this.#filtered ??= new Map();
    const key = c.seriesKey!;
    let f = this.#filtered.get(key);
    if (!f) {
      const only = c.series;
      const parts: string[] = [];
      let count = 0;
      for (const b of batches) {
        if (!b.seriesIndex) {
          if (b.count > 0 && only.has(b.seriesNames[0])) {
            parts.push(b.body);
            count += b.count;
          }
          continue;
        }
        for (let i = 0; i < b.count; i++) {
          if (only.has(b.seriesNames[b.seriesIndex[i]])) {
            parts.push(pointJson(b, i));
            count++;
          }
        }
      }
      f = this.#build(parts, count);
      this.#filtered.set(key, f);
    }
    return f;
  }
}
