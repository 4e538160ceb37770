/**
 * The bridge: one inproc subscription to the relay's points bus (see `relay.ts`), fanned out to every
 * WebSocket client. Each batch of points becomes one frame, built once and sent as the same string
 * to every client. Next stop of the data: the page, `static/app.js`.
 *
 * @module
 */
import * as zmq from "zeromq";
import { Batcher } from "./src/batcher.ts";
import { helloFrame, pointsFrame } from "./src/frames.ts";
import { errorMessage, log, RateLimitedLog } from "./src/log.ts";

/** Options of {@link WsBridge}. */
export interface BridgeOptions {
  /** Longest time a point waits to be batched with others, in ms. */
  tickMs?: number;
  /** Unsent bytes a client may have queued before it is skipped (points dropped for it). */
  clientBufferBytes?: number;
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
}

/** Fans the relay's points out to WebSocket clients. */
export class WsBridge {
  #current?: BusSubscription;
  #clients = new Set<Client>();
  #epoch = "";
  #lastSeq = 0;
  #batcher: Batcher<string>;
  #clientBufferBytes: number;
  #rateLog = new RateLimitedLog(5000);
  #stats: Omit<BridgeStats, "clients"> = {
    connectionsTotal: 0,
    pointsSent: 0,
    framesSent: 0,
    pointsReceived: 0,
    pointsDroppedSlow: 0,
    clientProtocolErrors: 0,
  };

  constructor(opts: BridgeOptions = {}) {
    this.#batcher = new Batcher((points) => this.#broadcast(points), opts.tickMs ?? 16);
    this.#clientBufferBytes = opts.clientBufferBytes ?? 1024 * 1024;
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
      for await (const [, seq, json] of gen.sub) {
        // The relay's end-of-stream (see relay.ts): this bus is done; a restarted relay gets a
        // new bus and subscription.
        if (seq.length === 0) break;
        this.#lastSeq = Number(seq.toString());
        this.#stats.pointsReceived++;
        this.#batcher.push(json.toString());
      }
      gen.sub.close();
    } catch (err) {
      if (!gen.sub.closed) log("error", "bridge", `bus receive ended: ${errorMessage(err)}`);
    }
  }

  #broadcast(points: string[]): void {
    const frame = pointsFrame(points);
    for (const c of this.#clients) {
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      if (c.ws.bufferedAmount > this.#clientBufferBytes) {
        this.#stats.pointsDroppedSlow += points.length;
        continue;
      }
      c.ws.send(frame);
      this.#stats.framesSent++;
      this.#stats.pointsSent += points.length;
    }
  }

  /** Upgrades `req` to a WebSocket client of the bridge (checks are the caller's job). */
  accept(req: Request): Response {
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 60 });
    const client: Client = { ws: socket, session: crypto.randomUUID() };
    socket.onopen = () => {
      this.#clients.add(client);
      this.#stats.connectionsTotal++;
      socket.send(helloFrame({ session: client.session, epoch: this.#epoch, seq: this.#lastSeq }));
    };
    socket.onmessage = (e) => this.#onClientMessage(client, e);
    socket.onclose = () => this.#clients.delete(client);
    socket.onerror = () => this.#clients.delete(client);
    return response;
  }

  #onClientMessage(client: Client, e: MessageEvent): void {
    if (typeof e.data === "string" && e.data.length <= 1024) {
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
