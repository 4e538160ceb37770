/**
 * What the server still holds: the last N points of every series, each with its sequence number,
 * so a new client gets a full chart at once and a returning one gets exactly what it missed.
 * Pure data structure: no I/O.
 *
 * @module
 */

/** A held point: its sequence number and its encoded JSON (see `frames.ts`). */
export interface HeldPoint {
  seq: number;
  json: string;
}

/** A fixed-capacity ring of points of one series, oldest first. */
class Ring {
  #seq: number[] = [];
  #json: string[] = [];
  #start = 0;
  #size = 0;
  constructor(readonly capacity: number) {}

  /** Adds a point; returns the seq of the point it evicted, or -1. */
  push(seq: number, json: string): number {
    if (this.#size < this.capacity) {
      this.#seq.push(seq);
      this.#json.push(json);
      this.#size++;
      return -1;
    }
    const evicted = this.#seq[this.#start];
    this.#seq[this.#start] = seq;
    this.#json[this.#start] = json;
    this.#start = (this.#start + 1) % this.capacity;
    return evicted;
  }

  get size(): number {
    return this.#size;
  }

  get lastSeq(): number {
    return this.#size === 0 ? -1 : this.#seq[(this.#start + this.#size - 1) % this.capacity];
  }

  /** Appends to `out` every point with seq > `after`, oldest first. */
  collect(after: number, out: HeldPoint[]): void {
    // Binary search for the first index (in ring order) with seq > after.
    let lo = 0;
    let hi = this.#size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#seq[(this.#start + mid) % this.capacity] > after) hi = mid;
      else lo = mid + 1;
    }
    for (let i = lo; i < this.#size; i++) {
      const k = (this.#start + i) % this.capacity;
      out.push({ seq: this.#seq[k], json: this.#json[k] });
    }
  }
}

/** What a client that says where it stopped gets: the missed points, or a reset. */
export interface ResumePlan {
  /** True when the points do not continue the client's view (it must clear its chart). */
  reset: boolean;
  /** Points to send, in seq order. */
  points: HeldPoint[];
}

/** The last `perSeries` points of each of at most `maxSeries` series. */
export class History {
  #series = new Map<string, Ring>();
  /**
   * Highest seq the history cannot vouch for: dropped from it, or never received (before the first
   * point added, or inside a jump in the sequence). Resuming from below it would leave a gap.
   */
  #maxEvicted = 0;
  #lastSeq = 0;
  #count = 0;
  #seriesVersion = 0;

  constructor(readonly perSeries = 1000, readonly maxSeries = 1000) {
    if (!(perSeries >= 1) || !(maxSeries >= 1)) throw new RangeError("history sizes must be >= 1");
  }

  /** Last sequence number added. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Points held now. */
  get size(): number {
    return this.#count;
  }

  /** Series held now. */
  get seriesCount(): number {
    return this.#series.size;
  }

  /** Changes whenever a series is added or dropped (to tell clients the names again). */
  get seriesVersion(): number {
    return this.#seriesVersion;
  }

  /** Names of the series held now. */
  seriesNames(): string[] {
    return [...this.#series.keys()];
  }

  /**
   * Adds a point (seqs must increase). A seq that does not follow the last one (a gateway that
   * joined mid-stream, or missed points while its upstream was away) counts as a gap: clients
   * that stopped before it get a reset instead of a resume that would silently skip points.
   * `follows` overrides that test for seqs that jump by design (a JetStream gateway derives
   * them from stream sequences, `src/nats/codec.ts`): false counts a gap, true does not.
   */
  add(series: string, seq: number, json: string, follows = seq === this.#lastSeq + 1): void {
    if (!follows) this.#maxEvicted = Math.max(this.#maxEvicted, seq - 1);
    let ring = this.#series.get(series);
    if (!ring) {
      if (this.#series.size >= this.maxSeries) this.#evictStalestSeries();
      ring = new Ring(this.perSeries);
      this.#series.set(series, ring);
      this.#seriesVersion++;
    }
    const evicted = ring.push(seq, json);
    if (evicted >= 0) this.#maxEvicted = Math.max(this.#maxEvicted, evicted);
    else this.#count++;
    this.#lastSeq = seq;
  }

  /**
   * Declares every seq up to `seq` unknown (points lost in a crash, after those loaded from the
   * store): a client that resumes from below it gets a reset; the next point is `seq + 1`.
   */
  skipTo(seq: number): void {
    if (seq <= this.#lastSeq) return;
    this.#maxEvicted = Math.max(this.#maxEvicted, seq);
    this.#lastSeq = seq;
  }

  #evictStalestSeries(): void {
    let stalest: string | undefined;
    let stalestSeq = Infinity;
    for (const [name, ring] of this.#series) {
      if (ring.lastSeq < stalestSeq) {
        stalestSeq = ring.lastSeq;
        stalest = name;
      }
    }
    if (stalest === undefined) return;
    const ring = this.#series.get(stalest)!;
    this.#maxEvicted = Math.max(this.#maxEvicted, ring.lastSeq);
    this.#count -= ring.size;
    this.#series.delete(stalest);
    this.#seriesVersion++;
  }

  /** The held points of one series (none when it is not held), in seq order. */
  seriesPoints(series: string): HeldPoint[] {
    const out: HeldPoint[] = [];
    this.#series.get(series)?.collect(-Infinity, out);
    return out;
  }

  /** Every held point (of the series in `only`, when given), in seq order. */
  snapshot(only?: ReadonlySet<string>): HeldPoint[] {
    return this.after(0, only);
  }

  /** Held points with seq > `seq` (of the series in `only`, when given), in seq order. */
  after(seq: number, only?: ReadonlySet<string>): HeldPoint[] {
    const out: HeldPoint[] = [];
    let rings = 0;
    for (const [name, ring] of this.#series) {
      if (only && !only.has(name)) continue;
      ring.collect(seq, out);
      rings++;
    }
    if (rings > 1) out.sort((a, b) => a.seq - b.seq);
    return out;
  }

  /**
   * What to send a client that last saw `since` (undefined: a new client) and sees only the
   * series in `only` (when given). Exact when nothing after `since` was evicted; otherwise a
   * reset with everything held.
   */
  resume(since: number | undefined, only?: ReadonlySet<string>): ResumePlan {
    if (!this.canResume(since)) return { reset: true, points: this.snapshot(only) };
    return { reset: false, points: this.after(since!, only) };
  }

  /** Whether everything after `since` is still held (so a resume from it is exact). */
  canResume(since: number | undefined): boolean {
    return since !== undefined && since <= this.#lastSeq && since >= this.#maxEvicted;
  }
}
