/**
 * Where a connecting client says it stopped: `?since=<seq>&epoch=<id>` on `/ws` (and `/events`,
 * which also reads event ids: `src/http/sse.ts`). The bridge resumes exactly from there when it still
 * holds the points of that epoch, else it sends a reset snapshot.
 *
 * @module
 */

/** Where a connecting client says it stopped (from `/ws?since=<seq>&epoch=<id>`). */
export interface ResumeRequest {
  /** Last seq the client had. */
  since?: number;
  /** Epoch of that seq. */
  epoch?: string;
}

/** Reads `since` and `epoch` from a `/ws` URL; malformed values are ignored (a fresh start). */
export function resumeFromUrl(url: URL): ResumeRequest {
  const since = url.searchParams.get("since");
  const epoch = url.searchParams.get("epoch");
  const out: ResumeRequest = {};
  if (since !== null && /^\d{1,15}$/.test(since)) out.since = Number(since);
  if (epoch !== null && epoch.length <= 64) out.epoch = epoch;
  return out;
}
