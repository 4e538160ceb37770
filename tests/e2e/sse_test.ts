/**
 * `/events` (Server-Sent Events) against a real zws server, with a real HTTP client (fetch,
 * streaming): the frames, ids and resume with Last-Event-ID, the series selection, and the same
 * checks and limits as `/ws`. Also the pure helpers of `src/http/sse.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { lastSeqOf, parseEventId, resumeFromEventStream, toEvent } from "../../src/http/sse.ts";
import { encodePoint, historyFrames, pointsFrame } from "../../src/protocol/frames.ts";
import {
  connectPublisher,
  metric,
  openClient,
  openEventStream,
  sleep,
  type SseRecorder,
  startZws,
  streamPoints,
  waitFor,
} from "../_helpers.ts";

/** Points carry x near now: the server drops x outside --x-window (one day). */
const T0 = Date.now();

type Pt = { seq: number; x: number; y: number; series: string };

Deno.test("sse: event ids are <epoch>:<last seq of the frame>, only on frames with points", () => {
  const p = (seq: number, series = "a") => encodePoint(seq, { x: T0 + seq, y: seq, series });
  assert.equal(lastSeqOf(pointsFrame([p(3), p(4), p(17)])), 17);
  assert.equal(lastSeqOf(historyFrames([p(1), p(2)], true)[0]), 2);
  assert.equal(lastSeqOf(historyFrames([], true)[0]), undefined);
  assert.equal(lastSeqOf('{"type":"hello","seq":5}'), undefined);
  // A series name cannot fake a seq: its quotes are escaped.
  assert.equal(lastSeqOf(pointsFrame([p(9, '{"seq":99,')])), 9);
  assert.equal(toEvent(pointsFrame([p(8)]), "ep"), `id: ep:8\ndata: ${pointsFrame([p(8)])}\n\n`);
  assert.equal(toEvent('{"type":"pong"}', "ep"), 'data: {"type":"pong"}\n\n');
});

Deno.test("sse: Last-Event-ID, ?lastEventId= and ?since=&epoch= map to the same resume", () => {
  assert.deepEqual(parseEventId("abc123:42"), { epoch: "abc123", since: 42 });
  assert.deepEqual(parseEventId("a:b:7"), { epoch: "a:b", since: 7 });
  for (const bad of [null, "", "42", ":42", "e:", "e:-1", "e:1.5", "e:x", "e:1234567890123456"]) {
    assert.equal(parseEventId(bad), undefined, String(bad));
  }
  const req = (q: string, id?: string) =>
    new Request(`http://localhost/events${q}`, { headers: id ? { "last-event-id": id } : {} });
  const r = (q: string, id?: string) => resumeFromEventStream(req(q, id), new URL(req(q).url));
  assert.deepEqual(r("", "ep:10"), { epoch: "ep", since: 10 });
  assert.deepEqual(r("?lastEventId=ep:11"), { epoch: "ep", since: 11 });
  assert.deepEqual(r("?lastEventId=ep:11", "ep:12"), { epoch: "ep", since: 12 }, "header wins");
  assert.deepEqual(r("?since=13&epoch=ep"), { epoch: "ep", since: 13 });
  assert.deepEqual(r("", "garbage"), {});
});

/** Points of history and points frames, in order. */
function allPoints(c: SseRecorder): Pt[] {
  return c.frames.flatMap((f) =>
    f.type === "points" || f.type === "history" ? f.points as Pt[] : []
  );
}

async function metrics(base: string): Promise<string> {
  return await (await fetch(`${base}/metrics`)).text();
}

Deno.test("/events: headers, retry hint, hello, history, series_list, then live points with ids", async () => {
  const zws = await startZws(["--no-demo", "--history", "50"]);
  const pub = await connectPublisher(zws.ingress);
  let c: SseRecorder | undefined;
  try {
    await pub.send(JSON.stringify(
      Array.from({ length: 10 }, (_, i) => ({ x: T0 + i, y: i, series: i % 2 ? "b" : "a" })),
    ));
    await waitFor(
      async () => metric(await metrics(zws.base), "zws_history_points") === 10,
      5000,
      "10 held",
    );
    // Accept-Encoding as a browser sends it: the stream must not be compressed (buffered).
    c = await openEventStream(`${zws.base}/events`, {
      headers: { "accept-encoding": "gzip, deflate, br" },
    });
    const h = c.response.headers;
    assert.equal(h.get("content-type"), "text/event-stream; charset=utf-8");
    assert.equal(h.get("cache-control"), "no-cache, no-transform");
    assert.equal(h.get("content-encoding"), null);
    assert.match(h.get("content-security-policy") ?? "", /default-src 'none'/);
    await waitFor(() => c!.frames.length >= 3, 5000, "hello, history, series_list");
    assert.equal(c.retry, 2000);
    const [hello, history, list] = c.events;
    const epoch = c.frames[0].epoch as string;
    assert.equal(c.frames[0].type, "hello");
    assert.equal(c.frames[0].resumed, false);
    assert.equal(hello.id, undefined, "no id on hello");
    assert.equal(c.frames[1].type, "history");
    assert.equal(c.frames[1].reset, true);
    assert.deepEqual(
      (c.frames[1].points as Pt[]).map((p) => p.seq),
      [...Array(10).keys()].map((i) => i + 1),
    );
    assert.equal(history.id, `${epoch}:10`);
    assert.deepEqual(c.frames[2], { type: "series_list", series: ["a", "b"], units: {} });
    assert.equal(list.id, undefined);

    await pub.send(
      JSON.stringify([{ x: T0 + 1000, y: 1, series: "a" }, { x: T0 + 1000, y: 2, series: "c" }]),
    );
    await waitFor(() => c!.points().length === 2, 5000, "two live points");
    const live = c.events.find((e) => JSON.parse(e.data).type === "points")!;
    assert.equal(live.id, `${epoch}:12`, "id: the last seq of the frame");
    assert.deepEqual(c.points().map((p) => [p.seq, p.series]), [[11, "a"], [12, "c"]]);
    // A new series: the names again (within a second).
    await waitFor(
      () => c!.frames.some((f) => f.type === "series_list" && (f.series as string[]).length === 3),
      3000,
      "series_list with c",
    );
    assert.equal(metric(await metrics(zws.base), "zws_sse_clients"), 1);
    assert.equal(metric(await metrics(zws.base), "zws_clients"), 1);
  } finally {
    await c?.close();
    pub.close();
    await zws.stop();
  }
});

Deno.test("/events: 10 reconnects with Last-Event-ID mid-stream: 0 lost, 0 duplicated", async () => {
  const zws = await startZws(["--no-demo", "--history", "5000"]);
  const pub = await connectPublisher(zws.ingress);
  const stream = streamPoints(pub, 5, 4, ["a", "b"]); // ~800 points/s
  const seen: number[] = [];
  let c: SseRecorder | undefined;
  try {
    c = await openEventStream(`${zws.base}/events`);
    for (let i = 0; i < 10; i++) {
      await sleep(100 + Math.random() * 150);
      const open = c;
      await waitFor(() => open.lastEventId() !== "", 5000, "an event with an id");
      await c.close(); // the connection drops mid-stream
      seen.push(...allPoints(c).map((p) => p.seq));
      const lastId: string = c.lastEventId();
      assert.match(
        lastId,
        /^[^:]+:\d+$/,
        `reconnect ${i + 1}: ${JSON.stringify(c.events.slice(-3))}`,
      );
      assert.equal(Number(lastId.split(":")[1]), seen.at(-1), "the id is the last seq received");
      await sleep(Math.random() * 100); // points keep coming while it is away
      // Half the time as EventSource reconnects (header), half as a new EventSource (query).
      c = i % 2
        ? await openEventStream(`${zws.base}/events?lastEventId=${encodeURIComponent(lastId)}`)
        : await openEventStream(`${zws.base}/events`, { headers: { "last-event-id": lastId } });
      assert.equal(c.frames[0].resumed, true, `reconnect ${i + 1} resumes exactly`);
    }
    await stream.stop();
    const total = stream.sent;
    await waitFor(() => seen.length + allPoints(c!).length >= total, 5000, "every point");
    await sleep(100);
    seen.push(...allPoints(c).map((p) => p.seq));
    assert.equal(new Set(seen).size, seen.length, "no duplicates");
    assert.deepEqual(seen, [...Array(total).keys()].map((i) => i + 1), "every point, in order");
    const text = await metrics(zws.base);
    assert.equal(metric(text, 'zws_client_resumes_total{result="exact"}'), 10);
  } finally {
    await stream.stop();
    await c?.close();
    pub.close();
    await zws.stop();
  }
});

Deno.test("/events: a resume from another epoch or from points no longer held is a reset", async () => {
  const zws = await startZws(["--no-demo", "--history", "10"]);
  const pub = await connectPublisher(zws.ingress);
  try {
    await pub.send(JSON.stringify(Array.from({ length: 30 }, (_, i) => ({ x: T0 + i, y: i }))));
    await waitFor(
      async () => metric(await metrics(zws.base), "zws_history_points") === 10,
      5000,
      "held",
    );
    const first = await openEventStream(`${zws.base}/events`);
    const epoch = first.frames[0].epoch as string;
    await first.close();
    for (const id of [`other:25`, `${epoch}:5`]) {
      const c = await openEventStream(`${zws.base}/events`, { headers: { "last-event-id": id } });
      await waitFor(() => c.frames.length >= 2, 5000, "history");
      assert.equal(c.frames[0].resumed, false, id);
      assert.equal(c.frames[1].reset, true, id);
      assert.deepEqual(
        (c.frames[1].points as Pt[]).map((p) => p.seq),
        [...Array(10).keys()].map((i) => i + 21),
      );
      await c.close();
    }
    const exact = await openEventStream(`${zws.base}/events`, {
      headers: { "last-event-id": `${epoch}:27` },
    });
    await waitFor(() => exact.frames.length >= 2, 5000, "history");
    assert.equal(exact.frames[0].resumed, true);
    assert.equal(exact.frames[1].reset, false);
    assert.deepEqual((exact.frames[1].points as Pt[]).map((p) => p.seq), [28, 29, 30]);
    await exact.close();
  } finally {
    pub.close();
    await zws.stop();
  }
});

Deno.test("/events?series=: only the selected series, while series_list names them all", async () => {
  const zws = await startZws(["--no-demo"]);
  const pub = await connectPublisher(zws.ingress);
  try {
    const names = ["a", "b,c", "温度"];
    await pub.send(JSON.stringify(names.map((s, i) => ({ x: T0, y: i, series: s }))));
    await waitFor(
      async () => metric(await metrics(zws.base), "zws_history_points") === 3,
      5000,
      "held",
    );
    const q = ["b,c", "温度"].map(encodeURIComponent).join(",");
    const c = await openEventStream(`${zws.base}/events?series=${q}`);
    await waitFor(() => c.frames.length >= 3, 5000, "hello, history, series_list");
    assert.deepEqual((c.frames[1].points as Pt[]).map((p) => p.series), ["b,c", "温度"]);
    assert.deepEqual(c.frames[2], { type: "series_list", series: [...names].sort(), units: {} });
    await pub.send(JSON.stringify(names.map((s, i) => ({ x: T0 + 1000, y: i, series: s }))));
    await waitFor(() => c.points().length >= 2, 5000, "live points");
    await sleep(100);
    assert.deepEqual(c.points().map((p) => p.series), ["b,c", "温度"]);
    await c.close();
    // An invalid selection is refused before any stream starts.
    const bad = await fetch(`${zws.base}/events?series=${"x".repeat(65)}`);
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /longer than 64/);
  } finally {
    pub.close();
    await zws.stop();
  }
});

Deno.test("/events: foreign origins get 403; same origin, allowed and absent Origin pass", async () => {
  const zws = await startZws(["--no-demo", "--allow-origin", "https://dash.example"]);
  try {
    const r = await fetch(`${zws.base}/events`, { headers: { origin: "http://evil.example" } });
    assert.equal(r.status, 403);
    assert.match(await r.text(), /origin not allowed/);
    for (const origin of [zws.base, "https://dash.example", undefined]) {
      const c = await openEventStream(`${zws.base}/events`, {
        headers: origin ? { origin } : {},
      });
      assert.equal(c.frames[0].type, "hello", String(origin));
      await c.close();
    }
    const text = await metrics(zws.base);
    assert.equal(metric(text, 'zws_sse_rejected_total{reason="origin"}'), 1);
    assert.equal(metric(text, 'zws_ws_rejected_total{reason="origin"}'), 0);
  } finally {
    await zws.stop();
  }
});

Deno.test("/events and /ws share one client limit: 503 with Retry-After beyond it", async () => {
  const zws = await startZws(["--no-demo", "--max-clients", "2"]);
  try {
    const ws = await openClient(zws.wsUrl);
    const sse = await openEventStream(`${zws.base}/events`);
    const r = await fetch(`${zws.base}/events`);
    assert.equal(r.status, 503);
    assert.equal(r.headers.get("retry-after"), "5");
    await r.body?.cancel();
    await assert.rejects(openClient(zws.wsUrl), "a third client over WebSocket is refused too");
    let text = await metrics(zws.base);
    assert.equal(metric(text, "zws_clients"), 2);
    assert.equal(metric(text, "zws_sse_clients"), 1);
    assert.equal(metric(text, 'zws_sse_rejected_total{reason="capacity"}'), 1);
    assert.equal(metric(text, 'zws_ws_rejected_total{reason="capacity"}'), 1);
    // The event stream's client goes away: its place is free again.
    await sse.close();
    await waitFor(async () => metric(await metrics(zws.base), "zws_clients") === 1, 5000, "1 left");
    const again = await openEventStream(`${zws.base}/events`);
    text = await metrics(zws.base);
    assert.equal(metric(text, "zws_sse_clients"), 1);
    await again.close();
    await ws.close();
  } finally {
    await zws.stop();
  }
});

Deno.test("/events: SIGTERM ends the stream with a close event (1001) and the server exits fast", async () => {
  const zws = await startZws(["--no-demo"]);
  const c = await openEventStream(`${zws.base}/events`);
  const { code, ms } = await zws.stop("SIGTERM");
  await c.ended;
  assert.equal(code, 0);
  assert.ok(ms < 2000, `exited in ${ms} ms`);
  const close = c.events.find((e) => e.event === "close");
  assert.ok(close, "a close event");
  assert.deepEqual(JSON.parse(close.data), {
    type: "close",
    code: 1001,
    reason: "server shutting down",
  });
});

Deno.test("/events: a reader that stalls is held back, then closed with 4008", async () => {
  const zws = await startZws([
    "--no-demo",
    "--client-buffer-bytes",
    "65536",
    "--slow-client-timeout",
    "2",
  ]);
  const pub = await connectPublisher(zws.ingress);
  const { hostname, port } = new URL(zws.base);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    // A raw HTTP client that sends its request and never reads the response.
    await conn.write(new TextEncoder().encode(
      `GET /events HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\n\r\n`,
    ));
    await waitFor(
      async () => metric(await metrics(zws.base), "zws_sse_clients") === 1,
      5000,
      "connected",
    );
    const fat = "s".repeat(64);
    let slow = 0;
    let closed = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < 40000 && closed === 0) {
      for (let k = 0; k < 50; k++) {
        await pub.send(
          JSON.stringify(Array.from({ length: 20 }, (_, i) => ({ x: T0, y: i, series: fat }))),
        );
      }
      await sleep(20);
      const text = await metrics(zws.base);
      slow = Math.max(slow, metric(text, "zws_slow_clients"));
      closed = metric(text, "zws_slow_clients_closed_total");
    }
    assert.equal(slow, 1, "held back while over its bound");
    assert.equal(closed, 1, "closed after the slow-client timeout");
    assert.equal(metric(await metrics(zws.base), "zws_sse_clients"), 0);
  } finally {
    conn.close();
    pub.close();
    await zws.stop();
  }
});
