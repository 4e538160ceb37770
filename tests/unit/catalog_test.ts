/**
 * The series the page knows and how it shows them (static/catalog.js): series_list frames, the
 * selection, the names drawn and listed, stable colours. Over a real SeriesSet (static/store.js).
 */
import assert from "node:assert/strict";
import {
  createCatalog,
  PALETTE,
  paletteColor,
  parseSeriesList,
  rankByActivity,
} from "../../static/catalog.js";
import { SeriesSet } from "../../static/store.js";

Deno.test("catalog: series_list frames give names and non-empty string units", () => {
  const list = parseSeriesList({
    series: ["a", 7, "b", null, "c"],
    units: { a: "ms", b: "", c: 3, d: "°C" },
  });
  assert.deepEqual(list.names, ["a", "b", "c"]);
  assert.deepEqual([...list.units], [["a", "ms"], ["d", "°C"]]);
  assert.deepEqual([...parseSeriesList({ series: [], units: "x" }).units], []);
  assert.deepEqual([...parseSeriesList({ series: ["a"] }).units], []);
});

Deno.test("catalog: colours from the palette, then distinct generated hues", () => {
  assert.equal(paletteColor(0), PALETTE[0]);
  assert.equal(paletteColor(PALETTE.length - 1), PALETTE[PALETTE.length - 1]);
  assert.match(paletteColor(PALETTE.length), /^hsl\(\d+ 65% 55%\)$/);
  const hues = new Set(Array.from({ length: 40 }, (_, i) => paletteColor(PALETTE.length + i)));
  assert.equal(hues.size, 40);
});

Deno.test("catalog: the most active first, then by name", () => {
  const activity = new Map([["a", 1], ["b", 5], ["c", 1], ["d", -1]]);
  const sorted = ["a", "b", "c", "d"];
  assert.deepEqual(rankByActivity(sorted, (n: string) => activity.get(n)!), ["b", "a", "c", "d"]);
  assert.deepEqual(sorted, ["a", "b", "c", "d"], "its input stays as it was");
});

Deno.test("catalog: drawn names are the known and held ones within the selection", () => {
  const series = new SeriesSet();
  const catalog = createCatalog(series, null);
  series.add("held", 1, 1);
  catalog.setList({ series: ["held", "listed"], units: { listed: "V" } });
  assert.deepEqual(catalog.drawnNames().sort(), ["held", "listed"]);
  assert.equal(catalog.unitOf("listed"), "V");
  assert.equal(catalog.unitOf("held"), "");
  series.add("other", 1, 1);
  catalog.select(new Set(["listed", "other", "wanted"]));
  assert.deepEqual(catalog.drawnNames().sort(), ["listed", "other"]);
  assert.equal(series.has("held"), false, "the rings keep only the selection");
  assert.deepEqual(
    catalog.legendNames().sort(),
    ["held", "listed", "other", "wanted"],
    "the legend lists every series known, held or asked for (toggled off or on)",
  );
  catalog.select(null);
  assert.equal(catalog.selection, null);
});

Deno.test("catalog: colours stay put while the server holds a series", () => {
  const series = new SeriesSet();
  const catalog = createCatalog(series, null);
  catalog.setList({ series: ["b", "a", "c"] });
  assert.deepEqual(catalog.legendNames(), ["a", "b", "c"], "none active: by name");
  const a = catalog.colorOf("a");
  assert.equal(a, PALETTE[0], "given in name order");
  assert.equal(catalog.colorOf("c"), PALETTE[2]);
  for (let i = 0; i < 5; i++) series.add("c", i, i);
  assert.deepEqual(catalog.legendNames(), ["c", "a", "b"], "the active one first");
  assert.equal(catalog.colorOf("c"), PALETTE[2], "the same colour");
  catalog.setList({ series: ["a"] });
  assert.equal(series.has("c"), false, "no longer held: dropped from the rings");
  assert.equal(catalog.colorCount, 1, "and its colour forgotten");
  assert.equal(catalog.colorOf("a"), a);
});
