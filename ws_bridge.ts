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

interface Client {
  ws: WebSocket;
  session: string;
}

/** Fans the relay's points out to WebSocket clients. */
export class WsBridge {
  #sub = new zmq.Subscriber({ receiveHighWaterMark: 100000 });
  #bus?: string;
  #clients = new Set<Client>();
  #epoch = "";
  #lastSeq = 0;
  #batcher: Batcher<string>;
  #clientBufferBytes: number;
  #pump?: Promise<void>;
  #closing = false;
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
    this.#sub.subscribe();
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

  /** Follows a (new) relay generation: subscribes to its bus, drops the old one. */
  attach(bus: string, epoch: string, lastSeq: number): void {
    if (this.#bus && this.#bus !== bus) {
      try {
        this.#sub.disconnect(this.#bus);
      } catch { /* the old relay's bus is already gone */ }
    }
    this.#bus = bus;
    this.#epoch = epoch;
    this.#lastSeq = Math.max(this.#lastSeq, lastSeq);
    this.#sub.connect(bus);
    this.#pump ??= this.#receive();
  }

  async #receive(): Promise<void> {
    try {
      for await (const [, seq, json] of this.#sub) {
        if (seq.length === 0) {
          // The relay says it is stopping (see relay.ts); during shutdown, end the loop so the
          // socket is closed with no receive pending.
          if (this.#closing) break;
          continue;
        }
        this.#lastSeq = Number(seq.toString());
        this.#stats.pointsReceived++;
        this.#batcher.push(json.toString());
      }
    } catch (err) {
      if (!this.#sub.closed) log("error", "bridge", `bus receive ended: ${errorMessage(err)}`);
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

  /** Marks the start of shutdown: the relay's end-of-stream ends the receive loop. */
  prepareClose(): void {
    this.#closing = true;
  }

  /** Closes every client and the bus subscription (after the relay has stopped). */
  async close(): Promise<void> {
    this.#closing = true;
    this.closeClients();
    this.#batcher.close();
    if (this.#pump) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.#pump, new Promise((r) => timer = setTimeout(r, 300))]);
      clearTimeout(timer);
    }
    this.#sub.close();
    await this.#pump;
  }
}
