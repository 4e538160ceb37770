// The series the page knows, and how it shows them: every name the server holds (its
// series_list frames: what this page may see) and their units, the selection this page asked
// for (?series=, the legend), the names drawn and listed, and a colour per name that stays put
// while the server holds the series. The parsing and ordering rules are pure
// (tests/unit/catalog_test.ts).

/** Line colours that read on light and dark backgrounds; more series get generated hues. */
export const PALETTE = Object.freeze([
  "#2f81f7",
  "#f0883e",
  "#3fb950",
  "#db61a2",
  "#a371f7",
  "#e5534b",
  "#39c5cf",
  "#d29922",
]);

/** The colour of the `i`-th name given one: the palette, then hues spread by the golden angle. */
export function paletteColor(i) {
  return i < PALETTE.length ? PALETTE[i] : "hsl(" + Math.round((i * 137.5) % 360) + " 65% 55%)";
}

/**
 * What a series_list frame says: `names` (its string entries) and `units` (a Map name -> unit,
 * non-empty strings only; producers send an optional `unit`).
 */
export function parseSeriesList(msg) {
  const names = msg.series.filter((s) => typeof s === "string");
  const units = new Map();
  if (msg.units && typeof msg.units === "object") {
    for (const [name, unit] of Object.entries(msg.units)) {
      if (typeof unit === "string" && unit !== "") units.set(name, unit);
    }
  }
  return { names: names, units: units };
}

/** `sorted` (names in name order), most active first by `activityOf(name)`, then by name. */
export function rankByActivity(sorted, activityOf) {
  const rank = new Map(sorted.map((n) => [n, activityOf(n)]));
  return sorted.slice().sort((a, b) => rank.get(b) - rank.get(a) || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Creates the catalog over `series` (store.js's SeriesSet, the rings) with `selection` (a Set of
 * names, or null: every series).
 */
export function createCatalog(series, selection) {
  /** Names of every series the server holds. */
  let known = [];
  /** name -> unit, from the series_list frames. */
  let units = new Map();
  /**
   * name -> colour, assigned when the legend first lists a name, in name order (the first legend
   * usually holds every series, so the same series get the same colours on every page), and
   * kept while the server holds the series, so toggling or new series never repaint the others.
   */
  const colors = new Map();
  let colorsGiven = 0;

  function colorOf(name) {
    let c = colors.get(name);
    if (!c) {
      c = paletteColor(colorsGiven++);
      colors.set(name, c);
    }
    return c;
  }

  /** Every name the page knows of: listed by the server or held. */
  function allNames() {
    const names = new Set(known);
    for (const n of series.names()) names.add(n);
    return names;
  }

  return {
    colorOf: colorOf,
    /** The unit of `name`, "" for none. */
    unitOf(name) {
      return units.get(name) || "";
    },
    /** The series drawn: every one the page knows of (held or listed), within the selection. */
    drawnNames() {
      const names = Array.from(allNames());
      return selection === null ? names : names.filter((n) => selection.has(n));
    },
    /** Every name to list in the legend, most active first (then by name). */
    legendNames() {
      const names = allNames();
      if (selection) { for (const n of selection) names.add(n); }
      const sorted = Array.from(names).sort();
      for (const name of sorted) colorOf(name); // name order: stable colours
      return rankByActivity(sorted, (n) => {
        const s = series.get(n);
        return s ? s.activity + s.recent : -1;
      });
    },
    /** Takes a series_list frame: the names and units now, and forgets the series gone. */
    setList(msg) {
      const list = parseSeriesList(msg);
      known = list.names;
      units = list.units;
      // What the server no longer holds goes here too (frames arrive in order: a series whose
      // points came before this list and is not on it was dropped by the server).
      const held = new Set(known);
      series.retain((name) => held.has(name));
      for (const name of Array.from(colors.keys())) {
        if (!held.has(name) && !(selection && selection.has(name))) colors.delete(name);
      }
    },
    /** Asks for `next` (a Set, or null: every series); the rings keep only what it holds. */
    select(next) {
      selection = next;
      if (selection !== null) series.retain((name) => selection.has(name));
    },
    /** The selection: a Set, or null for every series. */
    get selection() {
      return selection;
    },
    /** Names of every series the server holds. */
    get known() {
      return known;
    },
    /** name -> unit. */
    get units() {
      return units;
    },
    /** Colours kept. */
    get colorCount() {
      return colors.size;
    },
  };
}
