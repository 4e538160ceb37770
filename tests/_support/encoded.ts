/**
 * What `parseEncoded` made of a message, read back as clients get it: each point's client JSON,
 * written by the bus's own encoder (`BusBatchBuilder`, objects or packed alike) and split by its
 * decoder.
 *
 * @module
 */
import { type EncodedPoints, isPacked } from "../../src/protocol/ingress.ts";
import { BusBatchBuilder } from "../../src/protocol/bus_encode.ts";
import { decodeBus, pointJson } from "../../src/protocol/bus_decode.ts";
import { withSeq } from "../../src/protocol/frames.ts";

/** Each point's client JSON, with seqs from `firstSeq`. */
export function encodedJson(points: EncodedPoints, firstSeq = 1): string[] {
  const b = new BusBatchBuilder();
  if (isPacked(points)) {
    const n = b.addPacked(points, 0, points.length, firstSeq);
    if (n < points.length) throw new Error(`${points.length} points do not fit one batch`);
  } else points.forEach((p, i) => b.add(withSeq(firstSeq + i, p.tail), p.series));
  const m = decodeBus(b.finish("test", firstSeq));
  if (m.kind !== "batch") throw new Error(`not a batch: ${m.kind}`);
  return Array.from({ length: m.batch.count }, (_, i) => pointJson(m.batch, i));
}

/** Each point's client JSON after its seq field (`"x":…,"y":…,"series":…}`). */
export function encodedTails(points: EncodedPoints): string[] {
  return encodedJson(points).map((j) => j.replace(/^\{"seq":\d+,/, ""));
}

/** Each point's series. */
export function encodedSeries(points: EncodedPoints): string[] {
  return isPacked(points) ? [...points.series] : points.map((p) => p.series);
}
