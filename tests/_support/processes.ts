/**
 * zws in child processes: a server (`deno task start`), a forwarder (`deno task relay`) or any
 * task, started with the exact flags and permissions of its `deno.json` task, on ephemeral ports.
 *
 * @module
 */
import { taskArgs, taskArgsWith } from "./tasks.ts";

export { taskArgs };

const ROOT = new URL("../../", import.meta.url);

/** A zws server running in a child process. */
export interface ZwsProcess {
  /** `http://127.0.0.1:PORT` (`https:` with --cert; no trailing slash). */
  base: string;
  /** `ws://127.0.0.1:PORT/ws` (`wss:` with --cert). */
  wsUrl: string;
  /** The ingress endpoint producers connect to (single process; "" for a gateway). */
  ingress: string;
  /** The forwarder endpoint a gateway follows ("" for a single process). */
  upstream: string;
  child: Deno.ChildProcess;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Sends `signal` and waits for exit; returns the exit code and ms taken. */
  stop(signal?: Deno.Signal): Promise<{ code: number; ms: number }>;
}

/** Options of {@link startZws}. */
export interface StartOptions {
  /** Extra environment variables for the server (besides NO_COLOR). */
  env?: Record<string, string>;
  /** Runs the server under `ulimit -n <openFiles>` (through `sh`). */
  openFiles?: number;
}

/** A child process started by {@link spawnReady}, once it printed its ready line. */
export interface ReadyChild {
  child: Deno.ChildProcess;
  /** The ready line's match. */
  match: RegExpExecArray;
  stderr(): string;
  stop(signal?: Deno.Signal): Promise<{ code: number; ms: number }>;
}

/**
 * Runs `deno <args>` from the project root and waits (at most 20 s) for stdout to match `ready`.
 * Stdout and stderr keep being drained, so the child never blocks on a full pipe.
 */
export async function spawnReady(
  args: string[],
  ready: RegExp,
  what: string,
  env: Record<string, string> = {},
  openFiles?: number,
): Promise<ReadyChild> {
  // With a limit: sh sets it and execs deno (same pid, so signals and RSS are the server's).
  const limited = openFiles === undefined
    ? null
    : ["-c", `ulimit -n ${openFiles} && exec "$@"`, "sh", Deno.execPath()];
  const child = new Deno.Command(limited ? "sh" : Deno.execPath(), {
    args: limited ? [...limited, ...args] : args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { NO_COLOR: "1", ...env },
  }).spawn();
  let err = "";
  const errDone = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) err += chunk;
  })();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  let match: RegExpExecArray | null = null;
  const deadline = Date.now() + 20000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  while (!match && Date.now() < deadline) {
    const next = await Promise.race([
      reader.read(),
      new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), deadline - Date.now())),
    ]);
    clearTimeout(timer);
    if (next === "timeout" || next.done) break;
    out += next.value;
    match = ready.exec(out);
  }
  const outDone = (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  let exited: Promise<Deno.CommandStatus> | undefined;
  const stop = async (signal: Deno.Signal = "SIGTERM") => {
    const t0 = performance.now();
    if (!exited) {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
      exited = child.status;
    }
    const status = await exited;
    await Promise.all([errDone, outDone]);
    return { code: status.code, ms: performance.now() - t0 };
  };
  if (!match) {
    await stop("SIGKILL");
    throw new Error(`${what} did not start:\nstdout: ${out}\nstderr: ${err}`);
  }
  return { child, match, stderr: () => err, stop };
}

/**
 * Tests share one checkout: a server or forwarder persists only when the test gives it a data
 * directory of its own (see {@link testDataDir}); else `--no-persist`.
 */
function persistFlags(flags: string[]): string[] {
  const chosen = flags.some((f) =>
    /^--(data-dir|no-persist|state-file)(=|$)/.test(f) || f === "--upstream"
  );
  return chosen ? [] : ["--no-persist"];
}

/**
 * A fresh data directory under `./data` (where `deno task start` and `deno task relay` may
 * write), for one test: `dir` for the flag (servers run in the checkout), `url` for the test.
 */
export function testDataDir(): { dir: string; url: URL; remove(): Promise<void> } {
  const dir = `./data/test-${crypto.randomUUID().slice(0, 8)}`;
  const url = new URL(`${dir}/`, ROOT);
  return { dir, url, remove: () => Deno.remove(url, { recursive: true }).catch(() => {}) };
}

/**
 * Starts `main.ts` like `deno task start`, on ephemeral ports. Extra flags go after; with
 * `--upstream` it is a gateway (no ingress of its own).
 */
export async function startZws(
  flags: string[] = [],
  opts: StartOptions = {},
): Promise<ZwsProcess> {
  const gateway = flags.includes("--upstream") || flags.includes("--nats");
  const args = [
    ...(await taskArgs("start")),
    "--port",
    "0",
    "--hostname",
    "127.0.0.1",
    ...(gateway ? [] : ["--ingress", "tcp://127.0.0.1:*"]),
    ...persistFlags(flags),
    ...flags,
  ];
  const p = await spawnReady(
    args,
    /listening on (https?:\/\/[^\s/]+)\/ \((ingress|upstream|JetStream) (\S+)[^)]*\)/,
    "zws",
    opts.env,
    opts.openFiles,
  );
  const base = p.match[1];
  return {
    base,
    wsUrl: base.replace(/^http/, "ws") + "/ws", // https -> wss
    ingress: p.match[2] === "ingress" ? p.match[3] : "",
    upstream: p.match[2] !== "ingress" ? p.match[3] : "",
    child: p.child,
    stderr: p.stderr,
    stop: p.stop,
  };
}

/** A forwarder (`main.ts relay`) running in a child process. */
export interface ForwarderProcess {
  /** Producers' endpoint (root), or "" (chained). */
  ingress: string;
  /** Gateways' endpoint. */
  egress: string;
  /** `http://127.0.0.1:PORT` of `/healthz` and `/metrics` (no trailing slash). */
  base: string;
  /** The sequencer's epoch (root), or "". */
  epoch: string;
  child: Deno.ChildProcess;
  stderr(): string;
  stop(signal?: Deno.Signal): Promise<{ code: number; ms: number }>;
}

/**
 * Starts a forwarder like `deno task forwarder`: ephemeral ports unless `flags` name them, no demo.
 * `extraPermissions` are added to its permission set (e.g. `--allow-write=<dir>` for a state file
 * elsewhere).
 */
export async function startForwarder(
  flags: string[] = [],
  extraPermissions: string[] = [],
): Promise<ForwarderProcess> {
  const has = (f: string) => flags.includes(f);
  const args = [
    ...(await taskArgsWith("forwarder", extraPermissions)),
    ...(has("--port") ? [] : ["--port", "0"]),
    ...(has("--ingress") || has("--upstream") ? [] : ["--ingress", "tcp://127.0.0.1:*"]),
    ...(has("--egress") ? [] : ["--egress", "tcp://127.0.0.1:*"]),
    ...(has("--upstream") ? [] : ["--no-demo"]),
    ...persistFlags(flags),
    ...flags,
  ];
  const p = await spawnReady(
    args,
    /zws relay: (?:ingress|upstream) (\S+), egress (\S+), http (http:\/\/[^\s/]+)\/(?:, epoch (\S+))?\n/,
    "forwarder",
  );
  return {
    ingress: has("--upstream") ? "" : p.match[1],
    egress: p.match[2],
    base: p.match[3],
    epoch: p.match[4] ?? "",
    child: p.child,
    stderr: p.stderr,
    stop: p.stop,
  };
}

/** Resident memory of a process, in bytes (from `ps`: Deno guards /proc behind --allow-all). */
export async function rssBytes(pid: number): Promise<number> {
  const out = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] }).output();
  const kb = Number(new TextDecoder().decode(out.stdout).trim());
  if (!out.success || !Number.isFinite(kb)) throw new Error(`no RSS for pid ${pid}`);
  return kb * 1024;
}

/** Runs `deno task <name>` (its exact command from deno.json) and returns code, stdout, stderr. */
export async function runTask(
  name: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...(await taskArgs(name)), ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { NO_COLOR: "1", ...env },
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, out: text(out.stdout), err: text(out.stderr) };
}
