/**
 * A fast scanner for the common shape of producer payloads: compact JSON (no whitespace) that is
 * one point `{"x":N,"y":N}` / `{"x":N,"y":N,"series":"S"}`, or an array of them, keys in that
 * order, `S` without escapes. It records where each point's parts lie in the text, so the parser
 * (`ingress.ts`) validates each point's values by the same rules as any other and reuses the
 * producer's own number text in the client JSON instead of formatting the numbers again.
 *
 * It accepts a strict subset of JSON: everything it accepts `JSON.parse` accepts with the same
 * values (numbers follow JSON's grammar; a string without `\` or control characters means
 * itself); anything else (whitespace, other keys or key orders, escapes, nesting) makes it return
 * -1, and the parser falls back to `JSON.parse`. Pure: no I/O.
 *
 * @module
 */

/** Int32 slots per point in {@link ScanSpans}. */
export const SPAN_SLOTS = 8;
/** Slot offsets in a point's span: `{` at OBJ, `}` at END; `[start, end)` of x, y and series' content (-1 without series). */
export const OBJ = 0, X0 = 1, X1 = 2, Y0 = 3, Y1 = 4, S0 = 5, S1 = 6, END = 7;

/** Where {@link scanPoints} records the points it found (grown as needed, reused). */
export interface ScanSpans {
  slots: Int32Array;
}

const QUOTE = 0x22, COMMA = 0x2c, MINUS = 0x2d, PLUS = 0x2b, DOT = 0x2e, COLON = 0x3a;
const ZERO = 0x30, NINE = 0x39, LOWER_E = 0x65, UPPER_E = 0x45, BACKSLASH = 0x5c;
const LBRACKET = 0x5b, RBRACKET = 0x5d, LBRACE = 0x7b, RBRACE = 0x7d;
const X = 0x78, Y = 0x79;
const SERIES_KEY = ',"series":"';

const isDigit = (c: number) => c >= ZERO && c <= NINE;

/** End of the JSON number that starts at `i`, or -1 when none starts there. */
function numberEnd(t: string, i: number): number {
  if (t.charCodeAt(i) === MINUS) i++;
  let c = t.charCodeAt(i);
  if (c === ZERO) i++;
  else if (c > ZERO && c <= NINE) {
    i++;
    while (isDigit(t.charCodeAt(i))) i++;
  } else return -1;
  if (t.charCodeAt(i) === DOT) {
    if (!isDigit(t.charCodeAt(++i))) return -1;
    while (isDigit(t.charCodeAt(i))) i++;
  }
  c = t.charCodeAt(i);
  if (c === LOWER_E || c === UPPER_E) {
    c = t.charCodeAt(++i);
    if (c === PLUS || c === MINUS) i++;
    if (!isDigit(t.charCodeAt(i))) return -1;
    while (isDigit(t.charCodeAt(i))) i++;
  }
  return i;
}

/**
 * Scans `t` as one point or a non-empty array of points of the compact shape (see the module
 * doc), recording each point's spans in `out`. Returns how many points, or -1 when `t` is not of
 * that shape (it may still be valid JSON: parse it the general way).
 */
export function scanPoints(t: string, out: ScanSpans): number {
  const n = t.length;
  const array = t.charCodeAt(0) === LBRACKET;
  let i = array ? 1 : 0;
  let count = 0;
  for (;;) {
    const base = count * SPAN_SLOTS;
    if (base + SPAN_SLOTS > out.slots.length) {
      const grown = new Int32Array(out.slots.length * 2 + SPAN_SLOTS);
      grown.set(out.slots);
      out.slots = grown;
    }
    const s = out.slots;
    if (
      t.charCodeAt(i) !== LBRACE || t.charCodeAt(i + 1) !== QUOTE || t.charCodeAt(i + 2) !== X ||
      t.charCodeAt(i + 3) !== QUOTE || t.charCodeAt(i + 4) !== COLON
    ) return -1;
    s[base + OBJ] = i;
    i += 5;
    s[base + X0] = i;
    i = numberEnd(t, i);
    if (i < 0) return -1;
    s[base + X1] = i;
    if (
      t.charCodeAt(i) !== COMMA || t.charCodeAt(i + 1) !== QUOTE || t.charCodeAt(i + 2) !== Y ||
      t.charCodeAt(i + 3) !== QUOTE || t.charCodeAt(i + 4) !== COLON
    ) return -1;
    i += 5;
    s[base + Y0] = i;
    i = numberEnd(t, i);
    if (i < 0) return -1;
    s[base + Y1] = i;
    let c = t.charCodeAt(i);
    if (c === COMMA) {
      if (!t.startsWith(SERIES_KEY, i)) return -1;
      i += SERIES_KEY.length;
      s[base + S0] = i;
      for (;;) {
        if (i >= n) return -1;
        c = t.charCodeAt(i);
        if (c === QUOTE) break;
        if (c === BACKSLASH || c < 0x20) return -1;
        i++;
      }
      s[base + S1] = i;
      c = t.charCodeAt(++i);
    } else {
      s[base + S0] = -1;
      s[base + S1] = -1;
    }
    if (c !== RBRACE) return -1;
    s[base + END] = i++;
    count++;
    if (!array) return i === n ? count : -1;
    c = t.charCodeAt(i);
    if (c === COMMA) i++;
    else if (c === RBRACKET) return i + 1 === n ? count : -1;
    else return -1;
  }
}
