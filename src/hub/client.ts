/**
 * A client of the hub, whatever carries its frames: its transport (a WebSocket,
 * `src/http/websocket.ts`, or an event stream, `src/http/sse.ts`), what it may see and has selected,
 * and how far it has been sent. The bridge (`ws_bridge.ts`) owns the set of clients.
 *
 * @module
 */

/** Where a client's frames go: a WebSocket, or an event stream (`src/http/sse.ts`). */
export interface ClientTransport {
  /** Which kind of connection (for `/metrics`); a WebSocket when absent. */
  readonly kind?: "websocket" | "sse";
  /** Queues one text frame. */
  send(frame: string): void;
  /** Bytes queued and not yet sent. */
  bufferedAmount(): number;
  /** Ends the connection with a close code and reason. */
  close(code: number, reason: string): void;
}

/** What the HTTP side found about a connecting WebSocket: its token's claims, its selection. */
export interface AcceptOptions {
  /** Series this client may see (its token's claim); all when `null` or absent. */
  series?: readonly string[] | null;
  /** Series it asked for (`?series=`); all it may see when absent. */
  select?: ReadonlySet<string>;
  /** When its token expires (ms since the epoch); it is closed with 4001 then. */
  expiresAt?: number;
  /** Called once when the connection ends (or the upgrade fails). */
  onClose?: () => void;
}

/** Options of a new client (`WsBridge.addClient`). */
export interface ClientOptions {
  /** Series it may see at most (its token's claim); all when absent. */
  allowed?: ReadonlySet<string>;
  /** Series it asked for; all it may see when absent. */
  select?: ReadonlySet<string>;
  /** When its token expires (ms since the epoch); it is closed with 4001 then. */
  expiresAt?: number;
  /** Called once when the client ends. */
  onClose?: () => void;
}

/** One connected client. */
export interface Client {
  /** Its session id (sent in `hello`). */
  readonly session: string;
  /** Where its frames go. */
  readonly transport: ClientTransport;
  /** Last seq this client was sent (or had). */
  lastSent: number;
  /** Bytes queued to it and not yet sent, as last measured (`SlowClients.measure`). */
  queued: number;
  /** When it went over its buffer bound (ms), or undefined when it keeps up. */
  slowSince?: number;
  /**
   * The series this client receives; undefined: all. Change it with {@link selectSeries} (which
   * keeps {@link Client.seriesKey} in step).
   */
  series?: ReadonlySet<string>;
  /** {@link seriesKey} of `series`, computed when it changes; undefined when all. */
  seriesKey?: string;
  /** The series its token allows (undefined: all). */
  allowed?: ReadonlySet<string>;
  /**
   * Points per second per series it asked for (`{"type":"rate"}`): it gets min/max per bucket
   * instead of every point (`decimated.ts`); undefined: the exact stream.
   */
  rate?: number;
  /** The history's `seriesVersion` of the last `series_list` frame sent to this client. */
  seriesListVersion: number;
  /** The last `series_list` frame sent to it (shared by clients allowed the same series). */
  lastSeriesList?: string;
  /** Token expiry (ms since the epoch) and its timer. */
  expiresAt?: number;
  /** The timer that closes it when its token expires. */
  expiryTimer?: ReturnType<typeof setTimeout>;
  /** Set once the connection has ended. */
  ended?: boolean;
  /** Called once when the client ends. */
  onClose?: () => void;
}

/** The series a client receives: its selection within what it may see (undefined: all). */
export function effectiveSeries(
  select: ReadonlySet<string> | undefined,
  allowed: ReadonlySet<string> | undefined,
): ReadonlySet<string> | undefined {
  if (!allowed) return select;
  if (!select) return allowed;
  return new Set([...select].filter((s) => allowed.has(s)));
}

/** Cache key of a series set (the sorted names): equal sets share one frame per batch. */
export function seriesKey(set: ReadonlySet<string>): string {
  return [...set].sort().join("\u0000");
}

/** Sets the series `c` receives (undefined: all) and its cached key. */
export function selectSeries(c: Client, series: ReadonlySet<string> | undefined): void {
  c.series = series;
  c.seriesKey = series ? seriesKey(series) : undefined;
}
