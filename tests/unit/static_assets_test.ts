import assert from "node:assert/strict";
import { ASSETS, findAsset } from "../../src/http/static_assets.ts";

const JS = "text/javascript; charset=utf-8";

async function readStatic(name: string): Promise<string> {
  return await Deno.readTextFile(new URL(`../../static/${name}`, import.meta.url));
}

Deno.test("static assets: every known path exists with its content type and caching", () => {
  const expected: Array<[string, string, string]> = [
    ["/", "text/html; charset=utf-8", "no-cache"],
    ["/index.html", "text/html; charset=utf-8", "no-cache"],
    ["/app.js", JS, "no-cache"],
    ["/protocol.js", JS, "no-cache"],
    ["/store.js", JS, "no-cache"],
    ["/chart.js", JS, "no-cache"],
    ["/legend.js", JS, "no-cache"],
    ["/connection.js", JS, "no-cache"],
    ["/layout.js", JS, "no-cache"],
    ["/panels.js", JS, "no-cache"],
    ["/history.js", JS, "no-cache"],
    ["/export.js", JS, "no-cache"],
    ["/rate.js", JS, "no-cache"],
    ["/address.js", JS, "no-cache"],
    ["/catalog.js", JS, "no-cache"],
    ["/controls.js", JS, "no-cache"],
    ["/debug.js", JS, "no-cache"],
    ["/decimation.js", JS, "no-cache"],
    ["/draw.js", JS, "no-cache"],
    ["/feed.js", JS, "no-cache"],
    ["/figures.js", JS, "no-cache"],
    ["/format.js", JS, "no-cache"],
    ["/placement.js", JS, "no-cache"],
    ["/readout.js", JS, "no-cache"],
    ["/view.js", JS, "no-cache"],
    ["/style.css", "text/css; charset=utf-8", "no-cache"],
    ["/vendor/jquery.min.js", JS, "public, max-age=86400"],
    ["/vendor/jquery.flot.js", JS, "public, max-age=86400"],
  ];
  assert.deepEqual([...ASSETS.keys()].sort(), expected.map(([p]) => p).sort(), "no other paths");
  for (const [path, type, cache] of expected) {
    const a = findAsset(path);
    assert(a, `${path} exists`);
    assert.equal(a.contentType, type, path);
    assert.equal(a.cacheControl, cache, path);
    assert(a.body.length > 0, `${path} is not empty`);
  }
});

Deno.test("static assets: the page files are the ones in static/", async () => {
  const index = await readStatic("index.html");
  assert.equal(findAsset("/")!.body, index);
  assert.equal(findAsset("/index.html")!.body, index);
  assert.equal(findAsset("/app.js")!.body, await readStatic("app.js"));
  assert.equal(findAsset("/style.css")!.body, await readStatic("style.css"));
  for (
    const m of [
      "protocol",
      "store",
      "chart",
      "legend",
      "connection",
      "layout",
      "panels",
      "history",
      "export",
      "rate",
      "address",
      "catalog",
      "controls",
      "debug",
      "decimation",
      "draw",
      "feed",
      "figures",
      "format",
      "placement",
      "readout",
      "view",
    ]
  ) {
    assert.equal(findAsset(`/${m}.js`)!.body, await readStatic(`${m}.js`));
  }
});

Deno.test("static assets: every module the page imports is served (no build step, no 404)", () => {
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    const a = findAsset(path);
    assert(a, `${path} is imported but not served`);
    for (const m of a.body.matchAll(/^import [^;]* from "\.\/([\w-]+\.js)";$/gm)) visit(`/${m[1]}`);
  };
  visit("/app.js");
  assert.deepEqual([...seen].sort(), [
    "/address.js",
    "/app.js",
    "/catalog.js",
    "/chart.js",
    "/connection.js",
    "/controls.js",
    "/debug.js",
    "/decimation.js",
    "/draw.js",
    "/export.js",
    "/feed.js",
    "/figures.js",
    "/format.js",
    "/history.js",
    "/layout.js",
    "/legend.js",
    "/panels.js",
    "/placement.js",
    "/protocol.js",
    "/rate.js",
    "/readout.js",
    "/store.js",
    "/view.js",
  ]);
  assert.match(findAsset("/")!.body, /<script type="module" src="\/app\.js"><\/script>/);
});

Deno.test("static assets: the page references only servable paths", () => {
  const html = findAsset("/")!.body;
  const refs = [...html.matchAll(/(?:src|href)="(\/[^"]*)"/g)].map((m) => m[1]);
  assert(refs.length >= 4, `found references: ${refs.join(", ")}`);
  for (const ref of refs) assert(findAsset(ref), `${ref} referenced by the page is served`);
});

Deno.test("static assets: vendor files are jQuery and Flot", () => {
  assert.match(findAsset("/vendor/jquery.min.js")!.body, /jQuery v3\.7\.1/);
  const flot = findAsset("/vendor/jquery.flot.js")!.body;
  assert.match(flot, /\$\.plot|\.plot=|plot\.version/);
  assert(flot.length > 10_000, "the full Flot bundle");
});

Deno.test("static assets: ETags are quoted, stable and change with the content", () => {
  const seen = new Map<string, string>();
  for (const [path, a] of ASSETS) {
    assert.match(a.etag, /^"[0-9a-f]+-[0-9a-f]+"$/, path);
    // The second part is the body length in hex.
    assert.equal(a.etag.slice(1, -1).split("-")[1], a.body.length.toString(16), path);
    assert.equal(findAsset(path)!.etag, a.etag, "stable");
    const other = seen.get(a.etag);
    if (other !== undefined) {
      assert.equal(ASSETS.get(other)!.body, a.body, `${path} and ${other} share an ETag`);
    }
    seen.set(a.etag, path);
  }
  assert.equal(findAsset("/")!.etag, findAsset("/index.html")!.etag, "same file, same ETag");
  assert.notEqual(findAsset("/app.js")!.etag, findAsset("/style.css")!.etag);
});

Deno.test("static assets: unknown and traversal-like paths return undefined", () => {
  for (
    const path of [
      "",
      "/nope",
      "/../deno.json",
      "/deno.json",
      "/main.ts",
      "/src/http.ts",
      "/static/index.html",
      "/static/app.js",
      "/%2e%2e/x",
      "/%2e%2e/deno.json",
      "/..%2fdeno.json",
      "/vendor/",
      "/vendor/../app.js",
      "/vendor/jquery.js",
      "//index.html",
      "/index.html/",
      "/./index.html",
      "/INDEX.HTML",
      "/App.js",
      "/app.js?v=1",
      "/app.js#x",
      "/app.js%00",
      "index.html",
      "\\index.html",
      "/node_modules/jquery/dist/jquery.min.js",
      "/__proto__",
      "/constructor",
      "toString",
      "hasOwnProperty",
    ]
  ) {
    assert.equal(findAsset(path), undefined, JSON.stringify(path));
  }
});
