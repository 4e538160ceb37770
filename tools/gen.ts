/**
 * `deno task gen`: writes what the flag tables (`src/config/flags.ts`) decide into the files that
 * repeat it: the environment lists of `deno.json`'s permission sets, and the flag tables of
 * `docs/operations.md` (between `<!-- gen:flags:NAME -->` and `<!-- /gen:flags:NAME -->`).
 * `tests/unit/flags_consistency_test.ts` fails while the files and the tables disagree.
 *
 * @module
 */
import { docsTable, envNames, type FlagTable } from "../src/config/flag.ts";
import {
  FORWARDER_FLAGS,
  LIMIT_FLAGS,
  NATS_FLAG_TABLE,
  ROLE_TABLES,
  SECURITY_FLAGS,
  SERVER_FLAGS,
} from "../src/config/flags.ts";

/** The permission sets of `deno.json` and the environment each must allow. */
export function permissionEnv(): Record<"server" | "forwarder" | "compile", string[]> {
  const server = envNames(ROLE_TABLES.server);
  const forwarder = envNames(ROLE_TABLES.forwarder);
  // The compiled binary runs both roles (`zws`, `zws forwarder`).
  const compile = [...new Set([...server, ...forwarder])].sort();
  return { server, forwarder, compile };
}

/** The generated sections of `docs/operations.md`, by name. */
export const DOC_TABLES: Readonly<Record<string, readonly FlagTable[]>> = {
  server: [SERVER_FLAGS, LIMIT_FLAGS, SECURITY_FLAGS],
  forwarder: [FORWARDER_FLAGS],
  nats: [NATS_FLAG_TABLE],
};

/** `deno.json` (parsed) with each permission set's `env` made what the tables read. */
export function withEnvLists(config: Record<string, unknown>): Record<string, unknown> {
  const sets = (config.permissions ?? {}) as Record<string, Record<string, unknown>>;
  const env = permissionEnv();
  const out: Record<string, Record<string, unknown>> = { ...sets };
  for (const [name, names] of Object.entries(env)) out[name] = { ...sets[name], env: names };
  return { ...config, permissions: out };
}

/** Markdown with every generated section replaced; throws when a marker is missing. */
export function renderDocs(md: string): string {
  let out = md;
  for (const [name, tables] of Object.entries(DOC_TABLES)) {
    const open = `<!-- gen:flags:${name} -->`;
    const close = `<!-- /gen:flags:${name} -->`;
    const a = out.indexOf(open);
    const b = out.indexOf(close);
    if (a < 0 || b < a) throw new Error(`docs/operations.md has no ${open} … ${close} section`);
    out = `${out.slice(0, a + open.length)}\n\n${docsTable(tables)}\n\n${out.slice(b)}`;
  }
  return out;
}

/**
 * Markdown tables compared cell by cell (`deno fmt` pads cells and dash rows): each table row's
 * cells trimmed, dashes shortened.
 */
export function normalizeTables(md: string): string {
  return md.split("\n").map((line) => {
    if (!line.startsWith("|")) return line.trimEnd();
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    return "|" + cells.map((c) => /^-+$/.test(c) ? "---" : c).join("|") + "|";
  }).join("\n");
}

if (import.meta.main) {
  const root = new URL("../", import.meta.url);
  const json = new URL("deno.json", root);
  const docs = new URL("docs/operations.md", root);
  const config = JSON.parse(await Deno.readTextFile(json));
  await Deno.writeTextFile(json, JSON.stringify(withEnvLists(config), null, 2) + "\n");
  await Deno.writeTextFile(docs, renderDocs(await Deno.readTextFile(docs)));
  console.log("gen: deno.json permission env lists and docs/operations.md flag tables written");
}
