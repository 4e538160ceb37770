// Types of protocol.js (the page and the server load the JavaScript; Deno reads these types).

/** The series of points that name none. */
export declare const DEFAULT_SERIES: "value";
/** Longest series name, in characters (code points). */
export declare const MAX_SERIES_LENGTH: 64;
/** Most series one connection may select (message or URL). */
export declare const MAX_SELECTED_SERIES: 100;
/** Default most series the server holds; the page holds no more. */
export declare const MAX_SERIES_HELD: 1000;
/** Returns why `s` is not a valid series name, or undefined when it is. */
export declare function seriesProblem(s: string): string | undefined;
/** The `series` parameters of a query string. */
export interface SeriesParam {
  /** Whether any `series` parameter was there. */
  found: boolean;
  /** Decoded names, in order (not deduplicated, not validated). */
  names: string[];
  /** Parts with broken percent-encoding (left out of `names`). */
  malformed: number;
}
/** Reads the `series` parameters of a query string; stops after `limit` names. */
export declare function splitSeriesParam(search: string, limit?: number): SeriesParam;
/** Writes a selection as the value of `?series=`. */
export declare function joinSeriesParam(names: Iterable<string>): string;
/** What a client should do after a close. */
export type CloseAction = "resume" | "fresh" | "stop";
/** One close code's entry. */
export interface CloseCode {
  readonly name: string;
  readonly action: CloseAction;
  readonly meaning: string;
}
/** Close codes the server uses, by code. */
export declare const CLOSE_CODES: Readonly<Record<number, CloseCode>>;
/** The close code of each name. */
export declare const CLOSE: Readonly<{
  going_away: 1001;
  binary_frame: 1003;
  invalid_message: 1007;
  policy: 1008;
  message_too_big: 1009;
  restart: 1012;
  token_expired: 4001;
  slow_client: 4008;
}>;
/** What a client should do after a close with `code`. */
export declare function closeAction(code: number): CloseAction;
