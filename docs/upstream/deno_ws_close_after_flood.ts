/**
 * Deno 2.9.6: a WebSocket server that closes a client (here 1008, as for a message flood) while the
 * client's messages are still arriving loses its close frame: the client sees the connection end
 * without one (code 1006, or 0 in Deno's client), not 1008. With nothing more in flight (N = 41:
 * the close comes after the last message) the close arrives.
 *
 *     deno run --allow-net=127.0.0.1 docs/upstream/deno_ws_close_after_flood.ts [N]
 *
 * The server answers the first 40 messages and closes with 1008 at the 41st; the client sends N at
 * once. Output of 5 runs with N = 41 and with N = 60: `deno_ws_close_after_flood.out.txt`.
 *
 * @module
 */
const n = Number(Deno.args[0] ?? 60);
const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
  const { socket, response } = Deno.upgradeWebSocket(req);
  let got = 0;
  socket.onmessage = () => {
    got++;
    if (got <= 40) socket.send("pong");
    else if (got === 41) socket.close(1008, "flood");
  };
  return response;
});
const ws = new WebSocket(`ws://127.0.0.1:${server.addr.port}/`);
let pongs = 0;
ws.onmessage = () => pongs++;
ws.onopen = () => {
  for (let i = 0; i < n; i++) ws.send("x");
};
const closed = await new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
console.log(`N=${n}: ${pongs} pongs, the client saw close code ${closed.code}`);
await server.shutdown();
