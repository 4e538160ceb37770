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
