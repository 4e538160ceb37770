/**
 * Deno 2.9.6: a WebSocket server has no bound on one message. A client that sends a text message
 * in fragments (continuation frames without FIN) makes the server hold all of it; once the last
 * fragment comes, a message past V8's largest string (512 MiB) kills the server process. `Deno.upgradeWebSocket` has no option to
 * bound a message (fastwebsockets' FragmentCollector checks each frame, not their sum).
 *
 * Run: deno run --allow-net=127.0.0.1 --allow-run --allow-read docs/upstream/deno_ws_fragmented.ts
 * (it starts the server as a child process and reports its RSS and how it ended).
 */
if (Deno.args[0] === "server") {
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => console.log(port),
  }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (e) => console.log(`message of ${e.data.length} characters`);
    return response;
  });
  await server.finished;
} else {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", import.meta.filename!, "server"],
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  const port = Number(new TextDecoder().decode((await reader.read()).value).trim());
  const rss = async () => {
    const out = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(child.pid)] })
      .output();
    return Math.round(Number(new TextDecoder().decode(out.stdout).trim()) / 1024);
  };
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ));
  await conn.read(new Uint8Array(1024)); // the 101
  const MIB = 1 << 20;
  const frame = (opcode: number) => {
    const f = new Uint8Array(14 + MIB);
    f.set([opcode, 0xff, 0, 0, 0, 0, 0, MIB >> 16, 0, 0, 0, 0, 0, 0]);
    f.fill(0x61, 14);
    return f;
  };
  const first = frame(0x01); // text, FIN clear
  const next = frame(0x00); // continuation, FIN clear
  console.log(`server RSS before: ${await rss()} MB`);
  let sent = 0;
  try {
    for (; sent < 600; sent++) {
      const f = sent === 0 ? first : next;
      for (let off = 0; off < f.length;) off += await conn.write(f.subarray(off));
      if (sent % 100 === 99) {
        console.log(`${sent + 1} MiB sent, no FIN: server RSS ${await rss()} MB`);
      }
    }
    const last = frame(0x80); // the final continuation: FIN set
    for (let off = 0; off < last.length;) off += await conn.write(last.subarray(off));
    console.log(`601 MiB sent, FIN: the server assembles the message`);
  } catch (err) {
    console.log(`after ${sent} MiB: ${err}`);
  }
  const status = await Promise.race([
    child.status,
    new Promise<"alive">((r) => setTimeout(() => r("alive"), 30000)),
  ]);
  console.log(
    status === "alive" ? "server still alive" : `server ended: ${JSON.stringify(status)}`,
  );
  if (status === "alive") child.kill("SIGKILL");
  conn.close();
}
