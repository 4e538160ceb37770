/**
 * The HTTP front in a Worker of its own (`front_worker.ts`), as its owner holds it: starts it and
 * waits until it has bound the port (a port it cannot bind is the same one-line error as without a
 * worker), keeps its last counters for `/metrics`, and restarts it when it dies (logged, counted
 * in `restarts`; it binds the same port again; the connections it held are gone, and their
 * clients reconnect and resume). Its counters carry across restarts.
 *
 * @module
 */
import { emptyFrontStats, type Front, type FrontStats } from "./front_constants.ts";
import type { FromFront, FrontStart, ToFront } from "./front_thread_messages.ts";
import { log } from "../runtime/log.ts";

/** How long a restarted front may take to bind its port again, in ms (it retries meanwhile). */
const REBIND_MS = 5000;
/** How long {@link FrontThread.close} waits for the worker to close its connections, in ms. */
const CLOSE_MS = 5000;

/** A front in its worker; {@link startFrontThread} makes one. */
export interface FrontThread extends Front {
  /** The port bound. */
  readonly addr: { hostname: string; port: number };
  /** Counters, with how often the worker was restarted (as the worker last sent them). */
  stats(): FrontStats & { restarts: number };
  /** The counters as they are now: asked of the worker (the last ones after 500 ms). */
  freshStats(): Promise<FrontStats & { restarts: number }>;
  /** Makes the worker fail, as a bug would (tests). */
  crashForTest(): void;
}

/** An error of the worker's bind, rebuilt on this side (an `AddrInUse` stays one). */
function bindError(name: string, message: string): Error {
  if (name === "AddrInUse") return new Deno.errors.AddrInUse(message);
  const err = new Error(message);
  err.name = name;
  return err;
}

function addStats(a: FrontStats, b: FrontStats): FrontStats {
  const out = emptyFrontStats();
  out.connections = b.connections;
  out.accepted = a.accepted + b.accepted;
  for (const k of Object.keys(out.refused) as (keyof FrontStats["refused"])[]) {
    out.refused[k] = (a.refused[k] ?? 0) + (b.refused[k] ?? 0);
  }
  for (const k of Object.keys(out.closed) as (keyof FrontStats["closed"])[]) {
    out.closed[k] = (a.closed[k] ?? 0) + (b.closed[k] ?? 0);
  }
  return out;
}

/**
 * Starts the front's worker with `start` and resolves once it listens; rejects with the bind's
 * error when it cannot, or the worker's when it dies first (`workerUrl`: another module, tests).
 */
export async function startFrontThread(
  start: Omit<FrontStart, "type">,
  opts: { workerUrl?: URL } = {},
): Promise<FrontThread> {
  const url = opts.workerUrl ?? new URL("./front_worker.ts", import.meta.url);
  /** Counters of the workers that died. */
  let carried = emptyFrontStats();
  let current = emptyFrontStats();
  let restarts = 0;
  let stopping = false;
  let accepting = true;
  let worker: Worker;
  let closed: ((s: FrontStats) => void) | undefined;
  /** Waiting for the worker's next counters. */
  let asked: Array<() => void> = [];
  let addr = { hostname: start.bind.hostname, port: start.bind.port };

  const spawn = (port: number): Promise<{ hostname: string; port: number }> =>
    new Promise((resolve, reject) => {
      const w = new Worker(url, { type: "module", name: "zws-http-front" });
      worker = w;
      current = emptyFrontStats();
      let listening = false;
      w.onmessage = (e: MessageEvent<FromFront>) => {
        const msg = e.data;
        if (msg.type === "listening") {
          listening = true;
          resolve({ hostname: msg.hostname, port: msg.port });
        } else if (msg.type === "error") {
          w.terminate();
          reject(bindError(msg.name, msg.message));
        } else if (msg.type === "stats") {
          current = msg.stats;
          const waiting = asked;
          asked = [];
          for (const r of waiting) r();
        } else if (msg.type === "closed") {
          current = msg.stats;
          closed?.(msg.stats);
        }
      };
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        w.terminate();
        // Before it listens, a death is this start's failure (the caller retries, or reports it).
        if (!listening) {
          return reject(new Error(`its worker failed: ${String(e.message).split("\n")[0]}`));
        }
        if (w !== worker || stopping) return;
        carried = addStats(carried, { ...current, connections: 0 });
        current = emptyFrontStats();
        restarts++;
        log(
          "error",
          "http",
          `the HTTP front's worker died (${String(e.message).split("\n")[0]}); restarting it ` +
            `(${restarts} so far): the connections it held are gone`,
        );
        void respawn();
      };
      w.postMessage({ ...start, type: "start", bind: { ...start.bind, port } } satisfies ToFront);
    });

  const respawn = async () => {
    const deadline = performance.now() + REBIND_MS;
    while (!stopping) {
      try {
        await spawn(addr.port);
        if (!accepting) worker.postMessage({ type: "stopAccepting" } satisfies ToFront);
        return;
      } catch (err) {
        if (performance.now() > deadline) {
          log("error", "http", `the HTTP front cannot bind port ${addr.port} again: ${err}`);
          return;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };

  addr = await spawn(start.bind.port);
  return {
    get addr() {
      return addr;
    },
    stats: () => ({ ...addStats(carried, current), restarts }),
    async freshStats() {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const got = new Promise<void>((r) => asked.push(r));
      worker.postMessage({ type: "stats" } satisfies ToFront);
      await Promise.race([got, new Promise((r) => timer = setTimeout(r, 500))]);
      clearTimeout(timer);
      return { ...addStats(carried, current), restarts };
    },
    stopAccepting() {
      accepting = false;
      worker.postMessage({ type: "stopAccepting" } satisfies ToFront);
    },
    async close() {
      stopping = true;
      const done = new Promise<FrontStats>((r) => closed = r);
      worker.postMessage({ type: "close" } satisfies ToFront);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([done, new Promise((r) => timer = setTimeout(r, CLOSE_MS))]);
      clearTimeout(timer);
      worker.terminate();
    },
    crashForTest() {
      worker.postMessage({ type: "crash" } satisfies ToFront);
    },
  };
}
