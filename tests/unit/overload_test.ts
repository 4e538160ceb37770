import assert from "node:assert/strict";
import { countPoints, IngressGovernor } from "../../src/relay/overload.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("IngressGovernor sheds for a spell only when no probe came through the ingress for a window", () => {
  const g = new IngressGovernor({ windowMs: 2500, shedMs: 50, now: 0 });
  // Busy but keeping up: a probe comes out every second, however long the queue never drains.
  for (let t = 0; t <= 10000; t += 10) {
    if (t % 1000 === 0) g.probeSeen(t);
    assert.equal(g.shed(t), false, `t=${t}`);
  }
  // Behind: the probe sent at 10,000 is still queued at 12,500 -> a 50 ms spell of shedding.
  let shedAt = -1;
  for (let t = 10010; t <= 12550; t += 10) if (g.shed(t) && shedAt < 0) shedAt = t;
  assert.equal(shedAt, 12500, "shedding starts 2.5 s after the last probe came out");
  assert.equal(g.shed(12540), true, "still in the spell");
  assert.equal(g.shed(12560), true, "a new spell: still behind");
  g.probeSeen(12570);
  assert.equal(g.shed(12620), false, "the probe came out: the backlog drained, no more shedding");
});

Deno.test("countPoints() counts the x keys of an unparsed message, at least 1", () => {
  const msg = JSON.stringify([{ x: 1, y: 2 }, { x: 3, y: 4, series: 'a"x"b' }, { "x": 5, y: 6 }]);
  assert.equal(countPoints([enc(msg)]), 3);
  assert.equal(countPoints([enc("t"), enc('{"x":1,"y":2}')]), 1, "the topic frame is skipped");
  assert.equal(countPoints([enc("garbage")]), 1);
  assert.equal(countPoints([]), 1);
});
