import assert from "node:assert/strict";
import { demoPoints, WAVE_PERIOD_MS } from "../../producer.ts";
import { openClient, startZws, taskArgs, waitFor } from "../_helpers.ts";

Deno.test("demoPoints: two smooth series that repeat every period", () => {
  const t = 1_700_000_000_000;
  const a = demoPoints(t);
  assert.deepEqual(a.map((p) => p.series), ["sine", "cosine"]);
  assert.ok(a.every((p) => p.x === t && Number.isFinite(p.y)));
  // Smooth: 100 ms apart (the demo's rate), values move by a small step.
  const b = demoPoints(t + 100);
  assert.ok(Math.abs(b[0].y - a[0].y) < 0.25 && Math.abs(b[0].y - a[0].y) > 0);
  // Cosine series is periodic with the wave's period.
  assert.ok(Math.abs(demoPoints(t + WAVE_PERIOD_MS)[1].y - a[1].y) < 1e-3);
  // Over a period the sine series spans most of [-1, 1]: it visibly moves.
  const ys = Array.from({ length: 60 }, (_, i) => demoPoints(t + i * 100)[0].y);
  assert.ok(Math.max(...ys) - Math.min(...ys) > 1.5);
});

Deno.test("deno task produce publishes to a running server's ingress", async () => {
  const zws = await startZws(["--no-demo"]);
  const c = await openClient(zws.wsUrl);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        ...(await taskArgs("produce")),
        "--ingress",
        zws.ingress,
        "--rate",
        "50",
        "--count",
        "40",
      ],
      cwd: new URL("../../", import.meta.url),
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    // PUB/SUB: the first batches may go out before the connection is up; most must arrive.
    await waitFor(() => c.points().length >= 40, 5000, "points from the standalone producer");
    const series = new Set(c.points().map((p) => p.series));
    assert.deepEqual([...series].sort(), ["cosine", "sine"]);
  } finally {
    await c.close();
    await zws.stop();
  }
});

Deno.test("deno task produce: a bad flag exits 2", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...(await taskArgs("produce")), "--ingress", "nope"],
    cwd: new URL("../../", import.meta.url),
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  assert.match(new TextDecoder().decode(out.stderr), /--ingress must look like/);
});
