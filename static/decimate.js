// Point decimation for drawing: a line chart cannot show more than a few points per pixel column,
// so before each redraw every series is reduced to at most 4 points per column (the first, the
// lowest, the highest and the last: the "M4" reduction), which draws the same picture.
// Classic script (no build step): defines globalThis.zwsDecimate.
(function () {
  "use strict";

  /**
   * Reduces `data` (array of [x, y], ascending x) to at most 4 points per pixel column of a chart
   * `width` px wide showing [xmin, xmax]. Points outside the range are dropped, except the nearest
   * one on each side so the line still reaches the edges. Returns `data` itself when it is small.
   */
  function decimate(data, xmin, xmax, width) {
    const columns = Math.max(1, Math.floor(width));
    if (data.length <= 4 * columns || !(xmax > xmin)) return data;
    const out = [];
    const scale = columns / (xmax - xmin);
    let col = -1;
    let first = null;
    let min = null;
    let max = null;
    let last = null;
    const flush = function () {
      if (first === null) return;
      // Keep x order among the four.
      const picked = [first, min, max, last].sort(function (a, b) {
        return a[0] - b[0];
      });
      let prev = null;
      for (let i = 0; i < picked.length; i++) {
        if (picked[i] !== prev) out.push(picked[i]);
        prev = picked[i];
      }
    };
    let i = 0;
    // The nearest point left of the range, so the line enters from the edge.
    while (i < data.length && data[i][0] < xmin) i++;
    if (i > 0) out.push(data[i - 1]);
    for (; i < data.length; i++) {
      const p = data[i];
      if (p[0] > xmax) {
        flush();
        first = null;
        out.push(p);
        break;
      }
      const c = Math.min(columns - 1, Math.floor((p[0] - xmin) * scale));
      if (c !== col) {
        flush();
        col = c;
        first =
          min =
          max =
          last =
            p;
      } else {
        if (p[1] < min[1]) min = p;
        if (p[1] > max[1]) max = p;
        last = p;
      }
    }
    flush();
    return out;
  }

  globalThis.zwsDecimate = decimate;
})();
