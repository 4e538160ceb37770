/**
 * A gateway's side of the JetStream backbone: follows the stream and hands every batch, with the
 * seqs derived from its stream sequence (`codec.ts`), to the bridge.
 *
 * - **Starts full**: it reads the stream from its first retained message (the stream's
 *   per-subject limit keeps the last `--nats-keep` batches of each series, so that is the held
 *   history) and reports `ready` once it has caught up with the stream's last sequence as of
 *   its start; the gateway serves only then.
 * - **Stays whole**: an ordered consumer (ephemeral, flow-controlled, heartbeats) that the client
 *   recreates from the last sequence delivered after a reconnect, a lost consumer or a cluster
 *   node's failure. The follower also starts it again itself from the last sequence it holds if
 *   consumption ends. A batch whose stream sequence does not follow the previous one is passed
 *   on as not following (`follows: false`): the bridge's history then knows it cannot vouch for
 *   what lies between (deleted by the stream's limits before this gateway read it).
 * - **Epoch**: the stream's creation time; a watchdog looks at the stream every few seconds, and
 *   when it was deleted and made again, `onEpoch` is called and reading starts over.
 *
 * @module
 */
import { DeliverPolicy, jetstream, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { NatsConfig } from "./config.ts";
import { decodeBatch, epochOfStream, seriesOfSubject } from "./codec.ts";
import { manager, waitForStream } from "./stream.ts";
import { errorMessage, log, RateLimitedLog } from "../runtime/log.ts";
import type { BusBatch } from "../protocol/bus.ts";

/** One message's points, as the bridge takes them. */
export interface FollowedBatch {
  /** The points, seqs derived from the stream sequence (`codec.ts`). */
  batch: BusBatch;
  /** Whether the first point directly follows the previous batch (no stream sequence between). */
  follows: boolean;
}

/** Counters and state of a follower. */
export interface FollowerStats {
  epoch: string;
  /** Whether the history had been loaded (the gateway serves). */
  ready: boolean;
  /** Last stream sequence handed on. */
  streamSeq: number;
  /** The stream's last sequence when the watchdog last looked. */
  streamLastSeq: number;
  batches: number;
  points: number;
  /** Batches that did not follow the previous one (stream messages this gateway never saw). */
  gaps: number;
  /** Messages that were not zws batches (another subject, a bad body): dropped. */
  rejected: number;
  /** Times the consumer was started again after it ended. */
  restarts: number;
  /** Epoch changes seen (the stream was made again). */
  epochChanges: number;
}

/** Options of {@link startFollower}. */
export interface FollowerOptions {
  nc: NatsConnection;
  cfg: NatsConfig;
  /** Every batch, in stream order. */
  onBatch(b: FollowedBatch): void;
  /** The stream was made again: the batches that follow belong to `epoch` (start over). */
  onEpoch(epoch: string): void;
  /** How often the watchdog looks at the stream, in ms (default 1000). */
  watchMs?: number;
  who?: string;
}

/** A running follower. */
export interface Follower {
  /** Settles once the history held at start has been handed on. */
  readonly ready: Promise<void>;
  stats(): FollowerStats;
  close(): Promise<void>;
}

/** Looks the stream up (waiting for it), then follows it (see the module doc). */
export async function startFollower(opts: FollowerOptions): Promise<Follower> {
  const who = opts.who ?? "nats";
  const stop = new AbortController();
  const jsm: JetStreamManager = await manager(opts.nc, who, stop.signal);
  let info = await waitForStream(jsm, opts.cfg, who, stop.signal);
  const js = jetstream(opts.nc);
  const rate = new RateLimitedLog(10_000);
  const stats: FollowerStats = {
    epoch: epochOfStream(info.created),
    ready: false,
    streamSeq: 0,
    streamLastSeq: info.state.last_seq,
    batches: 0,
    points: 0,
    gaps: 0,
    rejected: 0,
    restarts: 0,
    epochChanges: 0,
  };
  let created = info.created;
  let target = info.state.last_seq;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => markReady = r);
  const checkReady = () => {
    if (!stats.ready && stats.streamSeq >= target) {
      stats.ready = true;
      markReady();
    }
  };
  checkReady();
  let current: { close(): Promise<void | Error> } | undefined;
  let restart = false;
  let stalled = 0;
  let seenAt = -1;

  const readOnce = async () => {
    const consumer = await js.consumers.get(opts.cfg.stream, {
      ...(stats.streamSeq > 0
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: stats.streamSeq + 1 }
        : { deliver_policy: DeliverPolicy.All }),
    });
    // Heartbeats every 2.5 s: the client notices a lost consumer by itself too.
    const messages = await consumer.consume({ max_messages: 512, expires: 5000 });
    current = messages;
    if (stop.signal.aborted || restart) {
      await messages.close();
      return;
    }
    for await (const m of messages) {
      if (m.seq <= stats.streamSeq) continue;
      const follows = m.seq === stats.streamSeq + 1;
      stats.streamSeq = m.seq;
      const series = seriesOfSubject(opts.cfg.subjectPrefix, m.subject);
      const batch = series === undefined
        ? undefined
        : decodeBatch(m.data, m.seq, series, stats.epoch);
      if (!batch) {
        stats.rejected++;
        rate.log("warn", who, "bad-message", `ignored stream message ${m.seq} on ${m.subject}`);
      } else {
        if (!follows) stats.gaps++;
        stats.batches++;
        stats.points += batch.count;
        opts.onBatch({ batch, follows });
      }
      if (!stats.ready && (m.info.pending === 0 || m.seq >= target)) {
        stats.ready = true;
        markReady();
      }
    }
  };

  const loop = (async () => {
    while (!stop.signal.aborted) {
      restart = false;
      try {
        await readOnce();
      } catch (err) {
        if (stop.signal.aborted) break;
        rate.log("warn", who, "consume", `reading stream ${opts.cfg.stream}: ${errorMessage(err)}`);
      }
      if (stop.signal.aborted) break;
      stats.restarts++;
      await new Promise((r) => setTimeout(r, 250));
    }
  })();

  const watchdog = setInterval(async () => {
    try {
      info = await jsm.streams.info(opts.cfg.stream);
    } catch (err) {
      rate.log("warn", who, "watch", `stream ${opts.cfg.stream}: ${errorMessage(err)}`);
      return;
    }
    stats.streamLastSeq = info.state.last_seq;
    // Behind the stream and no progress since the last look, twice: the consumer is stuck (its
    // server went away and the client has not noticed yet). Start it again from what we hold.
    if (info.created === created && info.state.last_seq > stats.streamSeq) {
      stalled = stats.streamSeq === seenAt ? stalled + 1 : 0;
      seenAt = stats.streamSeq;
      if (stalled >= 2) {
        stalled = 0;
        rate.log(
          "warn",
          who,
          "stalled",
          `consumer stalled at stream seq ${stats.streamSeq}; restarting it`,
        );
        restart = true;
        await current?.close();
      }
    } else stalled = 0;
    if (info.created !== created) {
      created = info.created;
      const epoch = epochOfStream(created);
      log(
        "warn",
        who,
        `stream ${opts.cfg.stream} was made again: epoch ${stats.epoch} -> ${epoch}`,
      );
      stats.epoch = epoch;
      stats.epochChanges++;
      stats.streamSeq = 0;
      target = 0;
      opts.onEpoch(epoch);
      restart = true;
      await current?.close();
    }
  }, opts.watchMs ?? 1000);

  return {
    ready,
    stats: () => ({ ...stats }),
    async close() {
      stop.abort();
      clearInterval(watchdog);
      await current?.close();
      await loop;
    },
  };
}
