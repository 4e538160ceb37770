// Panels layout: which series go on which stacked chart, and the `?panels=` parameter that keeps
// it in the address. Pure: no DOM, no I/O (tests/unit/layout_test.ts).
//
// Default grouping, with no configuration: a series named `prefix/rest` goes to the panel
// `prefix` (`cpu/user` -> `cpu`), any other name to the default panel, written `*`.
//
// `?panels=` syntax: panels separated by `;`, in the order they are stacked; each is a title,
// optionally followed by `:` and the series pinned to it, separated by `,`:
//
//   ?panels=*;net:cpu/user,disk/read;cpu
//
// stacks the default panel, then `net` (its own `net/...` series plus `cpu/user` and `disk/read`),
// then `cpu`. Series not pinned go where the default grouping puts them; panels that are not
// listed come after the listed ones (the default panel first, then by title). Titles and names are
// percent-encoded (`encodeURIComponent`, with `/` left as it is), so a name holding `;`, `:` or
// `,` survives (a series `*/x` has the prefix `*`: it goes to the default panel). Titles follow
// the rules of series names (protocol.js). A part that cannot be decoded is skipped, the rest
// applies.

import { seriesProblem } from "./protocol.js";

/**
 * @typedef {{ order: string[], pins: Map<string, string> }} Layout The panels listed, in order,
 *   and the series pinned to a panel (name -> title).
 * @typedef {{ title: string, names: string[] }} Group One panel and the series it draws.
 */

/** The title of the default panel (series without a prefix) in `?panels=`. */
export const DEFAULT_PANEL = "*";
/** Most panels a layout lists; more in an address are ignored. */
export const MAX_PANELS = 24;

/**
 * The panel the default grouping gives `name`: its prefix before "/", or the default panel.
 * @param {string} name
 * @returns {string}
 */
export function defaultPanelOf(name) {
  const i = name.indexOf("/");
  return i > 0 && i < name.length - 1 ? name.slice(0, i) : DEFAULT_PANEL;
}

/**
 * A layout with nothing pinned: every series where the default grouping puts it.
 * @returns {Layout}
 */
export function emptyLayout() {
  return { order: [], pins: new Map() };
}

/**
 * Percent-encodes a title or name for `?panels=` (`encodeURIComponent`, but `/` stays).
 * @param {string} s
 * @returns {string}
 */
export function encodePart(s) {
  return encodeURIComponent(s).replaceAll("%2F", "/");
}

function decodePart(s) {
  return decodeURIComponent(s.replaceAll("+", " "));
}

/**
 * Reads `?panels=` from a query string (with or without "?"). `found`: whether the parameter was
 * there; `malformed`: parts skipped (broken encoding, bad titles or names). The first `panels`
 * parameter counts; a series pinned twice stays where it was pinned first.
 * @param {string} search
 * @returns {{ found: boolean, layout: Layout, malformed: number }}
 */
export function parsePanelsParam(search) {
  const query = search.charAt(0) === "?" ? search.slice(1) : search;
  const out = { found: false, layout: emptyLayout(), malformed: 0 };
  if (query === "") return out;
  const pair = query.split("&").find((p) => p === "panels" || p.startsWith("panels="));
  if (pair === undefined) return out;
  out.found = true;
  const raw = pair.slice("panels=".length);
  const { order, pins } = out.layout;
  for (const part of raw.split(";")) {
    if (part === "") continue;
    if (order.length >= MAX_PANELS) {
      out.malformed++;
      continue;
    }
    const colon = part.indexOf(":");
    let title;
    try {
      title = decodePart(colon < 0 ? part : part.slice(0, colon));
    } catch (_err) {
      out.malformed++;
      continue;
    }
    if (seriesProblem(title) !== undefined || order.includes(title)) {
      out.malformed++;
      continue;
    }
    order.push(title);
    if (colon < 0) continue;
    for (const item of part.slice(colon + 1).split(",")) {
      if (item === "") continue;
      let name;
      try {
        name = decodePart(item);
      } catch (_err) {
        out.malformed++;
        continue;
      }
      if (seriesProblem(name) !== undefined) out.malformed++;
      else if (!pins.has(name) && defaultPanelOf(name) !== title) pins.set(name, title);
    }
  }
  return out;
}

/**
 * Writes a layout as the value of `?panels=` (the inverse of {@link parsePanelsParam}), or "" when
 * it is the default grouping in the default order (the address then needs no parameter).
 * @param {Layout} layout
 * @returns {string}
 */
export function formatPanelsParam(layout) {
  const pinned = new Map();
  for (const [name, title] of layout.pins) {
    if (defaultPanelOf(name) === title) continue;
    if (!pinned.has(title)) pinned.set(title, []);
    pinned.get(title).push(name);
  }
  if (pinned.size === 0 && isNaturalOrder(layout.order)) return "";
  const titles = layout.order.slice();
  for (const title of Array.from(pinned.keys()).sort()) {
    if (!titles.includes(title)) titles.push(title);
  }
  return titles.map((title) => {
    const names = pinned.get(title);
    const head = encodePart(title);
    return names ? head + ":" + names.sort().map(encodePart).join(",") : head;
  }).join(";");
}

/** The order panels take when nothing is listed: the default panel first, then by title. */
function naturalCompare(a, b) {
  if (a === b) return 0;
  if (a === DEFAULT_PANEL) return -1;
  if (b === DEFAULT_PANEL) return 1;
  return a < b ? -1 : 1;
}

function isNaturalOrder(order) {
  for (let i = 1; i < order.length; i++) {
    if (naturalCompare(order[i - 1], order[i]) > 0) return false;
  }
  return true;
}

/**
 * The panel `name` is drawn in under `layout`.
 * @param {Layout} layout
 * @param {string} name
 * @returns {string}
 */
export function panelOf(layout, name) {
  return layout.pins.get(name) ?? defaultPanelOf(name);
}

/**
 * Groups `names` (the series to draw) into panels: `[{ title, names }]` in stacking order, each
 * panel's names sorted; panels without a series are left out.
 * @param {Layout} layout
 * @param {Iterable<string>} names
 * @returns {Group[]}
 */
export function groupSeries(layout, names) {
  const groups = new Map();
  for (const name of names) {
    const title = panelOf(layout, name);
    if (!groups.has(title)) groups.set(title, []);
    groups.get(title).push(name);
  }
  const listed = layout.order.filter((t) => groups.has(t));
  const others = Array.from(groups.keys()).filter((t) => !layout.order.includes(t)).sort(
    naturalCompare,
  );
  return listed.concat(others).map((title) => ({ title, names: groups.get(title).sort() }));
}

/**
 * Moves `name` to panel `title` (new or existing). `shown`: the panels as they are stacked now
 * (titles, from {@link groupSeries}), so the others keep their places; a new panel goes last, a
 * panel left empty goes away. `names`: every series drawn. Returns a new layout.
 * @param {Layout} layout
 * @param {string} name
 * @param {string} title
 * @param {string[]} shown
 * @param {string[]} names
 * @returns {Layout}
 */
export function moveSeries(layout, name, title, shown, names) {
  const pins = new Map(layout.pins);
  if (defaultPanelOf(name) === title) pins.delete(name);
  else pins.set(name, title);
  let order = shown.slice();
  for (const t of layout.order) if (!order.includes(t)) order.push(t);
  if (!order.includes(title)) order.push(title);
  const next = { order, pins };
  // A panel that lost its last series goes (from the order too: its place is not kept).
  const used = new Set(names.map((n) => panelOf(next, n)));
  order = order.filter((t) => used.has(t) || !shown.includes(t));
  return { order, pins };
}

/**
 * A title for a new panel that no panel has yet: "panel N", N one more than the panels shown.
 * @param {string[]} titles
 * @returns {string}
 */
export function newPanelTitle(titles) {
  const taken = new Set(titles);
  for (let i = titles.length + 1;; i++) if (!taken.has("panel " + i)) return "panel " + i;
}
