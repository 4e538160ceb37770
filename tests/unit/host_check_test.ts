/** The DNS-rebinding guard's pure parts: Host parsing and the policy per bind address. */
import assert from "node:assert/strict";
import { hostAllowed, hostOf, hostPolicy, isLoopbackName } from "../../src/http/host_check.ts";

Deno.test("hostOf: bare lower-case names, ports and brackets gone, junk refused", () => {
  assert.equal(hostOf("Name.Example.:8000"), "name.example");
  assert.equal(hostOf("[::1]:8000"), "::1");
  assert.equal(hostOf("127.0.0.1"), "127.0.0.1");
  assert.equal(hostOf("evil.example@127.0.0.1"), null);
  assert.equal(hostOf(""), null);
  assert.equal(hostOf("a b"), null);
});

Deno.test("isLoopbackName: localhost, *.localhost, 127/8 and ::1 only", () => {
  for (const h of ["localhost", "app.localhost", "127.0.0.1", "127.9.9.9", "::1"]) {
    assert.ok(isLoopbackName(h), h);
  }
  for (const h of ["evil.example", "localhost.evil.example", "10.0.0.1", "::2", "128.0.0.1"]) {
    assert.ok(!isLoopbackName(h), h);
  }
});

Deno.test("hostPolicy: bound to loopback, only loopback names and the listed ones", () => {
  const p = hostPolicy("127.0.0.1", []);
  assert.ok(hostAllowed(p, "127.0.0.1:8000"));
  assert.ok(hostAllowed(p, "localhost:8000"));
  assert.ok(hostAllowed(p, "[::1]:8000"));
  assert.ok(!hostAllowed(p, "evil.example:8000"));
  assert.ok(!hostAllowed(p, "10.0.0.5:8000"), "an IP elsewhere is not this loopback server");
  assert.ok(!hostAllowed(p, null), "no Host at all");
  const listed = hostPolicy("::1", ["zws.test", ".corp.example"]);
  assert.ok(hostAllowed(listed, "zws.test"));
  assert.ok(hostAllowed(listed, "a.corp.example:1"));
  assert.ok(hostAllowed(listed, "corp.example"));
  assert.ok(!hostAllowed(listed, "evilcorp.example"));
  assert.equal(hostPolicy("127.0.0.1", ["*"]), null);
});

Deno.test("hostPolicy: bound elsewhere, any host unless names are listed; then IPs and those", () => {
  assert.equal(hostPolicy("0.0.0.0", []), null);
  const p = hostPolicy("0.0.0.0", ["zws.example.com"]);
  assert.ok(hostAllowed(p, "zws.example.com"));
  assert.ok(hostAllowed(p, "192.168.1.7:8000"), "an IP literal cannot be rebound");
  assert.ok(hostAllowed(p, "[fe80::1]:8000"));
  assert.ok(hostAllowed(p, "localhost"));
  assert.ok(!hostAllowed(p, "evil.example"));
});
