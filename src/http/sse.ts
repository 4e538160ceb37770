/**
 * `/events`: the browser stream as Server-Sent Events, for networks and proxies where WebSockets
 * fail. Same frames as `/ws` (see `frames.ts`), one event each:
 *
 * ```text
 * retry: 2000                                  (once, first: EventSource's reconnect delay)
 *
 * data: {"type":"hello",…}                     (frames without points carry no id)
 *
 * id: <epoch>:<seq>                            (frames with points: the last seq in the frame)
 * data: {"type":"points","points":[…]}
 *
 * : keep-alive                                 (a comment every 15 s, for proxies' idle timers)
 *
 * event: close                                 (the server ends the stream, e.g. slow client)
 * data: {"type":"close","code":4008,"reason":"slow client"}
 * ```
 *
 * Resume: EventSource sends the last id back as `Last-Event-ID` when it reconnects; a new
 * EventSource can pass it as `?lastEventId=<epoch>:<seq>` (or `?since=<seq>&epoch=<id>` as on
 * `/ws`). Either maps to the same exact-or-reset resume as `/ws`. The stream is one-way: the series
 * selection is the URL's `?series=a,b`; to change it, reconnect.
 *
 * Backpressure: the bytes queued in the response stream and not yet taken by the HTTP layer are
 * the client's `bufferedAmount`, so a stalled reader is held back like a stalled WebSocket.
 *
 * @module
 */
import type { Client, ClientOptions, ClientTransport } from "../hub/client.ts";
import { resumeFromUrl, type ResumeRequest } from "../protocol/resume.ts";

/** What the event stream needs from the bridge. */
export interface EventStreamBridge {
  addClient(transport: ClientTransport, resume?: ResumeRequest, opts?: ClientOptions): Client;
  removeClient(client: Client): void;
  readonly epoch: string;
}

/** Options of {@link acceptEventStream}. */
export interface EventStreamOptions {
  /** Interval of the keep-alive comment, in ms. */
  heartbeatMs?: number;
  /** The reconnect delay suggested to EventSource, in ms. */
  retryMs?: number;
}

/** Headers of an event stream (besides the security headers, which the caller adds). */
export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "Content-Type": "text/event-stream; charset=utf-8",
  // no-transform: no compression (it would hold events back in a buffer), by Deno or proxies.
  "Cache-Control": "no-cache, no-transform",
  // nginx: do not buffer this response.
  "X-Accel-Buffering": "no",
});

/** Parses an event id `<epoch>:<seq>` (as sent in `id:` lines); undefined when malformed. */
export function parseEventId(id: string | null): ResumeRequest | undefined {
  if (id === null) return undefined;
  const colon = id.lastIndexOf(":");
  if (colon <= 0 || colon > 64) return undefined;
  const seq = id.slice(colon + 1);
  if (!/^\d{1,15}$/.test(seq)) return undefined;
  return { epoch: id.slice(0, colon), since: Number(seq) };
}

/**
 * Where an `/events` request says it stopped: the `Last-Event-ID` header (EventSource's own
 * reconnects), else `?lastEventId=`, else `?since=&epoch=`; nothing: a fresh start.
 */
export function resumeFromEventStream(req: Request, url: URL): ResumeRequest {
  return parseEventId(req.headers.get("last-event-id")) ??
    parseEventId(url.searchParams.get("lastEventId")) ??
    resumeFromUrl(url);
}

/**
 * The last `seq` of a frame built by `frames.ts` (`points` or `history`), or undefined when it has
 * no points. Cheap: the last `{"seq":` in the text is the last point's (a series name cannot
 * contain it: its quotes are escaped in JSON).
 */
export function lastSeqOf(frame: string): number | undefined {
  const at = frame.lastIndexOf('{"seq":');
  if (at < 0) return undefined;
  const n = parseInt(frame.slice(at + 7, at + 7 + 16), 10);
  return Number.isFinite(n) ? n : undefined;
}

/** One frame as an event: `data:` (JSON frames are one line), with an id when it has points. */
export function toEvent(frame: string, epoch: string): string {
  const seq = lastSeqOf(frame);
  return seq === undefined ? `data: ${frame}\n\n` : `id: ${epoch}:${seq}\ndata: ${frame}\n\n`;
}

/**
 * Starts an event stream for `req`: a bridge client whose frames go into the response body, until
 * the HTTP client goes away (the stream is cancelled) or the bridge closes it. Checks (origin,
 * token, capacity, a valid selection) are the caller's job; `client` carries what they found (the
 * series allowed and selected, the token's expiry, a release callback); `headers` are added to the
 * response.
 */
export function acceptEventStream(
  bridge: EventStreamBridge,
  req: Request,
  clientOpts: ClientOptions,
  headers: Readonly<Record<string, string>> = {},
  opts: EventStreamOptions = {},
): Response {
  const resume = resumeFromEventStream(req, new URL(req.url));
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let client: Client | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    if (client) bridge.removeClient(client);
  };
  const write = (text: string) => {
    if (!ended) controller.enqueue(encoder.encode(text));
  };
  const transport: ClientTransport = {
    kind: "sse",
    send: (frame) => write(toEvent(frame, bridge.epoch)),
    // A high-water mark of 0 makes desiredSize minus the bytes queued and not yet pulled.
    bufferedAmount: () => ended ? 0 : Math.max(0, -(controller.desiredSize ?? 0)),
    close: (code, reason) => {
      if (ended) return;
      write(`event: close\ndata: ${JSON.stringify({ type: "close", code, reason })}\n\n`);
      end();
      try {
        controller.close();
      } catch { /* already closed */ }
    },
  };
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      write(`retry: ${opts.retryMs ?? 2000}\n\n`);
      client = bridge.addClient(transport, resume, clientOpts);
      heartbeat = setInterval(() => write(": keep-alive\n\n"), opts.heartbeatMs ?? 15_000);
    },
    cancel() {
      end();
    },
  }, { highWaterMark: 0, size: (chunk) => chunk.byteLength });
  return new Response(body, { headers: { ...headers, ...EVENT_STREAM_HEADERS } });
}
