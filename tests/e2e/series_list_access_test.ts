/**
 * `series_list` frames name only the series a client's token allows, on `/ws` and `/events`: a
 * viewer limited to `alpha` never learns that `secret_project` exists. Real server, real sockets.
 */
import assert from "node:assert/strict";
import type * as zmq from "zeromq";
import { signToken } from "../../src/http/auth.ts";
import {
  connectPublisher,
  openClient,
  openEventStream,
  type SseRecorder,
  startZws,
  waitFor,
  type WsRecorder,
} from "../_helpers.ts";

const SECRET = "series-list-secret-" + crypto.randomUUID();
const KEY = new TextEncoder().encode(SECRET);

const lists = (frames: Array<Record<string, unknown>>) =>
  frames.filter((f) => f.type === "series_list").map((f) => f.series as string[]);

Deno.test("series_list: a token limited to alpha is told only alpha, on /ws and /events", async () => {
  const zws = await startZws(["--no-demo"], { env: { ZWS_AUTH_SECRET: SECRET } });
  let pub: zmq.Publisher | undefined;
  const ws: WsRecorder[] = [];
  let sse: SseRecorder | undefined;
  try {
    pub = await connectPublisher(zws.ingress);
    // Held before anyone connects: in the first series_list of every client.
    await pub.send(JSON.stringify({ x: Date.now(), y: 0, series: "secret_project" }));
    const alphaOnly = await signToken(KEY, { ttlSeconds: 600, series: ["alpha"] });
    const everything = await signToken(KEY, { ttlSeconds: 600 });
    const full = await openClient(`${zws.wsUrl}?token=${everything}`);
    ws.push(full);
    await waitFor(
      () => lists(full.frames).at(-1)?.includes("secret_project") === true,
      5000,
      "held",
    );
    const limited = await openClient(`${zws.wsUrl}?token=${alphaOnly}`);
    ws.push(limited);
    sse = await openEventStream(`${zws.base}/events?token=${alphaOnly}`);
    // New series after they connected: the broadcast path.
    for (const series of ["alpha", "secret_two", "beta"]) {
      await pub.send(JSON.stringify({ x: Date.now(), y: 1, series }));
    }
    await waitFor(
      () => lists(full.frames).at(-1)?.length === 4,
      5000,
      "the full client is told all four",
    );
    const sseFrames = sse.frames;
    await waitFor(
      () =>
        lists(limited.frames).at(-1)?.includes("alpha") === true &&
        lists(sseFrames).at(-1)?.includes("alpha") === true,
      5000,
      "the limited clients are told alpha",
    );
    assert.deepEqual(lists(full.frames).at(-1), ["alpha", "beta", "secret_project", "secret_two"]);
    for (const [name, frames] of [["ws", limited.frames], ["sse", sseFrames]] as const) {
      const seen = lists(frames);
      assert.ok(seen.length >= 2, `${name}: a list on connect and an update`);
      assert.deepEqual(seen[0], [], `${name}: nothing it may see was held on connect`);
      for (const names of seen) assert.deepEqual(names, names.length ? ["alpha"] : [], name);
      // Nor through the points or history it got.
      const pts = frames.flatMap((f) => (f.points as Array<{ series: string }> | undefined) ?? []);
      assert.ok(pts.every((p) => p.series === "alpha"), `${name}: only alpha points`);
    }
  } finally {
    pub?.close();
    await sse?.close();
    await Promise.all(ws.map((c) => c.close()));
    await zws.stop();
  }
});
