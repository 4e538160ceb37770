/**
 * The forwarder's state file (`--state-file`, the older way to keep epoch and seq: with
 * `--data-dir` the store keeps them), and the wait for gateways after a clean restart.
 *
 * @module
 */
import { errorMessage, log } from "../runtime/log.ts";
import type { PeerState } from "../zmq/links.ts";

/** What the state file holds (JSON). */
export interface ForwarderState {
  epoch: string;
  lastSeq: number;
  /** True only after a clean stop: then the next run continues this epoch and seq. */
  clean: boolean;
  /**
   * Connections on the egress at the clean stop (gateways, chained forwarders): the next run
   * waits (at most {@link RESUBSCRIBE_WAIT_MS}) for as many to be back before it sequences, so
   * that points are not published to nobody while they resubscribe.
   */
  gateways?: number;
}

/** How long a restarted forwarder waits for its gateways to be back before it sequences. */
export const RESUBSCRIBE_WAIT_MS = 5000;
/** After the last awaited handshake: time for the subscriptions to travel up to the relay's bus. */
const SUBSCRIPTION_SETTLE_MS = 200;

/** Reads a state file; undefined when it does not exist. Throws with the path on bad content. */
export async function readState(path: string): Promise<ForwarderState | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`cannot read state file ${path}: ${errorMessage(err)}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`state file ${path} is not JSON`);
  }
  const s = v as Partial<ForwarderState>;
  if (
    typeof s !== "object" || s === null || typeof s.epoch !== "string" ||
    !/^[\x21-\x7e]{1,64}$/.test(s.epoch) || !Number.isSafeInteger(s.lastSeq) ||
    (s.lastSeq as number) < 0 || typeof s.clean !== "boolean"
  ) {
    throw new Error(`state file ${path} does not hold {"epoch", "lastSeq", "clean"}`);
  }
  const gateways = Number.isSafeInteger(s.gateways) && s.gateways! > 0 ? s.gateways : undefined;
  return {
    epoch: s.epoch,
    lastSeq: s.lastSeq as number,
    clean: s.clean,
    ...(gateways ? { gateways } : {}),
  };
}

/** Writes a state file atomically (a temporary file, then a rename); makes its directory. */
export async function writeState(path: string, state: ForwarderState): Promise<void> {
  const tmp = `${path}.tmp`;
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  try {
    if (dir !== "" && dir !== ".") await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(tmp, JSON.stringify(state) + "\n");
    await Deno.rename(tmp, path);
  } catch (err) {
    throw new Error(`cannot write state file ${path}: ${errorMessage(err)}`);
  }
}

/**
 * After a clean restart: waits until `expected` peers have completed a handshake on the egress
 * (their subscriptions follow at once), plus a moment for those to reach the relay's bus, or
 * until `timeoutMs`. Logs how many came back.
 */
export async function waitForGateways(
  peers: { state(): PeerState },
  expected: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (peers.state().handshakes < expected && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const back = peers.state().handshakes;
  await new Promise((r) => setTimeout(r, SUBSCRIPTION_SETTLE_MS));
  log(
    back >= expected ? "info" : "warn",
    "forwarder",
    `${back} of ${expected} gateway(s) back before sequencing` +
      (back >= expected ? "" : ` (gave up after ${timeoutMs} ms)`),
  );
}
