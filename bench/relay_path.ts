/**
 * Micro benchmark of the relay's per-point path, no sockets: a W6-like producer message (100
 * points, one JSON array) -> `parseEncoded` -> `Sequencer.offer` -> `Sequencer.cut` (bus frames),
 * in points/s of one thread. Two kinds of payload, timed in alternating slices so a busy
 * machine slows both alike: compact (the scanner's fast path, the producer's number text reused)
 * and the same with a space after `[` (the general path: `JSON.parse`, numbers formatted again).
 *
 * `deno run bench/relay_path.ts [--seconds 3] [--per-message 100] [--series 1]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { parseEncoded } from "../src/protocol/ingress.ts";
import { Sequencer } from "../src/relay/sequencer.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "3" },
    "per-message": { type: "string", default: "100" },
    series: { type: "string", default: "1" },
  },
});
const seconds = Number(values.seconds);
const perMessage = Number(values["per-message"]);
const seriesCount = Number(values.series);

/** A set of distinct messages, built as bench/producer_load.ts builds them (x: now, sub-ms). */
function messages(n: number, lead: string): Uint8Array[] {
  const enc = new TextEncoder();
  const names = Array.from({ length: seriesCount }, (_, i) => JSON.stringify(`s${i}`));
  const out: Uint8Array[] = [];
  let y = 0;
  for (let m = 0; m < n; m++) {
    const t = performance.timeOrigin + performance.now() + m * 0.013;
    const parts: string[] = [];
    for (let k = 0; k < perMessage; k++, y++) {
      parts.push(`{"x":${t},"y":${y},"series":${names[y % seriesCount]}}`);
    }
    out.push(enc.encode(`[${lead}${parts.join(",")}]`));
  }
  return out;
}

const kinds = { compact: messages(256, ""), general: messages(256, " ") };
const seq = new Sequencer("bench", 0, 1_000_000);
let bytes = 0;
/** Points through the path in `ms` of `msgs`. */
const run = (msgs: Uint8Array[], ms: number) => {
  const t0 = performance.now();
  let n = 0;
  let i = 0;
  while (performance.now() - t0 < ms) {
    for (let k = 0; k < 16; k++) {
      const parsed = parseEncoded([msgs[i++ & 255]], 1 << 20, { windowMs: 86_400_000 });
      if (parsed.rejected.length) throw new Error(parsed.rejected[0].detail);
      seq.offer(parsed.points);
      n += parsed.points.length;
      for (let b = seq.cut(); b; b = seq.cut()) bytes += b.frames[2].length;
    }
  }
  return { n, sec: (performance.now() - t0) / 1000 };
};
run(kinds.compact, 300); // warm-up
run(kinds.general, 300);
const total = { compact: { n: 0, sec: 0 }, general: { n: 0, sec: 0 } };
for (let t = 0; t < seconds * 1000; t += 400) {
  for (const k of ["compact", "general"] as const) {
    const r = run(kinds[k], 200);
    total[k].n += r.n;
    total[k].sec += r.sec;
  }
}
const rate = (k: "compact" | "general") => total[k].n / total[k].sec;
for (const k of ["compact", "general"] as const) {
  console.log(
    `relay path, ${k}: ${Math.round(rate(k)).toLocaleString("en-US")} points/s ` +
      `(${(1e6 / rate(k)).toFixed(3)} us/point, ${perMessage} per message, ${seriesCount} series)`,
  );
}
console.log(
  `compact / general: ${(rate("compact") / rate("general")).toFixed(2)}x; ` +
    `body ${(bytes / (total.compact.n + total.general.n)).toFixed(1)} chars/point`,
);
