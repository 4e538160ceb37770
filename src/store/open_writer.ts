/**
 * Opens the store behind a {@link StoreWriter}: the one log line that says how the run continues
 * (a new store, a clean restart, a crash and its lost window, a restarted writer), or why the
 * store could not be opened (the writer then works in memory).
 *
 * @module
 */
import { describeKind, StoreError } from "./errors.ts";
import { PointStore } from "./point_store.ts";
import type { StoreOptions } from "./point_store_options.ts";
import { errorMessage, log } from "../runtime/log.ts";
import { StoreWriter, type WriterOptions } from "./writer.ts";

/**
 * Opens the store in `dataDir` behind a writer; `null`: persistence off (`--no-persist`). A store
 * that cannot be opened is logged in one line and the writer works in memory.
 */
export function openWriter(
  dataDir: string | null,
  storeOpts: StoreOptions,
  writerOpts: WriterOptions = {},
): StoreWriter {
  if (dataDir === null) return new StoreWriter(undefined, writerOpts);
  let store: PointStore;
  try {
    store = PointStore.open(dataDir, storeOpts);
  } catch (err) {
    const e = err instanceof StoreError ? err : new StoreError("io", dataDir, errorMessage(err));
    log(
      "error",
      "store",
      `${describeKind(e.kind)}: ${e.message}; going on in memory (history and seqs are not kept ` +
        `across a restart until this is fixed)`,
    );
    return new StoreWriter(undefined, writerOpts, e);
  }
  const s = store.start;
  log(
    "info",
    "store",
    storeOpts.resume
      ? `writer restarted: epoch ${s.epoch} continues after seq ${s.lastSeq} (${store.path})`
      : s.recovered === "fresh"
      ? `new store ${store.path}, epoch ${s.epoch}`
      : s.recovered === "clean"
      ? `continuing epoch ${s.epoch} after seq ${s.lastSeq} (${store.path})`
      : `the last run did not stop cleanly: epoch ${s.epoch} continues after seq ${s.lastSeq}; ` +
        `points after ${s.lostAfter} were lost (clients resuming from there get a reset)`,
  );
  return new StoreWriter(store, writerOpts);
}
