/**
 * A fast scanner for the common shape of producer payloads: compact JSON (no whitespace) that is
 * one point `{"x":N,"y":N}` / `{"x":N,"y":N,"series":"S"}`, or an array of them, keys in that
 * order, `S` ASCII without escapes. It reads the payload's bytes as they came (no UTF-8 decoding:
 * what it accepts is ASCII) and records where each point's parts lie, so the parser
 * (`ingress.ts`) validates each point's values by the same rules as any other and copies the
 * producer's own bytes into the client JSON instead of formatting the numbers again.
 *
 * It accepts a strict subset of JSON: everything it accepts `JSON.parse` accepts with the same
 * values (numbers follow JSON's grammar, and {@link fastNumber} reads them as `Number` does; a
 * string of printable ASCII without `\` means itself); anything else (whitespace, other keys or key
 * orders, escapes, nesting, non-ASCII series) makes it return -1, and the parser falls back to
 * `JSON.parse`. Offsets are byte offsets, which for ASCII are also string offsets. Pure: no I/O.
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
/** `,"series":"` as bytes. */
const SERIES_KEY = Uint8Array.from(',"series":"', (ch) => ch.charCodeAt(0));

const isDigit = (c: number) => c >= ZERO && c <= NINE;

/** End of the JSON number that starts at `i`, or -1 when none starts there. */
function numberEnd(t: Uint8Array, i: number): number {
  if (t[i] === MINUS) i++;
  let c = t[i];
  if (c === ZERO) i++;
  else if (c > ZERO && c <= NINE) {
    i++;
    while (isDigit(t[i])) i++;
  } else return -1;
  if (t[i] === DOT) {
    if (!isDigit(t[++i])) return -1;
    while (isDigit(t[i])) i++;
  }
  c = t[i];
  if (c === LOWER_E || c === UPPER_E) {
    c = t[++i];
    if (c === PLUS || c === MINUS) i++;
    if (!isDigit(t[i])) return -1;
    while (isDigit(t[i])) i++;
  }
  return i;
}

/** Powers of ten a double holds exactly (10^0 .. 10^22). */
const EXACT_POWERS = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/**
 * The value of the JSON number {@link scanPoints} found in `t[from, to)`, as `Number` reads its
 * text, or NaN when this shortcut cannot tell (then read the text with `Number`). When its
 * digits, read as an integer, stay below 2^53 and it has at most 22 decimals and no exponent (most
 * numbers a counter or a sensor writes), it is that integer divided by a power of ten: both
 * exact, so the one rounding of the division gives the double nearest the decimal, as `Number`
 * does.
 */
export function fastNumber(t: Uint8Array, from: number, to: number): number {
  let i = from;
  const negative = t[i] === MINUS;
  if (negative) i++;
  let m = 0, decimals = -1;
  for (; i < to; i++) {
    const c = t[i];
    if (c === DOT) decimals = 0;
    else if (c >= ZERO && c <= NINE) {
      m = m * 10 + (c - ZERO);
      if (decimals >= 0) decimals++;
    } else return NaN; // an exponent
  }
  // m only grows: at or below 2^53 - 1 at the end, every step was exact.
  if (m > Number.MAX_SAFE_INTEGER || decimals > 22) return NaN;
  const v = decimals > 0 ? m / EXACT_POWERS[decimals] : m;
  return negative ? -v : v;
}

/**
 * Scans `t` as one point or a non-empty array of points of the compact shape (see the module
 * doc), recording each point's spans in `out`. Returns how many points, or -1 when `t` is not of
 * that shape (it may still be valid JSON: parse it the general way).
 */
export function scanPoints(t: Uint8Array, out: ScanSpans): number {
  const n = t.length;
  const array = t[0] === LBRACKET;
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
      t[i] !== LBRACE || t[i + 1] !== QUOTE || t[i + 2] !== X || t[i + 3] !== QUOTE ||
      t[i + 4] !== COLON
    ) return -1;
    s[base + OBJ] = i;
    i += 5;
    s[base + X0] = i;
    i = numberEnd(t, i);
    if (i < 0) return -1;
    s[base + X1] = i;
    if (
      t[i] !== COMMA || t[i + 1] !== QUOTE || t[i + 2] !== Y || t[i + 3] !== QUOTE ||
      t[i + 4] !== COLON
    ) return -1;
    i += 5;
    s[base + Y0] = i;
    i = numberEnd(t, i);
    if (i < 0) return -1;
    s[base + Y1] = i;
    let c = t[i];
    if (c === COMMA) {
      for (let k = 0; k < SERIES_KEY.length; k++) if (t[i + k] !== SERIES_KEY[k]) return -1;
      i += SERIES_KEY.length;
      s[base + S0] = i;
      for (;;) {
        if (i >= n) return -1;
        c = t[i];
        if (c === QUOTE) break;
        if (c === BACKSLASH || c < 0x20 || c > 0x7e) return -1;
        i++;
      }
      s[base + S1] = i;
      c = t[++i];
    } else {
      s[base + S0] = -1;
      s[base + S1] = -1;
    }
    if (c !== RBRACE) return -1;
    s[base + END] = i++;
    count++;
    if (!array) return i === n ? count : -1;
    c = t[i];
    if (c === COMMA) i++;
    else if (c === RBRACKET) return i + 1 === n ? count : -1;
    else return -1;
  }
}
