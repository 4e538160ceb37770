/**
 * The points a `StoreWriter` (`writer.ts`) holds between two writes: appended one by one into a
 * chunk being filled, or whole chunks, in seq order; taken all at once by a write. Pure: no I/O.
 *
 * @module
 */
import { ChunkBuilder, cutChunks, type PointChunk } from "./chunks.ts";

/** Points appended and not written yet; see the module doc. */
export class PendingPoints {
  /** Points appended one by one go into `#builder`, then with chunks appended whole to `#chunks`. */
  #builder = new ChunkBuilder();
  #chunks: PointChunk[] = [];
  #count = 0;

  /** How many points are held. */
  get count(): number {
    return this.#count;
  }

  /** Holds one point (seqs increase). */
  add(series: string, seq: number, x: number, y: number): void {
    this.#builder.add(series, seq, x, y);
    if (this.#builder.full) this.#chunks.push(this.#builder.take()!);
    this.#count++;
  }

  /** Holds a whole chunk (its seqs after those held). */
  addChunk(chunk: PointChunk): void {
    this.#takeBuilder();
    this.#chunks.push(chunk);
    this.#count += chunk.n;
  }

  /** Everything held, in seq order, and how many points; nothing is held after. */
  take(): { chunks: PointChunk[]; count: number } {
    this.#takeBuilder();
    const chunks = this.#chunks;
    const count = this.#count;
    this.#chunks = [];
    this.#count = 0;
    return { chunks, count };
  }

  /** Drops the points held with a seq above `lastSeq`. */
  cut(lastSeq: number): void {
    this.#takeBuilder();
    this.#count -= cutChunks(this.#chunks, lastSeq);
  }

  /** Drops everything held. */
  clear(): void {
    this.#builder.take();
    this.#chunks = [];
    this.#count = 0;
  }

  #takeBuilder(): void {
    const c = this.#builder.take();
    if (c) this.#chunks.push(c);
  }
}
