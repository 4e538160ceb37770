import assert from "node:assert/strict";
import { countPoints, IngressGovernor } from "../../src/relay/overload.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("IngressGovernor sheds for a spell only after a window in which the queue never drained", () => {
  const g = new IngressGovernor({ windowMs: 100, shedMs: 50 });
  assert.equal(g.shed(true, 1000), false, "a first message after idling is never shed");
  // Busy but keeping up: the queue runs dry now and then; never shed.
  for (let t = 1000; t <= 1300; t += 10) assert.equal(g.shed(t % 50 !== 0, t), false, `t=${t}`);
  // Saturated: input always queued behind each message for a whole window -> shed for 50 ms.
  let shedAt = -1;
  for (let t = 1310; t <= 1420; t += 1) if (g.shed(true, t) && shedAt < 0) shedAt = t;
  assert.equal(shedAt, 1410, "shedding starts once the queue stayed non-empty for 100 ms");
  assert.equal(g.shed(true, 1440), true, "still in the spell");
  assert.equal(g.shed(false, 1470), false, "the spell is over");
});

Deno.test("countPoints() counts the x keys of an unparsed message, at least 1", () => {
  const msg = JSON.stringify([{ x: 1, y: 2 }, { x: 3, y: 4, series: 'a"x"b' }, { "x": 5, y: 6 }]);
  assert.equal(countPoints([enc(msg)]), 3);
  assert.equal(countPoints([enc("t"), enc('{"x":1,"y":2}')]), 1, "the topic frame is skipped");
  assert.equal(countPoints([enc("garbage")]), 1);
  assert.equal(countPoints([]), 1);
});
