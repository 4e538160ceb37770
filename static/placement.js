// Which panel each series drawn is on now: the layout (from ?panels=, by layout.js's rules), the
// panels it makes of the series drawn, and moving a series to another or a new panel. The
// panels' DOM is panels.js's.

import {
  DEFAULT_PANEL,
  emptyLayout,
  formatPanelsParam,
  groupSeries,
  moveSeries,
  newPanelTitle,
  parsePanelsParam,
} from "./layout.js";

/**
 * Creates the placement, with the layout `search` asks for (?panels=); `drawnNames()` gives the
 * series drawn.
 */
export function createPlacement(search, drawnNames) {
  let layout = parsePanelsParam(search).layout;

  /** The panels and their series now ([{ title, names }]); an empty page still shows one. */
  function groups() {
    const list = groupSeries(layout, drawnNames());
    return list.length ? list : [{ title: DEFAULT_PANEL, names: [] }];
  }

  return {
    groups: groups,
    /** Moves series `name` to panel `title` (null: a new one). */
    move(name, title) {
      const shown = groups().map((g) => g.title);
      const to = title === null ? newPanelTitle(shown) : title;
      layout = moveSeries(layout, name, to, shown, drawnNames());
    },
    /** Back to the default grouping (Reset view). */
    reset() {
      layout = emptyLayout();
    },
    /** The layout as ?panels= writes it ("" for the default grouping). */
    get param() {
      return formatPanelsParam(layout);
    },
  };
}
