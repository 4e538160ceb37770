/**
 * The relay's counters across its Worker's restarts (`supervisor.ts`): what earlier generations
 * counted is carried, so the totals `/metrics` shows never go back. Pure.
 *
 * @module
 */
import type { RelayStats } from "./worker_messages.ts";

/** Counters of a generation that counted nothing yet (copy it: `structuredClone`). */
export const EMPTY_STATS: RelayStats = { messages: 0, points: 0, rejected: {}, lastSeq: 0 };

/** Adds a generation's last counters `s` (its worker died) to `carried`, in place. */
export function carryStats(carried: RelayStats, s: RelayStats): void {
  carried.messages += s.messages;
  carried.points += s.points;
  carried.producersRefused = (carried.producersRefused ?? 0) +
    (s.producersRefused ?? 0);
  carried.loopRestarts = (carried.loopRestarts ?? 0) + (s.loopRestarts ?? 0);
  carried.busWaitMs = (carried.busWaitMs ?? 0) + (s.busWaitMs ?? 0);
  if (s.ingress) {
    carried.ingress = { ...sumIngress(carried.ingress, s.ingress), connections: 0 };
  }
  for (const [k, v] of Object.entries(s.rejected) as [keyof RelayStats["rejected"], number][]) {
    carried.rejected[k] = (carried.rejected[k] ?? 0) + v;
  }
}

/**
 * The totals over every generation: `carried` plus the current one's `s` (its gauges and its
 * store state are the current generation's alone).
 */
export function totalStats(carried: RelayStats, s: RelayStats): RelayStats {
  const rejected = { ...carried.rejected };
  for (const [k, v] of Object.entries(s.rejected) as [keyof RelayStats["rejected"], number][]) {
    rejected[k] = (rejected[k] ?? 0) + v;
  }
  return {
    messages: carried.messages + s.messages,
    points: carried.points + s.points,
    rejected,
    lastSeq: s.lastSeq,
    producersRefused: (carried.producersRefused ?? 0) + (s.producersRefused ?? 0),
    pending: s.pending ?? 0,
    loopRestarts: (carried.loopRestarts ?? 0) + (s.loopRestarts ?? 0),
    busWaitMs: (carried.busWaitMs ?? 0) + (s.busWaitMs ?? 0),
    ...(s.ingress || carried.ingress ? { ingress: sumIngress(carried.ingress, s.ingress) } : {}),
    // The current generation's store state (a restarted worker reopens the store).
    ...(s.persist ? { persist: s.persist } : {}),
  };
}

type IngressStats = NonNullable<RelayStats["ingress"]>;

/** The plain ingress's counters of earlier workers plus the current one's (its open connections). */
function sumIngress(
  carried: IngressStats | undefined,
  now: IngressStats | undefined,
): IngressStats {
  return {
    connections: now?.connections ?? 0,
    accepted: (carried?.accepted ?? 0) + (now?.accepted ?? 0),
    protocolErrors: (carried?.protocolErrors ?? 0) + (now?.protocolErrors ?? 0),
    refused: (carried?.refused ?? 0) + (now?.refused ?? 0),
  };
}
