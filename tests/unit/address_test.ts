/**
 * The page's address and its streams' queries (static/address.js): ?token=, ?window=, ?series=
 * read, the deep link and the /ws and /events queries written. Pure.
 */
import assert from "node:assert/strict";
import {
  DEFAULT_WINDOW,
  pageQuery,
  parseSeriesParam,
  parseTokenParam,
  parseWindowParam,
  streamQuery,
  WINDOWS,
} from "../../static/address.js";

Deno.test("address: ?window= is one of the windows offered, else the default", () => {
  assert.equal(DEFAULT_WINDOW, "1m");
  assert.deepEqual(Object.keys(WINDOWS), ["10s", "1m", "5m", "all"]);
  assert.equal(parseWindowParam("?window=10s"), "10s");
  assert.equal(parseWindowParam("?series=a&window=all"), "all");
  assert.equal(parseWindowParam("window=5m"), "5m", "with or without the ?");
  assert.equal(parseWindowParam("?window=2h"), "1m");
  assert.equal(parseWindowParam("?window=toString"), "1m", "not an inherited key");
  assert.equal(parseWindowParam("?xwindow=10s"), "1m", "the whole parameter name");
  assert.equal(parseWindowParam(""), "1m");
});

Deno.test("address: ?series= is a Set of names read like the server does; none is null", () => {
  assert.equal(parseSeriesParam("?window=10s"), null, "every series");
  assert.deepEqual(parseSeriesParam("?series=a,b%2Cc&series=d+e"), new Set(["a", "b,c", "d e"]));
  assert.deepEqual(parseSeriesParam("?series="), new Set(), "no series at all");
  assert.deepEqual(parseSeriesParam("?series=ok,%E0%A4%A"), new Set(["ok"]), "malformed skipped");
});

Deno.test("address: ?token= is read once, decoded", () => {
  assert.equal(parseTokenParam("?token=a.b%2Bc"), "a.b+c");
  assert.equal(parseTokenParam("?series=a"), null);
});

Deno.test("address: pageQuery() writes only what differs from a plain link", () => {
  assert.equal(pageQuery(null, null, "1m", ""), "");
  assert.equal(
    pageQuery("t+1", new Set(["a,b", "c"]), "10s", "net:cpu%2Fuser"),
    "?token=t%2B1&series=a%2Cb,c&window=10s&panels=net:cpu%2Fuser",
  );
  assert.equal(pageQuery(null, new Set(), "1m", ""), "?series=", "no series is not every series");
  // What it writes reads back.
  const q = pageQuery(null, new Set(["x y", "ü"]), "all", "");
  assert.deepEqual(parseSeriesParam(q), new Set(["x y", "ü"]));
  assert.equal(parseWindowParam(q), "all");
});

Deno.test("address: streamQuery() resumes by seq over /ws and by event id over /events", () => {
  const resume = { epoch: "e:1", lastSeq: 41 };
  assert.equal(streamQuery("websocket", null, null, null), "");
  assert.equal(streamQuery("websocket", null, null, resume), "?since=41&epoch=e%3A1");
  assert.equal(streamQuery("sse", null, null, resume), "?lastEventId=e%3A1%3A41");
  assert.equal(
    streamQuery("websocket", "tok", new Set(["a"]), null),
    "?token=tok&series=a",
    "a fresh start has no resume parameters",
  );
  assert.equal(
    streamQuery("sse", "tok", new Set(["a", "b"]), resume),
    "?token=tok&series=a,b&lastEventId=e%3A1%3A41",
  );
});
