import assert from "node:assert/strict";
import { SignJWT, UnsecuredJWT } from "jose";
import {
  type AuthResult,
  createTokenVerifier,
  MAX_TOKEN_LENGTH,
  signToken,
  TOKEN_EXPIRED_CLOSE_CODE,
  tokenFromRequest,
  unauthorized,
  verifyRequestToken,
} from "../../src/http/auth.ts";

const SECRET = new TextEncoder().encode("test-secret-test-secret-test-secret!");
const OTHER = new TextEncoder().encode("another-secret-another-secret-another!");
const NOW = 1_800_000_000_000;
const verifier = createTokenVerifier(SECRET, () => NOW);

function failure(r: AuthResult): Extract<AuthResult, { ok: false }> {
  if (r.ok) assert.fail("expected a failure");
  assert.equal(r.status, 401);
  return r;
}

Deno.test("auth: a valid token grants its claims", async () => {
  const token = await signToken(SECRET, {
    ttlSeconds: 600,
    series: ["b", "a", "b"],
    subject: "ada",
    now: NOW,
  });
  const r = await verifier.verify(token);
  assert(r.ok);
  assert.deepEqual(r.claims, {
    subject: "ada",
    expiresAt: NOW + 600_000,
    series: ["a", "b"], // sorted, unique
  });
  const all = await verifier.verify(await signToken(SECRET, { ttlSeconds: 60, now: NOW }));
  assert(all.ok);
  assert.equal(all.claims.series, null, "no series claim: every series");
  assert.equal(TOKEN_EXPIRED_CLOSE_CODE, 4001);
});

Deno.test("auth: expired, forged, unsigned and malformed tokens are refused", async () => {
  const expired = await signToken(SECRET, { ttlSeconds: 60, now: NOW - 120_000 });
  assert.equal(failure(await verifier.verify(expired)).reason, "expired");

  const forged = await signToken(OTHER, { ttlSeconds: 60, now: NOW });
  const f = failure(await verifier.verify(forged));
  assert.equal(f.reason, "invalid");
  assert.match(f.message, /signature/);

  // A valid payload with the signature of another payload.
  const [h, , sig] = forged.split(".");
  const [, payload] = (await signToken(SECRET, { ttlSeconds: 60, now: NOW })).split(".");
  assert.equal(failure(await verifier.verify(`${h}.${payload}.${sig}`)).reason, "invalid");

  const none = new UnsecuredJWT({}).setExpirationTime(NOW / 1000 + 60).encode();
  assert.equal(failure(await verifier.verify(none)).reason, "invalid", "alg none");

  const hs512 = await new SignJWT({}).setProtectedHeader({ alg: "HS512" })
    .setExpirationTime(NOW / 1000 + 60).sign(SECRET);
  assert.match(failure(await verifier.verify(hs512)).message, /HS256 only/);

  const noExp = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).sign(SECRET);
  assert.match(failure(await verifier.verify(noExp)).message, /"exp"/);

  const notYet = await new SignJWT({}).setProtectedHeader({ alg: "HS256" })
    .setNotBefore(NOW / 1000 + 60).setExpirationTime(NOW / 1000 + 120).sign(SECRET);
  assert.equal(failure(await verifier.verify(notYet)).reason, "invalid");

  for (const junk of ["x", "a.b.c", "....", "eyJ.eyJ.sig", "x".repeat(MAX_TOKEN_LENGTH + 1)]) {
    assert.equal(failure(await verifier.verify(junk)).reason, "invalid", junk.slice(0, 20));
  }
  assert.equal(failure(await verifier.verify("")).reason, "missing");
});

Deno.test("auth: a malformed series claim makes the token invalid", async () => {
  const sign = (series: unknown) =>
    new SignJWT({ series }).setProtectedHeader({ alg: "HS256" })
      .setExpirationTime(NOW / 1000 + 60).sign(SECRET);
  for (const series of ["a", [], [1], [""], ["x".repeat(65)], ["a\nb"], { a: 1 }, null]) {
    const r = failure(await verifier.verify(await sign(series)));
    assert.equal(r.reason, "invalid", JSON.stringify(series));
    assert.match(r.message, /series/);
  }
});

Deno.test("auth: the token comes from Authorization: Bearer or ?token=", async () => {
  const url = "http://localhost:8000/ws";
  assert.equal(tokenFromRequest(new Request(url)), null);
  assert.equal(tokenFromRequest(new Request(url + "?token=")), null);
  assert.equal(tokenFromRequest(new Request(url + "?token=abc")), "abc");
  const bearer = (v: string, q = "") =>
    tokenFromRequest(new Request(url + q, { headers: { Authorization: v } }));
  assert.equal(bearer("Bearer xyz"), "xyz");
  assert.equal(bearer("bearer  xyz "), "xyz");
  assert.equal(bearer("Bearer xyz", "?token=abc"), "xyz", "the header wins");
  assert.equal(bearer("Basic dXNlcjpwYXNz", "?token=abc"), "abc", "not a bearer: the query");
  assert.equal(bearer("Basic dXNlcjpwYXNz"), null);

  const token = await signToken(SECRET, { ttlSeconds: 60, now: NOW });
  const ok = await verifyRequestToken(new Request(`${url}?token=${token}`), verifier);
  assert(ok.ok);
  const missing = failure(await verifyRequestToken(new Request(url), verifier));
  assert.equal(missing.reason, "missing");
});

Deno.test("auth: 401 responses carry a Bearer challenge and never the token", async () => {
  const token = await signToken(OTHER, { ttlSeconds: 60, now: NOW });
  const r = failure(await verifier.verify(token));
  const res = unauthorized(r, { "X-Extra": "1" });
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("x-extra"), "1");
  assert.equal(res.headers.get("cache-control"), "no-store");
  const challenge = res.headers.get("www-authenticate")!;
  assert.match(challenge, /^Bearer realm="zws", error="invalid_token"/);
  const body = await res.text();
  assert.match(body, /^unauthorized: /);
  assert(!body.includes(token) && !challenge.includes(token));
  const claim = unauthorized({
    ok: false,
    status: 401,
    reason: "invalid",
    message: 'token claim "nbf" is not acceptable',
  });
  assert.match(claim.headers.get("www-authenticate")!, /error_description="token claim 'nbf'/);
  await claim.body?.cancel();
  const none = unauthorized({ ok: false, status: 401, reason: "missing", message: "no token" });
  assert.equal(none.headers.get("www-authenticate"), 'Bearer realm="zws"');
  await none.body?.cancel();
});

Deno.test("auth: a short secret is refused", () => {
  assert.throws(() => createTokenVerifier(new Uint8Array(31)), /at least 32 bytes/);
});
