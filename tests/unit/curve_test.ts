import assert from "node:assert/strict";
import * as zmq from "zeromq";
import {
  formatKeyFile,
  isCurveKey,
  parseAllowList,
  parseKeyFile,
  publicKeyFromSecret,
  z85Decode,
  z85Encode,
  ZAP_DOMAIN,
  zapDecide,
} from "../../src/zmq/curve.ts";
import { newKeyFile } from "../../tools/keygen.ts";

Deno.test("z85: the specification's test vector, both ways", () => {
  const bytes = Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
  assert.equal(z85Encode(bytes), "HelloWorld");
  assert.deepEqual(z85Decode("HelloWorld"), bytes);
});

Deno.test("z85: round trips, and refuses bad input", () => {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  assert.deepEqual(z85Decode(z85Encode(bytes)), bytes);
  assert.equal(z85Encode(new Uint8Array(4).fill(255)), "%nSc0");
  assert.throws(() => z85Encode(new Uint8Array(3)), RangeError);
  assert.throws(() => z85Decode("abcd"), RangeError);
  assert.throws(() => z85Decode("abc,d"), /not a Z85 character/);
  assert.throws(() => z85Decode("%nSc1"), /out of range/);
});

Deno.test("isCurveKey: 40 Z85 characters", () => {
  const { publicKey, secretKey } = zmq.curveKeyPair();
  assert(isCurveKey(publicKey) && isCurveKey(secretKey));
  assert(!isCurveKey(publicKey.slice(1)));
  assert(!isCurveKey(publicKey + "0"));
  assert(!isCurveKey(" ".repeat(40)));
  assert(!isCurveKey(""));
});

Deno.test("publicKeyFromSecret matches libzmq's key pairs", () => {
  for (let i = 0; i < 5; i++) {
    const pair = zmq.curveKeyPair();
    assert.equal(publicKeyFromSecret(pair.secretKey), pair.publicKey);
  }
  assert.throws(() => publicKeyFromSecret("short"), RangeError);
});

Deno.test("key files: keygen output, bare keys, comments; errors never show keys", () => {
  const text = newKeyFile();
  const parsed = parseKeyFile(text);
  assert(parsed.secretKey && parsed.publicKey);
  assert.equal(publicKeyFromSecret(parsed.secretKey), parsed.publicKey);
  assert.match(text, /^# zws CURVE key pair/);
  const pair = zmq.curveKeyPair();
  assert.deepEqual(parseKeyFile(formatKeyFile(pair)), pair);
  assert.deepEqual(parseKeyFile(`\n# mine\n  ${pair.secretKey}  \n`), {
    secretKey: pair.secretKey,
  });
  assert.deepEqual(parseKeyFile(`secret-key: ${pair.secretKey}\r\n`), {
    secretKey: pair.secretKey,
  });
  const other = zmq.curveKeyPair();
  assert.throws(
    () => parseKeyFile(`public-key = ${other.publicKey}\nsecret-key = ${pair.secretKey}\n`),
    /does not belong/,
  );
  const bad = `secret-key = ${pair.secretKey.slice(0, 39)}`;
  assert.throws(() => parseKeyFile(bad), (err: Error) => {
    assert.match(err.message, /line 1 is not a CURVE key/);
    assert(!err.message.includes(pair.secretKey.slice(0, 39)));
    return true;
  });
  assert.throws(() => parseKeyFile(`${pair.secretKey}\n${other.secretKey}\n`), /more than one/);
});

Deno.test("allow-lists: bare keys, comments, keygen public-key lines; secret keys refused", () => {
  const a = zmq.curveKeyPair();
  const b = zmq.curveKeyPair();
  const c = zmq.curveKeyPair();
  const text = [
    "# producers allowed in",
    `${a.publicKey}   # sensor-1`,
    "",
    `  ${b.publicKey}`,
    `public-key = ${c.publicKey}`,
  ].join("\n");
  assert.deepEqual(parseAllowList(text), [a.publicKey, b.publicKey, c.publicKey]);
  assert.throws(() => parseAllowList(formatKeyFile(a)), (err: Error) => {
    assert.match(err.message, /line 3 is a secret key/);
    assert(!err.message.includes(a.secretKey));
    return true;
  });
  assert.throws(() => parseAllowList("not-a-key"), /line 1 is not a CURVE public key/);
  assert.throws(() => parseAllowList(`${a.publicKey} trailing`), /line 1/);
  assert.deepEqual(parseAllowList("# nothing\n\n"), []);
});

/** A ZAP request as libzmq sends it (after the routing envelope). */
function zapRequest(key: Uint8Array, over: Partial<Record<number, string>> = {}): Uint8Array[] {
  const enc = (s: string) => new TextEncoder().encode(s);
  const frames = ["1.0", "7", ZAP_DOMAIN, "192.0.2.9", "", "CURVE"].map((s, i) =>
    enc(over[i] ?? s)
  );
  return [...frames, key];
}

Deno.test("zapDecide: allowed keys get 200, unknown keys 400, malformed requests 400/500", () => {
  const allowed = zmq.curveKeyPair();
  const stranger = zmq.curveKeyPair();
  const allow = new Set([allowed.publicKey]);
  const text = (f: string | Uint8Array) => typeof f === "string" ? f : new TextDecoder().decode(f);

  const ok = zapDecide(zapRequest(z85Decode(allowed.publicKey)), allow);
  assert.equal(ok.allowed, true);
  assert.deepEqual(ok.reply.map(text), ["1.0", "7", "200", "OK", allowed.publicKey, ""]);
  assert.equal(ok.address, "192.0.2.9");

  const no = zapDecide(zapRequest(z85Decode(stranger.publicKey)), allow);
  assert.equal(no.allowed, false);
  assert.equal(no.reason, "unknown_key");
  assert.equal(no.publicKey, stranger.publicKey);
  assert.deepEqual(no.reply.map(text), ["1.0", "7", "400", "unknown key", "", ""]);

  const key = z85Decode(allowed.publicKey);
  for (
    const [frames, status] of [
      [zapRequest(key, { 2: "other-domain" }), "400"],
      [zapRequest(key, { 5: "PLAIN" }), "400"],
      [zapRequest(key, { 5: "NULL" }), "400"],
      [zapRequest(new Uint8Array(31)), "400"],
      [zapRequest(key).slice(0, 5), "400"],
      [zapRequest(key, { 0: "2.0" }), "500"],
      [[], "500"],
    ] as Array<[Uint8Array[], string]>
  ) {
    const d = zapDecide(frames, allow);
    assert.equal(d.allowed, false);
    assert.equal(d.reason, "bad_request");
    assert.equal(text(d.reply[2]), status);
  }
});
