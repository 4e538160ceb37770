/**
 * The page and the server agree on the rules they share: static/protocol.js is the module the
 * server imports and the file the page loads, and the server's own constants (close codes, the
 * series limits) match its table. Pure: no sockets.
 */
import assert from "node:assert/strict";
import * as shared from "../../static/protocol.js";
import {
  MAX_CLIENT_MESSAGE_BYTES,
  MAX_SELECTED_SERIES,
  parseClientMessage,
  seriesFromUrl,
} from "../../src/protocol/client_messages.ts";
import { DEFAULT_SERIES, MAX_SERIES_LENGTH, seriesProblem } from "../../src/protocol/ingress.ts";
import { TOKEN_EXPIRED_CLOSE_CODE } from "../../src/http/auth.ts";
import { History } from "../../src/hub/history.ts";
import { findAsset } from "../../src/http/static_assets.ts";
import { CLOSE_MESSAGE_FLOOD, CLOSE_SLOW_CLIENT } from "../../ws_bridge.ts";

Deno.test("protocol.js: the page is served the very file the server imports", async () => {
  const file = await Deno.readTextFile(new URL("../../static/protocol.js", import.meta.url));
  assert.equal(findAsset("/protocol.js")!.body, file);
  // The page's modules that apply the server's rules import them, not a copy.
  for (const m of ["address", "feed", "legend", "connection", "store", "history", "layout"]) {
    assert.match(findAsset(`/${m}.js`)!.body, /from "\.\/protocol\.js"/, `${m}.js`);
  }
});

Deno.test("protocol.js: series names and limits are the server's", () => {
  assert.equal(DEFAULT_SERIES, shared.DEFAULT_SERIES);
  assert.equal(MAX_SERIES_LENGTH, shared.MAX_SERIES_LENGTH);
  assert.equal(MAX_SELECTED_SERIES, shared.MAX_SELECTED_SERIES);
  assert.equal(seriesProblem, shared.seriesProblem, "one function, not a copy");
  assert.equal(
    new History().maxSeries,
    shared.MAX_SERIES_HELD,
    "the page holds what the server does",
  );
});

Deno.test("protocol.js: the page's ?series= reading is the server's, name for name", () => {
  const cases = [
    "?series=a,b",
    "?series=a%2Cb,c",
    "?series=",
    "?series",
    "?series=a&series=b,,c",
    "?series=hello+world",
    "?token=x&series=%E6%B8%A9",
    "?window=10s",
    "",
  ];
  for (const q of cases) {
    const server = seriesFromUrl(new URL("http://h/ws" + q));
    const page = shared.splitSeriesParam(q);
    if (server === undefined) assert.equal(page.found, false, q);
    else {
      assert(!("error" in server), q);
      assert.deepEqual([...server], [...new Set(page.names)], q);
    }
  }
  // A malformed name: the server refuses the URL, the page skips the name.
  assert.deepEqual(seriesFromUrl(new URL("http://h/ws?series=a,%E6")), {
    error: "series: malformed percent-encoding",
  });
  assert.deepEqual(shared.splitSeriesParam("?series=a,%E6"), {
    found: true,
    names: ["a"],
    malformed: 1,
  });
  // The page writes what both read back.
  const names = ["a,b", "c d", "温", "x&y=z"];
  const q = "?series=" + shared.joinSeriesParam(names);
  assert.deepEqual([...(seriesFromUrl(new URL("http://h/ws" + q)) as Set<string>)], names);
  const over = "?series=" + Array.from({ length: 101 }, (_, i) => `s${i}`).join(",");
  assert.deepEqual(seriesFromUrl(new URL("http://h/ws" + over)), {
    error: "series: more than 100 series",
  });
});

Deno.test("protocol.js: every close code the server sends is in the page's table", () => {
  const { CLOSE, CLOSE_CODES, closeAction } = shared;
  assert.equal(TOKEN_EXPIRED_CLOSE_CODE, CLOSE.token_expired);
  assert.equal(CLOSE_SLOW_CLIENT, CLOSE.slow_client);
  assert.equal(CLOSE_MESSAGE_FLOOD, CLOSE.policy);
  const refusals = [
    parseClientMessage("x".repeat(MAX_CLIENT_MESSAGE_BYTES + 1)),
    parseClientMessage(new Uint8Array(1)),
    parseClientMessage("{nope"),
  ];
  for (const r of refusals) {
    assert("code" in r);
    assert(Object.hasOwn(CLOSE_CODES, r.code), `code ${r.code} is in the table`);
  }
  // What the page does: stop where retrying cannot help, resume otherwise.
  assert.equal(closeAction(CLOSE.token_expired), "stop");
  assert.equal(closeAction(CLOSE.policy), "stop");
  assert.equal(closeAction(CLOSE.going_away), "resume");
  assert.equal(closeAction(CLOSE.slow_client), "resume");
  assert.equal(closeAction(CLOSE.restart), "resume");
  assert.equal(closeAction(1006), "resume", "an unknown code: reconnect with backoff");
});

Deno.test("close codes: the server's registry is the page's table, and every code it names is in it", async () => {
  const { CLOSE, CLOSE_CODES, closeAction } = await import("../../src/protocol/close_codes.ts");
  assert.equal(CLOSE_CODES, shared.CLOSE_CODES, "one table, not a copy");
  assert.equal(CLOSE, shared.CLOSE);
  assert.equal(closeAction, shared.closeAction);
  for (const [code, c] of Object.entries(CLOSE_CODES)) {
    assert.match(code, /^\d{4}$/);
    assert(["resume", "fresh", "stop"].includes(c.action), `${code}: ${c.action}`);
    assert(c.meaning.length > 0 && c.name.length > 0, code);
    assert.equal(CLOSE[c.name as keyof typeof CLOSE], Number(code), c.name);
  }
});

Deno.test("close codes: the server writes no code as a number; each comes from the registry", async () => {
  const root = new URL("../../", import.meta.url);
  const files: string[] = ["main.ts", "forwarder.ts", "relay.ts", "ws_bridge.ts"];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(new URL(dir, root))) {
      if (e.isDirectory) await walk(`${dir}${e.name}/`);
      else if (e.name.endsWith(".ts")) files.push(`${dir}${e.name}`);
    }
  };
  await walk("src/");
  // A close with a literal code, a code literal in a close message, a code compared as a number.
  const literal =
    /\b(?:close|closeClients|refuse)\([^)]*?\b(1\d{3}|4\d{3})\b|\bcode(?:\s*===\s*|:\s*)(1\d{3}|4\d{3})\b/;
  const found: string[] = [];
  for (const f of files) {
    const code = (await Deno.readTextFile(new URL(f, root)))
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/\/\/.*$/gm, "");
    for (const line of code.split("\n")) if (literal.test(line)) found.push(`${f}: ${line.trim()}`);
  }
  assert.deepEqual(found, []);
  // The check can fail.
  assert(literal.test(`c.transport.close(4008, "slow");`));
  assert(literal.test(`return { code: 1007, reason: "x" };`));
});
