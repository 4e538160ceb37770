/**
 * Loops that never stay dead, and sends that wait instead of failing.
 *
 * - {@link superviseLoop}: the owner of a long-running loop (a receive or send loop). An exception
 *   never ends it for good: the loop is logged (rate-limited), counted and started again within
 *   100 ms, until it is stopped.
 * - {@link sendWithBackpressure}: a ZeroMQ `send()` that treats `EAGAIN` as backpressure. A
 *   `noDrop` PUB does not make `send()` wait: at the high-water mark it throws `EAGAIN` (see
 *   docs/architecture.md). Here that means "wait a little and retry", which stops the loop from
 *   reading, which pushes back on whatever feeds it.
 * - {@link faults}: named fault points, so a test can make a loop fail on purpose.
 *
 * @module
 */
import { errorMessage, RateLimitedLog } from "./log.ts";

/** What an armed fault does: throw once, or hang the loop for good (a wedge, for `/healthz`). */
export type FaultKind = "throw" | "hang";

/**
 * Named fault points for tests: `faults.arm("relay.receive")` makes that loop throw once. A loop
 * calls `const f = faults.check(name); if (f) await f;` (a cheap lookup when nothing is armed).
 */
export const faults: {
  /** Arms `name`: its next {@link faults.check} throws, or returns a promise that never settles. */
  arm(name: string, kind?: FaultKind): void;
  /** Throws once if `name` is armed to throw; a never-settling promise if armed to hang. */
  check(name: string): Promise<never> | undefined;
} = (() => {
  const armed = new Map<string, FaultKind>();
  return {
    arm: (name: string, kind: FaultKind = "throw") => void armed.set(name, kind),
    check(name: string) {
      if (armed.size === 0) return undefined;
      const kind = armed.get(name);
      if (kind === undefined) return undefined;
      armed.delete(name);
      if (kind === "hang") return new Promise<never>(() => {});
      throw new Error(`fault injected in ${name}`);
    },
  };
})();

/** A supervised loop; {@link superviseLoop} makes one. */
export interface SupervisedLoop {
  /** How many times the loop ended (threw or returned early) and was started again. */
  readonly restarts: number;
  /** Asks the loop to stop: it is not restarted after its current run ends. */
  stop(): void;
  /** Settles once the loop has ended and will not be restarted. */
  readonly done: Promise<void>;
}

/** Options of {@link superviseLoop}. */
export interface SuperviseOptions {
  /** Component name for the log line (e.g. "relay"). */
  component: string;
  /** Loop name for the log line and the fault point (e.g. "receive loop"). */
  name: string;
  /** Whether the loop has been asked to stop (a run that ends then is not restarted). */
  stopped: () => boolean;
  /** Delay before a restart, in ms (default 100). */
  restartDelayMs?: number;
  /** Called on every restart (to count it in `/metrics`). */
  onRestart?: (restarts: number, reason: string) => void;
}

const restartLog = new RateLimitedLog(5000);

/**
 * Runs `run` until `opts.stopped()`: when a run throws, or returns while not stopped, it is logged
 * and started again after `restartDelayMs`. `run` returning while stopped ends the loop.
 */
export function superviseLoop(run: () => Promise<void>, opts: SuperviseOptions): SupervisedLoop {
  let restarts = 0;
  let stopRequested = false;
  const stopped = () => stopRequested || opts.stopped();
  const done = (async () => {
    while (true) {
      let reason: string;
      try {
        await run();
        if (stopped()) return;
        reason = "ended";
      } catch (err) {
        if (stopped()) return;
        reason = errorMessage(err);
      }
      restarts++;
      restartLog.log(
        "error",
        opts.component,
        opts.name,
        `${opts.name} ended (${reason}); restarting it (${restarts} restarts so far)`,
      );
      opts.onRestart?.(restarts, reason);
      await new Promise((r) => setTimeout(r, opts.restartDelayMs ?? 100));
      if (stopped()) return;
    }
  })();
  return {
    get restarts() {
      return restarts;
    },
    stop: () => void (stopRequested = true),
    done,
  };
}

/** Whether `err` is ZeroMQ's `EAGAIN` (a full queue, or a timed-out operation). */
export function isEagain(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === "EAGAIN";
}

/** The one method of a socket {@link sendWithBackpressure} needs. */
export interface Sender {
  send(frames: (string | Uint8Array)[]): Promise<void>;
}

/**
 * Sends `frames`, waiting and retrying while the socket says `EAGAIN` (1 ms, growing to 20 ms).
 * Returns the time spent waiting in ms, or -1 when `stopped()` became true first (not sent).
 * Other errors are thrown.
 */
export async function sendWithBackpressure(
  sock: Sender,
  frames: (string | Uint8Array)[],
  stopped: () => boolean,
): Promise<number> {
  let waited = 0;
  let delay = 1;
  while (true) {
    try {
      await sock.send(frames);
      return waited;
    } catch (err) {
      if (!isEagain(err)) throw err;
    }
    if (stopped()) return -1;
    await new Promise((r) => setTimeout(r, delay));
    waited += delay;
    delay = Math.min(delay * 2, 20);
  }
}

/**
 * Lets a busy loop give the event loop a turn. A ZeroMQ receive (or send) whose message is ready
 * settles as a microtask, so a loop fed faster than it works never yields by itself: timers (the
 * bridge's batching tick, the relay's probe), HTTP requests (`/healthz`) and worker messages
 * (stats, stop) would wait until the input stops. Call {@link Yielder.maybe} once per message.
 */
export class Yielder {
  #last = performance.now();

  /** @param everyMs longest stretch without a turn for the event loop, in ms */
  constructor(readonly everyMs = 10) {}

  /** Yields (a zero-delay timer) when `everyMs` have passed since the last turn; else nothing. */
  maybe(): Promise<void> | undefined {
    if (performance.now() - this.#last < this.everyMs) return undefined;
    return new Promise<void>((r) =>
      setTimeout(() => {
        this.#last = performance.now();
        r();
      }, 0)
    );
  }
}
