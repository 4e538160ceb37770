/**
 * DNS rebinding, on real sockets: a request whose `Host` (and `Origin`) name another site is
 * refused with 421 on `/ws`, `/events` and the page, while loopback names and `--allowed-hosts`
 * names are served. Raw TCP requests, since `fetch` and `WebSocket` set `Host` themselves.
 */
import assert from "node:assert/strict";
import { startZws } from "../_helpers.ts";

/** Sends one HTTP/1.1 request with exactly these headers; returns the status code. */
async function statusWithHost(base: string, path: string, headers: Record<string, string>) {
  const { port } = new URL(base);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  try {
    const lines = [
      `GET ${path} HTTP/1.1`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    await conn.write(new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
    const buf = new Uint8Array(4096);
    let text = "";
    while (!text.includes("\r\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
    assert.ok(m, `no status line in ${JSON.stringify(text.slice(0, 80))}`);
    return Number(m[1]);
  } finally {
    conn.close();
  }
}

const UPGRADE = {
  Upgrade: "websocket",
  Connection: "Upgrade",
  "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
  "Sec-WebSocket-Version": "13",
};

Deno.test("DNS rebinding: a foreign Host gets 421 on /ws, /events and the page; loopback names pass", async () => {
  const zws = await startZws(["--no-demo"]);
  try {
    const port = new URL(zws.base).port;
    for (const host of [`evil.example:${port}`, "evil.example", `localhost.evil.example:${port}`]) {
      const origin = `http://${host}`;
      assert.equal(
        await statusWithHost(zws.base, "/ws", { Host: host, Origin: origin, ...UPGRADE }),
        421,
        `/ws with Host ${host}`,
      );
      assert.equal(await statusWithHost(zws.base, "/events", { Host: host, Origin: origin }), 421);
      assert.equal(await statusWithHost(zws.base, "/", { Host: host }), 421);
      assert.equal(await statusWithHost(zws.base, "/app.js", { Host: host }), 421);
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      const origin = `http://${host}`;
      assert.equal(
        await statusWithHost(zws.base, "/ws", { Host: host, Origin: origin, ...UPGRADE }),
        101,
        `/ws with Host ${host}`,
      );
      assert.equal(await statusWithHost(zws.base, "/", { Host: host }), 200);
    }
  } finally {
    await zws.stop();
  }
});

Deno.test("DNS rebinding: --allowed-hosts adds names to a loopback server", async () => {
  const zws = await startZws(["--no-demo", "--allowed-hosts", "charts.test"]);
  try {
    const port = new URL(zws.base).port;
    const ok = `charts.test:${port}`;
    const headers = { Host: ok, Origin: `http://${ok}`, ...UPGRADE };
    assert.equal(await statusWithHost(zws.base, "/ws", headers), 101);
    assert.equal(await statusWithHost(zws.base, "/", { Host: ok }), 200);
    assert.equal(await statusWithHost(zws.base, "/", { Host: `other.test:${port}` }), 421);
  } finally {
    await zws.stop();
  }
});
