/**
 * Leveled, rate-limited logging: one line per problem, never a stack trace for a user's mistake.
 *
 * @module
 */

/** Log levels, from most to least verbose. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

let threshold = 1; // info

/** Sets the lowest level that is printed. */
export function setLogLevel(level: LogLevel): void {
  threshold = LOG_LEVELS.indexOf(level);
}

/** Returns the lowest level that is printed. */
export function getLogLevel(): LogLevel {
  return LOG_LEVELS[threshold];
}

/** Where log lines go; tests may replace it. */
export let logSink: (line: string) => void = (line) => console.error(line);

/** Replaces the log sink (for tests); returns the previous one. */
export function setLogSink(sink: (line: string) => void): (line: string) => void {
  const previous = logSink;
  logSink = sink;
  return previous;
}

/** Control characters (C0, DEL, C1) and the line and paragraph separators. */
// deno-lint-ignore no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * `text` with its control characters written as `\xNN` (`\uNNNN` above 0xff), so that what a
 * peer sent can never start a line of its own in the log, or rewrite one on a terminal.
 */
export function escapeControls(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return code > 0xff
      ? `\\u${code.toString(16).padStart(4, "0")}`
      : `\\x${code.toString(16).padStart(2, "0")}`;
  });
}

/**
 * Writes one log line `<iso time> <LEVEL> <scope>: <message>` when `level` is enabled; the message's
 * control characters are escaped ({@link escapeControls}): one call, one line.
 */
export function log(level: LogLevel, scope: string, message: string): void {
  if (LOG_LEVELS.indexOf(level) < threshold) return;
  logSink(
    `${new Date().toISOString()} ${level.toUpperCase()} ${scope}: ${escapeControls(message)}`,
  );
}

/**
 * Logs at most one line per key per interval; the next line that gets through says how many were
 * suppressed in between. Use it for anything a remote peer can trigger at will.
 */
export class RateLimitedLog {
  #last = new Map<string, { at: number; suppressed: number }>();

  /**
   * @param intervalMs minimum time between two lines of the same key
   * @param now clock, injectable for tests
   */
  constructor(readonly intervalMs = 5000, private readonly now: () => number = Date.now) {}

  /** Logs `message` unless a line with the same `key` was logged within the interval. */
  log(level: LogLevel, scope: string, key: string, message: string): boolean {
    const t = this.now();
    const entry = this.#last.get(key);
    if (entry && t - entry.at < this.intervalMs) {
      entry.suppressed++;
      return false;
    }
    const note = entry && entry.suppressed > 0 ? ` (${entry.suppressed} similar suppressed)` : "";
    this.#last.set(key, { at: t, suppressed: 0 });
    if (this.#last.size > 1000) this.#last.delete(this.#last.keys().next().value!);
    log(level, scope, message + note);
    return true;
  }
}

/** Returns the message of an unknown thrown value, without its stack. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
