/**
 * The relay's queue in front of the store's worker: points go into the chunk being filled (a
 * `ChunkBuilder` over the shared `ChunkPool`), filled chunks wait in the backlog until they are
 * handed to the worker. Bounded by the pool's slots.
 *
 * @module
 */
import { ChunkBuilder, ChunkPool, type PointChunk, type PoolBuffers } from "./chunks.ts";
import type { SinkPoints } from "../relay/sink.ts";

/** A chunk as the worker gets it (`ToWriter` "points"). */
export interface PostedChunk {
  slot: number;
  n: number;
  names: string[];
}

/** The chunk being filled and the filled chunks not yet posted; see the module doc. */
export class WriterBacklog {
  #pool: ChunkPool;
  #builder: ChunkBuilder;
  #chunks: PointChunk[] = [];
  #points = 0;

  /** `slots` chunks of `chunkPoints` points each. */
  constructor(slots: number, chunkPoints: number) {
    this.#pool = new ChunkPool(slots, chunkPoints);
    this.#builder = new ChunkBuilder(chunkPoints, this.#pool);
  }

  /** The pool's shared buffers (for the worker). */
  get buffers(): PoolBuffers {
    return this.#pool.buffers;
  }

  /** Whether a point can be added now (a slot is free or being filled). */
  get ready(): boolean {
    return this.#builder.ready;
  }

  /** Points held here (backlog and the chunk being filled). */
  get length(): number {
    return this.#points + this.#builder.length;
  }

  /** Whether the backlog holds chunks to post. */
  get waiting(): boolean {
    return this.#chunks.length > 0;
  }

  /** Adds one point; true when its chunk is now full. */
  add(series: string, seq: number, x: number, y: number): boolean {
    this.#builder.add(series, seq, x, y);
    return this.#builder.full;
  }

  /**
   * Adds `points[from..to)` (seqs from `firstSeq`) to the chunk being filled, as far as it has
   * room; returns the index after the last one added. Full when that is less than `to`.
   */
  addRun(points: SinkPoints, from: number, to: number, firstSeq: number): number {
    return this.#builder.addRun(points, from, to, firstSeq);
  }

  /** Whether the chunk being filled is full ({@link cut} it). */
  get full(): boolean {
    return this.#builder.full;
  }

  /** Moves the chunk being filled to the backlog. */
  cut(): void {
    const chunk = this.#builder.take();
    if (!chunk) return;
    this.#chunks.push(chunk);
    this.#points += chunk.n;
  }

  /** Hands the backlog's slots over to worker `generation`; returns them and their points. */
  handOver(generation: number): { chunks: PostedChunk[]; points: number } {
    const chunks = this.#chunks.map((c) => {
      this.#pool.handOver(c.slot!, generation);
      return { slot: c.slot!, n: c.n, names: c.names };
    });
    const points = this.#points;
    this.#chunks = [];
    this.#points = 0;
    return { chunks, points };
  }

  /** Takes back the slots worker `generation` held (it is gone). */
  reclaim(generation: number): void {
    this.#pool.reclaim(generation);
  }

  /** Drops everything held (memory only from now); returns the points dropped. */
  clear(): number {
    const n = this.length;
    for (const c of this.#chunks) this.#pool.free(c.slot!);
    this.#chunks = [];
    this.#points = 0;
    const rest = this.#builder.take();
    if (rest) this.#pool.free(rest.slot!);
    return n;
  }
}
