/**
 * An `/events` (Server-Sent Events) client that records every event.
 *
 * @module
 */
import { withTimeout } from "./async.ts";

/** One Server-Sent Event as received. */
export interface SseEvent {
  /** The `id:` of this event, if it had one. */
  id?: string;
  /** The `event:` type (`message` when absent). */
  event: string;
  data: string;
}

/** An `/events` client (fetch, streaming) that records every event it receives. */
export interface SseRecorder {
  response: Response;
  /** Events in order. */
  events: SseEvent[];
  /** `message` events parsed as JSON frames, in order. */
  frames: Array<Record<string, unknown>>;
  /** Comment lines (without the colon). */
  comments: string[];
  /** The last `retry:` value seen. */
  retry?: number;
  /** The last event id seen (what EventSource would send back as Last-Event-ID). */
  lastEventId(): string;
  /** Every point received in `points` frames, in order. */
  points(): Array<{ seq: number; x: number; y: number; series: string }>;
  /** Settles when the stream ends (server closed it, or close() was called). */
  ended: Promise<void>;
  /** Aborts the request and waits for the stream to end. */
  close(): Promise<void>;
}

/**
 * Opens `/events` with fetch and parses the stream (per the EventSource rules: fields, blank line
 * dispatch, comments). Waits for the hello frame; throws when the status is not 200.
 */
export async function openEventStream(
  url: string,
  init: { headers?: Record<string, string> } = {},
): Promise<SseRecorder> {
  const ac = new AbortController();
  const response = await fetch(url, { headers: init.headers, signal: ac.signal });
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new Error(`GET ${url}: HTTP ${response.status}`);
  }
  const events: SseEvent[] = [];
  const frames: Array<Record<string, unknown>> = [];
  const comments: string[] = [];
  let lastId = "";
  let helloSeen = () => {};
  const hello = new Promise<void>((r) => helloSeen = r);
  const rec: SseRecorder = {
    response,
    events,
    frames,
    comments,
    lastEventId: () => lastId,
    points: () =>
      frames.flatMap((f) =>
        f.type === "points"
          ? f.points as Array<{ seq: number; x: number; y: number; series: string }>
          : []
      ),
    ended: Promise.resolve(),
    async close() {
      ac.abort();
      await rec.ended;
    },
  };
  rec.ended = (async () => {
    let buf = "";
    let data: string[] = [];
    let event = "";
    let id: string | undefined;
    try {
      for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) {
        buf += chunk;
        let nl: number;
        while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + (buf.startsWith("\r\n", nl) ? 2 : 1));
          if (line === "") {
            if (id !== undefined) lastId = id;
            if (data.length) {
              const ev: SseEvent = { event: event || "message", data: data.join("\n") };
              if (id !== undefined) ev.id = id;
              events.push(ev);
              if (ev.event === "message") {
                const f = JSON.parse(ev.data);
                frames.push(f);
                if (f.type === "hello") helloSeen();
              }
            }
            data = [];
            event = "";
            id = undefined;
            continue;
          }
          if (line.startsWith(":")) {
            comments.push(line.slice(1).trim());
            continue;
          }
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? "" : line.slice(colon + 1);
          if (value.startsWith(" ")) value = value.slice(1);
          if (field === "data") data.push(value);
          else if (field === "event") event = value;
          else if (field === "id") id = value;
          else if (field === "retry" && /^\d+$/.test(value)) rec.retry = Number(value);
        }
      }
    } catch (err) {
      if (!ac.signal.aborted) throw err;
    }
  })();
  await withTimeout(Promise.race([hello, rec.ended]), 5000, "hello event");
  return rec;
}
