/**
 * Repro: each server-side WebSocket keeps a buffer the size of the largest frame it was sent.
 *
 *   deno run --allow-net=127.0.0.1 --allow-run --allow-read --allow-env --allow-ffi \
 *     --v8-flags=--expose-gc docs/upstream/deno_ws_write_buffer.ts [clients=2000] [frameBytes=60000]
 *
 * The server accepts `clients` WebSockets (from a child process, so their memory is not counted),
 * sends each one frame of `frameBytes`, and prints its RSS once connected, and after the frames
 * were read, a GC and 20 rounds of 100-byte frames, and after glibc's `malloc_trim(0)` (so memory
 * that is free but not yet returned to the system is not counted). Run it once as is and once with
 * `DENO_USE_WRITEV=1` in the environment: fastwebsockets then writes a large frame with one
 * vectored write instead of copying it into the socket's write buffer, and the growth is gone.
 */
const [role] = Deno.args;
const port = 8791;
if (role === "clients") {
  const n = Number(Deno.args[1]);
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    ws.onmessage = () => {};
    if (i % 200 === 0) await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise(() => {}); // killed by the server's process
}
const n = Number(Deno.args[0] ?? 2000);
const size = Number(Deno.args[1] ?? 60000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = () => `${(Deno.memoryUsage().rss / 1e6).toFixed(0)} MB`;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const sockets: WebSocket[] = [];
let allOpen: () => void = () => {};
const opened = new Promise<void>((r) => allOpen = r);
const server = Deno.serve({ port, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
  const { socket, response } = Deno.upgradeWebSocket(req);
  socket.onopen = () => sockets.push(socket) === n && allOpen();
  return response;
});
const child = new Deno.Command(Deno.execPath(), {
  args: ["run", "--allow-net=127.0.0.1", import.meta.filename!, "clients", String(n)],
}).spawn();
await opened;
await sleep(1000);
gc();
console.log(
  `Deno ${Deno.version.deno}, DENO_USE_WRITEV=${Deno.env.get("DENO_USE_WRITEV") ?? "(unset)"}`,
);
console.log(`${n} clients connected: RSS ${mb()}`);
const big = "x".repeat(size);
for (const s of sockets) s.send(big);
await sleep(3000);
for (let r = 0; r < 20; r++) {
  for (const s of sockets) s.send("y".repeat(100));
  await sleep(50);
}
await sleep(1000);
gc();
console.log(`after one ${size}-byte frame to each, GC and small frames: RSS ${mb()}`);
try {
  const libc = Deno.dlopen(`/lib/${Deno.build.arch}-linux-gnu/libc.so.6`, {
    malloc_trim: { parameters: ["usize"], result: "i32" },
  });
  libc.symbols.malloc_trim(0n);
  libc.close();
  console.log(`after malloc_trim(0): RSS ${mb()}`);
} catch (e) {
  console.log(`(no malloc_trim: ${e instanceof Error ? e.message : e})`);
}
child.kill();
await child.status;
await server.shutdown();
