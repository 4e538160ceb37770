/**
 * The project's tasks as argument lists, so tests and benchmarks start processes with exactly the
 * flags and permissions of `deno task <name>`. No dependencies: the benchmarks import it too.
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url);

/** Arguments of `deno task <name>` after `deno`, read from deno.json. */
export async function taskArgs(name: string): Promise<string[]> {
  const json = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const task = json.tasks[name];
  if (typeof task !== "string") throw new Error(`deno.json has no task ${name}`);
  const parts = task.split(/\s+/);
  if (parts[0] !== "deno") throw new Error(`task ${name} does not start with deno`);
  return parts.slice(1);
}

/**
 * `deno task <name>`'s arguments with `extra` permission flags (`--allow-write=/tmp/x`) added to
 * its permission set (`-P=<set>` in deno.json). A flag of one kind given next to `-P` replaces the
 * set's list of that kind, so each extra flag carries the set's list too.
 */
export async function taskArgsWith(name: string, extra: readonly string[]): Promise<string[]> {
  const args = await taskArgs(name);
  if (extra.length === 0) return args;
  const json = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const setName = args.find((a) => a.startsWith("-P="))?.slice(3);
  const set: Record<string, string[] | boolean> = setName ? json.permissions?.[setName] ?? {} : {};
  const flags = extra.map((flag) => {
    const m = /^--allow-(\w+)=(.*)$/.exec(flag);
    if (!m) return flag;
    const own = set[m[1]];
    if (own === true) return `--allow-${m[1]}`;
    return `--allow-${m[1]}=${[...(Array.isArray(own) ? own : []), m[2]].join(",")}`;
  });
  return [args[0], ...flags, ...args.slice(1)];
}
