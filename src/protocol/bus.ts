/**
 * The points bus codec: the one definition of the ZeroMQ messages that carry sequenced points from
 * the relay to the bridge (inproc), and from the forwarder to gateways (TCP): its format, constants
 * and types. Every producer of the bus encodes with `bus_encode.ts`, every consumer decodes with
 * `bus_decode.ts`. Pure: no I/O, imports nothing.
 *
 * ## Wire format (version 1)
 *
 * One ZeroMQ message carries a **batch**: up to {@link BUS_BATCH_POINTS} points with consecutive
 * seqs, in seq order. Four frames, a fifth when the batch mixes series:
 *
 * | # | frame    | content |
 * | - | -------- | ------- |
 * | 0 | `topic`  | the series of every point (UTF-8), or {@link MIXED_TOPIC} (`"\x01"`) when the batch mixes series or carries no point (a heartbeat). First, so it is the ZeroMQ topic: XPUB/XSUB proxies pass a subscriber's series upstream. A subscriber to some series also subscribes to `"\x01"` and picks points by frame 4. |
 * | 1 | `header` | ASCII `"1 <firstSeq> <count> <epoch>"`: the format version, the seq of the first point (decimal), how many points (decimal, 0 for a heartbeat), the sequencer's run id (at most 64 bytes, no space). |
 * | 2 | `body`   | the points as browsers receive them (`{"seq":…,"x":…,"y":…,"series":…}`, see `frames.ts`), joined by `","`: a `points` frame for clients that see every series is `{"type":"points","points":[` + bodies joined by `","` + `]}`, with no work per point. |
 * | 3 | `index`  | per point, its end offset in `body` decoded as a string (UTF-16 code units), in decimal ASCII, joined by `","` (text, not binary: zeromq.js sends a buffer over 128 bytes without copying it, and under Deno that corrupts the heap; strings are copied). Point `i` is `body.slice(i === 0 ? 0 : end[i-1] + 1, end[i])`. |
 * | 4 | `series` | mixed batches only: the batch's distinct series, joined by `"\n"`, then `"\n\n"`, then each point's index into that list as a decimal digit string joined by `","`. |
 *
 * - Seqs are assigned once, by the one relay that validated the points; within an epoch they go
 *   up by exactly 1 per point, batch after batch, so a gap in them means points were missed.
 * - A **heartbeat** is a batch of count 0 (`firstSeq` = last seq assigned + 1, empty body and
 *   index), topic `"\x01"`: the relay sends one when idle, so a consumer can tell "quiet" from
 *   "dead" (`/healthz`).
 * - **Units** (`encodeUnits`): three frames, `"\x01"`, `"1 units <epoch>"` and a JSON
 *   object `{"<series>":"<unit>",…}`: the unit producers last sent for those series. The relay
 *   sends the ones that changed as they change, and all of them every {@link UNITS_REFRESH_MS} (a
 *   gateway that joins later learns them). Points themselves never carry a unit. A consumer of an
 *   older version counts one as invalid and goes on.
 * - **End of stream** ({@link END_OF_STREAM}): `["", ""]`, an empty topic and an empty header. It
 *   ends the bridge's receive loop; the relay sends it when it stops. A forwarder never sends one
 *   on its egress (gateways keep following across its restarts); a gateway sends its own into its
 *   upstream proxy when it shuts down.
 *
 * Why batches: a ZeroMQ message costs the receiving thread a few microseconds whatever it holds,
 * and the bridge's work per batch (one header parse, one frame built per series set) dwarfs its
 * work per point (a string slice into the history), so the cost is per batch plus a little per
 * point. Nothing is `JSON.parse`d on the way.
 *
 * @module
 */

/** Most points in one bus message. */
export const BUS_BATCH_POINTS = 512;
/** A batch takes no further point once its body reaches this many UTF-16 code units. */
export const BUS_BATCH_CHARS = 64 * 1024;
/** The topic of a batch whose points mix series, and of heartbeats. */
export const MIXED_TOPIC = "\x01";
/** The wire format version, the first field of the header. */
export const BUS_VERSION = 1;
/** Longest epoch, in bytes. */
export const MAX_EPOCH_LENGTH = 64;

/** The end-of-stream message: an empty topic and an empty header. */
export const END_OF_STREAM: readonly string[] = Object.freeze(["", ""]);

/** A frame as it comes off a ZeroMQ socket (a `Buffer`) or goes onto one. */
export type Frame = Uint8Array | string;

/** The frames of one encoded bus message, ready for `socket.send()`. */
export type BusFrames = [topic: string, header: string, body: string, index: string] | [
  topic: string,
  header: string,
  body: string,
  index: string,
  series: string,
];

/** A decoded batch: per-batch fields, and per-point access that costs a slice. */
export interface BusBatch {
  /** The sequencer's run id. */
  readonly epoch: string;
  /** Seq of the first point (for a heartbeat: the next seq to be assigned). */
  readonly firstSeq: number;
  /** How many points (0: a heartbeat). */
  readonly count: number;
  /** The points' client JSON joined by `","` (see the module doc). */
  readonly body: string;
  /** Each point's end offset in `body`. */
  readonly ends: Uint32Array;
  /** Distinct series in the batch, in first-seen order (one entry unless mixed). */
  readonly seriesNames: readonly string[];
  /** Each point's index into `seriesNames`; undefined when the batch has one series. */
  readonly seriesIndex?: Uint16Array;
}

/** What `decodeBus` (`bus_decode.ts`) returns: a batch, units, the end of stream, or why it is none. */
export type BusMessage =
  | { kind: "batch"; batch: BusBatch }
  | { kind: "units"; epoch: string; units: [series: string, unit: string][] }
  | { kind: "end" }
  | { kind: "invalid"; reason: string };

/** How often the relay sends every unit it knows again, in ms. */
export const UNITS_REFRESH_MS = 10_000;
/** The header word of a units message. */
export const UNITS_WORD = "units";
