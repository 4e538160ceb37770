import assert from "node:assert/strict";
import { peerFromHeader } from "../../src/http/serve.ts";

Deno.test("peerFromHeader() trusts only the front's token", () => {
  const token = "0123456789abcdef";
  assert.deepEqual(peerFromHeader(`${token} 10.1.2.3 4567`, token), {
    transport: "tcp",
    hostname: "10.1.2.3",
    port: 4567,
  });
  assert.deepEqual(peerFromHeader(`${token} ::1 80`, token)?.hostname, "::1");
  assert.equal(peerFromHeader(null, token), undefined, "no header: not from the front");
  assert.equal(peerFromHeader(`0123456789abcdeX 10.1.2.3 1`, token), undefined, "wrong token");
  assert.equal(peerFromHeader(`${token}0 10.1.2.3 1`, token), undefined, "longer token");
  assert.equal(peerFromHeader(token, token), undefined, "no address");
});
