/**
 * `deno task compile` builds a self-contained binary: compiled with the task's own flags (read
 * from deno.json), started from an unrelated directory, it serves the page and both vendor scripts
 * from its embedded files, relays demo points over the WebSocket and exits 0 on SIGTERM.
 *
 * `deno compile` needs the `denort` runtime, which it normally downloads. The test runs only when
 * one is at hand: env DENORT_BIN (passed through; `deno compile` honours it) or a denort cached in
 * `<denoDir>/dl/release/v<version>/`. Otherwise it is ignored.
 *
 * @module
 */
import assert from "node:assert/strict";
import { openClient, taskArgs, waitFor, withTimeout } from "../_helpers.ts";

const ROOT = new URL("../../", import.meta.url);
const COMPILE_TIMEOUT_MS = 300_000;

/** How `deno compile` will find denort, or undefined when it would have to download it. */
interface Denort {
  /** Human description for failure messages. */
  source: string;
  /** Extra environment for `deno compile`. */
  env: Record<string, string>;
}

async function findDenort(): Promise<Denort | undefined> {
  const fromEnv = Deno.env.get("DENORT_BIN");
  if (fromEnv) return { source: `DENORT_BIN=${fromEnv}`, env: { DENORT_BIN: fromEnv } };
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(30_000),
  }).output();
  if (!info.success) return undefined;
  const denoDir: unknown = JSON.parse(new TextDecoder().decode(info.stdout)).denoDir;
  if (typeof denoDir !== "string") return undefined;
  // Where `deno compile` caches the runtime it downloads (cli/standalone/binary.rs).
  const dir = `${denoDir}/dl/release/v${Deno.version.deno}`;
  const zip = `${dir}/denort-${Deno.build.target}.zip`;
  if (await isFile(zip)) return { source: zip, env: {} };
  // An unpacked runtime left next to it: hand it over explicitly.
  const bin = `${dir}/denort`;
  if (await isFile(bin)) return { source: bin, env: { DENORT_BIN: bin } };
  return undefined;
}

function isFile(path: string): Promise<boolean> {
  return Deno.stat(path).then((s) => s.isFile, () => false);
}

const denort = await findDenort();
if (!denort) console.log("SKIP compile test: no denort (set DENORT_BIN=/path/to/denort)");

/** `deno task compile`'s arguments with the output redirected to `output`. */
async function compileArgs(output: string): Promise<string[]> {
  const args = await taskArgs("compile");
  assert.equal(args[0], "compile", "the compile task runs deno compile");
  const i = args.findIndex((a) => a === "--output" || a === "-o");
  if (i >= 0) args.splice(i, 2, "--output", output);
  else {
    const j = args.findIndex((a) => a.startsWith("--output="));
    if (j >= 0) args.splice(j, 1, "--output", output);
    else args.splice(args.length - 1, 0, "--output", output);
  }
  return args;
}

Deno.test({
  name: "compile: the binary serves page and vendor files from any cwd, relays, exits 0",
  ignore: !denort,
  async fn() {
    const outDir = await Deno.makeTempDir({ prefix: "zws-compile-" });
    const runDir = await Deno.makeTempDir({ prefix: "zws-cwd-" });
    let child: Deno.ChildProcess | undefined;
    let stderrDone: Promise<void> | undefined;
    let stdoutDone: Promise<void> | undefined;
    let reader: ReadableStreamDefaultReader<string> | undefined;
    let err = "";
    try {
      const exe = `${outDir}/zws${Deno.build.os === "windows" ? ".exe" : ""}`;
      const built = await new Deno.Command(Deno.execPath(), {
        args: await compileArgs(exe),
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
        stdin: "null",
        env: { NO_COLOR: "1", ...denort!.env },
        signal: AbortSignal.timeout(COMPILE_TIMEOUT_MS),
      }).output();
      const log = new TextDecoder().decode(built.stderr) + new TextDecoder().decode(built.stdout);
      assert(built.success, `deno compile failed (denort: ${denort!.source}):\n${log}`);
      assert(await isFile(exe), `no binary at ${exe}:\n${log}`);

      // Run it from an empty directory: nothing can come from the checkout.
      child = new Deno.Command(exe, {
        args: ["--port", "0", "--hostname", "127.0.0.1", "--ingress", "tcp://127.0.0.1:*"],
        cwd: runDir,
        stdout: "piped",
        stderr: "piped",
        stdin: "null",
        env: { NO_COLOR: "1" },
      }).spawn();
      const proc = child;
      stderrDone = (async () => {
        for await (const chunk of proc.stderr.pipeThrough(new TextDecoderStream())) err += chunk;
      })();
      const lines = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
      reader = lines;
      let out = "";
      const listening = await withTimeout(
        (async () => {
          while (true) {
            const { value, done } = await lines.read();
            if (done) return undefined;
            out += value;
            const m = /listening on (http:\/\/[^\s/]+)\/ \(ingress (\S+)\)/.exec(out);
            if (m) return m;
          }
        })(),
        20_000,
        "the binary's listening line",
      ).catch((e) => {
        throw new Error(`${e.message}\nstdout: ${out}\nstderr: ${err}`);
      });
      if (!listening) {
        await withTimeout(stderrDone, 5000, "stderr").catch(() => {});
        assert.fail(`the binary exited before listening:\nstdout: ${out}\nstderr: ${err}`);
      }
      stdoutDone = (async () => {
        while (!(await lines.read()).done) { /* drain */ }
      })();
      const base = listening[1];

      const expected: Array<[string, string, RegExp]> = [
        ["/", "text/html", /<title>zws/],
        ["/vendor/jquery.min.js", "text/javascript", /jQuery/],
        ["/vendor/jquery.flot.js", "text/javascript", /plot/],
      ];
      for (const [path, type, body] of expected) {
        const res = await fetch(base + path, { signal: AbortSignal.timeout(5000) });
        const text = await res.text();
        assert.equal(res.status, 200, `GET ${path}`);
        assert(res.headers.get("content-type")?.startsWith(type), `${path} is ${type}`);
        assert.match(text, body, `${path} has the embedded content`);
      }

      const client = await openClient(base.replace(/^http/, "ws") + "/ws");
      try {
        assert.equal(client.frames[0]?.type, "hello", "the first frame is hello");
        await waitFor(() => client.points().length >= 10, 10_000, "10 demo points");
        const series = new Set(client.points().map((p) => p.series));
        assert(series.has("sine") && series.has("cosine"), `demo series: ${[...series]}`);
      } finally {
        await client.close();
      }

      proc.kill("SIGTERM");
      const status = await withTimeout(proc.status, 5000, "the binary to exit on SIGTERM");
      assert.equal(status.code, 0, `exit code after SIGTERM; stderr:\n${err}`);
    } finally {
      if (child) {
        try {
          child.kill("SIGKILL");
        } catch { /* already exited */ }
        await child.status;
        await Promise.all([stderrDone, stdoutDone ?? reader?.cancel().catch(() => {})]);
      }
      await Deno.remove(outDir, { recursive: true });
      await Deno.remove(runDir, { recursive: true });
    }
  },
});
