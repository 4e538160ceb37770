/**
 * The layer check (`tools/check_layers.ts`, run by `deno task check`): on a fixture project with one
 * breach of each rule, on single sources, and on this project (which must pass).
 */
import assert from "node:assert/strict";
import {
  checkFile,
  checkProject,
  describe,
  importsOf,
  lineCount,
  MAX_SRC_LINES,
  resolveRelative,
} from "../../tools/check_layers.ts";

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

Deno.test("layers: a module under src/ over 300 lines is a breach, named with its length", () => {
  assert.equal(MAX_SRC_LINES, 300);
  const lines = (n: number) => "const x = 1;\n".repeat(n);
  assert.deepEqual(checkFile("src/store/ok.ts", lines(300)), []);
  const v = checkFile("src/store/long.ts", lines(301));
  assert.deepEqual(v, [{
    file: "src/store/long.ts",
    lines: 301,
    rule: "src/ module over 300 lines (split it by job)",
  }]);
  assert.equal(
    describe(v[0]),
    "src/store/long.ts: 301 lines: src/ module over 300 lines (split it by job)",
  );
  // Only src/: top-level files, tests and tools may be longer.
  assert.deepEqual(checkFile("relay.ts", lines(400)), []);
  assert.deepEqual(checkFile("tests/unit/x_test.ts", lines(400)), []);
  // An import breach is still reported beside it, in the same style.
  const both = checkFile("src/a.ts", `import "../main.ts";\n` + lines(300));
  assert.deepEqual(both.map(describe), [
    `src/a.ts: imports "../main.ts": src/ imports a top-level file`,
    "src/a.ts: 301 lines: src/ module over 300 lines (split it by job)",
  ]);
});

Deno.test("layers: lines are counted as wc -l counts them", () => {
  assert.equal(lineCount(""), 0);
  assert.equal(lineCount("a"), 1);
  assert.equal(lineCount("a\n"), 1);
  assert.equal(lineCount("a\nb"), 2);
  assert.equal(lineCount("a\n\nb\n"), 3);
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
