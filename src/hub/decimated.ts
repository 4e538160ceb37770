/**
 * Decimated live streams: a client that asked for at most N points per second per series
 * (`{"type":"rate","max_points_per_s":N}`, `protocol/client_messages.ts`) gets, instead of every
 * point, the min and the max point of each bucket of 2/N s of x of each series it sees
 * (`protocol/buckets.ts`), so peaks stay visible at a fraction of the bytes.
 *
 * The work is shared: one {@link MinMaxStream} per (series, rate), fed once per point whatever
 * the number of clients at that rate, and one frame per (rate, series set) per flush, sent as the
 * same string to every client of that set, every {@link FLUSH_MS}. A bucket closes when a point of
 * a later bucket comes, or on time (a bucket open longer than its width plus
 * {@link FLUSH_GRACE_MS} closes), so a series that goes quiet still shows its last bucket.
 *
 * Buckets are of x (the producer's time): a producer whose x runs faster than the clock (a
 * replay) gets more buckets per second than N.
 *
 * @module
 */
import type { Client } from "./client.ts";
import { MinMaxStream } from "../protocol/buckets.ts";
import type { BusBatch } from "../protocol/bus.ts";
import { pointJson, pointSeries } from "../protocol/bus_decode.ts";
import { decimatedFrame, readXY } from "../protocol/frames.ts";

/**
 * How often closed buckets are sent and open ones checked for closing on time, in ms: at most 40
 * frames a second per client (a frame per batching tick would be 100, for no visible gain).
 */
export const FLUSH_MS = 25;
/** A bucket closes on time once open its width plus this, in ms (late points still fit). */
export const FLUSH_GRACE_MS = 50;
/** Most distinct rates served at once; a client asking another one gets the nearest below. */
export const MAX_RATES = 64;

/** Options of {@link DecimatedStreams}. */
export interface DecimatedOptions {
  /** Sends one frame of `points` points to a client (the bridge applies its slow-client policy). */
  send: (c: Client, frame: string, points: number) => void;
  /** Clock in ms (default `performance.now`). */
  now?: () => number;
  /** Interval of the on-time check, in ms (default {@link FLUSH_MS}). */
  flushMs?: number;
}

/** The clients at one rate and the streams built for them. */
interface RateGroup {
  rate: number;
  bucketMs: number;
  clients: Set<Client>;
  /** The series some client of the group sees (undefined: all). */
  visible?: Set<string>;
  /** One stream per series, of the points' client JSON. */
  streams: Map<string, MinMaxStream<string>>;
  /** Points of closed buckets not sent yet (seq-less JSON), per series. */
  out: Map<string, string[]>;
  /** Points in `out`. */
  pending: number;
}

/** The point's client JSON without its seq: `{"x":…,"y":…,"series":…}`. */
const withoutSeq = (json: string) => "{" + json.slice(json.indexOf(",") + 1);

/** Every rate's streams, and their clients. */
export class DecimatedStreams {
  #groups = new Map<number, RateGroup>();
  #opts: DecimatedOptions;
  #now: () => number;
  #timer?: ReturnType<typeof setInterval>;

  constructor(opts: DecimatedOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Clients at a rate now. */
  get clientCount(): number {
    let n = 0;
    for (const g of this.#groups.values()) n += g.clients.size;
    return n;
  }

  /** Streams now: one per (series, rate) that has seen a point. */
  get streamCount(): number {
    let n = 0;
    for (const g of this.#groups.values()) n += g.streams.size;
    return n;
  }

  /**
   * Puts `c` at `rate` points per second per series (undefined: back to the exact stream; the
   * caller sends it the reset snapshot). Returns the rate it gets: `rate`, or with
   * {@link MAX_RATES} rates in use already, the nearest one below (else the lowest).
   */
  setRate(c: Client, rate: number | undefined): number | undefined {
    if (rate !== undefined && !this.#groups.has(rate) && this.#groups.size >= MAX_RATES) {
      const rates = [...this.#groups.keys()].sort((a, b) => a - b);
      rate = rates.filter((r) => r <= rate!).at(-1) ?? rates[0];
    }
    if (c.rate === rate) return rate;
    this.remove(c);
    if (rate === undefined) return undefined;
    let g = this.#groups.get(rate);
    if (!g) {
      g = {
        rate,
        bucketMs: 2000 / rate,
        clients: new Set(),
        streams: new Map(),
        out: new Map(),
        pending: 0,
      };
      this.#groups.set(rate, g);
    }
    g.clients.add(c);
    c.rate = rate;
    this.#updateVisible(g);
    this.#timer ??= setInterval(() => this.flush(), this.#opts.flushMs ?? FLUSH_MS);
    return rate;
  }

  /** Call after a decimated client's series changed: its group feeds what its clients see. */
  seriesChanged(c: Client): void {
    const g = c.rate === undefined ? undefined : this.#groups.get(c.rate);
    if (g) this.#updateVisible(g);
  }

  /** Forgets a client (it left, or went back to the exact stream). */
  remove(c: Client): void {
    if (c.rate === undefined) return;
    const g = this.#groups.get(c.rate);
    c.rate = undefined;
    if (!g) return;
    g.clients.delete(c);
    if (g.clients.size === 0) this.#groups.delete(g.rate);
    else this.#updateVisible(g);
    if (this.#groups.size === 0) this.close();
  }

  /** Recomputes which series a group feeds, and drops the streams of the others. */
  #updateVisible(g: RateGroup): void {
    let visible: Set<string> | undefined = new Set();
    for (const c of g.clients) {
      if (!c.series) {
        visible = undefined;
        break;
      }
      for (const s of c.series) visible.add(s);
    }
    g.visible = visible;
    if (!visible) return;
    for (const name of g.streams.keys()) {
      if (!visible.has(name)) {
        g.streams.delete(name);
        g.pending -= g.out.get(name)?.length ?? 0;
        g.out.delete(name);
      }
    }
  }

  /** The streams of `series` of the groups where some client sees it. */
  #streamsOf(series: string, groups: readonly RateGroup[]): MinMaxStream<string>[] {
    const out: MinMaxStream<string>[] = [];
    for (const g of groups) {
      if (g.visible && !g.visible.has(series)) continue;
      let s = g.streams.get(series);
      if (!s) {
        s = new MinMaxStream<string>(g.bucketMs, (items) => {
          let list = g.out.get(series);
          if (!list) g.out.set(series, list = []);
          for (const j of items) list.push(withoutSeq(j));
          g.pending += items.length;
        });
        g.streams.set(series, s);
      }
      out.push(s);
    }
    return out;
  }

  /**
   * Feeds one tick's bus batches into every rate's streams (nothing to do without clients): each
   * point's x and y are read once for all rates, and a batch of one series looks its streams up
   * once.
   */
  feed(batches: readonly BusBatch[]): void {
    if (this.#groups.size === 0) return;
    const now = this.#now();
    const groups = [...this.#groups.values()];
    for (const b of batches) {
      let streams = b.seriesIndex ? undefined : this.#streamsOf(b.seriesNames[0], groups);
      for (let i = 0; i < b.count; i++) {
        if (b.seriesIndex) streams = this.#streamsOf(pointSeries(b, i), groups);
        if (streams!.length === 0) {
          if (!b.seriesIndex) break;
          continue;
        }
        const json = pointJson(b, i);
        const { x, y } = readXY(json);
        for (const s of streams!) s.push(x, y, json, now);
      }
    }
  }

  /** Closes the buckets that are due and sends what closed (the timer calls it too). */
  flush(): void {
    const now = this.#now();
    for (const g of this.#groups.values()) {
      const age = g.bucketMs + FLUSH_GRACE_MS;
      for (const s of g.streams.values()) s.flushIfOlder(now, age);
      if (g.pending > 0) this.#send(g);
    }
  }

  /** One frame per series set of the group's clients, sent to each of them. */
  #send(g: RateGroup): void {
    const frames = new Map<string, { frame: string; count: number }>();
    for (const c of g.clients) {
      const key = c.seriesKey ?? "*";
      let f = frames.get(key);
      if (!f) {
        const parts: string[] = [];
        for (const [series, list] of g.out) {
          if (!c.series || c.series.has(series)) { for (const p of list) parts.push(p); }
        }
        f = { frame: parts.length > 0 ? decimatedFrame(g.rate, parts) : "", count: parts.length };
        frames.set(key, f);
      }
      if (f.count > 0) this.#opts.send(c, f.frame, f.count);
    }
    g.out.clear();
    g.pending = 0;
  }

  /** Stops the timer (the bridge is closing, or no client is at a rate). */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
