/**
 * The page's panels layout (static/layout.js): default grouping by name prefix, the `?panels=`
 * syntax both ways, moving a series. Pure: no DOM.
 */
import assert from "node:assert/strict";
import {
  DEFAULT_PANEL,
  defaultPanelOf,
  emptyLayout,
  formatPanelsParam,
  groupSeries,
  MAX_PANELS,
  moveSeries,
  newPanelTitle,
  parsePanelsParam,
} from "../../static/layout.js";

const NAMES = ["cpu/user", "cpu/sys", "net/in", "net/out", "load", "disk/a/b", "/root", "odd/"];

Deno.test("layout: defaultPanelOf() is the prefix before the first /, or the default panel", () => {
  assert.equal(defaultPanelOf("cpu/user"), "cpu");
  assert.equal(defaultPanelOf("disk/a/b"), "disk");
  assert.equal(defaultPanelOf("load"), DEFAULT_PANEL);
  assert.equal(defaultPanelOf("/root"), DEFAULT_PANEL, "no prefix before the slash");
  assert.equal(defaultPanelOf("odd/"), DEFAULT_PANEL, "nothing after the slash");
});

Deno.test("layout: groupSeries() with no layout: default panel first, then prefixes by title", () => {
  assert.deepEqual(groupSeries(emptyLayout(), NAMES), [
    { title: "*", names: ["/root", "load", "odd/"] },
    { title: "cpu", names: ["cpu/sys", "cpu/user"] },
    { title: "disk", names: ["disk/a/b"] },
    { title: "net", names: ["net/in", "net/out"] },
  ]);
  assert.deepEqual(groupSeries(emptyLayout(), []), []);
});

Deno.test("layout: ?panels= orders panels and pins series; the rest follow their prefix", () => {
  const p = parsePanelsParam("?window=10s&panels=net:cpu/user,load;*&series=x");
  assert.equal(p.found, true);
  assert.equal(p.malformed, 0);
  assert.deepEqual(groupSeries(p.layout, NAMES), [
    { title: "net", names: ["cpu/user", "load", "net/in", "net/out"] },
    { title: "*", names: ["/root", "odd/"] },
    { title: "cpu", names: ["cpu/sys"] },
    { title: "disk", names: ["disk/a/b"] },
  ]);
  assert.equal(formatPanelsParam(p.layout), "net:cpu/user,load;*");
  assert.equal(parsePanelsParam("?window=10s").found, false);
});

Deno.test("layout: titles and names with ; : , * % and spaces survive the round trip", () => {
  const names = ["a;b", "c:d", "e,f", "*", "100%", "x y/z", "ü/ß"];
  let layout = emptyLayout();
  const shown = () => groupSeries(layout, names).map((g) => g.title);
  for (const n of names) layout = moveSeries(layout, n, "p;1:*,", shown(), names);
  const text = formatPanelsParam(layout);
  assert.doesNotMatch(text.slice(0, text.indexOf(":")), /[;:,]/, text);
  const back = parsePanelsParam("panels=" + text);
  assert.equal(back.malformed, 0);
  assert.deepEqual(groupSeries(back.layout, names), [{ title: "p;1:*,", names: names.sort() }]);
  assert.equal(formatPanelsParam(back.layout), text);
});

Deno.test("layout: bad parts are skipped and counted, the rest applies", () => {
  const p = parsePanelsParam("panels=%E0%A4%A:cpu/user;net:%ZZ,cpu/sys;net;;%01:load");
  assert.equal(p.malformed, 4, "bad title, bad name, a title twice, a control character");
  assert.deepEqual(p.layout.order, ["net"]);
  assert.deepEqual([...p.layout.pins], [["cpu/sys", "net"]]);
  const many = Array.from({ length: MAX_PANELS + 3 }, (_, i) => "p" + i).join(";");
  const q = parsePanelsParam("panels=" + many);
  assert.equal(q.layout.order.length, MAX_PANELS);
  assert.equal(q.malformed, 3);
});

Deno.test("layout: a series pinned twice stays where it was pinned first", () => {
  const p = parsePanelsParam("panels=a:load;b:load");
  assert.deepEqual([...p.layout.pins], [["load", "a"]]);
});

Deno.test("layout: the default grouping writes no parameter (also after moving back)", () => {
  assert.equal(formatPanelsParam(emptyLayout()), "");
  assert.equal(formatPanelsParam(parsePanelsParam("panels=*;cpu;net").layout), "");
  let layout = emptyLayout();
  const shown = () => groupSeries(layout, NAMES).map((g) => g.title);
  layout = moveSeries(layout, "cpu/user", "net", shown(), NAMES);
  assert.equal(formatPanelsParam(layout), "*;cpu;disk;net:cpu/user");
  layout = moveSeries(layout, "cpu/user", "cpu", shown(), NAMES);
  assert.equal(formatPanelsParam(layout), "");
});

Deno.test("layout: moveSeries() to a new panel puts it last; a panel left empty goes", () => {
  let layout = emptyLayout();
  const shown = () => groupSeries(layout, NAMES).map((g) => g.title);
  const title = newPanelTitle(shown());
  assert.equal(title, "panel 5");
  layout = moveSeries(layout, "disk/a/b", title, shown(), NAMES);
  assert.deepEqual(shown(), ["*", "cpu", "net", "panel 5"], "disk is empty: gone");
  layout = moveSeries(layout, "load", "panel 5", shown(), NAMES);
  assert.deepEqual(groupSeries(layout, NAMES).at(-1), {
    title: "panel 5",
    names: ["disk/a/b", "load"],
  });
  const text = formatPanelsParam(layout);
  assert.equal(text, "*;cpu;net;panel%205:disk/a/b,load");
  assert.deepEqual(
    groupSeries(parsePanelsParam("panels=" + text).layout, NAMES),
    groupSeries(
      layout,
      NAMES,
    ),
  );
  // A listed panel that has no series yet (they have not arrived) keeps its place.
  const early = parsePanelsParam("panels=later;cpu").layout;
  const moved = moveSeries(early, "load", "cpu", ["cpu", "*"], ["load", "cpu/user"]);
  assert.deepEqual(moved.order, ["cpu", "later"]);
  assert.equal(newPanelTitle(["panel 2"]), "panel 3");
});
