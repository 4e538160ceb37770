import assert from "node:assert/strict";
import { countPoints, IngressGovernor } from "../../src/relay/overload.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("IngressGovernor sheds for a spell only after a window with (almost) no waiting", () => {
  const g = new IngressGovernor({ windowMs: 100, minWaitMs: 1, shedMs: 50 }, 0);
  // Idle-ish: messages arrive with waits; never shed.
  for (let t = 0; t <= 300; t += 10) assert.equal(g.shed(2, t), false, `t=${t}`);
  // Saturated: input always queued (no wait) for a whole window -> shed for 50 ms.
  let shedAt = -1;
  for (let t = 310; t <= 420; t += 1) if (g.shed(0, t) && shedAt < 0) shedAt = t;
  assert.ok(shedAt >= 400 && shedAt <= 411, `shedding starts when the window closes (${shedAt})`);
  assert.equal(g.shed(0, 440), true, "still in the spell");
  assert.equal(g.shed(5, 470), false, "the spell is over");
});

Deno.test("countPoints() counts the x keys of an unparsed message, at least 1", () => {
  const msg = JSON.stringify([{ x: 1, y: 2 }, { x: 3, y: 4, series: 'a"x"b' }, { "x": 5, y: 6 }]);
  assert.equal(countPoints([enc(msg)]), 3);
  assert.equal(countPoints([enc("t"), enc('{"x":1,"y":2}')]), 1, "the topic frame is skipped");
  assert.equal(countPoints([enc("garbage")]), 1);
  assert.equal(countPoints([]), 1);
});
