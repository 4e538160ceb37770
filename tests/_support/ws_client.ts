/**
 * A WebSocket client that records every frame, and a bare upgrade attempt for status checks.
 *
 * @module
 */
import { withTimeout } from "./async.ts";

/** A WebSocket client that records every frame it receives. */
export interface WsRecorder {
  ws: WebSocket;
  /** Parsed JSON frames, in order. */
  frames: Array<Record<string, unknown>>;
  /** Resolves with the close event. */
  closed: Promise<CloseEvent>;
  /** Every point received in `points` frames, in order. */
  points(): Array<{ seq: number; x: number; y: number; series: string }>;
  close(): Promise<void>;
}

/** Opens a WebSocket and waits for the hello frame (`client`: e.g. one that trusts a test CA). */
export async function openClient(
  url: string,
  init?: { headers?: HeadersInit; client?: Deno.HttpClient },
): Promise<WsRecorder> {
  // deno-lint-ignore no-explicit-any
  const ws = new WebSocket(url, init as any);
  const frames: Array<Record<string, unknown>> = [];
  let helloSeen: () => void;
  const hello = new Promise<void>((r) => helloSeen = r);
  const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    frames.push(msg);
    if (msg.type === "hello") helloSeen();
  };
  const opened = new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = (e) => reject(new Error(`WebSocket ${url} failed: ${(e as ErrorEvent).message}`));
  });
  await opened;
  await withTimeout(hello, 5000, "hello frame");
  return {
    ws,
    frames,
    closed,
    points: () =>
      frames.flatMap((f) =>
        f.type === "points"
          ? f.points as Array<{ seq: number; x: number; y: number; series: string }>
          : []
      ),
    async close() {
      if (ws.readyState < WebSocket.CLOSING) ws.close();
      await closed;
    },
  };
}

/** Tries a WebSocket upgrade with a plain HTTP request and returns the response status. */
export async function upgradeStatus(
  url: string,
  headers: Record<string, string> = {},
  client?: Deno.HttpClient,
): Promise<number> {
  const r = await fetch(url.replace(/^ws/, "http"), {
    headers: {
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version": "13",
      ...headers,
    },
    client,
  });
  await r.body?.cancel();
  return r.status;
}
