/**
 * History reads the relay asks of the store's worker (`ToWriter` "range"), waiting for their
 * answers by id; each is bounded in time and ends (undefined) when its worker goes away.
 *
 * @module
 */
import type { RangeAnswer, RangeQuery } from "./range.ts";
import type { ToWriter } from "./writer_messages.ts";

/** Reads in flight to the store's worker; see the module doc. */
export class PendingReads {
  #waiting = new Map<number, (a: RangeAnswer | undefined) => void>();
  #id = 0;

  /** Asks `worker` for `q`; undefined after `timeoutMs` or when {@link dropAll} is called. */
  ask(worker: Worker, q: RangeQuery, timeoutMs: number): Promise<RangeAnswer | undefined> {
    const id = ++this.#id;
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const done = (a: RangeAnswer | undefined) => {
        clearTimeout(timer);
        this.#waiting.delete(id);
        resolve(a);
      };
      this.#waiting.set(id, done);
      worker.postMessage({ type: "range", id, query: q } satisfies ToWriter);
    });
  }

  /** The worker's answer to read `id` (null: no store). */
  answer(id: number, series: RangeAnswer | null): void {
    this.#waiting.get(id)?.(series ?? undefined);
  }

  /** Ends every read in flight (its worker is gone). */
  dropAll(): void {
    for (const done of [...this.#waiting.values()]) done(undefined);
  }
}
