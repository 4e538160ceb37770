/**
 * Test helpers: a real zws server in a child process (started with the exact permissions of
 * `deno task start`), real WebSocket clients and real ZeroMQ publishers.
 *
 * @module
 */
import * as zmq from "zeromq";
import { taskArgs } from "./_support/tasks.ts";

export { taskArgs };

const ROOT = new URL("../", import.meta.url);

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
 * Starts a forwarder like `deno task relay`: ephemeral ports unless `flags` name them, no demo.
 * `extraPermissions` go before the script (e.g. `--allow-write=<dir>` for a state file elsewhere).
 */
export async function startForwarder(
  flags: string[] = [],
  extraPermissions: string[] = [],
): Promise<ForwarderProcess> {
  const task = await taskArgs("relay");
  const has = (f: string) => flags.includes(f);
  const args = [
    task[0],
    ...extraPermissions,
    ...task.slice(1),
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

/** CURVE client keys for a test publisher (all Z85). */
export interface CurveClient {
  serverKey: string;
  publicKey: string;
  secretKey: string;
}

/** A publisher socket, with CURVE client keys when given. */
function newPublisher(curve?: CurveClient): zmq.Publisher {
  return new zmq.Publisher({
    linger: 0,
    sendHighWaterMark: 100000,
    ...(curve
      ? {
        curveServerKey: curve.serverKey,
        curvePublicKey: curve.publicKey,
        curveSecretKey: curve.secretKey,
      }
      : {}),
  });
}

/**
 * Connects a publisher and resolves with the first handshake outcome: `"handshake"` (accepted)
 * or a `"handshake:error:…"` event type. Rejects if neither comes within `ms`.
 */
export async function handshakeOutcome(
  endpoint: string,
  curve?: CurveClient,
  ms = 5000,
): Promise<{ pub: zmq.Publisher; outcome: string }> {
  const pub = newPublisher(curve);
  const outcome = new Promise<string>((resolve) => {
    (async () => {
      for await (const ev of pub.events) {
        if (ev.type === "handshake" || ev.type.startsWith("handshake:error")) {
          return resolve(ev.type);
        }
      }
    })().catch(() => resolve("events ended"));
  });
  pub.connect(endpoint);
  try {
    return { pub, outcome: await withTimeout(outcome, ms, `a handshake with ${endpoint}`) };
  } catch (err) {
    pub.close();
    throw err;
  }
}

/**
 * A ZeroMQ PUB connected to `endpoint` (as a CURVE client with `curve`), returned once its
 * connection is up (so the first messages are not lost to the PUB/SUB slow-joiner effect).
 */
export async function connectPublisher(
  endpoint: string,
  curve?: CurveClient,
): Promise<zmq.Publisher> {
  const { pub, outcome } = await handshakeOutcome(endpoint, curve);
  if (outcome !== "handshake") {
    pub.close();
    throw new Error(`ZeroMQ handshake with ${endpoint} failed: ${outcome}`);
  }
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

/**
 * A WebSocket client on a raw TCP connection, for clients a browser API cannot model: one that
 * stops reading (stalled), one that sends malformed frames. Reads only when asked to.
 */
export interface RawWsClient {
  conn: Deno.TcpConn;
  /** Reads and decodes server frames until `until` returns true or `ms` pass. */
  readFrames(until: (frames: RawFrame[]) => boolean, ms: number): Promise<RawFrame[]>;
  /** Sends one masked frame (opcode 1 text, 2 binary, 8 close, 9 ping). */
  sendFrame(
    opcode: number,
    payload: Uint8Array,
    opts?: { fin?: boolean; mask?: boolean },
  ): Promise<void>;
  close(): void;
}

/** One frame from the server. */
export interface RawFrame {
  opcode: number;
  payload: Uint8Array;
  text(): string;
}

/** Opens a WebSocket over raw TCP (`path` like `/ws?since=1`) and completes the handshake. */
export async function rawWsConnect(base: string, path = "/ws"): Promise<RawWsClient> {
  const { hostname, port } = new URL(base);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  await conn.write(new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ));
  let buf = new Uint8Array(0);
  const append = (chunk: Uint8Array) => {
    const next = new Uint8Array(buf.length + chunk.length);
    next.set(buf);
    next.set(chunk, buf.length);
    buf = next;
  };
  const chunk = new Uint8Array(64 * 1024);
  while (true) {
    const n = await conn.read(chunk);
    if (n === null) throw new Error("connection closed during the handshake");
    append(chunk.subarray(0, n));
    const text = new TextDecoder().decode(buf);
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      if (!text.startsWith("HTTP/1.1 101")) {
        throw new Error(`handshake refused: ${text.split("\r\n")[0]}`);
      }
      buf = buf.slice(new TextEncoder().encode(text.slice(0, end + 4)).length);
      break;
    }
  }
  const parse = (out: RawFrame[]) => {
    while (buf.length >= 2) {
      const opcode = buf[0] & 0x0f;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = (buf[2] << 8) | buf[3];
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(new DataView(buf.buffer, buf.byteOffset + 2, 8).getBigUint64(0));
        off = 10;
      }
      if (buf.length < off + len) return;
      const payload = buf.slice(off, off + len);
      out.push({ opcode, payload, text: () => new TextDecoder().decode(payload) });
      buf = buf.slice(off + len);
    }
  };
  let pending: Promise<number | null> | undefined;
  return {
    conn,
    async readFrames(until, ms) {
      const out: RawFrame[] = [];
      parse(out);
      const deadline = Date.now() + ms;
      while (!until(out) && Date.now() < deadline) {
        // One read at a time per connection: a read that outlives the timer is kept for the next
        // turn (and the next call), so no bytes are lost.
        pending ??= conn.read(chunk).catch(() => null);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const n = await Promise.race([
          pending,
          new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), 200)),
        ]);
        clearTimeout(timer);
        if (n === "timeout") continue;
        pending = undefined;
        if (n === null) break;
        append(chunk.subarray(0, n));
        parse(out);
      }
      return out;
    },
    async sendFrame(opcode, payload, opts = {}) {
      const mask = opts.mask ?? true;
      const fin = opts.fin ?? true;
      const len = payload.length;
      const head: number[] = [(fin ? 0x80 : 0) | opcode];
      const m = mask ? 0x80 : 0;
      if (len < 126) head.push(m | len);
      else if (len < 65536) head.push(m | 126, len >> 8, len & 0xff);
      else {
        head.push(m | 127);
        for (let i = 7; i >= 0; i--) head.push(Number((BigInt(len) >> BigInt(i * 8)) & 0xffn));
      }
      const key = crypto.getRandomValues(new Uint8Array(4));
      const body = new Uint8Array(payload);
      if (mask) {
        for (let i = 0; i < body.length; i++) body[i] ^= key[i % 4];
        head.push(...key);
      }
      const frame = new Uint8Array(head.length + body.length);
      frame.set(head);
      frame.set(body, head.length);
      for (let off = 0; off < frame.length;) off += await conn.write(frame.subarray(off));
    },
    close() {
      try {
        conn.close();
      } catch { /* already closed */ }
    },
  };
}

/** A scratch directory under `./secrets/` (the one place `deno task start` may read files from). */
export interface SecretsDir {
  /** Path relative to the project root, for flags: `secrets/.test-…`. */
  rel: string;
  /** Writes a file in it (mode 0600) and returns its relative path. */
  write(name: string, text: string): Promise<string>;
  /** Removes it (and `./secrets/` if this made it and it is empty now). */
  remove(): Promise<void>;
}

/** Makes a {@link SecretsDir}. */
export async function makeSecretsDir(): Promise<SecretsDir> {
  const root = new URL("secrets/", ROOT);
  let madeRoot = false;
  try {
    await Deno.mkdir(root, { mode: 0o700 });
    madeRoot = true;
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
  }
  const name = `.test-${crypto.randomUUID().slice(0, 8)}`;
  const dir = new URL(`${name}/`, root);
  await Deno.mkdir(dir, { mode: 0o700 });
  return {
    rel: `secrets/${name}`,
    async write(file, text) {
      await Deno.writeTextFile(new URL(file, dir), text, { mode: 0o600 });
      return `secrets/${name}/${file}`;
    },
    async remove() {
      await Deno.remove(dir, { recursive: true });
      if (madeRoot) await Deno.remove(root).catch(() => {});
    },
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

/** Tries a WebSocket upgrade with a plain HTTP request and returns the response status. */
export async function upgradeStatus(
  url: string,
  headers: Record<string, string> = {},
  client?: Deno.HttpClient,
): Promise<number> {
  const r = await fetch(url.replace(/^ws/, "http"), {
    headers: {
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version": "13",
      ...headers,
    },
    client,
  });
  await r.body?.cancel();
  return r.status;
}

/** One Server-Sent Event as received. */
export interface SseEvent {
  /** The `id:` of this event, if it had one. */
  id?: string;
  /** The `event:` type (`message` when absent). */
  event: string;
  data: string;
}

/** An `/events` client (fetch, streaming) that records every event it receives. */
export interface SseRecorder {
  response: Response;
  /** Events in order. */
  events: SseEvent[];
  /** `message` events parsed as JSON frames, in order. */
  frames: Array<Record<string, unknown>>;
  /** Comment lines (without the colon). */
  comments: string[];
  /** The last `retry:` value seen. */
  retry?: number;
  /** The last event id seen (what EventSource would send back as Last-Event-ID). */
  lastEventId(): string;
  /** Every point received in `points` frames, in order. */
  points(): Array<{ seq: number; x: number; y: number; series: string }>;
  /** Settles when the stream ends (server closed it, or close() was called). */
  ended: Promise<void>;
  /** Aborts the request and waits for the stream to end. */
  close(): Promise<void>;
}

/**
 * Opens `/events` with fetch and parses the stream (per the EventSource rules: fields, blank line
 * dispatch, comments). Waits for the hello frame; throws when the status is not 200.
 */
export async function openEventStream(
  url: string,
  init: { headers?: Record<string, string> } = {},
): Promise<SseRecorder> {
  const ac = new AbortController();
  const response = await fetch(url, { headers: init.headers, signal: ac.signal });
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new Error(`GET ${url}: HTTP ${response.status}`);
  }
  const events: SseEvent[] = [];
  const frames: Array<Record<string, unknown>> = [];
  const comments: string[] = [];
  let lastId = "";
  let helloSeen = () => {};
  const hello = new Promise<void>((r) => helloSeen = r);
  const rec: SseRecorder = {
    response,
    events,
    frames,
    comments,
    lastEventId: () => lastId,
    points: () =>
      frames.flatMap((f) =>
        f.type === "points"
          ? f.points as Array<{ seq: number; x: number; y: number; series: string }>
          : []
      ),
    ended: Promise.resolve(),
    async close() {
      ac.abort();
      await rec.ended;
    },
  };
  rec.ended = (async () => {
    let buf = "";
    let data: string[] = [];
    let event = "";
    let id: string | undefined;
    try {
      for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) {
        buf += chunk;
        let nl: number;
        while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + (buf.startsWith("\r\n", nl) ? 2 : 1));
          if (line === "") {
            if (id !== undefined) lastId = id;
            if (data.length) {
              const ev: SseEvent = { event: event || "message", data: data.join("\n") };
              if (id !== undefined) ev.id = id;
              events.push(ev);
              if (ev.event === "message") {
                const f = JSON.parse(ev.data);
                frames.push(f);
                if (f.type === "hello") helloSeen();
              }
            }
            data = [];
            event = "";
            id = undefined;
            continue;
          }
          if (line.startsWith(":")) {
            comments.push(line.slice(1).trim());
            continue;
          }
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? "" : line.slice(colon + 1);
          if (value.startsWith(" ")) value = value.slice(1);
          if (field === "data") data.push(value);
          else if (field === "event") event = value;
          else if (field === "id") id = value;
          else if (field === "retry" && /^\d+$/.test(value)) rec.retry = Number(value);
        }
      }
    } catch (err) {
      if (!ac.signal.aborted) throw err;
    }
  })();
  await withTimeout(Promise.race([hello, rec.ended]), 5000, "hello event");
  return rec;
}

/** Publishes `perTick` points every `tickMs` until stopped; y counts up from 0. */
export function streamPoints(
  pub: zmq.Publisher,
  tickMs: number,
  perTick: number,
  series = ["a", "b"],
) {
  let stop = false;
  let sent = 0;
  const done = (async () => {
    while (!stop) {
      const batch = [];
      for (let i = 0; i < perTick; i++) {
        batch.push({ x: Date.now(), y: sent++, series: series[sent % series.length] });
      }
      await pub.send(JSON.stringify(batch));
      await sleep(tickMs);
    }
  })();
  return {
    get sent() {
      return sent;
    },
    async stop() {
      stop = true;
      await done;
    },
  };
}

/** A CA-less self-signed certificate for localhost/127.0.0.1 (rustls needs CA:FALSE). */
export async function makeCertificate(dir: string): Promise<void> {
  const openssl = new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-keyout",
      `${dir}/zws.key`,
      "-out",
      `${dir}/zws.crt`,
    ],
    cwd: new URL("../", import.meta.url),
    stdout: "null",
    stderr: "piped",
  });
  let out: Deno.CommandOutput;
  try {
    out = await openssl.output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error("this test needs the openssl command (.ci/run installs it with apt)");
    }
    throw err;
  }
  if (!out.success) throw new Error(`openssl: ${new TextDecoder().decode(out.stderr)}`);
}
