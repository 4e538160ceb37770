/**
 * One source per fact: the flag tables (`src/config/flags.ts`) decide the environment names of
 * `deno.json`'s permission sets, the flag tables of `docs/operations.md` and every `ZWS_*` name
 * the code and docs mention. `deno task gen` rewrites the first two; this test fails while any
 * of them disagrees. Pure: reads files, no sockets.
 */
import assert from "node:assert/strict";
import {
  normalizeTables,
  permissionEnv,
  renderOperations,
  renderProtocol,
  withEnvLists,
} from "../../tools/gen.ts";
import { envNames } from "../../src/config/flag.ts";
import { ROLE_TABLES } from "../../src/config/flags.ts";
import { ENV_VARS, FORWARDER_ENV_VARS, FORWARDER_USAGE, USAGE } from "../../src/config/config.ts";
import { NATS_ENV_VARS } from "../../src/nats/config.ts";
import { WRITEV_ENV } from "../../src/runtime/vectored_writes.ts";

const ROOT = new URL("../../", import.meta.url);
const read = (path: string) => Deno.readTextFile(new URL(path, ROOT));
const denoJson = async () => JSON.parse(await read("deno.json"));

/** Where the env lists of `config` differ from the tables': set name -> [missing, extra]. */
function envMismatch(config: Record<string, unknown>): Record<string, [string[], string[]]> {
  const sets = (config.permissions ?? {}) as Record<string, { env?: unknown }>;
  const out: Record<string, [string[], string[]]> = {};
  for (const [name, want] of Object.entries(permissionEnv())) {
    const have = Array.isArray(sets[name]?.env) ? sets[name].env as string[] : [];
    const missing = want.filter((n) => !have.includes(n));
    const extra = have.filter((n) => !want.includes(n));
    if (missing.length || extra.length) out[name] = [missing, extra];
  }
  return out;
}

Deno.test("flags: deno.json's permission sets allow exactly the variables the tables read", async () => {
  const config = await denoJson();
  assert.deepEqual(envMismatch(config), {}, "run deno task gen");
  // The check can fail: one variable too many, one missing.
  const server = config.permissions.server;
  const broken = {
    ...config,
    permissions: { ...config.permissions, server: { ...server, env: [...server.env, "ZWS_X"] } },
  };
  assert.deepEqual(envMismatch(broken), { server: [[], ["ZWS_X"]] });
  const fwd = config.permissions.forwarder;
  const short = {
    ...config,
    permissions: { ...config.permissions, forwarder: { ...fwd, env: fwd.env.slice(1) } },
  };
  assert.deepEqual(envMismatch(short), { forwarder: [[fwd.env[0]], []] });
  // What gen writes agrees.
  assert.deepEqual(envMismatch(withEnvLists(broken)), {});
});

Deno.test("flags: the tasks that run zws use the permission sets, with no env list of their own", async () => {
  const { tasks } = await denoJson();
  const uses = (task: string, set: string) =>
    assert.match(tasks[task], new RegExp(`(^| )-P=${set}( |$)`), `${task} uses -P=${set}`);
  uses("start", "server");
  uses("forwarder", "forwarder");
  uses("relay", "forwarder");
  uses("compile", "compile");
  for (const name of ["start", "forwarder", "relay", "compile"]) {
    assert(!/--allow-env/.test(tasks[name]), `${name} has no --allow-env of its own`);
    assert(tasks[name].length < 700, `${name} is short (${tasks[name].length} characters)`);
  }
});

Deno.test("flags: docs/operations.md holds the generated flag and metric tables", async () => {
  const md = await read("docs/operations.md");
  assert.equal(normalizeTables(md), normalizeTables(renderOperations(md)), "run deno task gen");
  // The check can fail: a row edited by hand, a metric renamed.
  for (
    const [from, to] of [["| `--port <n>`", "| `--port <number>`"], [
      "`zws_clients`",
      "`zws_viewers`",
    ]]
  ) {
    const edited = md.replace(from, to);
    assert.notEqual(edited, md, from);
    assert.notEqual(normalizeTables(edited), normalizeTables(renderOperations(edited)), from);
  }
});

Deno.test("close codes: docs/protocol.md holds the registry's table", async () => {
  const md = await read("docs/protocol.md");
  assert.equal(normalizeTables(md), normalizeTables(renderProtocol(md)), "run deno task gen");
  const edited = md.replace("| 4008 |", "| 4009 |");
  assert.notEqual(edited, md);
  assert.notEqual(normalizeTables(edited), normalizeTables(renderProtocol(edited)));
});

Deno.test("flags: --help and the env maps come from the same tables", () => {
  for (const name of envNames(ROLE_TABLES.server)) assert(USAGE.includes(name), `USAGE: ${name}`);
  for (const name of envNames(ROLE_TABLES.forwarder)) {
    assert(FORWARDER_USAGE.includes(name), `FORWARDER_USAGE: ${name}`);
  }
  const all = new Set([
    ...Object.values(ENV_VARS),
    ...Object.values(FORWARDER_ENV_VARS),
    ...Object.values(NATS_ENV_VARS),
    WRITEV_ENV, // not a flag: the server sets it for Deno (src/runtime/vectored_writes.ts)
  ]);
  assert.deepEqual([...all].sort(), permissionEnv().compile);
});

/** Every file of the project whose `ZWS_*` names must be the tables' (tests may make up others). */
async function* sources(): AsyncGenerator<string> {
  const walk = async function* (dir: string): AsyncGenerator<string> {
    for await (const e of Deno.readDir(new URL(dir, ROOT))) {
      const path = `${dir}${e.name}`;
      if (e.isDirectory) yield* walk(`${path}/`);
      else if (/\.(ts|js|md)$/.test(e.name)) yield path;
    }
  };
  yield* walk("src/");
  yield* walk("docs/");
  for (const top of ["main.ts", "forwarder.ts", "relay.ts", "ws_bridge.ts", "README.md"]) yield top;
}

Deno.test("flags: every ZWS_ variable the code and docs name is one a table reads", async () => {
  const known = new Set(permissionEnv().compile);
  // Read by the producer (its own flags) and by the fuzz tests.
  for (const n of ["ZWS_CURVE_SERVER_KEY", "ZWS_PRODUCER_KEYS_FILE"]) known.add(n);
  for (const n of ["ZWS_FUZZ_SEED", "ZWS_FUZZ_COUNT"]) known.add(n);
  const unknown: string[] = [];
  for await (const path of sources()) {
    for (const m of (await read(path)).matchAll(/\bZWS_[A-Z0-9_]*[A-Z0-9]\b/g)) {
      if (!known.has(m[0])) unknown.push(`${path}: ${m[0]}`);
    }
  }
  assert.deepEqual(unknown, []);
});
