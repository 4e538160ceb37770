/**
 * The bridge: one inproc subscription to the relay's points bus (see `relay.ts`), fanned out to every
 * client. Each batch of points becomes one frame, built once and sent as the same string to every
 * client that keeps up. It also keeps the history (`src/history.ts`), so new clients get a full
 * chart and returning ones get exactly what they missed, and it holds back slow clients instead of
 * queueing without bound. Clients are WebSockets (`/ws`, {@link WsBridge.accept}) or event streams
 * (`/events`, `src/sse.ts`), both behind {@link ClientTransport}. Each may select the series it
 * receives (`?series=`, or the `series` message: {@link WsBridge.setSeries}), within what its token
 * allows; clients with the same series set share one frame per batch. Every client is told the
 * names of the series held (`series_list` frames). Next stop of the data: the page,
 * `static/app.js`.
 *
 * Close codes the bridge sends: 1001 (server shutting down), 1003 (binary message), 1007 (invalid
 * message), 1008 (message flood), 1009 (message over `maxMessageBytes`), 4001 (the client's token
 * expired), 4008 (slow client).
 *
 * @module
 */
import * as zmq from "zeromq";
import { Batcher } from "./src/batcher.ts";
import { TOKEN_EXPIRED_CLOSE_CODE } from "./src/auth.ts";
import { MAX_CLIENT_MESSAGE_BYTES, parseClientMessage } from "./src/client_messages.ts";
import { helloFrame, historyFrames, pointsFrame, seriesListFrame } from "./src/frames.ts";
import { History } from "./src/history.ts";
import { log, RateLimitedLog } from "./src/log.ts";
import { type BusBatch, decodeBus, lastSeqOf, pointJson, pointSeries } from "./src/protocol/bus.ts";
import { faults, superviseLoop } from "./src/runtime/loop.ts";

/** WebSocket close code for a client that stayed over its buffer bound too long. */
export const CLOSE_SLOW_CLIENT = 4008;
/** WebSocket close code for a client that sends messages too fast. */
export const CLOSE_MESSAGE_FLOOD = 1008;

/** Options of {@link WsBridge}. */
export interface BridgeOptions {
  /**
   * Longest time a point waits to be batched with others, in ms (default 10: at most ~100 frames
   * per second per client; measured against 16 in `deno task bench`, 10 cut W1's p99 from 18 to
   * 13 ms at the same CPU).
   */
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
  /** Largest message a client may send, in bytes; a larger one closes it with 1009. */
  maxMessageBytes?: number;
  /**
   * Called when a point arrives with another epoch than the bridge serves (a gateway's forwarder
   * restarted without its state; see `src/upstream.ts`). The bridge stops receiving before that
   * point: seqs of two epochs do not compare, so the caller starts a fresh bridge.
   */
  onEpochChange?: (epoch: string, seq: number) => void;
}

/** What {@link WsBridge.accept} knows about a client: its token's claims, its selection. */
export interface AcceptOptions {
  /** Series this client may see (its token's claim); all when `null` or absent. */
  series?: readonly string[] | null;
  /** Series it asked for (`?series=`); all it may see when absent. */
  select?: ReadonlySet<string>;
  /** When its token expires (ms since the epoch); it is closed with 4001 then. */
  expiresAt?: number;
  /** Called once when the connection ends (or the upgrade fails). */
  onClose?: () => void;
}

/** Options of {@link WsBridge.addClient}. */
export interface ClientOptions {
  /** Series it may see at most (its token's claim); all when absent. */
  allowed?: ReadonlySet<string>;
  /** Series it asked for; all it may see when absent. */
  select?: ReadonlySet<string>;
  /** When its token expires (ms since the epoch); it is closed with 4001 then. */
  expiresAt?: number;
  /** Called once when the client ends. */
  onClose?: () => void;
}

/** The series a client receives: its selection within what it may see (undefined: all). */
export function effectiveSeries(
  select: ReadonlySet<string> | undefined,
  allowed: ReadonlySet<string> | undefined,
): ReadonlySet<string> | undefined {
  if (!allowed) return select;
  if (!select) return allowed;
  return new Set([...select].filter((s) => allowed.has(s)));
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
  /** Client connections closed (1009) for sending a message over the size limit. */
  clientsClosedTooBig: number;
  /** Client connections closed (4001) because their token expired. */
  clientsClosedTokenExpired: number;
  /** `points` frames built (one per batch for unfiltered clients, one per series set). */
  framesBuilt: number;
  /** Clients connected now over Server-Sent Events (`/events`; also counted in `clients`). */
  sseClients: number;
  /** Bus batches with points received. */
  busBatches?: number;
  /** Bus messages dropped as malformed. */
  busInvalid?: number;
  /** Times the bus receive loop ended and was restarted. */
  loopRestarts?: number;
  /** Ms since the last bus batch or heartbeat (`null`: none yet). */
  busIdleMs?: number | null;
}

/** Where a client's frames go: a WebSocket, or an event stream (`src/sse.ts`). */
export interface ClientTransport {
  /** Which kind of connection (for `/metrics`); a WebSocket when absent. */
  readonly kind?: "websocket" | "sse";
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
  /** The series its token allows (undefined: all). */
  allowed?: ReadonlySet<string>;
  /** The history's `seriesVersion` of the last `series_list` frame sent to this client. */
  seriesListVersion: number;
  /** Start of the current message-rate window and messages in it. */
  msgWindowStart: number;
  msgCount: number;
  /** Token expiry (ms since the epoch) and its timer. */
  expiresAt?: number;
  expiryTimer?: ReturnType<typeof setTimeout>;
  /** Set once the connection has ended. */
  ended?: boolean;
  onClose?: () => void;
}

/** Longest single timer (setTimeout's limit); longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

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

/** History frames ready to send, and what they hold. */
interface HistoryFrames {
  reset: boolean;
  frames: string[];
  points: number;
}

interface Incoming {
  series: string;
  seq: number;
  json: string;
  /** Set by {@link WsBridge.ingest}: whether it directly follows the point before it. */
  follows?: boolean;
}

/** A WebSocket as a {@link ClientTransport} (methods on the prototype: no closures per client). */
class WebSocketTransport implements ClientTransport {
  readonly kind = "websocket";
  constructor(readonly socket: WebSocket) {}
  send(frame: string): void {
    this.socket.send(frame);
  }
  bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }
  close(code: number, reason: string): void {
    try {
      this.socket.close(code, reason);
    } catch { /* already closing */ }
  }
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
  /** Reset snapshots by series set, valid until the history changes. */
  #snapshots = new Map<string, HistoryFrames>();
  #bound: number;
  #slowTimeout: number;
  #msgRate: number;
  #maxMessageBytes: number;
  #onEpochChange?: (epoch: string, seq: number) => void;
  #slowCheck?: ReturnType<typeof setInterval>;
  #rateLog = new RateLimitedLog(5000);
  #seriesList: { timer?: ReturnType<typeof setTimeout>; sentAt: number; shipped: number } = {
    sentAt: -Infinity,
    shipped: 0,
  };
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
    clientsClosedTooBig: 0,
    clientsClosedTokenExpired: 0,
    framesBuilt: 0,
    busBatches: 0,
    busInvalid: 0,
    loopRestarts: 0,
  };
  /** `performance.now()` of the last bus batch or heartbeat (-Infinity: none yet). */
  #lastBusAt = -Infinity;

  constructor(opts: BridgeOptions = {}) {
    this.#batcher = new Batcher((items) => this.#broadcast(items), opts.tickMs ?? 10);
    this.#bound = opts.clientBufferBytes ?? 1024 * 1024;
    this.#slowTimeout = opts.slowClientTimeoutMs ?? 10_000;
    this.#history = new History(opts.historyPerSeries ?? 1000, opts.maxSeries ?? 1000);
    this.#msgRate = opts.clientMessageRate ?? 20;
    this.#maxMessageBytes = opts.maxMessageBytes ?? MAX_CLIENT_MESSAGE_BYTES;
    this.#onEpochChange = opts.onEpochChange;
  }

  /** Counters (a copy). */
  stats(): BridgeStats {
    let slow = 0;
    let sse = 0;
    for (const c of this.#clients) {
      if (c.slowSince !== undefined) slow++;
      if (c.transport.kind === "sse") sse++;
    }
    return {
      sseClients: sse,
      clients: this.#clients.size,
      slowClients: slow,
      historyPoints: this.#history.size,
      busIdleMs: this.#lastBusAt === -Infinity
        ? null
        : Math.round(performance.now() - this.#lastBusAt),
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

  #setEpoch(epoch: string): void {
    this.#epoch = epoch;
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
    // Counted in bus batches (up to BUS_BATCH_POINTS points each).
    const sub = new zmq.Subscriber({ receiveHighWaterMark: 1000 });
    sub.subscribe();
    sub.connect(bus);
    const gen: BusSubscription = { sub, done: Promise.resolve() };
    gen.done = this.#receive(gen);
    this.#current = gen;
    this.#setEpoch(epoch);
    this.#lastSeq = Math.max(this.#lastSeq, lastSeq);
  }

  /**
   * Takes a batch from a source that is not this process's ZeroMQ bus (a JetStream follower,
   * `src/nats/`), on the same path as the bus's batches. Seqs ascend but may jump between batches
   * (derived from stream sequences): `follows` says whether the batch's first point directly
   * follows the last one taken, so the history counts a gap only where the source had one. An
   * empty bridge epoch is set to the batch's (a batch of no points only does that).
   */
  ingest(b: BusBatch, follows: boolean): void {
    if (this.#epoch === "") this.#setEpoch(b.epoch);
    this.#lastBusAt = performance.now();
    if (b.count > 0) this.#take(b, follows);
  }

  /** A batch's points into the batcher (`follows`: see {@link ingest}; absent: by seq). */
  #take(b: BusBatch, follows?: boolean): void {
    this.#lastSeq = lastSeqOf(b);
    this.#stats.pointsReceived += b.count;
    this.#stats.busBatches++;
    for (let i = 0; i < b.count; i++) {
      this.#batcher.push({
        series: pointSeries(b, i),
        seq: b.firstSeq + i,
        json: pointJson(b, i),
        follows: follows === undefined || i > 0 ? undefined : follows,
      });
    }
  }

  /**
   * The bus receive loop of one subscription, owned by {@link superviseLoop}: an exception (a bad
   * message, a fault) never ends it for good; it is counted and the loop starts again on the same
   * socket. It ends for good on the end-of-stream or an epoch change.
   */
  #receive(gen: BusSubscription): Promise<void> {
    let finished = false;
    const once = async () => {
      for await (const frames of gen.sub) {
        faults.check("bridge.receive");
        const m = decodeBus(frames);
        if (m.kind === "end") {
          // The relay's end-of-stream: this bus is done; a restarted relay gets a new bus and
          // subscription.
          finished = true;
          gen.sub.close();
          return;
        }
        if (m.kind === "invalid") {
          this.#stats.busInvalid++;
          this.#rateLog.log("warn", "bridge", "bus-invalid", `dropped bus message: ${m.reason}`);
          continue;
        }
        const b = m.batch;
        this.#lastBusAt = performance.now();
        if (b.epoch !== this.#epoch) {
          if (this.#epoch === "") this.#setEpoch(b.epoch);
          else {
            finished = true;
            gen.sub.close();
            this.#onEpochChange?.(b.epoch, b.firstSeq);
            return;
          }
        }
        if (b.count === 0) continue; // a heartbeat: the path is alive
        this.#take(b);
      }
      finished = true;
    };
    const loop = superviseLoop(once, {
      component: "bridge",
      name: "bus receive loop",
      stopped: () => finished || gen.sub.closed,
      onRestart: () => this.#stats.loopRestarts++,
    });
    return loop.done;
  }

  #broadcast(items: Incoming[]): void {
    this.#snapshots.clear();
    const jsons = new Array<string>(items.length);
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      this.#history.add(it.series, it.seq, it.json, it.follows);
      jsons[i] = it.json;
    }
    if (this.#history.seriesVersion !== this.#seriesList.shipped) this.#scheduleSeriesList();
    const last = items[items.length - 1].seq;
    // Built lazily, once per batch: the frame for clients that see every series, and one per
    // distinct series set for the others.
    let all: { frame: string; count: number } | undefined;
    let filtered: Map<string, { frame: string; count: number }> | undefined;
    const build = (picked: string[]) => {
      if (picked.length === 0) return { frame: "", count: 0 };
      this.#stats.framesBuilt++;
      return { frame: pointsFrame(picked), count: picked.length };
    };
    const frameFor = (c: Client): { frame: string; count: number } => {
      if (!c.series) return all ??= build(jsons);
      filtered ??= new Map();
      const key = filterKey(c.series);
      let f = filtered.get(key);
      if (!f) {
        const only = c.series;
        f = build(items.filter((it) => only.has(it.series)).map((it) => it.json));
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
        this.#sendHistory(c, this.#historyFor(c.lastSent, c.series));
      } else if (now - c.slowSince > this.#slowTimeout) {
        this.#stats.slowClientsClosed++;
        this.#rateLog.log(
          "info",
          "bridge",
          "slow-client",
          `closed slow client ${c.session.slice(0, 8)}: over ${this.#bound} bytes queued for ` +
            `${Math.round(this.#slowTimeout / 1000)} s`,
        );
        this.#end(c);
        c.transport.close(CLOSE_SLOW_CLIENT, "slow client");
      } else slow++;
    }
    if (slow === 0) {
      clearInterval(this.#slowCheck);
      this.#slowCheck = undefined;
    }
  }

  /**
   * The history frames a client needs after `since` (undefined: a new client) for its series: the
   * missed points when the resume is exact, else a reset snapshot. Snapshots are built once per
   * series set until the next batch changes the history, so a crowd connecting at once costs one.
   */
  #historyFor(since: number | undefined, series?: ReadonlySet<string>): HistoryFrames {
    if (this.#history.canResume(since)) {
      const points = this.#history.after(since!, series);
      return {
        reset: false,
        frames: historyFrames(points.map((p) => p.json), false),
        points: points.length,
      };
    }
    const key = series ? filterKey(series) : "*";
    let cached = this.#snapshots.get(key);
    if (!cached) {
      const points = this.#history.snapshot(series);
      cached = {
        reset: true,
        frames: historyFrames(points.map((p) => p.json), true),
        points: points.length,
      };
      this.#snapshots.set(key, cached);
    }
    return cached;
  }

  /** Sends a client its history frames. */
  #sendHistory(c: Client, h: HistoryFrames): void {
    for (const f of h.frames) {
      c.transport.send(f);
      this.#stats.framesSent++;
    }
    this.#stats.pointsSent += h.points;
    c.lastSent = this.#history.lastSeq;
  }

  /**
   * Adds a client: sends hello and the history it needs (exactly what it missed after `since`
   * when the epoch matches and it is still held, else a reset snapshot), then live data.
   */
  addClient(
    transport: ClientTransport,
    resume: ResumeRequest = {},
    opts: ClientOptions = {},
  ): Client {
    const series = effectiveSeries(opts.select, opts.allowed);
    const client: Client = {
      session: crypto.randomUUID(),
      transport,
      lastSent: 0,
      series,
      allowed: opts.allowed,
      seriesListVersion: this.#history.seriesVersion,
      msgWindowStart: performance.now(),
      msgCount: 0,
      expiresAt: opts.expiresAt,
      onClose: opts.onClose,
    };
    const since = resume.epoch === this.#epoch ? resume.since : undefined;
    const history = this.#historyFor(since, series);
    transport.send(helloFrame({
      session: client.session,
      epoch: this.#epoch,
      seq: this.#history.lastSeq,
      resumed: !history.reset,
    }));
    this.#sendHistory(client, history);
    transport.send(seriesListFrame(this.#history.seriesNames()));
    this.#stats.framesSent++;
    if (history.reset) this.#stats.resumesReset++;
    else this.#stats.resumesExact++;
    this.#clients.add(client);
    this.#stats.connectionsTotal++;
    this.#armExpiry(client);
    return client;
  }

  /**
   * Changes the series a client receives (undefined: all). It gets the held history of the
   * series it newly sees (a reset snapshot of its new selection), then live points of them.
   */
  setSeries(c: Client, select: ReadonlySet<string> | undefined): void {
    const series = effectiveSeries(select, c.allowed);
    c.series = series;
    if (c.slowSince === undefined) this.#sendHistory(c, this.#historyFor(undefined, series));
  }

  /**
   * Tells every client the names of the series held (a `series_list` frame) when they changed:
   * at most once per second; a client held back for being slow is told once it keeps up again.
   */
  #scheduleSeriesList(): void {
    const list = this.#seriesList;
    if (list.timer !== undefined) return;
    const wait = Math.max(0, list.sentAt + 1000 - performance.now());
    list.timer = setTimeout(() => {
      list.timer = undefined;
      list.sentAt = performance.now();
      const version = this.#history.seriesVersion;
      list.shipped = version;
      let frame: string | undefined;
      let pending = false;
      for (const c of this.#clients) {
        if (c.seriesListVersion === version) continue;
        if (c.slowSince !== undefined) {
          pending = true;
          continue;
        }
        frame ??= seriesListFrame(this.#history.seriesNames());
        c.transport.send(frame);
        c.seriesListVersion = version;
        this.#stats.framesSent++;
      }
      if (pending) this.#scheduleSeriesList();
    }, wait);
  }

  /** Forgets a client whose connection ended (the transport's owner calls it, e.g. `/events`). */
  removeClient(c: Client): void {
    this.#end(c);
  }

  /** Distinct series sets of connected clients. */
  get filterCount(): number {
    const keys = new Set<string>();
    for (const c of this.#clients) if (c.series) keys.add(filterKey(c.series));
    return keys.size;
  }

  /** Forgets a client once (close, error or refusal): its timer, its slot, its onClose. */
  #end(c: Client): void {
    if (c.ended) return;
    c.ended = true;
    this.#clients.delete(c);
    clearTimeout(c.expiryTimer);
    c.onClose?.();
  }

  /** Closes `c` with 4001 once its token has expired (re-arming past setTimeout's range). */
  #armExpiry(c: Client): void {
    if (c.expiresAt === undefined || c.ended) return;
    const left = c.expiresAt - Date.now();
    if (left <= 0) {
      this.#stats.clientsClosedTokenExpired++;
      log("debug", "bridge", `closed client ${c.session.slice(0, 8)}: token expired`);
      this.#end(c);
      c.transport.close(TOKEN_EXPIRED_CLOSE_CODE, "token expired");
      return;
    }
    c.expiryTimer = setTimeout(() => this.#armExpiry(c), Math.min(left, MAX_TIMER_MS));
  }

  /**
   * Upgrades `req` to a WebSocket client of the bridge (checks are the caller's job). Throws
   * (after calling `opts.onClose`) when `req` is not a valid upgrade.
   */
  accept(req: Request, opts: AcceptOptions = {}): Response {
    let upgraded: { socket: WebSocket; response: Response };
    try {
      upgraded = Deno.upgradeWebSocket(req, { idleTimeout: 60 });
    } catch (err) {
      opts.onClose?.();
      throw err;
    }
    const { socket, response } = upgraded;
    const resume = resumeFromUrl(new URL(req.url));
    const allowed = opts.series ? new Set(opts.series) : undefined;
    let client: Client | undefined;
    let closedEarly = false;
    const transport = new WebSocketTransport(socket);
    socket.onopen = () => {
      if (closedEarly) return;
      client = this.addClient(transport, resume, {
        allowed,
        select: opts.select,
        expiresAt: opts.expiresAt,
        onClose: opts.onClose,
      });
    };
    socket.onmessage = (e) => client && this.#onClientMessage(client, e.data);
    const ended = () => {
      if (client) this.#end(client);
      else if (!closedEarly) {
        closedEarly = true;
        opts.onClose?.();
      }
    };
    socket.onclose = ended;
    socket.onerror = ended;
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
    const msg = parseClientMessage(data, this.#maxMessageBytes);
    if ("code" in msg) {
      if (msg.code === 1009) this.#stats.clientsClosedTooBig++;
      this.#refuse(client, msg.code, msg.reason);
      return;
    }
    if (msg.type === "ping") client.transport.send('{"type":"pong"}');
    else if (msg.type === "series") {
      this.setSeries(client, msg.only === null ? undefined : new Set(msg.only));
    }
  }

  #refuse(client: Client, code: number, reason: string): void {
    if (code !== 1009) this.#stats.clientProtocolErrors++;
    this.#rateLog.log(
      "info",
      "bridge",
      "client-protocol",
      `closed client ${client.session.slice(0, 8)}: ${reason} (${code})`,
    );
    this.#end(client);
    client.transport.close(code, reason);
  }

  /** Closes every client with `code` (1001 "going away" by default). */
  closeClients(code = 1001, reason = "server shutting down"): void {
    for (const c of [...this.#clients]) {
      this.#end(c);
      c.transport.close(code, reason);
    }
  }

  /** Closes every client and the bus subscription (after the relay has stopped). */
  async close(): Promise<void> {
    this.closeClients();
    this.#batcher.close();
    clearInterval(this.#slowCheck);
    this.#slowCheck = undefined;
    clearTimeout(this.#seriesList.timer);
    this.#seriesList.timer = undefined;
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
