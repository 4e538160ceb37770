/**
 * The bridge: one inproc subscription to the relay's points bus (see `relay.ts`), fanned out to every
 * client. Each batch of points becomes one frame, built once and sent as the same string to every
 * client that keeps up. It also keeps the history (`src/history.ts`), so new clients get a full
 * chart and returning ones get exactly what they missed, and it holds back slow clients instead of
 * queueing without bound. Next stop of the data: the page, `static/app.js`.
 *
 * @module
 */
import * as zmq from "zeromq";
import { Batcher } from "./src/batcher.ts";
import { parseClientMessage } from "./src/client_messages.ts";
import { helloFrame, historyFrames, pointsFrame } from "./src/frames.ts";
import { History, type ResumePlan } from "./src/history.ts";
import { errorMessage, log, RateLimitedLog } from "./src/log.ts";

/** WebSocket close code for a client that stayed over its buffer bound too long. */
export const CLOSE_SLOW_CLIENT = 4008;
/** WebSocket close code for a client that sends messages too fast. */
export const CLOSE_MESSAGE_FLOOD = 1008;

/** Options of {@link WsBridge}. */
export interface BridgeOptions {
  /** Longest time a point waits to be batched with others, in ms. */
  tickMs?: number;
  /** Unsent bytes a client may have queued; over it the client is held back. */
  clientBufferBytes?: number;
  /** How long a client may stay over its bound before it is closed, in ms. */
  slowClientTimeoutMs?: number;
  /** Points held per series for new and returning clients. */
  historyPerSeries?: number;
  /** Series held at most (the stalest is dropped beyond). */
  maxSeries?: number;
  /** Messages per second a client may send (burst twice that). */
  clientMessageRate?: number;
  /**
   * Called when a point arrives with another epoch than the bridge serves (a gateway's forwarder
   * restarted without its state; see `src/upstream.ts`). The bridge stops receiving before that
   * point: seqs of two epochs do not compare, so the caller starts a fresh bridge.
   */
  onEpochChange?: (epoch: string, seq: number) => void;
}

/** Counters of the bridge, for `/metrics`. */
export interface BridgeStats {
  /** Clients connected now. */
  clients: number;
  /** Connections accepted since start. */
  connectionsTotal: number;
  /** Points sent, summed over clients. */
  pointsSent: number;
  /** Frames sent, summed over clients. */
  framesSent: number;
  /** Points received from the relay. */
  pointsReceived: number;
  /** Points held back from a slow client (it catches up from history later), summed. */
  pointsDroppedSlow: number;
  /** Clients held back now because their buffer is over the bound. */
  slowClients: number;
  /** Clients closed for staying slow too long. */
  slowClientsClosed: number;
  /** Connections that resumed exactly from their `since`. */
  resumesExact: number;
  /** Connections that got a reset snapshot (new, other epoch, or gap). */
  resumesReset: number;
  /** Points held in the history now. */
  historyPoints: number;
  /** Client connections closed for sending what the server does not accept. */
  clientProtocolErrors: number;
}

/** Where a client's frames go: a WebSocket, or (later) an event stream. */
export interface ClientTransport {
  /** Queues one text frame. */
  send(frame: string): void;
  /** Bytes queued and not yet sent. */
  bufferedAmount(): number;
  /** Ends the connection with a close code and reason. */
  close(code: number, reason: string): void;
}

/** Where a connecting client says it stopped (from `/ws?since=<seq>&epoch=<id>`). */
export interface ResumeRequest {
  since?: number;
  epoch?: string;
}

/** One connected client. */
export interface Client {
  readonly session: string;
  readonly transport: ClientTransport;
  /** Last seq this client was sent (or had). */
  lastSent: number;
  /** When it went over its buffer bound (ms), or undefined when it keeps up. */
  slowSince?: number;
  /**
   * The series this client receives; undefined: all. Set it with {@link WsBridge.setSeries}
   * (subscriptions, or the series a token allows).
   */
  series?: ReadonlySet<string>;
  /** Start of the current message-rate window and messages in it. */
  msgWindowStart: number;
  msgCount: number;
}

/** The subscription to one relay generation's points bus. */
interface BusSubscription {
  sub: zmq.Subscriber;
  /** Settles when the receive loop has ended and the socket is closed. */
  done: Promise<void>;
}

/** Cache key of a series filter (sorted names). */
function filterKey(set: ReadonlySet<string>): string {
  return [...set].sort().join("\u0000");
}

interface Incoming {
  series: string;
  seq: number;
  json: string;
}

/** Reads `since` and `epoch` from a `/ws` URL; malformed values are ignored (a fresh start). */
export function resumeFromUrl(url: URL): ResumeRequest {
  const since = url.searchParams.get("since");
  const epoch = url.searchParams.get("epoch");
  const out: ResumeRequest = {};
  if (since !== null && /^\d{1,15}$/.test(since)) out.since = Number(since);
  if (epoch !== null && epoch.length <= 64) out.epoch = epoch;
  return out;
}

/** Fans the relay's points out to clients. */
export class WsBridge {
  #current?: BusSubscription;
  #clients = new Set<Client>();
  #epoch = "";
  #lastSeq = 0;
  #batcher: Batcher<Incoming>;
  #history: History;
  #bound: number;
  #slowTimeout: number;
  #msgRate: number;
  #onEpochChange?: (epoch: string, seq: number) => void;
  #slowCheck?: ReturnType<typeof setInterval>;
  #rateLog = new RateLimitedLog(5000);
  #stats = {
    connectionsTotal: 0,
    pointsSent: 0,
    framesSent: 0,
    pointsReceived: 0,
    pointsDroppedSlow: 0,
    slowClientsClosed: 0,
    resumesExact: 0,
    resumesReset: 0,
    clientProtocolErrors: 0,
  };

  constructor(opts: BridgeOptions = {}) {
    this.#batcher = new Batcher((items) => this.#broadcast(items), opts.tickMs ?? 16);
    this.#bound = opts.clientBufferBytes ?? 1024 * 1024;
    this.#slowTimeout = opts.slowClientTimeoutMs ?? 10_000;
    this.#history = new History(opts.historyPerSeries ?? 1000, opts.maxSeries ?? 1000);
    this.#msgRate = opts.clientMessageRate ?? 20;
    this.#onEpochChange = opts.onEpochChange;
  }

  /** Counters (a copy). */
  stats(): BridgeStats {
    let slow = 0;
    for (const c of this.#clients) if (c.slowSince !== undefined) slow++;
    return {
      clients: this.#clients.size,
      slowClients: slow,
      historyPoints: this.#history.size,
      ...this.#stats,
    };
  }

  /** Clients connected now. */
  get clientCount(): number {
    return this.#clients.size;
  }

  /** Last sequence number received from the relay. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** The sequencer epoch of the data served. */
  get epoch(): string {
    return this.#epoch;
  }

  /** Last sequence number held in the history (what a connecting client can resume from). */
  get heldSeq(): number {
    return this.#history.lastSeq;
  }

  /**
   * Follows a (new) relay generation: a fresh subscriber on its bus. Each subscription ends when
   * its relay's end-of-stream arrives, and is closed then (never with a receive pending: that
   * crashes the process under Deno); one whose relay died without it stays idle. An empty `epoch`
   * is learnt from the first point's epoch frame (a gateway, before its forwarder has sent any).
   */
  attach(bus: string, epoch: string, lastSeq: number): void {
    const sub = new zmq.Subscriber({ receiveHighWaterMark: 100000 });
    sub.subscribe();
    sub.connect(bus);
    const gen: BusSubscription = { sub, done: Promise.resolve() };
    gen.done = this.#receive(gen);
    this.#current = gen;
    this.#epoch = epoch;
    this.#lastSeq = Math.max(this.#lastSeq, lastSeq);
  }

  async #receive(gen: BusSubscription): Promise<void> {
    try {
      for await (const [series, seq, json, epoch] of gen.sub) {
        // The relay's end-of-stream (see relay.ts): this bus is done; a restarted relay gets a
        // new bus and subscription.
        if (seq.length === 0) break;
        const n = Number(seq.toString());
        if (epoch !== undefined && epoch.toString() !== this.#epoch) {
          if (this.#epoch === "") this.#epoch = epoch.toString();
          else {
            this.#onEpochChange?.(epoch.toString(), n);
            break;
          }
        }
        this.#lastSeq = n;
        this.#stats.pointsReceived++;
        this.#batcher.push({ series: series.toString(), seq: n, json: json.toString() });
      }
      gen.sub.close();
    } catch (err) {
      if (!gen.sub.closed) log("error", "bridge", `bus receive ended: ${errorMessage(err)}`);
    }
  }

  #broadcast(items: Incoming[]): void {
    const jsons = new Array<string>(items.length);
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      this.#history.add(it.series, it.seq, it.json);
      jsons[i] = it.json;
    }
    const last = items[items.length - 1].seq;
    const frame = pointsFrame(jsons);
    // Clients that see only some series share one frame per distinct filter (built lazily, once
    // per batch); everyone else shares `frame`.
    let filtered: Map<string, { frame: string; count: number }> | undefined;
    const frameFor = (c: Client): { frame: string; count: number } => {
      if (!c.series) return { frame, count: items.length };
      filtered ??= new Map();
      const key = filterKey(c.series);
      let f = filtered.get(key);
      if (!f) {
        const only = c.series;
        const picked = items.filter((it) => only.has(it.series)).map((it) => it.json);
        f = { frame: picked.length ? pointsFrame(picked) : "", count: picked.length };
        filtered.set(key, f);
      }
      return f;
    };
    const now = performance.now();
    for (const c of this.#clients) {
      const out = frameFor(c);
      if (c.slowSince !== undefined) {
        this.#stats.pointsDroppedSlow += out.count;
        continue;
      }
      if (c.transport.bufferedAmount() > this.#bound) {
        // Hold it back: it resumes from history (from c.lastSent) once its buffer drains.
        c.slowSince = now;
        this.#stats.pointsDroppedSlow += out.count;
        this.#watchSlowClients();
        continue;
      }
      c.lastSent = last;
      if (out.count === 0) continue;
      c.transport.send(out.frame);
      this.#stats.framesSent++;
      this.#stats.pointsSent += out.count;
    }
  }

  #watchSlowClients(): void {
    this.#slowCheck ??= setInterval(() => this.#checkSlowClients(), 100);
  }

  #checkSlowClients(): void {
    const now = performance.now();
    let slow = 0;
    for (const c of this.#clients) {
      if (c.slowSince === undefined) continue;
      if (c.transport.bufferedAmount() <= this.#bound / 2) {
        c.slowSince = undefined;
        this.#sendHistory(c, this.#history.resume(c.lastSent, c.series));
      } else if (now - c.slowSince > this.#slowTimeout) {
        this.#stats.slowClientsClosed++;
        this.#rateLog.log(
          "info",
          "bridge",
          "slow-client",
          `closed slow client ${c.session.slice(0, 8)}: over ${this.#bound} bytes queued for ` +
            `${Math.round(this.#slowTimeout / 1000)} s`,
        );
        this.#remove(c);
        c.transport.close(CLOSE_SLOW_CLIENT, "slow client");
      } else slow++;
    }
    if (slow === 0) {
      clearInterval(this.#slowCheck);
      this.#slowCheck = undefined;
    }
  }

  /** Sends a client the history frames of `plan`. */
  #sendHistory(c: Client, plan: ResumePlan): void {
    for (const f of historyFrames(plan.points.map((p) => p.json), plan.reset)) {
      c.transport.send(f);
      this.#stats.framesSent++;
    }
    this.#stats.pointsSent += plan.points.length;
    c.lastSent = this.#history.lastSeq;
  }

  /**
   * Adds a client: sends hello and the history it needs (exactly what it missed after `since`
   * when the epoch matches and it is still held, else a reset snapshot), then live data.
   */
  addClient(
    transport: ClientTransport,
    resume: ResumeRequest = {},
    series?: ReadonlySet<string>,
  ): Client {
    const client: Client = {
      session: crypto.randomUUID(),
      transport,
      lastSent: 0,
      series,
      msgWindowStart: performance.now(),
      msgCount: 0,
    };
    const since = resume.epoch === this.#epoch ? resume.since : undefined;
    const plan = this.#history.resume(since, series);
    transport.send(helloFrame({
      session: client.session,
      epoch: this.#epoch,
      seq: this.#history.lastSeq,
      resumed: !plan.reset,
    }));
    this.#sendHistory(client, plan);
    if (plan.reset) this.#stats.resumesReset++;
    else this.#stats.resumesExact++;
    this.#clients.add(client);
    this.#stats.connectionsTotal++;
    return client;
  }

  /**
   * Changes the series a client receives (undefined: all). It gets the held history of the
   * series it newly sees (a reset snapshot of its new selection), then live points of them.
   */
  setSeries(c: Client, series: ReadonlySet<string> | undefined): void {
    c.series = series;
    if (c.slowSince === undefined) this.#sendHistory(c, this.#history.resume(undefined, series));
  }

  #remove(c: Client): void {
    this.#clients.delete(c);
  }

  /** Upgrades `req` to a WebSocket client of the bridge (checks are the caller's job). */
  accept(req: Request): Response {
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 60 });
    const resume = resumeFromUrl(new URL(req.url));
    let client: Client | undefined;
    const transport: ClientTransport = {
      send: (f) => socket.send(f),
      bufferedAmount: () => socket.bufferedAmount,
      close: (code, reason) => {
        try {
          socket.close(code, reason);
        } catch { /* already closing */ }
      },
    };
    socket.onopen = () => client = this.addClient(transport, resume);
    socket.onmessage = (e) => client && this.#onClientMessage(client, e.data);
    socket.onclose = () => client && this.#remove(client);
    socket.onerror = () => client && this.#remove(client);
    return response;
  }

  #onClientMessage(client: Client, data: unknown): void {
    const now = performance.now();
    if (now - client.msgWindowStart > 1000) {
      client.msgWindowStart = now;
      client.msgCount = 0;
    }
    if (++client.msgCount > 2 * this.#msgRate) {
      this.#refuse(client, CLOSE_MESSAGE_FLOOD, "message rate limit exceeded");
      return;
    }
    const msg = parseClientMessage(data);
    if ("code" in msg) {
      this.#refuse(client, msg.code, msg.reason);
      return;
    }
    if (msg.type === "ping") client.transport.send('{"type":"pong"}');
  }

  #refuse(client: Client, code: number, reason: string): void {
    this.#stats.clientProtocolErrors++;
    this.#rateLog.log(
      "info",
      "bridge",
      "client-protocol",
      `closed client ${client.session.slice(0, 8)}: ${reason} (${code})`,
    );
    this.#remove(client);
    client.transport.close(code, reason);
  }

  /** Closes every client with `code` (1001 "going away" by default). */
  closeClients(code = 1001, reason = "server shutting down"): void {
    for (const c of this.#clients) c.transport.close(code, reason);
    this.#clients.clear();
  }

  /** Closes every client and the bus subscription (after the relay has stopped). */
  async close(): Promise<void> {
    this.closeClients();
    this.#batcher.close();
    clearInterval(this.#slowCheck);
    this.#slowCheck = undefined;
    const current = this.#current;
    if (current) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const ended = await Promise.race([
        current.done.then(() => true),
        new Promise<boolean>((r) => timer = setTimeout(() => r(false), 500)),
      ]);
      clearTimeout(timer);
      // Without the relay's end-of-stream (it died), the socket stays open: the process is
      // about to exit, and closing it with a receive pending would crash.
      if (!ended) log("warn", "bridge", "relay did not end its stream; leaving the bus socket");
    }
  }
}
