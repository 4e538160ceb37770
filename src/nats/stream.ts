/**
 * The one JetStream stream of a `--nats` deployment: made (or its limits brought up to date) by
 * relays, looked up by gateways. Waits and retries while JetStream is not answering yet (a
 * cluster without a meta leader, NATS restarting), with one clear log line every 10 s.
 *
 * @module
 */
import {
  DiscardPolicy,
  type JetStreamManager,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import type { NatsConfig } from "./config.ts";
import { errorMessage, RateLimitedLog } from "../runtime/log.ts";

/** How long JetStream remembers a publish's message id, to drop a retried duplicate. */
export const DUPLICATE_WINDOW_MS = 120_000;

/** The stream's settings for `cfg`. */
export function streamConfig(cfg: NatsConfig): Partial<StreamConfig> & { name: string } {
  return {
    name: cfg.stream,
    subjects: [`${cfg.subjectPrefix}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs_per_subject: cfg.keepPerSeries,
    max_age: nanos(cfg.maxAgeSeconds * 1000),
    num_replicas: cfg.replicas,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  };
}

function isNotFound(err: unknown): boolean {
  return /stream not found|10059/i.test(errorMessage(err));
}

/** Runs `fn` until it succeeds, logging failures (rate-limited) as `what`. */
async function retrying<T>(
  who: string,
  what: string,
  fn: () => Promise<T>,
  signal?: AbortSignal,
  permanent: (err: unknown) => boolean = () => false,
): Promise<T> {
  const rate = new RateLimitedLog(10_000);
  for (let attempt = 1;; attempt++) {
    if (signal?.aborted) throw new Error(`stopped while waiting: ${what}`);
    try {
      return await fn();
    } catch (err) {
      if (permanent(err)) throw err;
      rate.log("warn", who, what, `${what}: ${errorMessage(err)} (retrying)`);
      await new Promise((r) => setTimeout(r, Math.min(2000, 250 * attempt)));
    }
  }
}

/** JetStream's manager, once JetStream answers. */
export function manager(nc: NatsConnection, who: string, signal?: AbortSignal) {
  return retrying(who, "JetStream is not available", () => jetstreamManager(nc), signal);
}

/**
 * Makes the stream, or checks an existing one takes our subjects and updates its limits (keep,
 * age). A stream that exists with other subjects is an error (another application's).
 */
export async function ensureStream(
  jsm: JetStreamManager,
  cfg: NatsConfig,
  who: string,
  signal?: AbortSignal,
): Promise<StreamInfo> {
  const want = streamConfig(cfg);
  return await retrying(
    who,
    `cannot set up stream ${cfg.stream}`,
    async () => {
      let info: StreamInfo;
      try {
        info = await jsm.streams.info(cfg.stream);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        return await jsm.streams.add(want);
      }
      const subjects = info.config.subjects ?? [];
      if (!subjects.includes(want.subjects![0])) {
        throw new StreamMismatch(
          `stream ${cfg.stream} exists with subjects ${subjects.join(",")}, not ` +
            `${want.subjects![0]}: pick another --nats-stream or --nats-subject`,
        );
      }
      if (
        info.config.max_msgs_per_subject !== want.max_msgs_per_subject ||
        info.config.max_age !== want.max_age
      ) {
        return await jsm.streams.update(cfg.stream, {
          max_msgs_per_subject: want.max_msgs_per_subject,
          max_age: want.max_age,
        });
      }
      return info;
    },
    signal,
    (err) => err instanceof StreamMismatch,
  );
}

class StreamMismatch extends Error {}

/** The stream's info once it exists (a gateway waits for the first relay to make it). */
export function waitForStream(
  jsm: JetStreamManager,
  cfg: NatsConfig,
  who: string,
  signal?: AbortSignal,
): Promise<StreamInfo> {
  return retrying(
    who,
    `waiting for stream ${cfg.stream} (a relay makes it)`,
    () => jsm.streams.info(cfg.stream),
    signal,
  );
}
