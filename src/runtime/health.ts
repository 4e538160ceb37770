/**
 * What `/healthz` says about the data path. `ok` means points flow, or the path is idle and proven
 * alive: the relay probes its own ingress every second and, when idle, the probe reaches the bridge
 * as a bus heartbeat (`protocol/bus.ts`). So a bus that has been silent for a few seconds means a
 * stage is stuck, whatever the reason, and the answer is 503 with that reason. Pure: no I/O.
 *
 * @module
 */

/** How long the bus may stay silent (no batch, no heartbeat) before the path counts as stalled. */
export const STALL_AFTER_MS = 3000;

/** What {@link assessHealth} looks at. */
export interface HealthInput {
  /** Whether the relay worker is up (false between a crash and its restart). */
  relayUp: boolean;
  /** Ms since the bridge last got a bus batch or heartbeat (`null`: none yet). */
  busIdleMs: number | null | undefined;
  /** Ms since the server started (the first heartbeat takes up to a second). */
  uptimeMs: number;
  /** Validated points waiting for the bus (as last reported by the relay). */
  pending?: number;
}

/** The verdict: ok, or the reason it is not. */
export type Health = { ok: true } | { ok: false; status: "down" | "stalled"; reason: string };

/** Decides what `/healthz` answers (see the module doc). */
export function assessHealth(h: HealthInput): Health {
  if (!h.relayUp) {
    return { ok: false, status: "down", reason: "relay worker down (restarting)" };
  }
  const idle = h.busIdleMs ?? (h.uptimeMs > STALL_AFTER_MS ? h.uptimeMs : 0);
  if (idle > STALL_AFTER_MS) {
    const waiting = h.pending ? `; ${h.pending} points waiting` : "";
    return {
      ok: false,
      status: "stalled",
      reason: `no points or heartbeat from the relay for ${(idle / 1000).toFixed(1)} s${waiting}`,
    };
  }
  return { ok: true };
}
