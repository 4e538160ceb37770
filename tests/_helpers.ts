/**
 * The tests' helpers, by concern in `tests/_support/` (which `bench/` may import too); this file
 * gathers them for tests only.
 *
 * @module
 */
export * from "./_support/async.ts";
export * from "./_support/processes.ts";
export * from "./_support/ws_client.ts";
export * from "./_support/raw_ws.ts";
export * from "./_support/sse_client.ts";
export * from "./_support/zmq.ts";
export * from "./_support/metrics.ts";
export * from "./_support/secrets.ts";
