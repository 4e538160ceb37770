/**
 * The layer check (`tools/check_layers.ts`, run by `deno task check`): on a fixture project with one
 * breach of each rule, on single sources, and on this project (which must pass).
 */
import assert from "node:assert/strict";
import { checkFile, checkProject, importsOf, resolveRelative } from "../../tools/check_layers.ts";

const FIXTURE = new URL("../fixtures/layers/", import.meta.url).pathname.replace(/\/$/, "");
const PROJECT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("layers: the fixture's breaches are found, one per import, and nothing else", async () => {
  const found = (await checkProject(FIXTURE))
    .map((v) => `${v.file} ${v.specifier} | ${v.rule}`)
    .sort();
  assert.deepEqual(found, [
    "bench/bench.ts ../tests/_helpers.ts | bench/ imports a test file (use tests/_support/)",
    "src/http/top.ts ../../main.ts | src/ imports a top-level file",
    "src/http/top.ts ../../main.ts | src/ imports a top-level file",
    "src/protocol/bad.ts ../runtime/log.ts | " +
    "src/protocol/ imports outside itself (only src/protocol/ and static/protocol.js)",
    "src/protocol/bad.ts zeromq | " +
    "src/protocol/ imports outside itself (only src/protocol/ and static/protocol.js)",
    "tests/_support/barrel.ts ../_helpers.ts | tests/_support/ imports a test file (use tests/_support/)",
  ]);
});

Deno.test("layers: this project passes", async () => {
  assert.deepEqual(await checkProject(PROJECT), []);
});

Deno.test("layers: static, dynamic and re-export imports and worker URLs count; comments do not", () => {
  const src = [
    `import a from "./a.ts";`,
    `import "./side.ts";`,
    `export { b } from "../b.ts";`,
    `const m = await import("./lazy.ts");`,
    `new Worker(new URL("../../w.ts", import.meta.url));`,
    `// import c from "./commented.ts";`,
    `/* import d from "./block.ts"; */`,
    `const s = "import e from './string.ts'";`,
  ].join("\n");
  assert.deepEqual(importsOf(src).sort(), [
    "../../w.ts",
    "../b.ts",
    "./a.ts",
    "./lazy.ts",
    "./side.ts",
  ]);
});

Deno.test("layers: a dynamic import of a top-level file from src/ is a breach too", () => {
  const v = checkFile("src/sources/x.ts", `const f = await import("../../forwarder.ts");`);
  assert.equal(v.length, 1);
  assert.equal(v[0].rule, "src/ imports a top-level file");
  // Top-level files may import anything; so may tools.
  assert.deepEqual(checkFile("main.ts", `import "./forwarder.ts";`), []);
  assert.deepEqual(checkFile("tools/gen.ts", `import "../main.ts";`), []);
});

Deno.test("layers: paths resolve against the importing file; outside the project is named", () => {
  assert.equal(resolveRelative("src/http/a.ts", "../hub/b.ts"), "src/hub/b.ts");
  assert.equal(resolveRelative("src/http/a.ts", "../../main.ts"), "main.ts");
  assert.equal(resolveRelative("src/a.ts", "./b.ts"), "src/b.ts");
  assert.equal(resolveRelative("src/a.ts", "zeromq"), null);
  assert.equal(resolveRelative("src/a.ts", "../../x.ts"), "../../../x.ts");
  const v = checkFile("src/a.ts", `import "../../elsewhere/x.ts";`);
  assert.deepEqual(v.map((x) => x.rule), ["import outside the project"]);
});

Deno.test("layers: no file of the project points at a path outside it (the notes beside it)", async () => {
  // Spelled in parts, so this file does not match itself.
  const outside = new RegExp(
    [["shared", "notes"].join("/"), ["\\.\\.", "shared"].join("/")].join("|"),
  );
  const found: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(`${PROJECT}/${dir}`)) {
      const path = dir === "" ? e.name : `${dir}/${e.name}`;
      if (e.isDirectory) {
        if (!["node_modules", ".git", "data", "dist", "test-results"].includes(e.name)) {
          await walk(path);
        }
      } else if (/\.(ts|js|md|json|html|css|service|cfg|conf)$|^Procfile$|^run$/.test(e.name)) {
        const text = await Deno.readTextFile(`${PROJECT}/${path}`);
        if (outside.test(text)) found.push(path);
      }
    }
  };
  await walk("");
  assert.deepEqual(found, []);
  assert(
    outside.test(["..", "shared", "x"].join("/")) &&
      outside.test(["shared", "notes", "z.md"].join("/")),
  );
});
