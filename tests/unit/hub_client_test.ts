/** Unit tests of the hub's client helpers and the WebSocket message policing (no sockets). */
import assert from "node:assert/strict";
import { type Client, effectiveSeries, selectSeries, seriesKey } from "../../src/hub/client.ts";
import { CLOSE_MESSAGE_FLOOD, policeMessage } from "../../src/http/websocket.ts";

Deno.test("seriesKey() is the same for equal sets in any order, and differs otherwise", () => {
  assert.equal(seriesKey(new Set(["b", "a"])), seriesKey(new Set(["a", "b"])));
  assert.notEqual(seriesKey(new Set(["a", "b"])), seriesKey(new Set(["ab"])));
  assert.notEqual(seriesKey(new Set(["a"])), seriesKey(new Set()));
});

Deno.test("selectSeries() keeps the cached key in step with the selection", () => {
  const c = { series: undefined, seriesKey: undefined } as unknown as Client;
  selectSeries(c, new Set(["y", "x"]));
  assert.deepEqual([...c.series!], ["y", "x"]);
  assert.equal(c.seriesKey, seriesKey(new Set(["x", "y"])));
  selectSeries(c, undefined);
  assert.equal(c.series, undefined);
  assert.equal(c.seriesKey, undefined);
});

Deno.test("effectiveSeries() is the selection within what is allowed", () => {
  assert.equal(effectiveSeries(undefined, undefined), undefined);
  assert.deepEqual([...effectiveSeries(undefined, new Set(["a"]))!], ["a"]);
  assert.deepEqual([...effectiveSeries(new Set(["a", "b"]), new Set(["b", "c"]))!], ["b"]);
});

Deno.test("policeMessage() allows a burst of twice the rate per second, then 1008", () => {
  const limits = { messageRate: 2, maxMessageBytes: 100 };
  const win = { start: 0, count: 0 };
  for (let i = 0; i < 4; i++) {
    assert.deepEqual(policeMessage(win, '{"type":"ping"}', limits, 10), { type: "ping" });
  }
  const flood = policeMessage(win, '{"type":"ping"}', limits, 20);
  assert.ok("code" in flood && flood.code === CLOSE_MESSAGE_FLOOD);
  // A new window after a second.
  assert.deepEqual(policeMessage(win, '{"type":"ping"}', limits, 1100), { type: "ping" });
});

Deno.test("policeMessage() refuses oversized (1009), binary (1003) and invalid (1007) messages", () => {
  const limits = { messageRate: 100, maxMessageBytes: 20 };
  const code = (data: unknown) => {
    const r = policeMessage({ start: 0, count: 0 }, data, limits, 0);
    return "code" in r ? r.code : undefined;
  };
  assert.equal(code("x".repeat(21)), 1009);
  assert.equal(code(new Uint8Array(3)), 1003);
  assert.equal(code("{nope"), 1007);
  assert.equal(code('{"type":"series","only":["a"]}'), 1009);
  assert.equal(code('{"type":"ping"}'), undefined);
});
