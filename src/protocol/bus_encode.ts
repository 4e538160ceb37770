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
import type { PackedPoints } from "./packed_points.ts";

/**
 * Builds one batch point by point, with no array of points in between: {@link add} each point's
 * client JSON and series (or {@link addPacked} a run of packed points), then {@link finish}.
 * Reusable after `finish`.
 */
export class BusBatchBuilder {
  /** The body's pieces, joined by `","`: one point's JSON, or a packed run's (already joined). */
  #pieces: string[] = [];
  #count = 0;
  #ends: number[] = [];
  #chars = 0;
  #names: string[] = [];
  #nameIndex = new Map<string, number>();
  #index: number[] = [];
  #last = -1;
  #mixed = false;
  /** Where {@link addPacked} writes a run before it becomes one string. */
  #scratch = new Uint8Array(BUS_BATCH_CHARS + 4096);

  /** Points added since the last {@link finish}. */
  get count(): number {
    return this.#count;
  }

  /** Whether the batch is full ({@link BUS_BATCH_POINTS} points or {@link BUS_BATCH_CHARS}). */
  get full(): boolean {
    return this.#count >= BUS_BATCH_POINTS || this.#chars >= BUS_BATCH_CHARS;
  }

  /** Adds one point: its client JSON (no `","` needed around it) and its series name. */
  add(json: string, series: string): void {
    if (this.#count > 0) this.#chars++; // the "," before it
    this.#chars += json.length;
    this.#pieces.push(json);
    this.#ends.push(this.#chars);
    this.#count++;
    this.#addSeries(series);
  }

  /**
   * Adds packed points `p[from, to)` with seqs from `firstSeq`, each as `{"seq":N,` and its tail,
   * until the batch is {@link full}; returns the index of the first point not added.
   */
  addPacked(p: PackedPoints, from: number, to: number, firstSeq: number): number {
    const bytes = p.bytes, copy = p.copy, formatted = p.formatted, suffix = p.suffix;
    // The run's first byte is body offset `base` (after the "," that joins it to what is there).
    const base = this.#count > 0 ? this.#chars + 1 : 0;
    let buf = this.#scratch;
    let pos = 0;
    let i = from;
    for (; i < to && !this.full; i++) {
      const tail = formatted?.[i];
      const a = copy[2 * i], e = copy[2 * i + 1];
      const need = 32 + (tail !== undefined ? tail.length : Math.abs(e) - a + suffix.length);
      if (pos + need > buf.length) {
        const grown = new Uint8Array(2 * buf.length + need);
        grown.set(buf.subarray(0, pos));
        buf = this.#scratch = grown;
      }
      if (pos > 0) buf[pos++] = COMMA;
      for (let k = 0; k < SEQ_OPEN.length; k++) buf[pos++] = SEQ_OPEN[k];
      pos = writeDecimal(buf, pos, firstSeq + (i - from));
      buf[pos++] = COMMA;
      if (tail !== undefined) {
        for (let k = 0; k < tail.length; k++) buf[pos++] = tail.charCodeAt(k);
      } else {
        const b = e < 0 ? -e : e;
        for (let k = a; k < b; k++) buf[pos++] = bytes[k];
        if (e < 0) { for (let k = 0; k < suffix.length; k++) buf[pos++] = suffix.charCodeAt(k); }
      }
      this.#chars = base + pos;
      this.#ends.push(this.#chars);
      this.#count++;
      this.#addSeries(p.series[i]);
    }
    if (pos > 0) this.#pieces.push(ascii.decode(buf.subarray(0, pos)));
    return i;
  }

  /** The ends joined by `","` (as bytes, then one string: no string per number). */
  #joinEnds(): string {
    const ends = this.#ends;
    if (this.#scratch.length < 17 * ends.length) this.#scratch = new Uint8Array(17 * ends.length);
    const buf = this.#scratch;
    let pos = 0;
    for (let i = 0; i < ends.length; i++) {
      if (i > 0) buf[pos++] = COMMA;
      pos = writeDecimal(buf, pos, ends[i]);
    }
    return ascii.decode(buf.subarray(0, pos));
  }

  #addSeries(series: string): void {
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
    const n = this.#count;
    const index = this.#joinEnds();
    const header = `${BUS_VERSION} ${firstSeq} ${n} ${epoch}`;
    const body = this.#pieces.join(",");
    const frames: BusFrames = this.#mixed
      ? [MIXED_TOPIC, header, body, index, `${this.#names.join("\n")}\n\n${this.#index.join(",")}`]
      : [n === 0 ? MIXED_TOPIC : this.#names[0], header, body, index];
    this.#pieces = [];
    this.#count = 0;
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

const COMMA = 0x2c;
/** `{"seq":` as bytes. */
const SEQ_OPEN = Uint8Array.from('{"seq":', (c) => c.charCodeAt(0));
/** Packed runs are ASCII: any decoder reads them as they are. */
const ascii = new TextDecoder();

/** Writes the decimal digits of the non-negative integer `v` at `pos`; returns the end. */
function writeDecimal(buf: Uint8Array, pos: number, v: number): number {
  let digits = 1;
  for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
  const end = pos + digits;
  for (let k = end - 1; k >= pos; k--) {
    buf[k] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  }
  return end;
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
