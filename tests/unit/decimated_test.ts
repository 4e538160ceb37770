/** Unit tests of the decimated streams (`src/hub/decimated.ts`): fake clients, no sockets. */
import assert from "node:assert/strict";
import { type Client, selectSeries } from "../../src/hub/client.ts";
import { DecimatedStreams, FLUSH_GRACE_MS, MAX_RATES } from "../../src/hub/decimated.ts";
import type { BusBatch } from "../../src/protocol/bus.ts";
import { decodeBus } from "../../src/protocol/bus_decode.ts";
import { encodeBus } from "../../src/protocol/bus_encode.ts";
import { encodePoint } from "../../src/protocol/frames.ts";

let nextSeq = 1;
/** One bus batch of `points` ([x, y, series]), as the bridge receives it. */
function batch(points: [number, number, string][]): BusBatch {
  const m = decodeBus(encodeBus(
    "e",
    nextSeq,
    points.map(([x, y, series]) => ({ series, json: encodePoint(nextSeq++, { x, y, series }) })),
  ));
  if (m.kind !== "batch") throw new Error("not a batch");
  return m.batch;
}

function client(name: string, series?: string[]): Client {
  const c = { session: name, lastSent: 0, queued: 0, seriesListVersion: 0 } as unknown as Client;
  selectSeries(c, series ? new Set(series) : undefined);
  return c;
}

/** Streams whose frames are recorded per client, on a clock the test moves. */
function setup() {
  const sent: { c: Client; frame: string; points: number }[] = [];
  const clock = { t: 1000 };
  const d = new DecimatedStreams({
    send: (c, frame, points) => sent.push({ c, frame, points }),
    now: () => clock.t,
    flushMs: 60_000, // the test flushes by hand
  });
  const pointsOf = (c: Client) =>
    sent.filter((s) => s.c === c).flatMap((s) => JSON.parse(s.frame).points) as {
      x: number;
      y: number;
      series: string;
    }[];
  return { d, sent, clock, pointsOf };
}

Deno.test("DecimatedStreams: clients at one rate share one stream and one frame", () => {
  const { d, sent, pointsOf } = setup();
  const a = client("a");
  const b = client("b");
  try {
    assert.equal(d.setRate(a, 100), 100); // buckets of 20 ms
    assert.equal(d.setRate(b, 100), 100);
    assert.equal(a.rate, 100);
    d.feed([batch([[0, 5, "s"], [5, 9, "s"], [10, 1, "s"], [19, 4, "s"], [20, 3, "s"]])]);
    d.flush();
    assert.equal(d.streamCount, 1, "one stream for (s, 100)");
    assert.equal(d.clientCount, 2);
    assert.equal(sent.length, 2);
    assert.equal(sent[0].frame, sent[1].frame, "the same frame");
    assert.equal(
      sent[0].frame,
      '{"type":"points","decimated":true,"rate":100,"points":[' +
        '{"x":5,"y":9,"series":"s"},{"x":10,"y":1,"series":"s"}]}',
      "bucket 0's max then min, in x order, without seq; bucket 1 still open",
    );
    assert.deepEqual(pointsOf(a), pointsOf(b));
  } finally {
    d.close();
  }
});

Deno.test("DecimatedStreams: a quiet series' last bucket closes on time", () => {
  const { d, sent, clock } = setup();
  const a = client("a");
  try {
    d.setRate(a, 10); // buckets of 200 ms
    d.feed([batch([[1, 1, "s"], [2, 2, "s"]])]);
    clock.t += 200 + FLUSH_GRACE_MS - 1;
    d.flush();
    assert.equal(sent.length, 0, "not yet");
    clock.t += 1;
    d.flush();
    assert.equal(sent.length, 1);
    assert.equal(sent[0].points, 2);
  } finally {
    d.close();
  }
});

Deno.test("DecimatedStreams: each client gets the series it sees; streams only for those", () => {
  const { d, pointsOf } = setup();
  const onlyA = client("onlyA", ["a"]);
  const onlyB = client("onlyB", ["b"]);
  try {
    d.setRate(onlyA, 100);
    d.setRate(onlyB, 100);
    const pts: [number, number, string][] = [];
    for (const s of ["a", "b", "c"]) for (let x = 0; x < 50; x += 5) pts.push([x, x, s]);
    d.feed([batch(pts)]);
    d.flush();
    assert.equal(d.streamCount, 2, "c feeds no one");
    assert.ok(pointsOf(onlyA).length > 0 && pointsOf(onlyA).every((p) => p.series === "a"));
    assert.ok(pointsOf(onlyB).length > 0 && pointsOf(onlyB).every((p) => p.series === "b"));
    // onlyB leaves: b's stream goes with it.
    d.remove(onlyB);
    assert.equal(d.streamCount, 1);
    assert.equal(onlyB.rate, undefined);
  } finally {
    d.close();
  }
});

Deno.test("DecimatedStreams: another rate is another stream; back to exact forgets the client", () => {
  const { d } = setup();
  const a = client("a");
  const b = client("b");
  try {
    d.setRate(a, 100);
    d.setRate(b, 10);
    d.feed([batch([[0, 1, "s"]])]);
    assert.equal(d.streamCount, 2);
    d.setRate(a, undefined);
    assert.equal(a.rate, undefined);
    assert.equal(d.clientCount, 1);
    assert.equal(d.streamCount, 1);
  } finally {
    d.close();
  }
});

Deno.test("DecimatedStreams: past MAX_RATES rates, a new one gets the nearest rate below", () => {
  const { d } = setup();
  const clients = Array.from({ length: MAX_RATES }, (_, i) => client(`c${i}`));
  try {
    clients.forEach((c, i) => d.setRate(c, 10 * (i + 1)));
    assert.equal(d.setRate(client("x"), 25), 20);
    assert.equal(d.setRate(client("y"), 5), 10, "none below: the lowest");
    assert.equal(d.setRate(client("z"), 30), 30, "a rate in use");
  } finally {
    d.close();
  }
});
