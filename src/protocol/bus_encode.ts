/**
 * Encoding of the points bus (format in `bus.ts`): batches built point by point
 * ({@link BusBatchBuilder}) or at once, heartbeats and units messages. Pure: no I/O.
 *
 * @module
 */
import {
  BUS_BATCH_CHARS,
  BUS_BATCH_POINTS,
  BUS_VERSION,
  type BusFrames,
  MIXED_TOPIC,
  UNITS_WORD,
} from "./bus.ts";

/**
 * Builds one batch point by point, with no array of points in between: {@link add} each point's
 * client JSON and series, then {@link finish}. Reusable after `finish`.
 */
export class BusBatchBuilder {
  #json: string[] = [];
  #ends: number[] = [];
  #chars = 0;
  #names: string[] = [];
  #nameIndex = new Map<string, number>();
  #index: number[] = [];
  #last = -1;
  #mixed = false;

  /** Points added since the last {@link finish}. */
  get count(): number {
    return this.#json.length;
  }

  /** Whether the batch is full ({@link BUS_BATCH_POINTS} points or {@link BUS_BATCH_CHARS}). */
  get full(): boolean {
    return this.#json.length >= BUS_BATCH_POINTS || this.#chars >= BUS_BATCH_CHARS;
  }

  /** Adds one point: its client JSON (no `","` needed around it) and its series name. */
  add(json: string, series: string): void {
    if (this.#json.length > 0) this.#chars++; // the "," before it
    this.#chars += json.length;
    this.#json.push(json);
    this.#ends.push(this.#chars);
    let i = this.#last >= 0 && this.#names[this.#last] === series
      ? this.#last
      : this.#nameIndex.get(series);
    if (i === undefined) {
      i = this.#names.length;
      this.#names.push(series);
      this.#nameIndex.set(series, i);
      if (i > 0) this.#mixed = true;
    }
    this.#last = i;
    this.#index.push(i);
  }

  /** Encodes the points added (seqs `firstSeq`, +1 each) under `epoch`, and resets. */
  finish(epoch: string, firstSeq: number): BusFrames {
    const n = this.#json.length;
    const index = this.#ends.join(",");
    const header = `${BUS_VERSION} ${firstSeq} ${n} ${epoch}`;
    const body = this.#json.join(",");
    const frames: BusFrames = this.#mixed
      ? [MIXED_TOPIC, header, body, index, `${this.#names.join("\n")}\n\n${this.#index.join(",")}`]
      : [n === 0 ? MIXED_TOPIC : this.#names[0], header, body, index];
    this.#json = [];
    this.#ends = [];
    this.#chars = 0;
    this.#names = [];
    this.#nameIndex.clear();
    this.#index = [];
    this.#last = -1;
    this.#mixed = false;
    return frames;
  }
}

/** Encodes a whole batch at once (see {@link BusBatchBuilder} to build one point by point). */
export function encodeBus(
  epoch: string,
  firstSeq: number,
  points: readonly { json: string; series: string }[],
): BusFrames {
  const b = new BusBatchBuilder();
  for (const p of points) b.add(p.json, p.series);
  return b.finish(epoch, firstSeq);
}

/** A units message: series -> the unit producers last sent for it. */
export function encodeUnits(
  epoch: string,
  units: Iterable<readonly [string, string]>,
): [topic: string, header: string, body: string] {
  // fromEntries: a series named "__proto__" is an own key like any other.
  const body = JSON.stringify(Object.fromEntries(units));
  return [MIXED_TOPIC, `${BUS_VERSION} ${UNITS_WORD} ${epoch}`, body];
}

/** A heartbeat: a batch of no point; `nextSeq` is the seq the next point will get. */
export function encodeHeartbeat(epoch: string, nextSeq: number): BusFrames {
  return new BusBatchBuilder().finish(epoch, nextSeq);
}
