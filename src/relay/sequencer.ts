/**
 * The relay's sequencer: validated points wait in a bounded queue, and leave it as bus batches
 * (`src/protocol/bus.ts`) with their seqs. Seqs are assigned when a batch is cut, after any
 * shedding, so what is shed never leaves a gap in seq. Pure: no I/O.
 *
 * Overload: when the queue holds `maxPending` points, a producer message that does not fit is
 * shed whole (its points counted by the caller as `overload`), so the queue, and so the delay of
 * what it holds, stays bounded and comes back to normal as soon as the burst ends.
 *
 * @module
 */
import { type EncodedPoint, isPacked, type PackedPoints, type Point } from "../protocol/ingress.ts";
import { encodePoint, withSeq } from "../protocol/frames.ts";
import { BusBatchBuilder } from "../protocol/bus_encode.ts";
import type { BusFrames } from "../protocol/bus.ts";
import { isColumns, type SequenceSink, type SinkPoints } from "./sink.ts";

/**
 * Default bound of the sequencer's queue, in points: about 0.25 s at 1,000,000 points/s
 * (docs/architecture.md, "Overload").
 */
export const DEFAULT_MAX_PENDING_POINTS = 250_000;

/** Share of the bound used after a message was shed, until the queue drains. */
export const OVERLOADED_SHARE = 0.4;
/** Share of the bound the queue drains to before the whole bound is used again. */
export const REARM_SHARE = 0.04;

/** A batch ready for the bus: its frames and what it holds. */
export interface CutBatch {
  frames: BusFrames;
  firstSeq: number;
  count: number;
}

/** Bounded queue of validated points -> sequenced bus batches. */
export class Sequencer {
  #queue: (readonly (Point | EncodedPoint)[] | PackedPoints)[] = [];
  /** Index of the next point in `#queue[0]`. */
  #head = 0;
  #pending = 0;
  #builder = new BusBatchBuilder();
  #blocked = false;
  /** Set when a message was shed; cleared once the queue has drained (see {@link offer}). */
  #overloaded = false;

  /**
   * @param epoch the sequencer's run id
   * @param lastSeq the last seq already assigned in `epoch`
   * @param maxPending most points queued
   * @param sink gets every point with its seq (persistence)
   */
  constructor(
    readonly epoch: string,
    public lastSeq: number,
    readonly maxPending = DEFAULT_MAX_PENDING_POINTS,
    readonly sink?: SequenceSink,
  ) {}

  /** Points queued, not yet in a batch. */
  get pending(): number {
    return this.#pending;
  }

  /** Whether the last {@link cut} stopped at a seq the sink refused (points are still queued). */
  get blocked(): boolean {
    return this.#blocked;
  }

  /** Whether the queue shed a message and has not drained since (it then holds less). */
  get overloaded(): boolean {
    return this.#overloaded;
  }

  /**
   * Queues one producer message's points (as numbers, or already encoded by
   * `ingress.parseEncoded`: objects or packed); false (nothing queued) when they do not fit.
   * The whole bound absorbs a short stall of the send loop (its thread waiting for a core);
   * once a message was shed, only {@link OVERLOADED_SHARE} of it is used until the queue drains
   * to {@link REARM_SHARE}, so that sustained overload queues no more delay than it must.
   */
  offer(points: readonly (Point | EncodedPoint)[] | PackedPoints): boolean {
    if (points.length === 0) return true;
    const limit = this.#overloaded ? this.maxPending * OVERLOADED_SHARE : this.maxPending;
    if (this.#pending + points.length > limit) {
      this.#overloaded = true;
      return false;
    }
    this.#queue.push(points);
    this.#pending += points.length;
    return true;
  }

  /**
   * Cuts the next batch (as many queued points as one bus message takes, up to the first seq the
   * sink refuses), or undefined (nothing queued, or the sink refused the first seq).
   */
  cut(): CutBatch | undefined {
    this.#blocked = false;
    if (this.#pending === 0) return undefined;
    const b = this.#builder;
    const firstSeq = this.lastSeq + 1;
    let seq = firstSeq;
    const sink = this.sink;
    // Seqs up to `limit` are known reserved: the sink is asked again only past it (per point when
    // it cannot tell how far its reservation goes).
    let limit = sink ? (sink.reservedUpTo?.() ?? this.lastSeq) : Infinity;
    while (this.#queue.length > 0 && !b.full && !this.#blocked) {
      const msg = this.#queue[0];
      const runFrom = this.#head, runSeq = seq;
      while (this.#head < msg.length && !b.full) {
        if (seq > limit) {
          if (!sink!.reserve(seq)) {
            this.#blocked = true;
            break;
          }
          limit = sink!.reservedUpTo?.() ?? seq;
        }
        // Up to the last seq known reserved, in one go.
        const upTo = Math.min(msg.length, this.#head + (limit - seq + 1));
        if (isPacked(msg)) {
          const next = b.addPacked(msg, this.#head, upTo, seq);
          seq += next - this.#head;
          this.#head = next;
          continue;
        }
        while (this.#head < upTo && !b.full) {
          const p = msg[this.#head++];
          b.add("tail" in p ? withSeq(seq++, p.tail) : encodePoint(seq++, p), p.series);
        }
      }
      if (sink && this.#head > runFrom) appendRun(sink, msg, runFrom, this.#head, runSeq);
      if (this.#head === msg.length) {
        this.#queue.shift();
        this.#head = 0;
      }
    }
    const count = seq - firstSeq;
    if (count === 0) return undefined;
    this.#pending -= count;
    if (this.#overloaded && this.#pending <= this.maxPending * REARM_SHARE) {
      this.#overloaded = false;
    }
    this.lastSeq = seq - 1;
    return { frames: b.finish(this.epoch, firstSeq), firstSeq, count };
  }
}

/** Hands `points[from..to)`, with seqs from `firstSeq`, to `sink`: in one call when it takes runs. */
function appendRun(
  sink: SequenceSink,
  points: SinkPoints,
  from: number,
  to: number,
  firstSeq: number,
): void {
  if (sink.appendRun) return sink.appendRun(points, from, to, firstSeq);
  for (let i = from; i < to; i++) {
    if (isColumns(points)) {
      sink.append(points.series[i], firstSeq + i - from, points.xy[2 * i], points.xy[2 * i + 1]);
    } else sink.append(points[i].series, firstSeq + i - from, points[i].x, points[i].y);
  }
}
