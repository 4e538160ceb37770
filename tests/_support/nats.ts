/**
 * Test support: real `nats-server` processes with JetStream on loopback (Debian's package, 2.9+),
 * one or a 3-node cluster, each on free ports with a temporary store directory that `stop()`
 * removes. A server can be killed and started again on the same ports and store (fault tests).
 *
 * @module
 */
import { type ReadyChild, spawnReady, taskArgs } from "./processes.ts";

/** Where nats-server is: `NATS_SERVER_BIN`, Debian's path, or PATH. Undefined when absent. */
export function natsServerBin(): string | undefined {
  const env = Deno.env.get("NATS_SERVER_BIN");
  for (
    const p of [env, "/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
  ) {
    if (!p) continue;
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch {
      // not there
    }
  }
  return undefined;
}

/** A free TCP port on 127.0.0.1 (bound and released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** One nats-server process. */
export interface NatsServer {
  /** Its client URL, `nats://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Whether the process runs now. */
  readonly running: boolean;
  /** Its process id while it runs. */
  readonly pid: number | undefined;
  /** What it printed (stderr), for failure messages. */
  output(): string;
  /** Starts it again on the same ports and store (after {@link kill}). */
  start(): Promise<void>;
  /** SIGKILL, store kept. */
  kill(): Promise<void>;
  /** Stops it and removes its store. */
  stop(): Promise<void>;
}

/** Options of {@link startNatsServer}. */
export interface NatsServerOptions {
  /** Client port (default: a free one). */
  port?: number;
  /** Server name (cluster members need distinct ones). */
  name?: string;
  /** Cluster: its route port, the cluster name and every member's route port. */
  cluster?: { port: number; name: string; routes: number[] };
  /** More command-line arguments (auth, TLS, ...). */
  args?: string[];
  /** Wait for the client port only, not for "Server is ready" (cluster members wait for peers). */
  readyLine?: RegExp;
}

/** Starts a JetStream nats-server on loopback; resolves once it accepts clients. */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const bin = natsServerBin();
  if (!bin) throw new Error("nats-server is not installed (apt-get install nats-server)");
  const port = opts.port ?? freePort();
  const store = await Deno.makeTempDir({ prefix: "zws-nats-" });
  const args = ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", store];
  if (opts.name) args.push("-n", opts.name);
  if (opts.cluster) {
    args.push(
      "--cluster_name",
      opts.cluster.name,
      "--cluster",
      `nats://127.0.0.1:${opts.cluster.port}`,
      "--routes",
      opts.cluster.routes.map((p) => `nats://127.0.0.1:${p}`).join(","),
    );
  }
  args.push(...(opts.args ?? []));
  let child: Deno.ChildProcess | undefined;
  let reader: Promise<void> = Promise.resolve();
  let text = "";
  const start = async () => {
    text = "";
    child = new Deno.Command(bin, { args, stdin: "null", stdout: "null", stderr: "piped" })
      .spawn();
    const proc = child;
    const ready = opts.readyLine ?? /Server is ready/;
    let seen: () => void = () => {};
    const readyP = new Promise<void>((r) => seen = r);
    reader = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of proc.stderr) {
        text += dec.decode(chunk, { stream: true });
        if (text.length > 200_000) text = text.slice(-100_000);
        if (ready.test(text)) seen();
      }
    })();
    const exited = proc.status.then((s) => {
      throw new Error(`nats-server exited (${s.code}) at start:\n${text}`);
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, rej) =>
      timer = setTimeout(() => rej(new Error(`nats-server not ready in 10 s:\n${text}`)), 10_000)
    );
    try {
      await Promise.race([readyP, exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
    exited.catch(() => {});
  };
  const kill = async () => {
    if (!child) return;
    const c = child;
    child = undefined;
    try {
      c.kill("SIGKILL");
    } catch {
      // already gone
    }
    await c.status;
    await reader;
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    get running() {
      return child !== undefined;
    },
    get pid() {
      return child?.pid;
    },
    output: () => text,
    start,
    kill,
    async stop() {
      if (child) {
        const c = child;
        child = undefined;
        try {
          c.kill("SIGTERM");
        } catch {
          // gone
        }
        const t = setTimeout(() => {
          try {
            c.kill("SIGKILL");
          } catch {
            // gone
          }
        }, 3000);
        await c.status;
        clearTimeout(t);
        await reader;
      }
      await Deno.remove(store, { recursive: true }).catch(() => {});
    },
  };
}

/** A 3-node (or n-node) JetStream cluster on loopback. */
export interface NatsCluster {
  readonly servers: NatsServer[];
  /** Every member's client URL. */
  readonly urls: string[];
  stop(): Promise<void>;
}

/** Starts an n-node cluster (default 3) and waits until every member is up. */
export async function startNatsCluster(n = 3): Promise<NatsCluster> {
  const ports = Array.from({ length: n }, () => ({ client: freePort(), route: freePort() }));
  const name = `zws-${crypto.randomUUID().slice(0, 6)}`;
  const servers = await Promise.all(ports.map((p, i) =>
    startNatsServer({
      port: p.client,
      name: `n${i + 1}`,
      cluster: { port: p.route, name, routes: ports.filter((q) => q !== p).map((q) => q.route) },
      // Members print "Server is ready" before JetStream has a meta leader: tests that create
      // streams retry until the cluster answers (see the publisher's own retries).
      readyLine: /Server is ready/,
    })
  ));
  return {
    servers,
    urls: servers.map((s) => s.url),
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}

/** A JetStream relay (`deno task relay --nats …`) in a child process. */
export interface JsRelayProcess extends ReadyChild {
  /** Producers' endpoint. */
  ingress: string;
  /** `http://127.0.0.1:PORT` of `/healthz` and `/metrics`. */
  base: string;
  epoch: string;
}

/**
 * Starts a JetStream relay like `deno task relay --nats <urls>`: ephemeral ingress and HTTP ports
 * unless `flags` name them, no demo. Resolves once it publishes (NATS reachable).
 */
export async function startJsRelay(urls: string[], flags: string[] = []): Promise<JsRelayProcess> {
  const has = (f: string) => flags.includes(f);
  const args = [
    ...(await taskArgs("relay")),
    "--nats",
    urls.join(","),
    ...(has("--port") ? [] : ["--port", "0"]),
    ...(has("--ingress") ? [] : ["--ingress", "tcp://127.0.0.1:*"]),
    "--no-demo",
    ...flags,
  ];
  const p = await spawnReady(
    args,
    /zws relay: ingress (\S+), JetStream \S+ stream \S+, http (http:\/\/[^\s/]+)\/, epoch (\S+)\n/,
    "JetStream relay",
  );
  return { ...p, ingress: p.match[1], base: p.match[2], epoch: p.match[3] };
}
