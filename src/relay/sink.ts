/**
 * What the sequencer (`sequencer.ts`) hands sequenced points to: the sink interface and the two
 * shapes of a run of points, one object per point or columns. Imports nothing, so the store's
 * writer (which takes runs, `src/store/chunks.ts`) loads no more than it needs in its Worker.
 *
 * @module
 */

/**
 * Where sequenced points also go (the point store, `src/store/writer_thread.ts`): `reserve` is
 * asked before a seq is used, `append` gets each point once it has its seq.
 */
export interface SequenceSink {
  /**
   * Whether `seq` may be used; false: it is past what was made durable, and the cut stops before
   * it (`Sequencer.blocked`) until the sink has reserved more.
   */
  reserve(seq: number): boolean;
  append(series: string, seq: number, x: number, y: number): void;
  /**
   * The highest seq {@link reserve} would accept now without asking (optional: without it,
   * `reserve` is asked for every seq).
   */
  reservedUpTo?(): number;
  /**
   * {@link append} for `points[from..to)`, whose seqs run from `firstSeq` (optional: without it,
   * `append` is called per point).
   */
  appendRun?(points: SinkPoints, from: number, to: number, firstSeq: number): void;
}

/** What a {@link SequenceSink} reads of a point. */
export interface SinkPoint {
  series: string;
  x: number;
  y: number;
}

/** A run of points a {@link SequenceSink} takes: one object per point, or columns. */
export type SinkPoints = readonly SinkPoint[] | SinkColumns;

/** Points as columns (`PackedPoints` are): point `i` is `series[i]`, `xy[2i]`, `xy[2i + 1]`. */
export interface SinkColumns {
  readonly series: readonly string[];
  readonly xy: Float64Array;
}

/** Whether `points` are columns (else one object per point). */
export function isColumns(points: SinkPoints): points is SinkColumns {
  return !Array.isArray(points);
}
