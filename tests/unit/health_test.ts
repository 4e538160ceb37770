import assert from "node:assert/strict";
import { assessHealth, STALL_AFTER_MS } from "../../src/runtime/health.ts";

Deno.test("assessHealth() is ok while the bus moves or heartbeats arrive", () => {
  assert.deepEqual(assessHealth({ relayUp: true, busIdleMs: 900, uptimeMs: 60_000 }), { ok: true });
  assert.deepEqual(assessHealth({ relayUp: true, busIdleMs: null, uptimeMs: 500 }), { ok: true });
});

Deno.test("assessHealth() says 503 reasons: a dead relay, a silent bus, points waiting", () => {
  const down = assessHealth({ relayUp: false, busIdleMs: 10, uptimeMs: 60_000 });
  assert.deepEqual(down, { ok: false, status: "down", reason: "relay worker down (restarting)" });
  const stalled = assessHealth({
    relayUp: true,
    busIdleMs: STALL_AFTER_MS + 1500,
    uptimeMs: 60_000,
    pending: 1234,
  });
  assert.equal(stalled.ok, false);
  assert.ok(!stalled.ok && stalled.status === "stalled");
  assert.match(!stalled.ok ? stalled.reason : "", /for 4\.5 s; 1234 points waiting/);
  const never = assessHealth({ relayUp: true, busIdleMs: null, uptimeMs: STALL_AFTER_MS + 1 });
  assert.equal(never.ok, false, "no heartbeat ever, past the threshold");
});
