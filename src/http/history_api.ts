/**
 * `GET /api/history`: what the server holds of some series over an x range, all of it or min/max
 * per bucket (`protocol/buckets.ts`), as JSON or CSV (the format: `protocol/history_query.ts`).
 * It reads the bridge's in-memory history and, with persistence on, the point store (through the
 * relay worker, which owns it), so ranges older than memory are served too. The checks (host,
 * origin, token, limits) are the handler's (`http/handler.ts`), as for `/ws`.
 *
 * @module
 */
import type { HeldPoint } from "../hub/history.ts";
import { decimate } from "../protocol/buckets.ts";
import { readXY } from "../protocol/frames.ts";
import {
  type HistoryAnswer,
  historyCsv,
  historyJson,
  type HistoryQuery,
  type HistorySeries,
} from "../protocol/history_query.ts";
import type { RangeAnswer, RangeQuery } from "../store/range.ts";

/** What the API reads from the bridge. */
export interface HeldHistory {
  /** Names of the series held in memory. */
  heldSeriesNames(): string[];
  /** The held points of one series, in seq order. */
  heldPoints(series: string): readonly HeldPoint[];
  /** The last unit seen for a series, if any. */
  unitOf(series: string): string | undefined;
}

/**
 * Reads the store: null when there is none (persistence off, or failed), undefined when it did
 * not answer (the relay worker is restarting), `tooMany` when the range holds more stored points
 * than one request may read.
 */
export type StoreRangeReader = (q: RangeQuery) => Promise<RangeAnswer | null | undefined>;

/** An answer ready to send: status, content type, body. */
export interface HistoryResponse {
  status: 200 | 400 | 503;
  type: string;
  body: string;
}

/** One series' points gathered from memory and store (parallel arrays, any order). */
interface Gathered {
  xs: number[];
  ys: number[];
}

/**
 * Answers a checked request: `allowed` is what the viewer's token lets it see (null: all),
 * `store` reads the point store when persistence is on.
 */
export async function answerHistory(
  q: HistoryQuery,
  allowed: ReadonlySet<string> | null,
  held: HeldHistory,
  store?: StoreRangeReader,
): Promise<HistoryResponse> {
  const from = q.from ?? -Infinity;
  const to = q.to ?? Infinity;
  const visible = (n: string) => !allowed || allowed.has(n);
  const asked = q.series ? [...q.series].filter(visible) : undefined;
  const gathered = new Map<string, Gathered>();
  for (const n of asked ?? []) gathered.set(n, { xs: [], ys: [] });
  const skip: Record<string, [number, number]> = Object.create(null);
  for (const name of asked ?? held.heldSeriesNames().filter(visible)) {
    const points = held.heldPoints(name);
    let g = gathered.get(name);
    if (!g && points.length > 0) gathered.set(name, g = { xs: [], ys: [] });
    if (!g || points.length === 0) continue;
    skip[name] = [points[0].seq, points[points.length - 1].seq];
    for (const p of points) {
      const { x, y } = readXY(p.json);
      if (x >= from && x <= to) {
        g.xs.push(x);
        g.ys.push(y);
      }
    }
  }
  if (store && (asked === undefined || asked.length > 0)) {
    const stored = await store({
      series: asked ?? null,
      allowed: allowed ? [...allowed] : null,
      ...(q.from !== undefined ? { from: q.from } : {}),
      ...(q.to !== undefined ? { to: q.to } : {}),
      skip,
    });
    if (stored === undefined) {
      return { status: 503, type: "text/plain; charset=utf-8", body: "the store did not answer\n" };
    }
    if (stored !== null && "tooMany" in stored) {
      return {
        status: 400,
        type: "text/plain; charset=utf-8",
        body: `the range holds more than ${stored.tooMany} stored points: ask for fewer series ` +
          `or a shorter range (from, to)\n`,
      };
    }
    for (const s of stored ?? []) {
      if (!visible(s.name)) continue;
      let g = gathered.get(s.name);
      if (!g) gathered.set(s.name, g = { xs: [], ys: [] });
      for (let i = 0; i < s.xy.length; i += 2) {
        g.xs.push(s.xy[i]);
        g.ys.push(s.xy[i + 1]);
      }
    }
  }
  const answer = buildAnswer(q, gathered, held);
  return q.format === "csv"
    ? { status: 200, type: "text/csv; charset=utf-8", body: historyCsv(answer) }
    : { status: 200, type: "application/json", body: historyJson(answer) };
}

/** Sorts each series by x, finds the range, and decimates what does not fit. */
function buildAnswer(
  q: HistoryQuery,
  gathered: Map<string, Gathered>,
  held: HeldHistory,
): HistoryAnswer {
  const sorted = new Map<string, { xs: Float64Array; ys: Float64Array }>();
  let lo = Infinity;
  let hi = -Infinity;
  for (const [name, g] of gathered) {
    const n = g.xs.length;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    // Arrival order within equal x (a stable sort).
    order.sort((a, b) => g.xs[a] - g.xs[b] || a - b);
    const xs = new Float64Array(n);
    const ys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      xs[i] = g.xs[order[i]];
      ys[i] = g.ys[order[i]];
    }
    if (n > 0) {
      lo = Math.min(lo, xs[0]);
      hi = Math.max(hi, xs[n - 1]);
    }
    sorted.set(name, { xs, ys });
  }
  const from = q.from ?? (lo === Infinity ? null : lo);
  const to = q.to ?? (hi === -Infinity ? null : hi);
  const series: HistorySeries[] = [];
  for (const name of [...sorted.keys()].sort()) {
    const { xs, ys } = sorted.get(name)!;
    const d = decimate(xs, ys, from ?? 0, to ?? 0, q.maxPoints);
    series.push({
      name,
      unit: held.unitOf(name) ?? null,
      decimated: d.decimated,
      ...(d.decimated ? { bucketMs: d.bucketMs } : {}),
      points: d.points,
    });
  }
  return { from, to, series };
}
