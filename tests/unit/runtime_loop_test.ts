import assert from "node:assert/strict";
import { faults, isEagain, sendWithBackpressure, superviseLoop } from "../../src/runtime/loop.ts";
import { setLogSink } from "../../src/runtime/log.ts";

const eagain = () =>
  Object.assign(new Error("Operation was not possible or timed out"), { code: "EAGAIN" });

Deno.test("sendWithBackpressure() waits out EAGAIN and sends the same frames; other errors throw", async () => {
  let fails = 3;
  const sent: unknown[] = [];
  const sock = {
    send(frames: (string | Uint8Array)[]) {
      if (fails-- > 0) return Promise.reject(eagain());
      sent.push(frames);
      return Promise.resolve();
    },
  };
  const waited = await sendWithBackpressure(sock, ["a", "b"], () => false);
  assert.deepEqual(sent, [["a", "b"]]);
  assert.ok(waited >= 7, `waited ${waited} ms (1 + 2 + 4)`);
  const broken = { send: () => Promise.reject(new Error("socket closed")) };
  await assert.rejects(sendWithBackpressure(broken, ["x"], () => false), /socket closed/);
  const full = { send: () => Promise.reject(eagain()) };
  assert.equal(await sendWithBackpressure(full, ["x"], () => true), -1, "gives up once stopped");
  assert.ok(isEagain(eagain()) && !isEagain(new Error("x")) && !isEagain(null));
});

Deno.test("superviseLoop() restarts a loop that throws or returns early, until stopped", async () => {
  const restore = setLogSink(() => {});
  let runs = 0;
  let stop = false;
  const restarts: string[] = [];
  const loop = superviseLoop(async () => {
    runs++;
    await Promise.resolve();
    if (runs === 1) throw new Error("boom");
    if (runs === 2) return; // ended while not stopped: restarted too
    stop = true;
  }, {
    component: "test",
    name: "test loop",
    stopped: () => stop,
    restartDelayMs: 1,
    onRestart: (_n, reason) => restarts.push(reason),
  });
  await loop.done;
  setLogSink(restore);
  assert.equal(runs, 3);
  assert.equal(loop.restarts, 2);
  assert.deepEqual(restarts, ["boom", "ended"]);
});

Deno.test("faults: an armed point throws once (or hangs); unarmed points cost nothing", async () => {
  assert.equal(faults.check("t.none"), undefined);
  faults.arm("t.throw");
  assert.throws(() => faults.check("t.throw"), /fault injected in t.throw/);
  assert.equal(faults.check("t.throw"), undefined, "once");
  faults.arm("t.hang", "hang");
  const p = faults.check("t.hang");
  assert.ok(p instanceof Promise);
  const r = await Promise.race([p, new Promise((r) => setTimeout(() => r("still hanging"), 20))]);
  assert.equal(r, "still hanging");
});
