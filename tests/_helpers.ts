/**
 * Test helpers: a real zws server in a child process (started with the exact permissions of
 * `deno task start`), real WebSocket clients and real ZeroMQ publishers.
 *
 * @module
 */
import * as zmq from "zeromq";

const ROOT = new URL("../", import.meta.url);

/** Arguments of `deno task <name>` after `deno`, read from deno.json (so tests use its flags). */
export async function taskArgs(name: string): Promise<string[]> {
  const json = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const task: string = json.tasks[name];
  const parts = task.split(/\s+/);
  if (parts[0] !== "deno") throw new Error(`task ${name} does not start with deno`);
  return parts.slice(1);
}

/** A zws server running in a child process. */
export interface ZwsProcess {
  /** `http://127.0.0.1:PORT` (`https:` with --cert; no trailing slash). */
  base: string;
  /** `ws://127.0.0.1:PORT/ws` (`wss:` with --cert). */
  wsUrl: string;
  /** The ingress endpoint producers connect to. */
  ingress: string;
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
}

/** Starts `main.ts` like `deno task start`, on ephemeral ports. Extra flags go after. */
export async function startZws(flags: string[] = [], opts: StartOptions = {}): Promise<ZwsProcess> {
  const args = [
    ...(await taskArgs("start")),
    "--port",
    "0",
    "--hostname",
    "127.0.0.1",
    "--ingress",
    "tcp://127.0.0.1:*",
    ...flags,
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { NO_COLOR: "1", ...opts.env },
  }).spawn();
  let err = "";
  const errDone = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) err += chunk;
  })();
  const lines = child.stdout.pipeThrough(new TextDecoderStream());
  let out = "";
  let listening: RegExpExecArray | null = null;
  const reader = lines.getReader();
  const deadline = Date.now() + 20000;
  while (!listening && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
    listening = /listening on (https?:\/\/[^\s/]+)\/ \(ingress (\S+)\)/.exec(out);
  }
  // Keep draining stdout so the child never blocks on a full pipe.
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
  if (!listening) {
    await stop("SIGKILL");
    throw new Error(`zws did not start:\nstdout: ${out}\nstderr: ${err}`);
  }
  const base = listening[1];
  return {
    base,
    wsUrl: base.replace(/^http/, "ws") + "/ws",
    ingress: listening[2],
    child,
    stderr: () => err,
    stop,
  };
}

/** A WebSocket client that records every frame it receives. */
export interface WsRecorder {
  ws: WebSocket;
  /** Parsed JSON frames, in order. */
  frames: Array<Record<string, unknown>>;
  /** Resolves with the close event. */
  closed: Promise<CloseEvent>;
  /** Every point received in `points` frames, in order. */
  points(): Array<{ seq: number; x: number; y: number; series: string }>;
  close(): Promise<void>;
}

/** Opens a WebSocket and waits for the hello frame (`client`: e.g. one that trusts a test CA). */
export async function openClient(
  url: string,
  init?: { headers?: HeadersInit; client?: Deno.HttpClient },
): Promise<WsRecorder> {
  // deno-lint-ignore no-explicit-any
  const ws = new WebSocket(url, init as any);
  const frames: Array<Record<string, unknown>> = [];
  let helloSeen: () => void;
  const hello = new Promise<void>((r) => helloSeen = r);
  const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    frames.push(msg);
    if (msg.type === "hello") helloSeen();
  };
  const opened = new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = (e) => reject(new Error(`WebSocket ${url} failed: ${(e as ErrorEvent).message}`));
  });
  await opened;
  await withTimeout(hello, 5000, "hello frame");
  return {
    ws,
    frames,
    closed,
    points: () =>
      frames.flatMap((f) =>
        f.type === "points"
          ? f.points as Array<{ seq: number; x: number; y: number; series: string }>
          : []
      ),
    async close() {
      if (ws.readyState < WebSocket.CLOSING) ws.close();
      await closed;
    },
  };
}

/** Rejects with `what` if `p` takes longer than `ms`. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` every 50 ms until it returns true; throws after `ms`. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A ZeroMQ PUB connected to `endpoint`, returned once its connection is up (so the first
 * messages are not lost to the PUB/SUB slow-joiner effect).
 */
export async function connectPublisher(endpoint: string): Promise<zmq.Publisher> {
  const pub = new zmq.Publisher({ linger: 0, sendHighWaterMark: 100000 });
  const connected = new Promise<void>((resolve) => {
    (async () => {
      for await (const ev of pub.events) {
        if (ev.type === "handshake") return resolve();
      }
    })().catch(() => resolve());
  });
  pub.connect(endpoint);
  await withTimeout(connected, 5000, `ZeroMQ handshake with ${endpoint}`);
  // The XSUB's subscription travels back to the PUB after the handshake.
  await sleep(100);
  return pub;
}

/** Reads one metric's value from Prometheus text (`name` may include labels). */
export function metric(text: string, name: string): number {
  for (const line of text.split("\n")) {
    if (line.startsWith(name + " ")) return Number(line.slice(name.length + 1));
  }
  throw new Error(`metric ${name} not found`);
}
