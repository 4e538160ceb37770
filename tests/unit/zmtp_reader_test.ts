import assert from "node:assert/strict";
import {
  commandFrame,
  greeting,
  pongFor,
  readyCommand,
  SUBSCRIBE_ALL,
} from "../../src/zmq/zmtp_frames.ts";
import { parseProperties, type ZmtpEvent, ZmtpReader } from "../../src/zmq/zmtp_reader.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** One data frame as libzmq writes it: short below 256 bytes, long from there. */
function frame(body: Uint8Array, more: boolean): Uint8Array {
  const long = body.length > 255;
  const head = long ? 9 : 2;
  const out = new Uint8Array(head + body.length);
  out[0] = (more ? 1 : 0) | (long ? 2 : 0);
  if (long) new DataView(out.buffer).setBigUint64(1, BigInt(body.length));
  else out[1] = body.length;
  out.set(body, head);
  return out;
}

function message(...parts: Uint8Array[]): Uint8Array {
  return concat(...parts.map((p, i) => frame(p, i < parts.length - 1)));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** A reader past a peer's greeting and READY (PUB). */
function openReader(maxMessageBytes: number): ZmtpReader {
  const r = new ZmtpReader({ maxMessageBytes });
  const ev = r.push(concat(greeting(), readyCommand("PUB")));
  assert.deepEqual(ev.map((e) => e.kind), ["greeting", "command"]);
  return r;
}

/** Feeds `bytes` in chunks of `size` and collects the events. */
function feed(r: ZmtpReader, bytes: Uint8Array, size: number): ZmtpEvent[] {
  const out: ZmtpEvent[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...r.push(bytes.subarray(i, i + size)));
  return out;
}

Deno.test("ZmtpReader reads the greeting, READY and its properties, byte by byte too", () => {
  for (const size of [1, 7, 1000]) {
    const r = new ZmtpReader({ maxMessageBytes: 100 });
    const ev = feed(r, concat(greeting(), readyCommand("XPUB")), size);
    assert.equal(ev.length, 2, `chunks of ${size}`);
    assert.deepEqual(ev[0], { kind: "greeting", major: 3, minor: 0, mechanism: "NULL" });
    assert.equal(ev[1].kind, "command");
    if (ev[1].kind !== "command") return;
    assert.equal(ev[1].name, "READY");
    assert.equal(text(parseProperties(ev[1].body)!.get("socket-type")!), "XPUB");
  }
});

Deno.test("ZmtpReader refuses what is not ZMTP 3: HTTP, ZMTP 2 (libzmq 3.x), bad flags", () => {
  const http = new ZmtpReader({ maxMessageBytes: 100 }).push(enc("GET / HTTP/1.1\r\n\r\n"));
  assert.deepEqual(http.map((e) => e.kind), ["error"]);
  const old = greeting();
  old[10] = 1;
  const v2 = new ZmtpReader({ maxMessageBytes: 100 }).push(old);
  assert.equal(v2[0].kind, "error");
  assert.match((v2[0] as { reason: string }).reason, /ZMTP 1\.x/);
  const r = openReader(100);
  assert.deepEqual(r.push(Uint8Array.of(0x10, 0)).map((e) => e.kind), ["error"]);
  assert.deepEqual(r.push(message(enc("after an error"))), [], "nothing after a protocol error");
});

Deno.test("ZmtpReader assembles multipart messages split anywhere, and answers nothing by itself", () => {
  const bytes = concat(
    message(enc("series"), enc('{"x":1,"y":2}')),
    message(enc("x".repeat(300))),
    message(new Uint8Array(0)),
  );
  for (const size of [1, 3, 64, bytes.length]) {
    const ev = feed(openReader(1000), bytes, size);
    assert.deepEqual(
      ev.map((e) => e.kind === "message" ? e.frames.map(text) : e.kind),
      [["series", '{"x":1,"y":2}'], ["x".repeat(300)], [""]],
      `chunks of ${size}`,
    );
  }
});

Deno.test("ZmtpReader drops a message once its frames together exceed the limit, holding none of it", () => {
  const limit = 64 * 1024;
  const r = openReader(limit);
  const big = new Uint8Array(1024 * 1024 - 1);
  const events: ZmtpEvent[] = [];
  let maxHeld = 0;
  // 200 frames of 1 MiB - 1: each below libzmq's per-frame cap, 200 MiB together.
  for (let i = 0; i < 200; i++) {
    events.push(...feed(r, frame(big, i < 199), 256 * 1024));
    maxHeld = Math.max(maxHeld, r.heldBytes);
  }
  events.push(...r.push(message(enc('{"x":1,"y":1}'))));
  assert.equal(maxHeld, 0, "the first frame is over the limit: nothing was held");
  assert.deepEqual(events.map((e) => e.kind), ["dropped", "message"]);
  assert.equal(events[0].kind === "dropped" && events[0].reason, "oversize");
  assert.equal(events[1].kind === "message" && text(events[1].frames[0]), '{"x":1,"y":1}');

  // Small frames that add up: held up to the limit, then given up at the frame that crosses it.
  const r2 = openReader(1000);
  const parts = Array.from({ length: 30 }, () => new Uint8Array(100));
  let held = 0;
  const ev2: ZmtpEvent[] = [];
  for (let i = 0; i < parts.length; i++) {
    ev2.push(...r2.push(frame(parts[i], i < parts.length - 1)));
    held = Math.max(held, r2.heldBytes);
  }
  assert.ok(held <= 1000, `held ${held} bytes, limit 1000`);
  assert.deepEqual(ev2.map((e) => e.kind), ["dropped"]);
  assert.deepEqual(ev2.map((e) => e.kind === "dropped" && e.reason), ["oversize"]);
  const exact = feed(r2, message(new Uint8Array(600), new Uint8Array(400)), 10);
  assert.deepEqual(exact.map((e) => e.kind), ["message"], "exactly the limit is accepted");
});

Deno.test("ZmtpReader drops a message of too many frames (frame_count), and a long frame header of 2^63", () => {
  const r = new ZmtpReader({ maxMessageBytes: 1_000_000, maxFrames: 8 });
  r.push(concat(greeting(), readyCommand("PUB")));
  const many = message(...Array.from({ length: 20 }, () => new Uint8Array(0)));
  const ev = r.push(concat(many, message(enc("next"))));
  assert.deepEqual(ev.map((e) => e.kind === "dropped" ? e.reason : e.kind), [
    "frame_count",
    "message",
  ]);
  const huge = Uint8Array.of(2, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
  const ev2 = r.push(huge);
  assert.deepEqual(ev2.map((e) => e.kind === "dropped" ? e.reason : e.kind), ["oversize"]);
});

Deno.test("ZmtpReader reads PING (a PONG echoes its context) and refuses an oversized command", () => {
  const r = openReader(100);
  const ping = commandFrame("PING", Uint8Array.of(0, 10, 0xaa, 0xbb));
  const ev = r.push(ping);
  assert.equal(ev.length, 1);
  if (ev[0].kind !== "command") throw new Error("not a command");
  assert.equal(ev[0].name, "PING");
  const pong = pongFor(ev[0].body);
  assert.deepEqual([...pong], [0x04, 7, 4, ...enc("PONG"), 0xaa, 0xbb]);
  const r2 = new ZmtpReader({ maxMessageBytes: 100, maxCommandBytes: 300 });
  r2.push(greeting());
  assert.deepEqual(r2.push(commandFrame("READY", new Uint8Array(400))).map((e) => e.kind), [
    "error",
  ]);
});

Deno.test("greeting(), READY and SUBSCRIBE_ALL are the bytes ZMTP 3.0 specifies", () => {
  const g = greeting();
  assert.equal(g.length, 64);
  assert.deepEqual([...g.subarray(0, 12)], [0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 0]);
  assert.equal(text(g.subarray(12, 16)), "NULL");
  assert.ok(g.subarray(16).every((b) => b === 0));
  assert.deepEqual([...SUBSCRIBE_ALL], [0, 1, 1]);
  const ready = readyCommand("SUB");
  assert.deepEqual([...ready.subarray(0, 8)], [0x04, ready.length - 2, 5, ...enc("READY")]);
  assert.equal(text(parseProperties(ready.subarray(8))!.get("socket-type")!), "SUB");
});
