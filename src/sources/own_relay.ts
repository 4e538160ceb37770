/**
 * The single process's source: its own relay in a Worker (`relay.ts`, supervised by
 * `src/relay/supervisor.ts`), restarted when it dies, continuing the same epoch and seq. On the
 * first start the bridge gets the history the store kept.
 *
 * @module
 */
import type { Config } from "../config/config.ts";
import type { Secrets } from "../config/secrets.ts";
import { RelaySupervisor } from "../relay/supervisor.ts";
import { assessHealth } from "../runtime/health.ts";
import { log } from "../runtime/log.ts";
import type { DataSource, NewBridge, SourceBridge } from "./source.ts";

/** Series the store loads at most on a first start (the bridge's history holds as many). */
const MAX_SERIES_LOADED = 1000;

/** Options of {@link startOwnRelay}. */
export interface OwnRelayOptions<B extends SourceBridge> {
  config: Config;
  secrets: Secrets;
  newBridge: NewBridge<B>;
  /** The relay worker module (`relay.ts`). */
  workerUrl: URL;
  /** `performance.now()` at the server's start (`/healthz` allows a start-up grace). */
  startedAt: number;
}

/** Starts the relay worker and its bridge; rejects (ingress not bound) with the relay's message. */
export async function startOwnRelay<B extends SourceBridge>(
  opts: OwnRelayOptions<B>,
): Promise<DataSource<B>> {
  const { config, secrets } = opts;
  const bridge = opts.newBridge();
  const relay = new RelaySupervisor({
    relay: {
      ingress: config.ingress,
      maxMessageBytes: config.maxMessageBytes,
      nativeIngress: config.nativeIngress,
      xWindowMs: config.xWindow * 1000,
      demo: config.demo,
      logLevel: config.logLevel,
      persist: {
        dataDir: config.dataDir,
        retention: config.retention,
        history: config.history,
        maxSeries: MAX_SERIES_LOADED,
      },
      ...(secrets.curve
        ? { curve: { secretKey: secrets.curve.secretKey, allow: secrets.curve.allow } }
        : {}),
    },
    onReady: (r, generation) => {
      // First start: the history the store kept (a restart continues where it stopped).
      if (generation === 1 && r.held) bridge.preload(r.held, r.lastSeq);
      if (r.units) bridge.setUnits(r.units);
      bridge.attach(r.bus, r.epoch, r.lastSeq);
      if (generation > 1) log("info", "relay", `worker restarted (generation ${generation})`);
    },
    lastSeqSeen: () => bridge.lastSeq,
    workerUrl: opts.workerUrl,
  });
  let ingress: string;
  try {
    ingress = (await relay.start()).ingress;
  } catch (err) {
    await bridge.close();
    throw err;
  }
  return {
    bridge,
    from: `ingress ${ingress}`,
    ingress,
    http: {},
    health: () =>
      assessHealth({
        relayUp: relay.up,
        busIdleMs: bridge.stats().busIdleMs,
        uptimeMs: performance.now() - opts.startedAt,
        pending: relay.pending,
      }),
    relayStats: () => relay.stats(),
    storeRange: (q) => relay.range(q),
    relayRestarts: () => relay.restarts,
    injectFault: (loop, kind) => relay.postToWorker({ type: "fault", loop, kind }),
    stop: async () => {
      await relay.stop();
      await bridge.close();
    },
  };
}
