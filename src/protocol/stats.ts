/**
 * The bridge's counters, as `/metrics` renders them (`src/http/metrics.ts`).
 *
 * @module
 */

/** Counters of the bridge, for `/metrics`. */
export interface BridgeStats {
  /** Clients connected now. */
  clients: number;
  /** Connections accepted since start. */
  connectionsTotal: number;
  /** Points sent, summed over clients. */
  pointsSent: number;
  /** Frames sent, summed over clients. */
  framesSent: number;
  /** Points received from the relay. */
  pointsReceived: number;
  /** Points held back from a slow client (it catches up from history later), summed. */
  pointsDroppedSlow: number;
  /** Clients held back now because their buffer is over the bound. */
  slowClients: number;
  /** Clients closed for staying slow too long. */
  slowClientsClosed: number;
  /** Bytes queued to all clients together, not yet sent (at the last batch). */
  queuedBytes?: number;
  /** The highest `queuedBytes` since start. */
  queuedBytesMax?: number;
  /** The budget for all clients' queued bytes together (0: none). */
  clientsBufferBudget?: number;
  /** Times a client within its own bound was held back because all were over the budget. */
  heldForBudget?: number;
  /** Connections that resumed exactly from their `since`. */
  resumesExact: number;
  /** Connections that got a reset snapshot (new, other epoch, or gap). */
  resumesReset: number;
  /** Points held in the history now. */
  historyPoints: number;
  /** Jumps in seq received (points missed upstream); clients were reset past each. */
  seqGaps: number;
  /** Client connections closed for sending what the server does not accept. */
  clientProtocolErrors: number;
  /** Client connections closed (1009) for sending a message over the size limit. */
  clientsClosedTooBig: number;
  /** Client connections closed (4001) because their token expired. */
  clientsClosedTokenExpired: number;
  /** `points` frames built (one per batch for unfiltered clients, one per series set). */
  framesBuilt: number;
  /** Clients connected now over Server-Sent Events (`/events`; also counted in `clients`). */
  sseClients: number;
  /** Bus batches with points received. */
  busBatches?: number;
  /** Bus messages dropped as malformed. */
  busInvalid?: number;
  /** Seqs missing between consecutive bus batches (expected 0). */
  busGaps?: number;
  /** Times the bus receive loop ended and was restarted. */
  loopRestarts?: number;
  /** Clients that asked for a decimated stream (`{"type":"rate"}`) now. */
  decimatedClients?: number;
  /** Min/max streams built now, one per (series, rate) however many clients share it. */
  decimatedStreams?: number;
  /** Ms since the last bus batch or heartbeat (`null`: none yet). */
  busIdleMs?: number | null;
}
