import assert from "node:assert/strict";
import { Socket } from "node:net";
import { guardLateSocketErrors, lateSocketErrors } from "../../src/nats/late_socket_errors.ts";
import { setLogSink } from "../../src/runtime/log.ts";

Deno.test("late socket errors: with no listener counted and logged, not thrown; listeners still get theirs", () => {
  const lines: string[] = [];
  const previous = setLogSink((l) => lines.push(l));
  try {
    const bare = new Socket();
    assert.throws(() => bare.emit("error", new Error("before the guard")), /before the guard/);
    guardLateSocketErrors();
    const before = lateSocketErrors();
    assert.equal(
      bare.emit("error", Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" })),
      false,
    );
    assert.equal(lateSocketErrors(), before + 1);
    assert.equal(lines.some((l) => l.includes("socket error after close: read ECONNRESET")), true);
    const heard: unknown[] = [];
    const listened = new Socket();
    listened.on("error", (e) => heard.push(e));
    listened.emit("error", new Error("handled"));
    assert.equal(heard.length, 1);
    assert.equal(lateSocketErrors(), before + 1);
    bare.destroy();
    listened.destroy();
  } finally {
    setLogSink(previous);
  }
});
