/**
 * Slots of point chunks in shared memory, handed between the relay and the store's worker by
 * generation (`chunks.ts` fills and reads them). Pure: no I/O.
 *
 * @module
 */
import type { PointChunk } from "./chunks.ts";

/** The shared memory of a {@link ChunkPool}, to hand to another thread. */
export interface PoolBuffers {
  slots: number;
  capacity: number;
  /** One Int32 per slot: 0 free, 1 being filled, 2 + generation: handed to that reader. */
  state: SharedArrayBuffer;
  series: SharedArrayBuffer;
  seqs: SharedArrayBuffer;
  xy: SharedArrayBuffer;
}

/**
 * `slots` chunks of `capacity` points in shared memory. The owner acquires a slot and fills it,
 * hands it over to a reader (by generation: each reader the owner starts has its own), which
 * releases it when done; a full pool is a full queue. Only the generation a slot was handed to
 * can release it, so a reader that was given up for dead cannot free a slot reused since. Free
 * slots are taken lowest first, so a low rate keeps touching the same few pages.
 */
export class ChunkPool {
  readonly buffers: PoolBuffers;
  #state: Int32Array<SharedArrayBuffer>;
  #series: Uint32Array<SharedArrayBuffer>;
  #seqs: Float64Array<SharedArrayBuffer>;
  #xy: Float64Array<SharedArrayBuffer>;

  /** A new pool, or (`buffers`) the other thread's view of an existing one. */
  constructor(slots: number, capacity: number, buffers?: PoolBuffers) {
    this.buffers = buffers ?? {
      slots,
      capacity,
      state: new SharedArrayBuffer(4 * slots),
      series: new SharedArrayBuffer(4 * slots * capacity),
      seqs: new SharedArrayBuffer(8 * slots * capacity),
      xy: new SharedArrayBuffer(16 * slots * capacity),
    };
    this.#state = new Int32Array(this.buffers.state);
    this.#series = new Uint32Array(this.buffers.series);
    this.#seqs = new Float64Array(this.buffers.seqs);
    this.#xy = new Float64Array(this.buffers.xy);
  }

  /** The other thread's view of the pool whose memory is `buffers`. */
  static of(buffers: PoolBuffers): ChunkPool {
    return new ChunkPool(buffers.slots, buffers.capacity, buffers);
  }

  get slots(): number {
    return this.buffers.slots;
  }

  get capacity(): number {
    return this.buffers.capacity;
  }

  /** Slots in use now (being filled or handed over). */
  get used(): number {
    let n = 0;
    for (let i = 0; i < this.slots; i++) if (Atomics.load(this.#state, i) !== 0) n++;
    return n;
  }

  /** Owner: takes a free slot to fill, or -1 when every slot is in use. */
  acquire(): number {
    for (let i = 0; i < this.slots; i++) {
      if (Atomics.compareExchange(this.#state, i, 0, 1) === 0) return i;
    }
    return -1;
  }

  /** Owner: hands a filled slot to reader `generation`. */
  handOver(slot: number, generation: number): void {
    Atomics.store(this.#state, slot, 2 + generation);
  }

  /** Owner: frees a slot it holds (filled, never handed over). */
  free(slot: number): void {
    Atomics.compareExchange(this.#state, slot, 1, 0);
  }

  /** Reader `generation`: gives a slot back once done with it (a no-op if taken back since). */
  release(slot: number, generation: number): void {
    Atomics.compareExchange(this.#state, slot, 2 + generation, 0);
  }

  /** Owner: takes back every slot handed to `generation` (a dead reader); returns them. */
  reclaim(generation: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.slots; i++) {
      if (Atomics.compareExchange(this.#state, i, 2 + generation, 0) === 2 + generation) {
        out.push(i);
      }
    }
    return out;
  }

  /** The arrays of `slot`. */
  views(slot: number): Pick<PointChunk, "series" | "seqs" | "xy"> {
    const c = this.capacity;
    return {
      series: this.#series.subarray(slot * c, (slot + 1) * c),
      seqs: this.#seqs.subarray(slot * c, (slot + 1) * c),
      xy: this.#xy.subarray(2 * slot * c, 2 * (slot + 1) * c),
    };
  }
}
