/**
 * Decimated live data, the page's side (static/decimation.js): the note, and the rate messages
 * sent as the window, the stream's speed and the connection change. No DOM, no sockets: `send`
 * records the messages.
 */
import assert from "node:assert/strict";
import { createDecimation, decimationText } from "../../static/decimation.js";
import { targetRate } from "../../static/rate.js";

Deno.test("decimation: the note says what is min/max per bucket, live or history", () => {
  const exact = { since: null, rate: null, asked: null };
  assert.equal(decimationText(exact, 5000, null), "");
  const live = { since: 1000, rate: 33, asked: 40 };
  assert.equal(
    decimationText(live, 5000, null),
    "decimated: min/max, at most 33 points/s per series",
  );
  assert.equal(decimationText(live, 999, null), "", "the range ends before the decimated data");
  assert.equal(
    decimationText({ since: 1000, rate: null, asked: 40 }, 1000, 1500),
    "decimated: min/max, at most 40 points/s per series; history: min/max per 1.5 s",
  );
  assert.match(decimationText({ since: 1, rate: null, asked: null }, 5, null), /at most \? points/);
  assert.equal(decimationText(exact, 5000, 250), "history: min/max per 250 ms");
});

/** A decimation state over a fake connection (`open`: WebSocket open), sent messages recorded. */
function setup(transport = "websocket") {
  const sent: unknown[] = [];
  const env = { open: true, transport, fastest: 0, columns: 1000, span: 60_000 };
  const d = createDecimation({
    send: (msg: unknown) => {
      if (!env.open || env.transport !== "websocket") return false;
      sent.push(msg);
      return true;
    },
    transport: () => env.transport,
    columns: () => env.columns,
    liveSpan: () => env.span,
    fastest: () => env.fastest,
  });
  return { d, sent, env };
}

Deno.test("decimation: a fast stream asks for the window's rate, a slow one goes exact", () => {
  const { d, sent, env } = setup();
  d.update();
  assert.deepEqual(sent, [], "slow: nothing to ask");
  env.fastest = 1000;
  d.update();
  const target = targetRate(1000, 60_000);
  assert.deepEqual(sent.splice(0), [{ type: "rate", max_points_per_s: target }]);
  assert.equal(d.asked, target);
  assert.equal(d.changes, 1);
  d.update();
  assert.deepEqual(sent, [], "no change, no message");
  env.span = 10_000;
  d.update();
  assert.deepEqual(sent.splice(0), [{ type: "rate", max_points_per_s: targetRate(1000, 10_000) }]);
  env.fastest = 1;
  d.update();
  assert.deepEqual(sent.splice(0), [{ type: "rate", max_points_per_s: null }]);
  assert.equal(d.asked, null);
  assert.equal(d.changes, 3);
});

Deno.test("decimation: a new connection asks again; unsent over a closed socket, forgotten", () => {
  const { d, sent, env } = setup();
  env.fastest = 1000;
  d.update();
  sent.length = 0;
  d.onHello();
  assert.deepEqual(sent.splice(0), [{ type: "rate", max_points_per_s: d.asked }]);
  env.open = false;
  d.onHello();
  assert.equal(d.asked, null, "the new stream is exact");
  d.onHello();
  assert.deepEqual(sent, []);
});

Deno.test("decimation: over SSE nothing is asked; the rate asked is dropped", () => {
  const { d, sent, env } = setup("sse");
  env.fastest = 1e6;
  d.update();
  assert.deepEqual(sent, []);
  assert.equal(d.asked, null);
  const ws = setup();
  ws.env.fastest = 1e6;
  ws.d.update();
  assert.notEqual(ws.d.asked, null);
  ws.d.dropAsk();
  assert.equal(ws.d.asked, null);
});

Deno.test("decimation: frames mark since when the rings hold min/max data", () => {
  const { d } = setup();
  assert.equal(d.coarseAt(1e12), false);
  d.onFrame({ decimated: true, rate: 50, points: [{ x: 2000 }, { x: 1500 }, { y: 1 }] });
  d.onFrame({ decimated: true, points: [{ x: 3000 }] });
  assert.equal(d.since, 1500, "the first decimated x");
  assert.equal(d.rate, null, "no rate in the last frame, none asked");
  assert.equal(d.coarseAt(1499), false);
  assert.equal(d.coarseAt(1500), true);
  d.onFrame({ decimated: true, rate: 50, points: [] });
  d.emptied();
  assert.equal(d.since, null, "Clear: the rings are empty");
  assert.equal(d.rate, 50, "the server's rate stays known");
  d.onFrame({ decimated: true, rate: 50, points: [{ x: 9 }] });
  d.reset();
  assert.equal(d.since, null);
  assert.equal(d.rate, null, "a reset snapshot: exact again");
});
