/**
 * The bridge: one inproc subscription to the relay's points bus (see `relay.ts`), fanned out to every
 * WebSocket client. Each batch of points becomes one frame, built once and sent as the same string
 * to every client that sees every series. Clients whose token limits them to some series get a
 * frame with only those: one frame per distinct series set per batch, shared by every client with
 * that set. Next stop of the data: the page, `static/app.js`.
 *
 * Close codes the bridge sends: 1001 (server shutting down), 1003 (binary message), 1008 (unknown
 * message), 1009 (message larger than `maxMessageBytes`), 4001 (the client's token expired).
 *
 * @module
 */
import * as zmq from "zeromq";
import { Batcher } from "./src/batcher.ts";
import { helloFrame, pointsFrame } from "./src/frames.ts";
import { errorMessage, log, RateLimitedLog } from "./src/log.ts";
import { TOKEN_EXPIRED_CLOSE_CODE } from "./src/auth.ts";

/** Options of {@link WsBridge}. */
export interface BridgeOptions {
  /** Longest time a point waits to be batched with others, in ms. */
  tickMs?: number;
  /** Unsent bytes a client may have queued before it is skipped (points dropped for it). */
  clientBufferBytes?: number;
  /** Largest message a client may send, in bytes; a larger one closes it with 1009. */
  maxMessageBytes?: number;
}

/** What {@link WsBridge.accept} knows about a client (from its token). */
export interface AcceptOptions {
  /** Series this client may see; all when `null` or absent. */
  series?: readonly string[] | null;
  /** When its token expires (ms since the epoch); it is closed with 4001 then. */
  expiresAt?: number;
  /** Called once when the connection ends (or the upgrade fails). */
  onClose?: () => void;
}

/** Counters of the bridge, for `/metrics`. */
export interface BridgeStats {
  /** Clients connected now. */
  clients: number;
  /** WebSocket connections accepted since start. */
  connectionsTotal: number;
  /** Points sent, summed over clients. */
  pointsSent: number;
  /** Frames sent, summed over clients. */
  framesSent: number;
  /** Points received from the relay. */
  pointsReceived: number;
  /** Points not sent to a client because its buffer was full, summed over clients. */
  pointsDroppedSlow: number;
  /** Client connections closed for sending what the server does not accept. */
  clientProtocolErrors: number;
  /** Client connections closed (1009) for sending a message over the size limit. */
  clientsClosedTooBig: number;
  /** Client connections closed (4001) because their token expired. */
  clientsClosedTokenExpired: number;
  /** `points` frames built (one per batch for unfiltered clients, one per series set). */
  framesBuilt: number;
}

/** One point as it comes off the bus. */
interface BusPoint {
  series: string;
  json: string;
}

/** A set of series some clients are limited to, shared by every client with the same set. */
interface SeriesFilter {
  key: string;
  series: ReadonlySet<string>;
  clients: number;
}

/** The subscription to one relay generation's points bus. */
interface BusSubscription {
  sub: zmq.Subscriber;
  /** Settles when the receive loop has ended and the socket is closed. */
  done: Promise<void>;
}

interface Client {
  ws: WebSocket;
  session: string;
  filter: SeriesFilter | null;
  expiresAt?: number;
  expiryTimer?: ReturnType<typeof setTimeout>;
  ended: boolean;
  onClose?: () => void;
}

/** Longest single timer (setTimeout's limit); longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Fans the relay's points out to WebSocket clients. */
export class WsBridge {
  #current?: BusSubscription;
  #clients = new Set<Client>();
  #epoch = "";
  #lastSeq = 0;
  #batcher: Batcher<BusPoint>;
  #clientBufferBytes: number;
  #maxMessageBytes: number;
  #filters = new Map<string, SeriesFilter>();
  #rateLog = new RateLimitedLog(5000);
  #stats: Omit<BridgeStats, "clients"> = {
    connectionsTotal: 0,
    pointsSent: 0,
    framesSent: 0,
    pointsReceived: 0,
    pointsDroppedSlow: 0,
    clientProtocolErrors: 0,
    clientsClosedTooBig: 0,
    clientsClosedTokenExpired: 0,
    framesBuilt: 0,
  };

  constructor(opts: BridgeOptions = {}) {
    this.#batcher = new Batcher((points) => this.#broadcast(points), opts.tickMs ?? 16);
    this.#clientBufferBytes = opts.clientBufferBytes ?? 1024 * 1024;
    this.#maxMessageBytes = opts.maxMessageBytes ?? 4096;
  }

  /** Counters (a copy). */
  stats(): BridgeStats {
    return { clients: this.#clients.size, ...this.#stats };
  }

  /** Clients connected now. */
  get clientCount(): number {
    return this.#clients.size;
  }

  /** Last sequence number received from the relay. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /**
   * Follows a (new) relay generation: a fresh subscriber on its bus. Each subscription ends when
   * its relay's end-of-stream arrives, and is closed then (never with a receive pending: that
   * crashes the process under Deno); one whose relay died without it stays idle.
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
      for await (const [series, seq, json] of gen.sub) {
        // The relay's end-of-stream (see relay.ts): this bus is done; a restarted relay gets a
        // new bus and subscription.
        if (seq.length === 0) break;
        this.#lastSeq = Number(seq.toString());
        this.#stats.pointsReceived++;
        this.#batcher.push({ series: series.toString(), json: json.toString() });
      }
      gen.sub.close();
    } catch (err) {
      if (!gen.sub.closed) log("error", "bridge", `bus receive ended: ${errorMessage(err)}`);
    }
  }

  #broadcast(points: BusPoint[]): void {
    // Built lazily: the frame for clients that see everything, and one per series set.
    let all: { frame: string; count: number } | undefined;
    const filtered = new Map<SeriesFilter, { frame: string; count: number } | null>();
    for (const c of this.#clients) {
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      let out: { frame: string; count: number } | null | undefined;
      if (c.filter === null) {
        out = all ??= this.#frame(points);
      } else {
        out = filtered.get(c.filter);
        if (out === undefined) {
          const set = c.filter.series;
          const mine = points.filter((p) => set.has(p.series));
          out = mine.length === 0 ? null : this.#frame(mine);
          filtered.set(c.filter, out);
        }
        if (out === null) continue;
      }
      if (c.ws.bufferedAmount > this.#clientBufferBytes) {
        this.#stats.pointsDroppedSlow += out.count;
        continue;
      }
      c.ws.send(out.frame);
      this.#stats.framesSent++;
      this.#stats.pointsSent += out.count;
    }
  }

  #frame(points: BusPoint[]): { frame: string; count: number } {
    this.#stats.framesBuilt++;
    return { frame: pointsFrame(points.map((p) => p.json)), count: points.length };
  }

  /**
   * Upgrades `req` to a WebSocket client of the bridge (checks are the caller's job). Throws (after
   * calling `opts.onClose`) when `req` is not a valid upgrade.
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
    const client: Client = {
      ws: socket,
      session: crypto.randomUUID(),
      filter: opts.series ? this.#filterFor(opts.series) : null,
      expiresAt: opts.expiresAt,
      ended: false,
      onClose: opts.onClose,
    };
    socket.onopen = () => {
      if (client.ended) return;
      this.#clients.add(client);
      this.#stats.connectionsTotal++;
      socket.send(helloFrame({ session: client.session, epoch: this.#epoch, seq: this.#lastSeq }));
      this.#armExpiry(client);
    };
    socket.onmessage = (e) => this.#onClientMessage(client, e);
    socket.onclose = () => this.#end(client);
    socket.onerror = () => this.#end(client);
    return response;
  }

  /** The shared filter for a series set (sorted, unique names), counting its clients. */
  #filterFor(series: readonly string[]): SeriesFilter {
    const key = JSON.stringify([...new Set(series)].sort());
    let f = this.#filters.get(key);
    if (!f) {
      f = { key, series: new Set(series), clients: 0 };
      this.#filters.set(key, f);
    }
    f.clients++;
    return f;
  }

  /** Closes `client` with 4001 once its token has expired (re-arming past setTimeout's range). */
  #armExpiry(client: Client): void {
    if (client.expiresAt === undefined || client.ended) return;
    const left = client.expiresAt - Date.now();
    if (left <= 0) {
      this.#stats.clientsClosedTokenExpired++;
      log("debug", "bridge", `closed client ${client.session.slice(0, 8)}: token expired`);
      try {
        client.ws.close(TOKEN_EXPIRED_CLOSE_CODE, "token expired");
      } catch { /* already closing */ }
      return;
    }
    client.expiryTimer = setTimeout(() => this.#armExpiry(client), Math.min(left, MAX_TIMER_MS));
  }

  /** Forgets a client once (close or error): its timer, its filter, its slot. */
  #end(client: Client): void {
    if (client.ended) return;
    client.ended = true;
    this.#clients.delete(client);
    clearTimeout(client.expiryTimer);
    const f = client.filter;
    if (f && --f.clients === 0) this.#filters.delete(f.key);
    client.onClose?.();
  }

  /** Distinct series sets of connected clients (for tests: filters are shared and released). */
  get filterCount(): number {
    return this.#filters.size;
  }

  #onClientMessage(client: Client, e: MessageEvent): void {
    const size = messageBytes(e.data, this.#maxMessageBytes);
    if (size > this.#maxMessageBytes) {
      this.#stats.clientsClosedTooBig++;
      this.#rateLog.log(
        "info",
        "bridge",
        "client-too-big",
        `closed client ${client.session.slice(0, 8)}: sent a message over ` +
          `${this.#maxMessageBytes} bytes`,
      );
      client.ws.close(1009, "message too big");
      return;
    }
    if (typeof e.data === "string") {
      let msg: unknown;
      try {
        msg = JSON.parse(e.data);
      } catch { /* handled below */ }
      if (typeof msg === "object" && msg !== null && (msg as { type?: unknown }).type === "ping") {
        client.ws.send('{"type":"pong"}');
        return;
      }
    }
    this.#stats.clientProtocolErrors++;
    const binary = typeof e.data !== "string";
    this.#rateLog.log(
      "info",
      "bridge",
      "client-protocol",
      `closed client ${client.session.slice(0, 8)}: sent a ${binary ? "binary" : "text"} message ` +
        `the server does not accept`,
    );
    client.ws.close(
      binary ? 1003 : 1008,
      binary ? "binary frames not accepted" : "unknown message",
    );
  }

  /** Closes every client with `code` (1001 "going away" by default). */
  closeClients(code = 1001, reason = "server shutting down"): void {
    for (const c of this.#clients) {
      try {
        c.ws.close(code, reason);
      } catch { /* already closing */ }
    }
  }

  /** Closes every client and the bus subscription (after the relay has stopped). */
  async close(): Promise<void> {
    this.closeClients();
    this.#batcher.close();
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

/**
 * Size of a received message in bytes, or a stand-in that is over `limit` exactly when the real
 * size is (a long string is not encoded just to be measured).
 */
function messageBytes(data: unknown, limit: number): number {
  if (typeof data === "string") {
    if (data.length > limit) return data.length; // UTF-8 is never shorter than UTF-16 units
    if (data.length * 3 <= limit) return data.length; // at most 3 bytes per unit: within limit
    return new TextEncoder().encode(data).length;
  }
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  if (data instanceof Blob) return data.size;
  return 0;
}
