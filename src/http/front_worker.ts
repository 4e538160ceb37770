/**
 * The HTTP front's Worker: binds the public port and runs the front (`front.ts`) off the main
 * thread. The front reads and writes every byte of every connection twice (client <-> front <->
 * `Deno.serve`); on the main thread that work competed with the fan-out to the same clients, and
 * 1,000 clients at 100 points/s each had a p99 latency of 1.1-2.2 s against 31 ms without the front
 * (W2 of `deno task bench`). Its owner is `front_thread.ts`; messages: `front_thread_messages.ts`.
 *
 * @module
 */
import { type Front, startFront } from "./front.ts";
import { FdBudget, openFdProbe } from "../runtime/fd_limit.ts";
import { errorMessage } from "../runtime/log.ts";
import type { FromFront, ToFront } from "./front_thread_messages.ts";

/** How often the counters go to the owner, in ms (`/metrics` shows the last ones). */
const STATS_MS = 250;

/** The parts of a worker's global scope the front uses. */
interface FrontScope {
  postMessage(m: FromFront): void;
  onmessage: ((e: MessageEvent<ToFront>) => void) | null;
}

const scope = self as unknown as FrontScope;
const post = (msg: FromFront) => scope.postMessage(msg);
let front: Front | undefined;
let timer: ReturnType<typeof setInterval> | undefined;

scope.onmessage = async (e: MessageEvent<ToFront>) => {
  const msg = e.data;
  if (msg.type === "start") {
    let listener: Deno.Listener;
    try {
      listener = msg.tls
        ? Deno.listenTls({ ...msg.bind, ...msg.tls, alpnProtocols: ["http/1.1"] })
        : Deno.listen(msg.bind);
    } catch (err) {
      return post({
        type: "error",
        name: (err as Error).name ?? "Error",
        message: errorMessage(err),
      });
    }
    const probe = openFdProbe();
    front = startFront({
      listener,
      tls: msg.tls !== null,
      upstream: { port: msg.upstreamPort },
      peerToken: msg.peerToken,
      requestTimeoutMs: msg.requestTimeoutMs,
      maxConnections: msg.maxConnections,
      maxWsMessageBytes: msg.maxWsMessageBytes,
      ...(probe ? { fds: new FdBudget(probe) } : {}),
    });
    const addr = listener.addr as Deno.NetAddr;
    post({ type: "listening", hostname: addr.hostname, port: addr.port });
    timer = setInterval(() => post({ type: "stats", stats: front!.stats() }), STATS_MS);
  } else if (msg.type === "stats") {
    if (front) post({ type: "stats", stats: front.stats() });
  } else if (msg.type === "stopAccepting") {
    front?.stopAccepting();
  } else if (msg.type === "close") {
    clearInterval(timer);
    await front?.close();
    if (front) post({ type: "closed", stats: front.stats() });
  } else if (msg.type === "crash") {
    setTimeout(() => {
      throw new Error("front worker: crash asked for (a test)");
    });
  }
};
