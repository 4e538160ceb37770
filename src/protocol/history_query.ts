/**
 * The history API's wire format: `GET /api/history?series=a,b&from=<ms>&to=<ms>&max_points=<n>
 * [&format=csv]`, parsed and checked, and its answer as JSON or CSV. Pure: no I/O.
 *
 * - `series`: the names, as on `/ws` (`?series=a,b`, each name percent-encoded, several
 *   parameters add up; `?series=` names none). Absent: every series the server holds that the
 *   token may see. A name the token may not see is left out, as on `/ws`.
 * - `from`, `to`: the x range in epoch ms (decimals allowed), both ends included. Absent:
 *   everything held on that side.
 * - `max_points`: most points per series, from 2 to {@link MAX_MAX_POINTS} (default
 *   {@link DEFAULT_MAX_POINTS}). A series with more in the range comes as the min and the max of
 *   each of `floor(max_points / 2)` buckets (`buckets.ts`), marked `"decimated":true` with the
 *   bucket width.
 * - `format`: `json` (default) or `csv`.
 * - `token`: the viewer token when auth is on (or an `Authorization: Bearer` header).
 *
 * JSON answer: `{"from":F,"to":T,"series":[{"name":"a","unit":"°C"|null,"decimated":false,
 * "points":[[x,y],…]},…]}`, series sorted by name, points in x order; a decimated series also has
 * `"bucket_ms":B`. F and T are the range asked for, or the first and last x held when not given
 * (`null` when nothing is held). CSV answer: a header line `series,x,y`, then one line per point.
 *
 * @module
 */
import { DEFAULT_MAX_POINTS, MAX_MAX_POINTS } from "./buckets.ts";
import { seriesFromUrl } from "./client_messages.ts";

/** A checked history request. */
export interface HistoryQuery {
  /** The series asked for (undefined: all). */
  series?: ReadonlySet<string>;
  /** Lowest x, epoch ms (undefined: from the first point held). */
  from?: number;
  /** Highest x, epoch ms (undefined: up to the last point held). */
  to?: number;
  /** Most points per series before min/max buckets. */
  maxPoints: number;
  /** The answer's format. */
  format: "json" | "csv";
}

/** One series of an answer. */
export interface HistorySeries {
  name: string;
  unit: string | null;
  decimated: boolean;
  /** The bucket width in ms (decimated series only). */
  bucketMs?: number;
  /** `[x, y]` in x order. */
  points: [number, number][];
}

/** A whole answer. */
export interface HistoryAnswer {
  from: number | null;
  to: number | null;
  series: HistorySeries[];
}

/** The query parameters the API knows; any other is refused (a typo would go unnoticed). */
const KNOWN = new Set(["series", "from", "to", "max_points", "format", "token"]);
/** A number of ms as a query parameter: optional minus, digits, optional decimals. */
const MS = /^-?\d{1,16}(\.\d{1,6})?$/;

/** Parses the query string of `url`; a string is the one-line reason of a 400. */
export function parseHistoryQuery(url: URL): HistoryQuery | string {
  const p = url.searchParams;
  for (const key of new Set(p.keys())) {
    if (!KNOWN.has(key)) return `unknown parameter "${key.slice(0, 40)}"`;
    if (key !== "series" && p.getAll(key).length > 1) return `parameter "${key}" given twice`;
  }
  const series = seriesFromUrl(url);
  if (series && "error" in series) return series.error;
  const ms = (key: "from" | "to"): number | undefined | string => {
    const raw = p.get(key);
    if (raw === null) return undefined;
    if (!MS.test(raw)) return `${key} must be a time in epoch ms, got "${raw.slice(0, 40)}"`;
    return Number(raw);
  };
  const from = ms("from");
  if (typeof from === "string") return from;
  const to = ms("to");
  if (typeof to === "string") return to;
  if (from !== undefined && to !== undefined && from > to) {
    return `from (${from}) is after to (${to})`;
  }
  let maxPoints = DEFAULT_MAX_POINTS;
  const rawMax = p.get("max_points");
  if (rawMax !== null) {
    maxPoints = /^\d{1,7}$/.test(rawMax) ? Number(rawMax) : NaN;
    if (!(maxPoints >= 2 && maxPoints <= MAX_MAX_POINTS)) {
      return `max_points must be an integer from 2 to ${MAX_MAX_POINTS}, got "${
        rawMax.slice(0, 40)
      }"`;
    }
  }
  const format = p.get("format") ?? "json";
  if (format !== "json" && format !== "csv") {
    return `format must be json or csv, got "${format.slice(0, 40)}"`;
  }
  return { series, from, to, maxPoints, format };
}

/** The JSON answer. */
export function historyJson(a: HistoryAnswer): string {
  const parts = a.series.map((s) =>
    `{"name":${JSON.stringify(s.name)},"unit":${
      JSON.stringify(s.unit)
    },"decimated":${s.decimated}` +
    (s.decimated ? `,"bucket_ms":${s.bucketMs}` : "") +
    `,"points":[${s.points.map(([x, y]) => `[${x},${y}]`).join(",")}]}`
  );
  return `{"from":${a.from},"to":${a.to},"series":[${parts.join(",")}]}\n`;
}

/** The CSV answer: `series,x,y`, then one line per point (names quoted when they need it). */
export function historyCsv(a: HistoryAnswer): string {
  const lines = ["series,x,y"];
  for (const s of a.series) {
    const name = csvField(s.name);
    for (const [x, y] of s.points) lines.push(`${name},${x},${y}`);
  }
  return lines.join("\n") + "\n";
}

/** A CSV field (RFC 4180): quoted, with quotes doubled, when it holds a comma, quote or newline. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
