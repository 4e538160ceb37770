import assert from "node:assert/strict";
import {
  closeFrame,
  headEnd,
  MessageRate,
  parseRequestHead,
  responseStatus,
  withHeader,
  WsFrameScanner,
} from "../../src/http/front_protocol.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** A client frame (masked, the mask key zero: the payload is sent as is). */
function frame(opcode: number, payload: number, fin = true, rsv = 0): Uint8Array {
  const head: number[] = [(fin ? 0x80 : 0) | rsv | opcode];
  if (payload < 126) head.push(0x80 | payload);
  else if (payload < 65536) head.push(0x80 | 126, payload >> 8, payload & 0xff);
  else {
    head.push(0x80 | 127);
    for (let i = 7; i >= 0; i--) head.push(Number((BigInt(payload) >> BigInt(i * 8)) & 0xffn));
  }
  head.push(0, 0, 0, 0);
  const out = new Uint8Array(head.length + payload);
  out.set(head);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("headEnd() finds the blank line, also when it straddles two searches", () => {
  const b = enc("GET / HTTP/1.1\r\nHost: x\r\n\r\nnext");
  assert.equal(headEnd(b, b.length), b.length - 4);
  assert.equal(headEnd(b, 25), -1, "not there yet");
  assert.equal(headEnd(b, b.length, 25), b.length - 4, "resumed where it stopped");
});

Deno.test("parseRequestHead() reads the method, an upgrade and a body's length; refuses junk", () => {
  assert.deepEqual(
    parseRequestHead(
      enc("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n\r\n"),
    ),
    { method: "GET", upgrade: true, contentLength: 0, chunked: false },
  );
  assert.deepEqual(
    parseRequestHead(enc("POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n")),
    { method: "POST", upgrade: false, contentLength: 12, chunked: false },
  );
  assert.equal(
    (parseRequestHead(enc("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")) as {
      chunked: boolean;
    }).chunked,
    true,
  );
  assert.equal(typeof parseRequestHead(enc("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")), "string");
  assert.equal(typeof parseRequestHead(enc("\x16\x03\x01 tls\r\n\r\n")), "string");
  assert.equal(typeof parseRequestHead(enc("GET / HTTP/1.1\r\nno colon\r\n\r\n")), "string");
  assert.equal(
    typeof parseRequestHead(enc("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n")),
    "string",
  );
  assert.equal(responseStatus(enc("HTTP/1.1 101 Switching Protocols\r\n")), 101);
  assert.equal(responseStatus(enc("garbage")), 0);
});

Deno.test("WsFrameScanner sums a message over its fragments and stops at the frame that crosses the limit", () => {
  const s = new WsFrameScanner(4096, true);
  const stream = concat(
    frame(1, 1000, false),
    frame(9, 10), // a ping inside the message does not count
    frame(0, 3000, false),
    frame(0, 96, true), // exactly 4096: allowed
    frame(1, 4000, false),
    frame(0, 97, false), // 4097: over
    frame(0, 10, true),
  );
  const cutAt = concat(
    frame(1, 1000, false),
    frame(9, 10),
    frame(0, 3000, false),
    frame(0, 96, true),
    frame(1, 4000, false),
  ).length;
  // Fed in odd pieces: the answer is the same offset in the stream.
  let fed = 0;
  let found = -1;
  for (let i = 0; i < stream.length && found < 0; i += 333) {
    const r = s.scan(stream.subarray(i, i + 333));
    if (r >= 0) found = i + r;
    fed = i;
  }
  assert.equal(found, cutAt);
  assert.equal(s.violation, "too_big");
  assert.ok(fed < stream.length);
  const one = new WsFrameScanner(4096, true);
  assert.equal(one.scan(frame(2, 1 << 20).subarray(0, 14)), 0, "a 1 MiB header, at once");
});

Deno.test("WsFrameScanner stops at the frames Deno refuses, before their size", () => {
  const cases: Array<[string, Uint8Array]> = [
    ["RSV1", frame(1, 5, true, 0x40)],
    ["reserved opcode 3", frame(3, 5)],
    ["reserved opcode 0xb", frame(0xb, 5)],
    ["ping of 126 bytes", frame(9, 126)],
    ["fragmented ping", frame(9, 2, false)],
    ["continuation first", frame(0, 5)],
    ["text inside a fragmented text", concat(frame(1, 1, false), frame(1, 2))],
  ];
  for (const [what, bytes] of cases) {
    const s = new WsFrameScanner(4096, true);
    assert.notEqual(s.scan(bytes), -1, what);
    assert.equal(s.violation, "protocol", what);
  }
  const ok = new WsFrameScanner(4096, true);
  assert.equal(ok.scan(concat(frame(1, 5), frame(8, 2), frame(10, 0))), -1);
  const server = new WsFrameScanner();
  assert.equal(server.scan(frame(1, 5, true, 0x40)), -1, "the server's stream is not checked");
});

Deno.test("MessageRate: at most max messages in any window (sliding), counted as they are admitted", () => {
  const r = new MessageRate(3, 1000);
  assert.ok(r.admit(0) && r.admit(10) && r.admit(20));
  assert.equal(r.admit(999), false, "a 4th within 1 s of the 1st");
  assert.equal(r.admit(1000), true, "1 s after the 1st: its place is free");
  assert.equal(r.admit(1005), false, "the 2nd (10) is still within the window");
  assert.equal(r.admit(1010), true);
  // A steady max per second goes on for good; no boundary lets a double burst through.
  const steady = new MessageRate(40, 1000);
  for (let t = 0; t < 10_000; t += 25) assert.ok(steady.admit(t), `40/s at ${t}`);
  const burst = new MessageRate(40, 1000);
  let admitted = 0;
  for (let i = 0; i < 80; i++) if (burst.admit(990 + i * 0.25)) admitted++;
  assert.equal(admitted, 40, "80 within 20 ms around a second's boundary: 40");
});

Deno.test("WsFrameScanner with a MessageRate stops at the first data frame over it (control frames and continuations are not counted)", () => {
  let now = 0;
  const s = new WsFrameScanner(4096, true, new MessageRate(2, 1000), () => now);
  // A ping, a message in two fragments, a pong: one message so far.
  assert.equal(s.scan(concat(frame(9, 0), frame(1, 3, false), frame(0, 3), frame(10, 0))), -1);
  const second = frame(1, 4);
  const third = frame(2, 4);
  const stream = concat(second, third);
  assert.equal(s.scan(stream), second.length, "cut before the third message's header");
  assert.equal(s.violation, "flood");
  const later = new WsFrameScanner(4096, true, new MessageRate(2, 1000), () => now);
  assert.equal(later.scan(concat(frame(1, 1), frame(1, 1))), -1);
  now = 1000;
  assert.equal(later.scan(frame(1, 1)), -1, "a second on: room again");
});

Deno.test("WsFrameScanner.untilBoundary() says how much of a chunk ends the frame under way", () => {
  const s = new WsFrameScanner();
  const f = concat(frame(1, 300), frame(1, 10));
  assert.equal(s.untilBoundary(f), 0, "at a boundary");
  s.scan(f.subarray(0, 2)); // half a header
  assert.equal(s.untilBoundary(f.subarray(2)), 308 - 2, "the rest of the header, and the body");
  s.scan(f.subarray(2, 100));
  assert.equal(s.untilBoundary(f.subarray(100)), 308 - 100);
  s.scan(f.subarray(100, 308));
  assert.ok(s.atBoundary);
  assert.deepEqual([...closeFrame(1009, "x")], [0x88, 3, 0x03, 0xf1, 0x78]);
});

Deno.test("withHeader() puts the header after the request line and drops the client's own", () => {
  const head = enc(
    "GET /ws HTTP/1.1\r\nHost: x\r\nX-Zws-Peer: forged 6.6.6.6 1\r\nx-zws-peer: again\r\n\r\n",
  );
  const out = new TextDecoder().decode(withHeader(head, "x-zws-peer", "t 10.0.0.1 5000"));
  assert.equal(out, "GET /ws HTTP/1.1\r\nx-zws-peer: t 10.0.0.1 5000\r\nHost: x\r\n\r\n");
  const raw = concat(enc("GET / HTTP/1.1\r\nX-Name: caf"), Uint8Array.of(0xe9), enc("\r\n\r\n"));
  const bytes = withHeader(raw, "x-zws-peer", "v");
  assert.equal(bytes[bytes.length - 5], 0xe9, "other bytes pass unchanged (latin1 round trip)");
});
