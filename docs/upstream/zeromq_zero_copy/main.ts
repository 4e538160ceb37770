/**
 * npm:zeromq 6.8.0 under Deno 2.9.6: buffers over 128 bytes are sent without a copy (libzmq holds
 * the JavaScript buffer and zeromq.js releases it later from another thread); under Deno that
 * corrupts the heap. A Worker sends 20,000 messages of 1,000 bytes through an inproc
 * XSUB/XPUB proxy to a subscriber in the same Worker, closes its sockets and ends.
 *
 * Run from the project root (it uses the project's node_modules):
 *   deno run -A docs/upstream/zeromq_zero_copy/main.ts              # Uint8Array: zero-copy
 *   ZC_STRINGS=1 deno run -A docs/upstream/zeromq_zero_copy/main.ts # strings: copied
 * Output of 4 runs of each: main.out.txt beside this file.
 */
const w = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
const got = await new Promise((r) => w.onmessage = (e) => r(e.data));
console.log(`${got} messages received`);
await new Promise((r) => setTimeout(r, 300));
console.log("done");
