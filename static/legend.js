// The series legend: a toggle per series, the most active first, at most LEGEND_MAX of them, and
// a filter box to find the rest (a server may hold a thousand series). It builds DOM only when
// what it shows changed, and keeps its order while the pointer or the focus is in it.

import { MAX_SELECTED_SERIES } from "./protocol.js";

/** Most toggles shown at once; the filter box finds the others. */
export const LEGEND_MAX = 60;

/**
 * Creates the legend in `root` (the fieldset). `hooks.onChange(next)` gets the new selection (a
 * Set, or null for every series) when a toggle changes it.
 */
export function createLegend(root, empty, filterBox, hooks) {
  const note = document.createElement("p");
  note.className = "muted legend-note";
  const more = document.createElement("p");
  more.className = "muted legend-more";
  let key = "";
  /** The names shown, in order, as of the last build. */
  let shownNames = [];
  let total = 0;

  const frozen = () => root.matches(":hover") || root.contains(document.activeElement);

  /**
   * Shows `names` (every series the page knows, most active first) with `selection` (a Set or
   * null), filtered by the box, at most LEGEND_MAX; `colorOf(name)` gives each swatch.
   */
  function render(names, selection, colorOf) {
    const filter = filterBox.value.trim().toLowerCase();
    let list = filter ? names.filter((n) => n.toLowerCase().includes(filter)) : names;
    // Keep the order under the pointer: names already shown stay where they are.
    if (frozen() && shownNames.length) {
      const wanted = new Set(list);
      const kept = shownNames.filter((n) => wanted.has(n));
      const keptSet = new Set(kept);
      list = kept.concat(list.filter((n) => !keptSet.has(n)));
    }
    total = list.length;
    const visible = list.slice(0, LEGEND_MAX);
    const nextKey = JSON.stringify([visible, selection && Array.from(selection).sort(), total]);
    if (nextKey === key) return;
    key = nextKey;
    shownNames = visible;
    const focused = document.activeElement;
    const focusedName = focused && focused.name === "series" ? focused.value : null;
    for (const node of Array.from(root.querySelectorAll("label.series"))) node.remove();
    empty.hidden = names.length > 0;
    const frag = document.createDocumentFragment();
    for (const name of visible) {
      const on = selection === null || selection.has(name);
      const label = document.createElement("label");
      label.className = on ? "series" : "series off";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = "series";
      box.value = name;
      box.checked = on;
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = colorOf(name);
      const text = document.createElement("span");
      text.className = "series-name";
      text.textContent = name;
      label.title = name;
      label.append(box, swatch, text);
      frag.append(label);
    }
    root.insertBefore(frag, more);
    more.textContent = total > visible.length
      ? "showing " + visible.length + " of " + total + (filter ? " matching" : "") +
        ": type in the filter to find the others"
      : "";
    more.hidden = more.textContent === "";
    if (focusedName !== null) {
      for (const box of root.querySelectorAll('input[name="series"]')) {
        if (box.value === focusedName) box.focus();
      }
    }
  }

  root.append(more, note);
  note.hidden = true;
  more.hidden = true;

  root.addEventListener("change", function (e) {
    const box = e.target;
    if (!box || box.name !== "series") return;
    const selection = hooks.selection();
    let next;
    if (box.checked) {
      next = selection === null ? null : new Set(selection).add(box.value);
    } else {
      // From "every series": the ones listed (what the user sees) minus this one.
      next = new Set(selection === null ? hooks.allNames() : selection);
      next.delete(box.value);
    }
    if (next !== null && next.size > MAX_SELECTED_SERIES) {
      box.checked = !box.checked;
      note.textContent = "at most " + MAX_SELECTED_SERIES +
        " series one by one: use show all, or untick fewer";
      note.hidden = false;
      return;
    }
    note.hidden = true;
    hooks.onChange(next);
  });

  filterBox.addEventListener("input", function () {
    hooks.onFilter();
  });

  return {
    render: render,
    /** Names shown, in order. */
    get shown() {
      return shownNames.slice();
    },
    /** Names matching the filter (shown or not). */
    get matching() {
      return total;
    },
  };
}
