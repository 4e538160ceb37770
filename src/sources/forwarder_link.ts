/**
 * A gateway's source (`--upstream`): a forwarder's egress, through the native link of
 * `upstream_link.ts`. When the forwarder restarts without its state (a new epoch), a fresh bridge
 * takes over and the old one's clients are closed with 1012 (they reconnect and start over).
 *
 * @module
 */
import { resumeFromUrl } from "../protocol/resume.ts";
import { CLOSE } from "../protocol/close_codes.ts";
import { log } from "../runtime/log.ts";
import { startUpstream, waitUntilHeld } from "./upstream_link.ts";
import { bridgeRelayStats, type DataSource, type NewBridge, type SourceBridge } from "./source.ts";

/** How long a gateway holds a resuming client back until it holds the client's last point. */
export const RESUME_WAIT_MS = 2000;

/** A gateway's wait before an upgrade: until `bridge()` holds the client's resume point. */
export function resumeWait(bridge: () => SourceBridge): (req: Request) => Promise<void> {
  return (req) =>
    waitUntilHeld(
      resumeFromUrl(new URL(req.url)),
      () => ({ epoch: bridge().epoch, heldSeq: bridge().heldSeq }),
      RESUME_WAIT_MS,
    );
}

/** Follows the forwarder at `endpoint`. */
export async function followForwarder<B extends SourceBridge>(
  endpoint: string,
  newBridge: NewBridge<B>,
): Promise<DataSource<B>> {
  const up = await startUpstream({ endpoint });
  /** Bridges of earlier epochs, closing. */
  const retiring = new Set<Promise<void>>();
  let epochChanges = 0;
  let bridge: B;
  const onEpochChange = (epoch: string, seq: number) => {
    // The forwarder restarted without its state: seqs of the new epoch do not compare with the
    // old ones. A fresh bridge (empty history) takes over; clients of the old one reconnect
    // and get a reset snapshot.
    epochChanges++;
    log("warn", "upstream", `epoch changed ${bridge.epoch} -> ${epoch}: clients start over`);
    const old = bridge;
    bridge = newBridge(onEpochChange);
    bridge.attach(up.bus, epoch, seq - 1);
    old.closeClients(CLOSE.restart, "upstream restarted");
    const closing = old.close().finally(() => retiring.delete(closing));
    retiring.add(closing);
  };
  bridge = newBridge(onEpochChange);
  bridge.attach(up.bus, "", 0); // the epoch comes with the first point
  return {
    get bridge() {
      return bridge;
    },
    from: `upstream ${endpoint}`,
    upstream: endpoint,
    relayStats: () => bridgeRelayStats(bridge),
    relayRestarts: () => 0,
    http: {
      upstream: {
        health: () => {
          const l = up.link();
          return {
            ...l,
            since: new Date(l.since).toISOString(),
            epoch: bridge.epoch || null,
            lastSeq: bridge.lastSeq,
          };
        },
        metrics: () => ({ ...up.link(), epochChanges, linkRestarts: up.restarts() }),
      },
      beforeUpgrade: resumeWait(() => bridge),
    },
    injectFault: () => up.injectFault(),
    stop: async () => {
      const closed = bridge.close();
      await up.close(closed);
      await closed;
      await Promise.all(retiring);
    },
  };
}
