/**
 * The hub: one inproc subscription to the relay's points bus (`relay.ts`; the loop is
 * `src/hub/bus_receiver.ts`) -> the history (`src/hub/history.ts`) -> batches
 * (`src/hub/batcher.ts`) -> fan-out. Each tick's batches become one frame per series set
 * (`src/hub/tick_frames.ts`), built once and sent as the same string to every client that keeps
 * up. New clients get a full chart from the history and returning ones exactly what they missed
 * (`src/hub/history_frames.ts`).
 *
 * Its other parts live in `src/hub/` too: the client types (`client.ts`), the slow-client policy
 * and the budget for all clients (`slow_clients.ts`, `budget.ts`), the `series_list` broadcast
 * (`series_list.ts`). The WebSocket upgrade and client-message policing are `src/http/websocket.ts`,
 * event streams `src/http/sse.ts`. Close codes come from the registry
 * (`src/protocol/close_codes.ts`). Next stop of the data: the page, `static/app.js`.
 *
 * A client may ask for a decimated stream instead (`{"type":"rate"}`): min/max per bucket, built
 * once per series and rate for all clients at that rate (`src/hub/decimated.ts`).
 *
 * @module
 */
import * as zmq from "zeromq";
import { Batcher } from "./src/hub/batcher.ts";
import { CLOSE } from "./src/protocol/close_codes.ts";
import { TOKEN_EXPIRED_CLOSE_CODE } from "./src/http/auth.ts";
import { CLIENT_MESSAGE_RATE, MAX_CLIENT_MESSAGE_BYTES } from "./src/protocol/client_messages.ts";
import { helloFrame } from "./src/protocol/frames.ts";
import { type HeldPoint, History } from "./src/hub/history.ts";
import { SeriesUnits } from "./src/hub/units.ts";
import { DecimatedStreams } from "./src/hub/decimated.ts";
import { HistoryFrameCache, type HistoryFrames } from "./src/hub/history_frames.ts";
import { receiveBus } from "./src/hub/bus_receiver.ts";
import { TickFrames } from "./src/hub/tick_frames.ts";
import { log, RateLimitedLog } from "./src/runtime/log.ts";
import type { BusBatch } from "./src/protocol/bus.ts";
import { lastSeqOf, pointJson, pointSeries } from "./src/protocol/bus_decode.ts";
import {
  type AcceptOptions,
  type Client,
  type ClientOptions,
  type ClientTransport,
  effectiveSeries,
  selectSeries,
} from "./src/hub/client.ts";
import { SlowClients } from "./src/hub/slow_clients.ts";
import { SeriesListBroadcast } from "./src/hub/series_list.ts";
import type { BridgeStats } from "./src/protocol/stats.ts";
import type { ResumeRequest } from "./src/protocol/resume.ts";
import {
  acceptWebSocket,
  type ClientMessageLimits,
  type WebSocketHub,
} from "./src/http/websocket.ts";

// Re-exported while tests and other branches move to the new modules.
export type { AcceptOptions, BridgeStats, Client, ClientOptions, ClientTransport, ResumeRequest };
export { effectiveSeries } from "./src/hub/client.ts";
export { CLOSE_SLOW_CLIENT } from "./src/hub/slow_clients.ts";
export { CLOSE_MESSAGE_FLOOD } from "./src/http/websocket.ts";
export { resumeFromUrl } from "./src/protocol/resume.ts";

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
  /**
   * Unsent bytes all clients together may have queued; over it, the clients with the most queued
   * are held back (`src/hub/budget.ts`). Default: no budget.
   */
  clientsBufferBudget?: number;
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
   * restarted without its state; see `src/sources/forwarder_link.ts`). The bridge stops receiving before that
   * point: seqs of two epochs do not compare, so the caller starts a fresh bridge.
   */
  onEpochChange?: (epoch: string, seq: number) => void;
}

/** Clients held back by gaps get at most one reset snapshot per this many ms. */
const GAP_RESET_INTERVAL_MS = 1000;

/** Longest single timer (setTimeout's limit); longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The subscription to one relay generation's points bus. */
interface BusSubscription {
  sub: zmq.Subscriber;
  /** Settles when the receive loop has ended and the socket is closed. */
  done: Promise<void>;
}

/**
 * A batch taken by {@link WsBridge.ingest}: `follows` says whether its first point directly follows
 * the point before it (seqs derived from a JetStream stream jump between batches by design).
 */
type IngestedBatch = BusBatch & { follows?: boolean };

/** Fans the relay's points out to clients. */
export class WsBridge implements WebSocketHub {
  #current?: BusSubscription;
  #clients = new Set<Client>();
  #epoch = "";
  #lastSeq = 0;
  #batcher: Batcher<BusBatch>;
  #history: History;
  #units = new SeriesUnits();
  #decimated: DecimatedStreams;
  /** History frames for clients, reset snapshots cached by series set. */
  #historyFrames: HistoryFrameCache;
  #rateLog = new RateLimitedLog(5000);
  #slow: SlowClients;
  #seriesList: SeriesListBroadcast;
  #onEpochChange?: (epoch: string, seq: number) => void;
  /** Limits on what each WebSocket client may send (`src/http/websocket.ts`). */
  readonly messageLimits: ClientMessageLimits;
  #stats = {
    connectionsTotal: 0,
    pointsSent: 0,
    framesSent: 0,
    pointsReceived: 0,
    pointsDroppedSlow: 0,
    resumesExact: 0,
    resumesReset: 0,
    clientProtocolErrors: 0,
    clientsClosedTooBig: 0,
    clientsClosedTokenExpired: 0,
    framesBuilt: 0,
    seqGaps: 0,
    busBatches: 0,
    busInvalid: 0,
    busGaps: 0,
    loopRestarts: 0,
  };
  /** `performance.now()` of the last bus batch or heartbeat (-Infinity: none yet). */
  #lastBusAt = -Infinity;
  /** When the last gap that reset clients came (`performance.now()`). */
  #lastGapAt = -Infinity;
  /** Rounds of sends so far: where the next one starts among the clients. */
  #round = 0;

  constructor(opts: BridgeOptions = {}) {
    this.#batcher = new Batcher((items) => this.#broadcast(items), opts.tickMs ?? 10);
    this.#history = new History(opts.historyPerSeries ?? 1000, opts.maxSeries ?? 1000);
    this.#historyFrames = new HistoryFrameCache(this.#history);
    this.#slow = new SlowClients({
      bound: opts.clientBufferBytes ?? 1024 * 1024,
      timeoutMs: opts.slowClientTimeoutMs ?? 10_000,
      budget: opts.clientsBufferBudget,
      clients: () => this.#clients,
      catchUp: (c) =>
        this.#sendHistory(c, this.#historyFor(c.lastSent, c.series, c.seriesKey ?? "*")),
      end: (c) => this.#end(c),
    });
    this.#seriesList = new SeriesListBroadcast({
      history: this.#history,
      units: this.#units,
      clients: () => this.#clients,
      onSent: () => this.#stats.framesSent++,
    });
    this.#decimated = new DecimatedStreams({
      send: (c, frame, points) => {
        if (c.ended) return;
        // Not charged: a decimated frame is small by its rate, and it goes out on the streams'
        // own timer, outside the rounds the charge bounds.
        if (this.#slow.holdBack(c, performance.now())) {
          this.#stats.pointsDroppedSlow += points;
          return;
        }
        c.transport.send(frame);
        this.#stats.framesSent++;
        this.#stats.pointsSent += points;
      },
    });
    this.messageLimits = {
      messageRate: opts.clientMessageRate ?? CLIENT_MESSAGE_RATE,
      maxMessageBytes: opts.maxMessageBytes ?? MAX_CLIENT_MESSAGE_BYTES,
    };
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
      slowClientsClosed: this.#slow.closedTotal,
      queuedBytes: this.#slow.queuedBytes,
      queuedBytesMax: this.#slow.queuedBytesMax,
      clientsBufferBudget: Number.isFinite(this.#slow.budget) ? this.#slow.budget : 0,
      heldForBudget: this.#slow.heldForBudgetTotal,
      historyPoints: this.#history.size,
      decimatedClients: this.#decimated.clientCount,
      decimatedStreams: this.#decimated.streamCount,
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

  /** Names of the series held in memory (the history API). */
  heldSeriesNames(): string[] {
    return this.#history.seriesNames();
  }

  /** The held points of one series, in seq order (the history API). */
  heldPoints(series: string): readonly HeldPoint[] {
    return this.#history.seriesPoints(series);
  }

  /** Takes units (series -> unit; the relay's, off the bus): `series_list` names them. */
  setUnits(units: Iterable<readonly [string, string]>): void {
    if (this.#units.merge(units)) this.#seriesList.changed();
  }

  /** The last unit seen for `series`, if any. */
  unitOf(series: string): string | undefined {
    return this.#units.get(series);
  }

  /**
   * Fills the history with points loaded from the store (a restart), before any point arrives:
   * `points` in seq order, then every seq up to `upTo` counts as held or lost (after a crash), so
   * a client that resumes into what was lost gets a reset.
   */
  preload(points: readonly { series: string; seq: number; json: string }[], upTo: number): void {
    for (const p of points) this.#history.add(p.series, p.seq, p.json);
    this.#history.skipTo(upTo);
    this.#lastSeq = Math.max(this.#lastSeq, upTo);
    this.#historyFrames.clear();
  }

  /**
   * Follows a (new) relay generation: a fresh subscriber on its bus. Each subscription ends when
   * its relay's end-of-stream arrives, and is closed then (never with a receive pending: that
   * crashes the process under Deno); one whose relay died without it stays idle. An empty `epoch`
   * is learnt from the first point's epoch frame (a gateway, before its forwarder has sent any).
   */
  attach(bus: string, epoch: string, lastSeq: number): void {
    // Counted in bus batches (up to BUS_BATCH_POINTS points each).
    const sub = new zmq.Subscriber({ receiveHighWaterMark: 100 });
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

  /** A batch into the batcher (`follows`: see {@link ingest}). */
  #take(b: BusBatch, follows: boolean): void {
    this.#lastSeq = lastSeqOf(b);
    this.#stats.pointsReceived += b.count;
    this.#stats.busBatches++;
    const taken: IngestedBatch = { ...b, follows };
    this.#batcher.push(taken);
  }

  /** The bus receive loop of one subscription (`src/hub/bus_receiver.ts`). */
  #receive(gen: BusSubscription): Promise<void> {
    return receiveBus(gen.sub, {
      epoch: () => this.#epoch,
      setEpoch: (e) => this.#setEpoch(e),
      epochChanged: (e, firstSeq) => this.#onEpochChange?.(e, firstSeq),
      alive: () => this.#lastBusAt = performance.now(),
      take: (b) => this.#takeBus(b),
      units: (units) => this.setUnits(units),
      invalid: (reason) => {
        this.#stats.busInvalid++;
        this.#rateLog.log("warn", "bridge", "bus-invalid", `dropped bus message: ${reason}`);
      },
      restarted: () => this.#stats.loopRestarts++,
    });
  }

  /** A bus batch with points: a seq jump is counted (never expected), then into the batcher. */
  #takeBus(b: BusBatch): void {
    if (this.#lastSeq > 0 && b.firstSeq > this.#lastSeq + 1) {
      // Never expected on the bus (the relay retries, never drops, a sequenced batch).
      this.#stats.busGaps += b.firstSeq - this.#lastSeq - 1;
      this.#rateLog.log(
        "error",
        "bridge",
        "bus-gap",
        `bus skipped seqs ${this.#lastSeq + 1}..${b.firstSeq - 1}`,
      );
    }
    this.#lastSeq = lastSeqOf(b);
    this.#stats.pointsReceived += b.count;
    this.#stats.busBatches++;
    this.#batcher.push(b);
  }

  /**
   * One tick's bus batches -> history -> one frame per series set -> clients. The cost is per
   * batch (a frame is the batches' bodies joined) plus a slice per point for the history; a point
   * is touched one by one only for clients whose series set splits a mixed batch.
   */
  #broadcast(batches: BusBatch[]): void {
    this.#historyFrames.clear();
    // A new bridge (nothing held yet) joining a stream mid-way is not a loss: its clients have
    // nothing the first points could fail to continue.
    let prev = this.#history.lastSeq > 0 ? this.#history.lastSeq : batches[0].firstSeq - 1;
    let gap = false;
    for (const b of batches) {
      // A batch from ingest() says itself whether its first point follows; the bus's go by seq.
      const first = (b as IngestedBatch).follows;
      if (first === undefined ? b.firstSeq !== prev + 1 : !first) gap = true;
      prev = lastSeqOf(b);
      for (let i = 0; i < b.count; i++) {
        this.#history.add(
          pointSeries(b, i),
          b.firstSeq + i,
          pointJson(b, i),
          i === 0 ? first : undefined,
        );
      }
    }
    if (gap) this.#noteGap(batches[0].firstSeq);
    this.#seriesList.changed();
    const last = lastSeqOf(batches[batches.length - 1]);
    // Built lazily, once per tick: one frame per series set (src/hub/tick_frames.ts).
    const frames = new TickFrames(batches, () => this.#stats.framesBuilt++);
    const now = performance.now();
    this.#slow.measure();
    // Each round starts one client further on: when the budget holds back the rest of a round,
    // it is never the same clients (src/hub/slow_clients.ts).
    const clients = [...this.#clients];
    const start = clients.length > 0 ? this.#round++ % clients.length : 0;
    for (let k = 0; k < clients.length; k++) {
      const c = clients[(start + k) % clients.length];
      if (c.rate !== undefined) {
        // Decimated (below); what it has seen goes on, for a catch-up from history.
        if (c.slowSince === undefined) c.lastSent = last;
        continue;
      }
      const out = frames.for(c);
      // A jump in seq (points missed upstream) is never passed on as if nothing happened: the
      // client is held back like a slow one and resumes within 100 ms from history, which cannot
      // vouch for the gap: a reset snapshot (at most one per check, however many gaps).
      if (this.#slow.holdBack(c, now, gap, out.count === 0 ? 0 : out.frame.length)) {
        this.#stats.pointsDroppedSlow += out.count;
        continue;
      }
      c.lastSent = last;
      if (out.count === 0) continue;
      c.transport.send(out.frame);
      this.#stats.framesSent++;
      this.#stats.pointsSent += out.count;
    }
    // The decimated streams: each point once per rate, whatever the number of clients (their
    // frames go out on the streams' own timer).
    this.#decimated.feed(batches);
  }

  #noteGap(firstSeq: number): void {
    this.#stats.seqGaps++;
    // At most one reset per client per GAP_RESET_INTERVAL_MS under a stream of gaps (an
    // overloaded gateway): a reset snapshot is the whole history, sent to every client.
    const now = performance.now();
    if (now - this.#lastGapAt < GAP_RESET_INTERVAL_MS) {
      this.#slow.deferCatchUp(this.#lastGapAt + GAP_RESET_INTERVAL_MS);
    } else this.#lastGapAt = now;
    this.#rateLog.log(
      "warn",
      "bridge",
      "seq-gap",
      `points missed upstream (seq jumped to ${firstSeq}): clients get a reset snapshot`,
    );
  }

  /** The history frames a client needs after `since` (`src/hub/history_frames.ts`). */
  #historyFor(
    since: number | undefined,
    series: ReadonlySet<string> | undefined,
    key: string,
  ): HistoryFrames {
    return this.#historyFrames.for(since, series, key);
  }

  /** Sends a client its history frames; returns their size (UTF-16 code units, about bytes). */
  #sendHistory(c: Client, h: HistoryFrames): number {
    let size = 0;
    for (const f of h.frames) {
      c.transport.send(f);
      size += f.length;
      this.#stats.framesSent++;
    }
    this.#stats.pointsSent += h.points;
    c.lastSent = this.#history.lastSeq;
    return size;
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
    const client: Client = {
      session: crypto.randomUUID(),
      transport,
      lastSent: 0,
      queued: 0,
      allowed: opts.allowed,
      seriesListVersion: this.#seriesList.version,
      expiresAt: opts.expiresAt,
      onClose: opts.onClose,
    };
    selectSeries(client, effectiveSeries(opts.select, opts.allowed));
    const since = resume.epoch === this.#epoch ? resume.since : undefined;
    const history = this.#historyFor(since, client.series, client.seriesKey ?? "*");
    transport.send(helloFrame({
      session: client.session,
      epoch: this.#epoch,
      seq: this.#history.lastSeq,
      resumed: !history.reset,
    }));
    // Within the clients' budget, as any snapshot; over it, the client waits held back and
    // catches up from where it resumes (or with a reset snapshot) once there is room.
    const sent = this.#slow.trySend(client, performance.now(), () => {
      return this.#sendHistory(client, history);
    });
    if (!sent) client.lastSent = history.reset ? -1 : since!;
    transport.send(this.#seriesList.frameFor(client));
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
    if (c.ended) return; // a message read after its end: nothing more is sent to it
    selectSeries(c, effectiveSeries(select, c.allowed));
    this.#decimated.seriesChanged(c);
    this.#sendResetSnapshot(c);
  }

  /**
   * Sends `c` a reset snapshot of its selection now when the clients' budget allows; else (or
   * when it is held back already) its catch-up will be one (no seq is below -1).
   */
  #sendResetSnapshot(c: Client): void {
    const sent = this.#slow.trySend(
      c,
      performance.now(),
      () => this.#sendHistory(c, this.#historyFor(undefined, c.series, c.seriesKey ?? "*")),
    );
    if (!sent) c.lastSent = -1;
  }

  /**
   * Puts a client on a decimated stream of at most `rate` points per second per series (min/max
   * per bucket, `src/hub/decimated.ts`), or back on the exact stream (`null`): then it first gets
   * a reset snapshot of its selection, since what it had were not every point.
   */
  setRate(c: Client, rate: number | null): void {
    if (c.ended) return;
    const was = c.rate;
    this.#decimated.setRate(c, rate ?? undefined);
    if (was === undefined || c.rate !== undefined) return;
    this.#sendResetSnapshot(c);
  }

  /** Forgets a client whose connection ended (the transport's owner calls it, e.g. `/events`). */
  removeClient(c: Client): void {
    this.#end(c);
  }

  /** Distinct series sets of connected clients. */
  get filterCount(): number {
    const keys = new Set<string>();
    for (const c of this.#clients) if (c.seriesKey !== undefined) keys.add(c.seriesKey);
    return keys.size;
  }

  /** Forgets a client once (close, error or refusal): its timer, its slot, its onClose. */
  #end(c: Client): void {
    if (c.ended) return;
    c.ended = true;
    this.#clients.delete(c);
    this.#decimated.remove(c);
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
   * Upgrades `req` to a WebSocket client of the bridge (checks are the caller's job); see
   * `acceptWebSocket` in `src/http/websocket.ts`, which this calls.
   */
  accept(req: Request, opts: AcceptOptions = {}): Response {
    return acceptWebSocket(this, req, opts);
  }

  /** Closes `client` for something it sent (`src/http/websocket.ts`), counted by code. */
  refuse(client: Client, code: number, reason: string): void {
    if (code === CLOSE.message_too_big) this.#stats.clientsClosedTooBig++;
    else this.#stats.clientProtocolErrors++;
    this.#end(client);
    client.transport.close(code, reason);
  }

  /** Closes every client with `code` (1001 "going away" by default). */
  closeClients(code: number = CLOSE.going_away, reason = "server shutting down"): void {
    for (const c of [...this.#clients]) {
      this.#end(c);
      c.transport.close(code, reason);
    }
  }

  /** Closes every client and the bus subscription (after the relay has stopped). */
  async close(): Promise<void> {
    this.closeClients();
    this.#batcher.close();
    this.#slow.close();
    this.#seriesList.close();
    this.#decimated.close();
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
