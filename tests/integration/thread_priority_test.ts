/**
 * `lowerThreadPriority` (src/runtime/thread_priority.ts) lowers the calling thread only: a child
 * process starts a Worker that sets its nice value, and the child's threads are read from /proc.
 */
import assert from "node:assert/strict";
import { LIBC_PATHS } from "../../src/runtime/malloc_trim.ts";

const libc = LIBC_PATHS.find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});

/** Nice values of every thread of `pid`, by thread id. */
async function niceValues(pid: number): Promise<Map<number, number>> {
  const out = await new Deno.Command("sh", {
    args: ["-c", `for t in /proc/${pid}/task/*; do echo "\${t##*/} $(cat $t/stat)"; done`],
    stdout: "piped",
  }).output();
  const m = new Map<number, number>();
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    if (!line) continue;
    const f = line.slice(line.lastIndexOf(")") + 2).split(" ");
    m.set(Number(line.slice(0, line.indexOf(" "))), Number(f[16])); // field 19: nice
  }
  return m;
}

Deno.test({
  name: "lowerThreadPriority: a Worker's thread gets the nice value, the rest of the process not",
  ignore: Deno.build.os !== "linux" || libc === undefined,
  fn: async () => {
    const worker = new URL("../fixtures/nice_worker.ts", import.meta.url).href;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--allow-ffi=${libc}`,
        `--allow-read=${new URL("../../", import.meta.url).pathname}`,
        "-",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const stdin = child.stdin.getWriter();
    await stdin.write(new TextEncoder().encode(`
      const w = new Worker(${JSON.stringify(worker)}, { type: "module" });
      w.onmessage = (e) => console.log("set " + e.data);
      w.postMessage(7);
      await new Promise((r) => setTimeout(r, 1500));
      w.terminate();
    `));
    await stdin.close();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const { value } = await reader.read();
    assert.equal(value?.trim(), "set true");
    const nice = await niceValues(child.pid);
    await reader.cancel();
    await child.status;
    assert.equal(nice.get(child.pid), 0, "the main thread keeps its priority");
    assert.equal([...nice.values()].filter((n) => n === 7).length, 1, `${[...nice.values()]}`);
  },
});
