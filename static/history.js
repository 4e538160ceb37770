// The page's side of GET /api/history: the URL of a range (JSON for a zoomed view, CSV for an
// export), and a one-range cache that a zoomed or panned view draws from when the page's own rings
// do not hold that range (older than what they keep, or live data that came decimated).

import { joinSeriesParam, MAX_SELECTED_SERIES } from "./protocol.js";
import { storeOf } from "./store.js";

/** Wait after the last zoom or pan step before fetching, ms (panning asks once, not per step). */
const FETCH_DELAY_MS = 150;
/** Share of the view's span fetched beyond each side, so small pans need no new request. */
const PAD = 0.5;
/** Most points per series the API answers (its `max_points` ceiling); a CSV asks for that many. */
export const MAX_POINTS = 100000;

/**
 * The /api/history URL for `names` over [from, to] (epoch ms): `maxPoints` per series (omitted:
 * the server's default, 2,000; more points come as min/max per bucket), `format` "json" or
 * "csv", `token` the page's viewer token (or null).
 */
export function historyUrl(names, from, to, opts = {}) {
  const q = ["series=" + joinSeriesParam(names), "from=" + Math.floor(from), "to=" + Math.ceil(to)];
  if (opts.maxPoints) {
    q.push("max_points=" + Math.min(MAX_POINTS, Math.max(2, Math.round(opts.maxPoints))));
  }
  if (opts.format === "csv") q.push("format=csv");
  if (opts.token) q.push("token=" + encodeURIComponent(opts.token));
  return "/api/history?" + q.join("&");
}

/**
 * Creates the cache. `hooks.token`: the viewer token (or null); `hooks.onChange()`: a fetch
 * finished (draw again) or failed (`error` says why).
 */
export function createHistory(hooks) {
  /** The last answer: { from, to, columns, names: Set, stores: Map, decimated, bucketMs }. */
  let held = null;
  let wanted = null;
  let timer = null;
  let inflight = null;
  let error = null;
  let fetches = 0;

  /** Whether the answer held serves a view of [from, to] over `columns` of `names`. */
  function serves(names, from, to, columns) {
    if (!held || from < held.from || to > held.to) return false;
    for (const n of names) if (!held.names.has(n)) return false;
    // Zoomed in past the answer's buckets: a finer one is needed.
    return !held.decimated || held.bucketMs <= (2 * (to - from)) / columns;
  }

  async function run() {
    timer = null;
    const w = wanted;
    if (!w) return;
    inflight?.abort();
    const ac = new AbortController();
    inflight = ac;
    const span = w.to - w.from;
    const from = w.from - span * PAD;
    const to = w.to + span * PAD;
    const columns = w.columns * (1 + 2 * PAD);
    const stores = new Map();
    let decimated = false;
    let bucketMs = 0;
    fetches++;
    try {
      // The API takes as many names as a selection: larger panels go in several requests.
      for (let i = 0; i < w.names.length; i += MAX_SELECTED_SERIES) {
        const part = w.names.slice(i, i + MAX_SELECTED_SERIES);
        const url = historyUrl(part, from, to, { maxPoints: 2 * columns, token: hooks.token });
        const res = await fetch(url, { signal: ac.signal });
        if (!res.ok) {
          const why = (await res.text()).trim().slice(0, 200);
          throw new Error("history " + res.status + (why ? ": " + why : ""));
        }
        const body = await res.json();
        for (const s of Array.isArray(body.series) ? body.series : []) {
          if (typeof s.name !== "string" || !Array.isArray(s.points)) continue;
          stores.set(s.name, storeOf(s.points));
          if (s.decimated) {
            decimated = true;
            bucketMs = Math.max(bucketMs, Number(s.bucket_ms) || 0);
          }
        }
      }
      if (inflight !== ac) return;
      inflight = null;
      error = null;
      held = { from, to, columns, names: new Set(w.names), stores, decimated, bucketMs };
    } catch (err) {
      if (ac.signal.aborted) return;
      inflight = null;
      error = err instanceof Error ? err.message : String(err);
    }
    hooks.onChange();
  }

  return {
    /**
     * The view shows `names` over [from, to] on `columns` pixel columns: fetch it unless the
     * answer held serves it (or the same request is on its way).
     */
    want(names, from, to, columns) {
      if (serves(names, from, to, columns)) return;
      const w = wanted;
      if (
        w && (inflight || timer !== null) && w.from === from && w.to === to &&
        w.names.join("\n") === names.join("\n")
      ) return;
      wanted = { names: names.slice(), from, to, columns };
      clearTimeout(timer);
      timer = setTimeout(run, FETCH_DELAY_MS);
    },
    /** The fetched points of `name` when they serve [from, to], else undefined. */
    storeFor(name, from, to, columns) {
      if (!held || !held.stores.has(name) || !serves([name], from, to, columns)) return undefined;
      return held.stores.get(name);
    },
    /** Whether the answer drawn is min/max per bucket, and the bucket (ms). */
    decimation(names, from, to, columns) {
      if (!held || !held.decimated || !serves(names, from, to, columns)) return null;
      return { bucketMs: held.bucketMs };
    },
    /** Forgets the answer and any request (back to live, clear, reset). */
    clear() {
      clearTimeout(timer);
      timer = null;
      inflight?.abort();
      inflight = null;
      held = null;
      wanted = null;
      error = null;
    },
    /** A request waiting or on its way. */
    get loading() {
      return timer !== null || inflight !== null;
    },
    /** Why the last fetch failed, or null. */
    get error() {
      return error;
    },
    /** Fetches started so far (for tests). */
    get fetches() {
      return fetches;
    },
  };
}
