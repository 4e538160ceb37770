/**
 * A relay's side of the JetStream backbone: validated points in, one JetStream message per batch
 * of one series out (`codec.ts`), acknowledged by the stream.
 *
 * - **Batches**: points of a series gather for at most `lingerMs` (or {@link MAX_BATCH_POINTS} /
 *   ~60 KiB), then go out as one message on the series' subject.
 * - **Backpressure, bounded**: at most `maxInFlight` publishes await their ack at once; batches
 *   beyond wait in a queue. Points queued or in flight are bounded by `maxPendingPoints`: a point
 *   over it is shed and counted (`shed`), so a slow or absent NATS never wedges the relay nor
 *   grows its memory.
 * - **No duplicates on retry**: each batch carries a message id (`Nats-Msg-Id`, this relay's
 *   random id and a counter); a publish that failed or timed out is retried with the same id
 *   (JetStream drops the copy it may already hold) for up to `retryForMs`, then shed and counted.
 *   While a retry is pending no new batch starts, so batches of a series stay in order.
 *
 * @module
 */
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { encodeBatch, MAX_BATCH_POINTS, subjectFor } from "./codec.ts";
import { errorMessage, RateLimitedLog } from "../log.ts";

/** Options of {@link JetStreamPublisher}. */
export interface PublisherOptions {
  /** Subject prefix (`NatsConfig.subjectPrefix`). */
  subjectPrefix: string;
  /** Points queued or in flight at most; beyond, points are shed and counted. */
  maxPendingPoints: number;
  /** Publishes awaiting an ack at most (default 64). */
  maxInFlight?: number;
  /** Longest time a batch waits for more points, in ms (default 5). */
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

const MAX_BATCH_BYTES = 60 * 1024;

/** Publishes points into the stream in acknowledged batches (see the module doc). */
export class JetStreamPublisher {
  #js: JetStreamClient;
  #opts: Required<PublisherOptions>;
  #id = crypto.randomUUID().slice(0, 12);
  #counter = 0;
  #open = new Map<string, { bodies: string[]; bytes: number }>();
  #queue: Batch[] = [];
  #timer?: ReturnType<typeof setTimeout>;
  #retrying = false;
  #retryTimer?: ReturnType<typeof setTimeout>;
  #closed = false;
  #idle?: () => void;
  #rate = new RateLimitedLog(5000);
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
      lingerMs: 5,
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
    let open = this.#open.get(series);
    if (!open) {
      open = { bodies: [], bytes: 0 };
      this.#open.set(series, open);
    }
    open.bodies.push(body);
    open.bytes += body.length + 1;
    if (open.bodies.length >= MAX_BATCH_POINTS || open.bytes >= MAX_BATCH_BYTES) {
      this.#seal(series, open);
      this.#pump();
    } else {
      this.#timer ??= setTimeout(() => this.flush(), this.#opts.lingerMs);
    }
  }

  /** Sends every open batch now. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const [series, open] of this.#open) this.#seal(series, open);
    this.#pump();
  }

  #seal(series: string, open: { bodies: string[]; bytes: number }): void {
    this.#open.delete(series);
    if (open.bodies.length === 0) return;
    this.#queue.push({
      subject: subjectFor(this.#opts.subjectPrefix, series),
      payload: encodeBatch(open.bodies),
      points: open.bodies.length,
      msgID: `${this.#id}-${++this.#counter}`,
      firstTry: 0,
    });
  }

  #pump(): void {
    while (!this.#retrying && this.#stats.inFlight < this.#opts.maxInFlight) {
      const b = this.#queue.shift();
      if (!b) break;
      this.#send(b);
    }
    if (this.#stats.pendingPoints === 0 && this.#open.size === 0) this.#idle?.();
  }

  #send(b: Batch): void {
    this.#stats.inFlight++;
    b.firstTry ||= performance.now();
    this.#js.publish(b.subject, b.payload, {
      msgID: b.msgID,
      timeout: this.#opts.ackTimeoutMs,
    }).then((ack) => {
      this.#stats.inFlight--;
      this.#stats.pendingPoints -= b.points;
      if (ack.duplicate) this.#stats.duplicates++;
      else {
        this.#stats.batchesPublished++;
        this.#stats.pointsPublished += b.points;
      }
      this.#stats.lastStreamSeq = Math.max(this.#stats.lastStreamSeq, ack.seq);
      this.#pump();
    }, (err) => {
      this.#stats.inFlight--;
      if (this.#closed || performance.now() - b.firstTry > this.#opts.retryForMs) {
        this.#stats.pendingPoints -= b.points;
        this.#stats.pointsShed += b.points;
        this.#rate.log(
          "error",
          this.who,
          "nats-publish-shed",
          `dropped a batch of ${b.points} points after retrying it: ${errorMessage(err)}`,
        );
        this.#pump();
        return;
      }
      this.#stats.retries++;
      this.#rate.log(
        "warn",
        this.who,
        "nats-publish",
        `publish to ${b.subject} failed: ${errorMessage(err)}; retrying`,
      );
      // Hold new batches back until this one is in: they would overtake it.
      this.#retrying = true;
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        this.#retrying = false;
        this.#send(b);
        this.#pump();
      }, 250);
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
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#stats.pointsShed += this.#queue.reduce((n, b) => n + b.points, 0);
    this.#queue = [];
  }
}
