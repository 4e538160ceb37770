/**
 * A relay's side of the JetStream backbone: validated points in, one JetStream message per batch
 * of one series out (`codec.ts`), acknowledged by the stream.
 *
 * - **Batches, in order**: each series has at most one batch awaiting its ack; its points gather
 *   meanwhile (up to {@link MAX_BATCH_POINTS} / ~60 KiB a batch) and go out as the next one. So
 *   batches grow with the round trip (the busier, the bigger), and a series' points land in the
 *   stream in the order they came, retries included. An idle series' first point waits at most
 *   `lingerMs`.
 * - **Backpressure, bounded**: at most `maxInFlight` publishes (one per series) await their ack at
 *   once; points queued or in flight are bounded by `maxPendingPoints`: a point over it is shed
 *   and counted (`pointsShed`), so a slow or absent NATS never wedges the relay nor grows its
 *   memory.
 * - **No duplicates on retry**: each batch carries a message id (`Nats-Msg-Id`, this relay's
 *   random id and a counter); a publish that failed or timed out is retried with the same id
 *   (JetStream drops the copy it may already hold) for up to `retryForMs`, then shed and counted.
 *
 * @module
 */
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { encodeBatch, MAX_BATCH_POINTS, subjectFor } from "./codec.ts";
import { errorMessage, RateLimitedLog } from "../runtime/log.ts";

/** Options of {@link JetStreamPublisher}. */
export interface PublisherOptions {
  /** Subject prefix (`NatsConfig.subjectPrefix`). */
  subjectPrefix: string;
  /** Points queued or in flight at most; beyond, points are shed and counted. */
  maxPendingPoints: number;
  /** Publishes awaiting an ack at most, over all series (default 64). */
  maxInFlight?: number;
  /** Longest time an idle series' first point waits for more, in ms (default 2). */
  lingerMs?: number;
  /** How long a failing batch is retried before it is shed, in ms (default 30,000). */
  retryForMs?: number;
  /** Ack timeout of one publish, in ms (default 5,000). */
  ackTimeoutMs?: number;
}

/** Counters of a publisher. */
export interface PublisherStats {
  /** Points acknowledged by the stream. */
  pointsPublished: number;
  /** Messages (batches) acknowledged. */
  batchesPublished: number;
  /** Points shed: the pending bound was full, or a batch failed for `retryForMs`. */
  pointsShed: number;
  /** Publishes tried again after a failure or timeout. */
  retries: number;
  /** Acks that said the stream already held the message (a retry whose first try landed). */
  duplicates: number;
  /** Points queued or awaiting their ack now. */
  pendingPoints: number;
  /** Publishes awaiting their ack now. */
  inFlight: number;
  /** Stream sequence of the last ack. */
  lastStreamSeq: number;
}

interface Batch {
  subject: string;
  payload: Uint8Array;
  points: number;
  msgID: string;
  firstTry: number;
}

/** One series: the points gathering, batches sealed behind the one awaiting its ack. */
interface SeriesState {
  subject: string;
  bodies: string[];
  bytes: number;
  sealed: Batch[];
  inFlight?: Batch;
  /** Queued in `#ready` (its next batch may go out). */
  ready: boolean;
}

const MAX_BATCH_BYTES = 60 * 1024;

/** Publishes points into the stream in acknowledged batches (see the module doc). */
export class JetStreamPublisher {
  #js: JetStreamClient;
  #opts: Required<PublisherOptions>;
  #id = crypto.randomUUID().slice(0, 12);
  #counter = 0;
  #series = new Map<string, SeriesState>();
  /** Series with something to send and nothing in flight, oldest first. */
  #ready: SeriesState[] = [];
  #timer?: ReturnType<typeof setTimeout>;
  #retryTimers = new Set<ReturnType<typeof setTimeout>>();
  #closed = false;
  #idle?: () => void;
  #rate = new RateLimitedLog(5000);
  /** Called when a publish finds no stream (deleted): the relay makes it again. */
  onMissingStream?: () => void;
  #stats: PublisherStats = {
    pointsPublished: 0,
    batchesPublished: 0,
    pointsShed: 0,
    retries: 0,
    duplicates: 0,
    pendingPoints: 0,
    inFlight: 0,
    lastStreamSeq: 0,
  };

  constructor(nc: NatsConnection, opts: PublisherOptions, private readonly who = "relay") {
    this.#js = jetstream(nc);
    this.#opts = {
      maxInFlight: 64,
      lingerMs: 2,
      retryForMs: 30_000,
      ackTimeoutMs: 5000,
      ...opts,
    };
  }

  /** Counters (a copy). */
  stats(): PublisherStats {
    return { ...this.#stats };
  }

  /** Adds a point (its body, see `codec.ts`' `pointBody`); sheds it when the bound is full. */
  add(series: string, body: string): void {
    if (this.#closed) return;
    if (this.#stats.pendingPoints >= this.#opts.maxPendingPoints) {
      this.#stats.pointsShed++;
      this.#rate.log(
        "warn",
        this.who,
        "nats-shed",
        `shedding points: ${this.#stats.pendingPoints} wait for NATS (--nats-max-pending); ` +
          `${this.#stats.pointsShed} shed so far`,
      );
      return;
    }
    this.#stats.pendingPoints++;
    let st = this.#series.get(series);
    if (!st) {
      st = {
        subject: subjectFor(this.#opts.subjectPrefix, series),
        bodies: [],
        bytes: 0,
        sealed: [],
        ready: false,
      };
      this.#series.set(series, st);
    }
    st.bodies.push(body);
    st.bytes += body.length + 1;
    if (st.bodies.length >= MAX_BATCH_POINTS || st.bytes >= MAX_BATCH_BYTES) this.#seal(st);
    if (!st.inFlight) this.#timer ??= setTimeout(() => this.flush(), this.#opts.lingerMs);
  }

  /** Sends what gathered now (series with a batch awaiting its ack keep gathering). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const st of this.#series.values()) {
      if (!st.inFlight && st.bodies.length > 0) this.#seal(st);
    }
    this.#pump();
  }

  #seal(st: SeriesState): void {
    if (st.bodies.length === 0) return;
    st.sealed.push({
      subject: st.subject,
      payload: encodeBatch(st.bodies),
      points: st.bodies.length,
      msgID: `${this.#id}-${++this.#counter}`,
      firstTry: 0,
    });
    st.bodies = [];
    st.bytes = 0;
    if (!st.inFlight && !st.ready) {
      st.ready = true;
      this.#ready.push(st);
    }
  }

  #pump(): void {
    while (this.#stats.inFlight < this.#opts.maxInFlight && this.#ready.length > 0) {
      const st = this.#ready.shift()!;
      st.ready = false;
      const b = st.sealed.shift();
      if (!b) continue;
      st.inFlight = b;
      this.#stats.inFlight++;
      this.#send(st, b);
    }
    if (this.#stats.pendingPoints === 0) this.#idle?.();
  }

  /** After a series' batch is done (acked or shed): its next one, or what gathered meanwhile. */
  #next(st: SeriesState): void {
    st.inFlight = undefined;
    this.#stats.inFlight--;
    if (st.sealed.length === 0 && st.bodies.length > 0) this.#seal(st);
    else if (st.sealed.length > 0 && !st.ready) {
      st.ready = true;
      this.#ready.push(st);
    }
    this.#pump();
  }

  #send(st: SeriesState, b: Batch): void {
    b.firstTry ||= performance.now();
    this.#js.publish(b.subject, b.payload, {
      msgID: b.msgID,
      timeout: this.#opts.ackTimeoutMs,
    }).then((ack) => {
      this.#stats.pendingPoints -= b.points;
      if (ack.duplicate) this.#stats.duplicates++;
      else {
        this.#stats.batchesPublished++;
        this.#stats.pointsPublished += b.points;
      }
      this.#stats.lastStreamSeq = Math.max(this.#stats.lastStreamSeq, ack.seq);
      this.#next(st);
    }, (err) => {
      if (this.#closed || performance.now() - b.firstTry > this.#opts.retryForMs) {
        this.#stats.pendingPoints -= b.points;
        this.#stats.pointsShed += b.points;
        this.#rate.log(
          "error",
          this.who,
          "nats-publish-shed",
          `dropped a batch of ${b.points} points after retrying it: ${errorMessage(err)}`,
        );
        this.#next(st);
        return;
      }
      this.#stats.retries++;
      if (/no responders|stream not found|not enabled|503/i.test(errorMessage(err))) {
        this.onMissingStream?.();
      }
      this.#rate.log(
        "warn",
        this.who,
        "nats-publish",
        `publish to ${b.subject} failed: ${errorMessage(err)}; retrying`,
      );
      // The same batch again (same message id: no duplicate if the first try landed); the
      // series' later points wait behind it, so they stay in order.
      const t = setTimeout(() => {
        this.#retryTimers.delete(t);
        if (this.#closed) return;
        this.#send(st, b);
      }, 250);
      this.#retryTimers.add(t);
    });
  }

  /** Flushes, waits (at most `timeoutMs`) for every pending ack, then stops taking points. */
  async close(timeoutMs = 2000): Promise<void> {
    this.flush();
    if (this.#stats.pendingPoints > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((r) => this.#idle = r),
        new Promise<void>((r) => timer = setTimeout(r, timeoutMs)),
      ]);
      clearTimeout(timer);
    }
    this.#closed = true;
    for (const t of this.#retryTimers) clearTimeout(t);
    this.#retryTimers.clear();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stats.pointsShed += this.#stats.pendingPoints;
    this.#stats.pendingPoints = 0;
    this.#series.clear();
    this.#ready = [];
  }
}
