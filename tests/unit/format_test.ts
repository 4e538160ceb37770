/**
 * How the page writes numbers and times (static/format.js). Pure.
 */
import assert from "node:assert/strict";
import { formatLag, formatSpan, formatTime, formatValue } from "../../static/format.js";

Deno.test("format: formatLag() is ms below a second, else seconds to one decimal", () => {
  assert.equal(formatLag(74.6), "75 ms");
  assert.equal(formatLag(-12.2), "-12 ms", "a clock ahead reads negative");
  assert.equal(formatLag(999), "999 ms");
  assert.equal(formatLag(1000), "1.0 s");
  assert.equal(formatLag(-2540), "-2.5 s");
});

Deno.test("format: formatSpan() is ms below a second, else seconds to three digits", () => {
  assert.equal(formatSpan(20), "20 ms");
  assert.equal(formatSpan(999.6), "1000 ms");
  assert.equal(formatSpan(1500), "1.5 s");
  assert.equal(formatSpan(60_000), "60 s");
  assert.equal(formatSpan(123_456), "123 s");
});

Deno.test("format: formatTime() is the local clock time with milliseconds", () => {
  const x = Date.UTC(2026, 0, 1, 12, 3, 7, 42);
  assert.match(formatTime(x), /^\d{1,2}:\d{2}:\d{2}\.042$/);
  assert.match(formatTime(x - 35), /\.007$/, "ms padded to three digits");
  assert.notEqual(formatTime(x), formatTime(x + 1000), "seconds shown");
  assert.equal(formatTime(x + 1000).slice(-4), ".042");
});

Deno.test("format: formatValue() keeps 6 significant digits, exponents at the extremes", () => {
  assert.equal(formatValue(0), "0");
  assert.equal(formatValue(1 / 3), "0.333333");
  assert.equal(formatValue(123456.78), "123457");
  assert.equal(formatValue(-42.5), "-42.5");
  assert.equal(formatValue(0.001), "0.001");
  assert.equal(formatValue(0.000125), "1.2500e-4");
  assert.equal(formatValue(1e6), "1.0000e+6");
  assert.equal(formatValue(-2.5e9), "-2.5000e+9");
});
