// The page's controls, bound to what they do: the window radios, Pause and Live, the y axis
// (auto, or a fixed min and max), Clear and Reset view, the CSV and PNG buttons, "show all", the
// keyboard (pan, zoom, back to live), window resizes and the system's light/dark switch. What
// they do is the app's (hooks); the key map and the y range rule are pure
// (tests/unit/controls_test.ts).

/**
 * What a key does where keys do not belong to a control: ←/→ pan a quarter window (`shift`: a
 * whole one), +/- zoom, L or End back to live. Returns { factor, shift } (a zoom or pan step:
 * view.js's zoomBy), "live", or null (not ours).
 */
export function keyCommand(key, shift) {
  if (key === "ArrowLeft" || key === "ArrowRight") {
    return { factor: 1, shift: (key === "ArrowLeft" ? -1 : 1) * (shift ? 1 : 0.25) };
  }
  if (key === "+" || key === "=") return { factor: 0.5, shift: 0 };
  if (key === "-" || key === "_") return { factor: 2, shift: 0 };
  if (key === "l" || key === "L" || key === "End") return "live";
  return null;
}

/** The fixed y range the min and max boxes say ([lo, hi]), or null when it is not one. */
export function parseYRange(minText, maxText) {
  const lo = parseFloat(minText);
  const hi = parseFloat(maxText);
  return Number.isFinite(lo) && Number.isFinite(hi) && lo < hi ? [lo, hi] : null;
}

/**
 * Binds the controls (found by `byId(id)`), the window radios showing `windowKey`. `hooks`:
 * `onWindow(key)`, `onPause()`, `onLive()`, `onYRange(range)` ([lo, hi], or null: auto),
 * `onClear()`, `onReset()`, `onCsv()`, `onPng()`, `onAllSeries()`, `onStep(factor, shift)`,
 * `onResize()`, `onTheme()`.
 */
export function createControls(byId, windowKey, hooks) {
  const windowRadios = document.querySelectorAll('input[name="window"]');
  const yminEl = byId("ymin");
  const ymaxEl = byId("ymax");

  function showWindow(key) {
    for (const r of windowRadios) r.checked = r.value === key;
  }

  for (const radio of windowRadios) {
    radio.checked = radio.value === windowKey;
    radio.addEventListener("change", function () {
      if (!radio.checked) return;
      hooks.onWindow(radio.value);
    });
  }

  byId("pause").addEventListener("click", function () {
    hooks.onPause();
  });
  byId("live").addEventListener("click", function () {
    hooks.onLive();
  });

  function applyYAxis() {
    const fixed = document.querySelector('input[name="yscale"]:checked').value === "fixed";
    yminEl.disabled = ymaxEl.disabled = !fixed;
    if (!fixed) return hooks.onYRange(null);
    const range = parseYRange(yminEl.value, ymaxEl.value);
    yminEl.setAttribute("aria-invalid", String(range === null));
    ymaxEl.setAttribute("aria-invalid", String(range === null));
    if (range !== null) hooks.onYRange(range);
  }
  for (const radio of document.querySelectorAll('input[name="yscale"]')) {
    radio.addEventListener("change", applyYAxis);
  }
  yminEl.addEventListener("input", applyYAxis);
  ymaxEl.addEventListener("input", applyYAxis);

  byId("clear").addEventListener("click", function () {
    hooks.onClear();
  });
  byId("reset").addEventListener("click", function () {
    hooks.onReset();
  });
  byId("export-csv").addEventListener("click", function () {
    hooks.onCsv();
  });
  byId("export-png").addEventListener("click", function () {
    hooks.onPng();
  });
  byId("all-series").addEventListener("click", function () {
    hooks.onAllSeries();
  });

  document.addEventListener("keydown", function (e) {
    const t = e.target;
    const free = t === document.body || t === document.documentElement ||
      (t && t.classList && t.classList.contains("chart"));
    if (!free || e.ctrlKey || e.metaKey || e.altKey) return;
    const command = keyCommand(e.key, e.shiftKey);
    if (command === null) return;
    if (command === "live") hooks.onLive();
    else hooks.onStep(command.factor, command.shift);
    e.preventDefault();
  });

  globalThis.addEventListener("resize", function () {
    hooks.onResize();
  });
  globalThis.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", function () {
    hooks.onTheme();
  });

  return {
    /** Checks the radio of window `key`. */
    showWindow: showWindow,
    /** Back to the auto y axis (Reset view). */
    resetYAxis() {
      document.querySelector('input[name="yscale"][value="auto"]').checked = true;
      applyYAxis();
    },
    /** Empties the legend's filter box (Reset view). */
    clearFilter() {
      byId("series-filter").value = "";
    },
  };
}
