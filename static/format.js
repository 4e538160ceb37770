// How the page writes numbers and times: lags, spans, clock times and values (the figures, the
// notes, the tooltip). Pure: no DOM (tests/unit/format_test.ts).

/** A lag in ms: "75 ms" below a second, else "1.5 s". */
export function formatLag(ms) {
  return Math.abs(ms) < 1000 ? Math.round(ms) + " ms" : (ms / 1000).toFixed(1) + " s";
}

/** A span in ms: "20 ms" below a second, else seconds to 3 digits ("1.5 s", "300 s"). */
export function formatSpan(ms) {
  return ms < 1000 ? Math.round(ms) + " ms" : Number((ms / 1000).toPrecision(3)) + " s";
}

/** An epoch-ms time as this browser's local clock, to the millisecond ("14:03:07.042"). */
export function formatTime(x) {
  const d = new Date(x);
  return d.toLocaleTimeString([], { hour12: false }) + "." +
    String(d.getMilliseconds()).padStart(3, "0");
}

/** A value to 6 significant digits, or in exponent form when very large or small. */
export function formatValue(y) {
  return Math.abs(y) >= 1e6 || (y !== 0 && Math.abs(y) < 1e-3)
    ? y.toExponential(4)
    : String(Number(y.toPrecision(6)));
}
