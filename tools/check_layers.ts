/**
 * The layer check (`deno task check:layers`, part of `deno task check`): the import graph must
 * follow the data path's direction, and the modules under `src/` stay small.
 *
 * Rules:
 * - no module under `src/` imports a top-level file (`main.ts`, `relay.ts`, `ws_bridge.ts`, ...),
 *   nor refers to one with `new URL("...", import.meta.url)`;
 * - modules under `src/protocol/` import only `src/protocol/` and `static/protocol.js` (the rules
 *   the page shares with the server); no npm package, no Deno I/O module;
 * - `bench/` and `tests/_support/` import no test file (`tests/**_test.ts`, `tests/_helpers.ts`):
 *   shared harness code lives in `tests/_support/`, which `bench/` may import;
 * - no module under `src/` is over {@link MAX_SRC_LINES} lines: one that grows past it has more
 *   than one job, and is split by job.
 *
 * Usage: `deno run --allow-read tools/check_layers.ts [root]`. Prints one line per violation and
 * exits 1 when there is any.
 *
 * @module
 */

/** Most lines a module under `src/` may have. */
export const MAX_SRC_LINES = 300;

/** One import that breaks a layer rule, or a module over the size limit. */
export interface Violation {
  /** The file, relative to the project root. */
  file: string;
  /** The specifier as written (an import rule). */
  specifier?: string;
  /** The file's length in lines (the size rule). */
  lines?: number;
  /** Which rule it breaks. */
  rule: string;
}

/** A violation as the check prints it: the file, what breaks the rule, the rule. */
export function describe(v: Violation): string {
  const what = v.specifier !== undefined ? `imports "${v.specifier}"` : `${v.lines} lines`;
  return `${v.file}: ${what}: ${v.rule}`;
}

/** Lines of `source`, as `wc -l` counts them (a last line without a newline counts too). */
export function lineCount(source: string): number {
  if (source === "") return 0;
  return source.split("\n").length - (source.endsWith("\n") ? 1 : 0);
}

/** Static imports and re-exports start a line; a dynamic import may sit anywhere. */
const IMPORT_PATTERNS: RegExp[] = [
  /^\s*(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']/gm,
  /^\s*import\s*["']([^"']+)["']/gm,
  /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  /\bnew\s+URL\(\s*["']([^"']+\.[jt]s)["']\s*,\s*import\.meta\.url\s*\)/g,
];

/** Every specifier a module's source names (static, dynamic, and `new URL(..., import.meta.url)`). */
export function importsOf(source: string): string[] {
  // Comments often quote paths; they are not imports.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
  const out: string[] = [];
  for (const re of IMPORT_PATTERNS) {
    for (const m of code.matchAll(re)) out.push(m[1]);
  }
  return out;
}

/** Resolves `specifier` from `file` (both relative to the root) to a root-relative path, or null. */
export function resolveRelative(file: string, specifier: string): string | null {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return null;
  const parts = file.split("/").slice(0, -1);
  for (const seg of specifier.split("/")) {
    if (seg === "." || seg === "") continue;
    if (seg === "..") {
      if (parts.length === 0) return "../" + specifier; // outside the project
      parts.pop();
    } else parts.push(seg);
  }
  return parts.join("/");
}

/** The violations of one file (its imports, its size), `file` relative to the project root. */
export function checkFile(file: string, source: string): Violation[] {
  const out: Violation[] = [];
  for (const specifier of importsOf(source)) {
    const target = resolveRelative(file, specifier);
    if (file.startsWith("src/")) {
      if (target !== null && !target.includes("/")) {
        out.push({ file, specifier, rule: "src/ imports a top-level file" });
      }
      if (target !== null && target.startsWith("../")) {
        out.push({ file, specifier, rule: "import outside the project" });
      }
    }
    if (file.startsWith("src/protocol/")) {
      const inside = target !== null &&
        (target.startsWith("src/protocol/") || target === "static/protocol.js");
      if (!inside) {
        out.push({
          file,
          specifier,
          rule: "src/protocol/ imports outside itself (only src/protocol/ and static/protocol.js)",
        });
      }
    }
    if ((file.startsWith("bench/") || file.startsWith("tests/_support/")) && target !== null) {
      if (/^tests\/.*_test\.ts$/.test(target) || target === "tests/_helpers.ts") {
        const who = file.startsWith("bench/") ? "bench/" : "tests/_support/";
        out.push({ file, specifier, rule: `${who} imports a test file (use tests/_support/)` });
      }
    }
  }
  const lines = lineCount(source);
  if (file.startsWith("src/") && lines > MAX_SRC_LINES) {
    out.push({ file, lines, rule: `src/ module over ${MAX_SRC_LINES} lines (split it by job)` });
  }
  return out;
}

async function* walk(root: string, dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(`${root}/${dir}`)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) yield* walk(root, path);
    else if (/\.(ts|js|mjs)$/.test(e.name)) yield path;
  }
}

/** Checks every module under `src/`, `bench/` and `tests/_support/` of the project at `root`. */
export async function checkProject(root: string): Promise<Violation[]> {
  const out: Violation[] = [];
  for (const dir of ["src", "bench", "tests/_support"]) {
    try {
      for await (const file of walk(root, dir)) {
        out.push(...checkFile(file, await Deno.readTextFile(`${root}/${file}`)));
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return out;
}

if (import.meta.main) {
  const root = Deno.args[0] ?? new URL("../", import.meta.url).pathname.replace(/\/$/, "");
  const violations = await checkProject(root);
  for (const v of violations) console.error(describe(v));
  if (violations.length > 0) {
    console.error(`layer check: ${violations.length} violation(s)`);
    Deno.exit(1);
  }
  console.log("layer check: ok");
}
