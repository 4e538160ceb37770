import assert from "node:assert/strict";
import {
  errorMessage,
  escapeControls,
  getLogLevel,
  log,
  LOG_LEVELS,
  type LogLevel,
  logSink,
  RateLimitedLog,
  setLogLevel,
  setLogSink,
} from "../../src/runtime/log.ts";

const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (DEBUG|INFO|WARN|ERROR) ([^:]+): (.*)$/s;

/** Runs `fn` with log lines captured at `level`; restores the sink and level afterwards. */
function capture(level: LogLevel, fn: (lines: string[]) => void): string[] {
  const lines: string[] = [];
  const previousLevel = getLogLevel();
  const previousSink = setLogSink((line) => lines.push(line));
  setLogLevel(level);
  try {
    fn(lines);
  } finally {
    setLogSink(previousSink);
    setLogLevel(previousLevel);
  }
  return lines;
}

/** The message part of a captured line. */
function message(line: string): string {
  const m = LINE.exec(line);
  assert(m, `log line format: ${JSON.stringify(line)}`);
  return m[4];
}

Deno.test("log: the default level is info", () => {
  assert.equal(getLogLevel(), "info");
});

Deno.test("log: setLogLevel / getLogLevel round-trip every level", () => {
  const before = getLogLevel();
  try {
    for (const level of LOG_LEVELS) {
      setLogLevel(level);
      assert.equal(getLogLevel(), level);
    }
  } finally {
    setLogLevel(before);
  }
  assert.equal(getLogLevel(), before);
});

Deno.test("log: a line is '<iso time> <LEVEL> <scope>: <message>'", () => {
  const before = Date.now();
  const lines = capture("debug", () => log("warn", "relay", "something odd"));
  const after = Date.now();
  assert.equal(lines.length, 1);
  const m = LINE.exec(lines[0]);
  assert(m, lines[0]);
  assert.equal(m[2], "WARN");
  assert.equal(m[3], "relay");
  assert.equal(m[4], "something odd");
  const t = Date.parse(m[1]);
  assert(t >= before - 1 && t <= after + 1, "timestamp is now");
});

Deno.test("log: a peer's control characters are escaped: one call is one line, and no line is forged", () => {
  const forged = "PUB\n2026-01-01T00:00:00.000Z ERROR main: FORGED\r\x1b[2K\u2028end";
  const lines = capture("debug", () => log("warn", "relay", `producer sent ${forged}`));
  assert.equal(lines.length, 1);
  // deno-lint-ignore no-control-regex
  assert.ok(!/[\n\r\x1b\u2028]/.test(lines[0]), JSON.stringify(lines[0]));
  assert.equal(
    message(lines[0]),
    "producer sent PUB\\x0a2026-01-01T00:00:00.000Z ERROR main: FORGED\\x0d\\x1b[2K\\u2028end",
  );
  assert.equal(escapeControls("plain text, tabs\tand all é ü"), "plain text, tabs\\x09and all é ü");
});

Deno.test("log: the level threshold hides less severe lines", () => {
  const expected: Record<LogLevel, LogLevel[]> = {
    debug: ["debug", "info", "warn", "error"],
    info: ["info", "warn", "error"],
    warn: ["warn", "error"],
    error: ["error"],
  };
  for (const threshold of LOG_LEVELS) {
    const lines = capture(threshold, () => {
      for (const level of LOG_LEVELS) log(level, "s", `msg-${level}`);
    });
    assert.deepEqual(
      lines.map((l) => message(l)),
      expected[threshold].map((l) => `msg-${l}`),
      `threshold ${threshold}`,
    );
    assert.deepEqual(
      lines.map((l) => LINE.exec(l)![2]),
      expected[threshold].map((l) => l.toUpperCase()),
    );
  }
});

Deno.test("log: setLogSink returns the previous sink and replaces the live binding", () => {
  const a: string[] = [];
  const b: string[] = [];
  const original = setLogSink((l) => a.push(l));
  try {
    const sinkA = logSink;
    const prev = setLogSink((l) => b.push(l));
    assert.equal(prev, sinkA, "returns the previous sink");
    log("error", "x", "to b");
    assert.equal(a.length, 0);
    assert.equal(b.length, 1);
    setLogSink(prev);
    log("error", "x", "to a");
    assert.equal(a.length, 1);
    assert.equal(b.length, 1);
  } finally {
    setLogSink(original);
  }
});

Deno.test("rate-limited log: the first line passes, repeats within the interval are suppressed", () => {
  let now = 1_000;
  const rl = new RateLimitedLog(5000, () => now);
  assert.equal(rl.intervalMs, 5000);
  const results: boolean[] = [];
  const lines = capture("debug", () => {
    results.push(rl.log("warn", "ingress", "bad-json", "bad JSON from producer"));
    now += 1;
    results.push(rl.log("warn", "ingress", "bad-json", "bad JSON again"));
    now += 4998; // 4999 ms after the first: still within the interval
    results.push(rl.log("warn", "ingress", "bad-json", "and again"));
  });
  assert.deepEqual(results, [true, false, false]);
  assert.equal(lines.length, 1);
  assert.equal(message(lines[0]), "bad JSON from producer");
});

Deno.test("rate-limited log: the next line after the interval notes how many were suppressed", () => {
  let now = 0;
  const rl = new RateLimitedLog(1000, () => now);
  const lines = capture("info", () => {
    assert.equal(rl.log("warn", "s", "k", "first"), true);
    for (let i = 0; i < 7; i++) {
      now += 100;
      assert.equal(rl.log("warn", "s", "k", `dup ${i}`), false);
    }
    now = 1000; // exactly one interval after the first line
    assert.equal(rl.log("warn", "s", "k", "second"), true);
    now = 2500; // nothing suppressed since "second"
    assert.equal(rl.log("warn", "s", "k", "third"), true);
  });
  assert.deepEqual(lines.map(message), [
    "first",
    "second (7 similar suppressed)",
    "third",
  ]);
});

Deno.test("rate-limited log: one suppressed line is counted as 1", () => {
  let now = 0;
  const rl = new RateLimitedLog(10, () => now);
  const lines = capture("info", () => {
    rl.log("error", "s", "k", "a");
    rl.log("error", "s", "k", "b");
    now = 10;
    rl.log("error", "s", "k", "c");
  });
  assert.deepEqual(lines.map(message), ["a", "c (1 similar suppressed)"]);
});

Deno.test("rate-limited log: the interval restarts at each line that gets through", () => {
  let now = 0;
  const rl = new RateLimitedLog(100, () => now);
  const passed: number[] = [];
  capture("info", () => {
    for (now = 0; now <= 450; now += 25) if (rl.log("info", "s", "k", "m")) passed.push(now);
  });
  assert.deepEqual(passed, [0, 100, 200, 300, 400]);
});

Deno.test("rate-limited log: keys are limited independently", () => {
  let now = 0;
  const rl = new RateLimitedLog(1000, () => now);
  const lines = capture("info", () => {
    assert.equal(rl.log("warn", "s", "a", "a1"), true);
    assert.equal(rl.log("warn", "s", "b", "b1"), true);
    assert.equal(rl.log("warn", "s", "a", "a2"), false);
    assert.equal(rl.log("warn", "other-scope", "b", "b2"), false, "the key, not the scope, counts");
    now = 1000;
    assert.equal(rl.log("warn", "s", "a", "a3"), true);
    assert.equal(rl.log("warn", "s", "c", "c1"), true);
  });
  assert.deepEqual(lines.map(message), ["a1", "b1", "a3 (1 similar suppressed)", "c1"]);
});

Deno.test("rate-limited log: lines keep their level and scope", () => {
  const rl = new RateLimitedLog(1000, () => 0);
  const lines = capture("debug", () => {
    rl.log("error", "bridge", "k1", "e");
    rl.log("debug", "relay", "k2", "d");
  });
  assert.equal(LINE.exec(lines[0])![2], "ERROR");
  assert.equal(LINE.exec(lines[0])![3], "bridge");
  assert.equal(LINE.exec(lines[1])![2], "DEBUG");
  assert.equal(LINE.exec(lines[1])![3], "relay");
});

Deno.test("rate-limited log: lines below the level threshold are not printed", () => {
  let now = 0;
  const rl = new RateLimitedLog(1000, () => now);
  const lines = capture("warn", () => {
    rl.log("info", "s", "k", "hidden");
    now = 2000;
    rl.log("error", "s", "k2", "shown");
  });
  assert.deepEqual(lines.map(message), ["shown"]);
});

Deno.test("rate-limited log: the default interval is 5 s", () => {
  assert.equal(new RateLimitedLog().intervalMs, 5000);
});

Deno.test("rate-limited log: memory stays bounded with many distinct keys", () => {
  const rl = new RateLimitedLog(1000, () => 0);
  capture("error", () => {
    for (let i = 0; i <= 1000; i++) assert.equal(rl.log("debug", "s", `key-${i}`, "m"), true);
    // The oldest key was forgotten, so it logs again at once; a recent one is still limited.
    assert.equal(rl.log("debug", "s", "key-0", "m"), true, "oldest key evicted");
    assert.equal(rl.log("debug", "s", "key-1000", "m"), false, "recent key remembered");
  });
});

Deno.test("errorMessage: the message of an Error, without the stack", () => {
  const err = new Error("it broke");
  assert(err.stack?.includes("at "), "premise: the error has a stack");
  assert.equal(errorMessage(err), "it broke");
  assert.equal(errorMessage(new TypeError("bad type")), "bad type");
  assert.equal(errorMessage(new Error("")), "");
  class MyError extends Error {}
  assert.equal(errorMessage(new MyError("custom")), "custom");
});

Deno.test("errorMessage: non-Error values are stringified", () => {
  assert.equal(errorMessage("plain string"), "plain string");
  assert.equal(errorMessage(42), "42");
  assert.equal(errorMessage(undefined), "undefined");
  assert.equal(errorMessage(null), "null");
  assert.equal(errorMessage({ message: "looks like one" }), "[object Object]");
  assert.equal(errorMessage(Symbol("s")), "Symbol(s)");
});
