/**
 * Deno 2.9.6: `Deno.serve` never times out a connection that sends no request, and it does not
 * survive reaching the open-files limit. The server runs as a child under `ulimit -n 256`; this
 * script opens 100 TCP connections to it that send nothing and checks after 10 s that they are
 * still open (no request timeout); then it opens 300 more, and asks the server for a page.
 *
 * Run: deno run --allow-net=127.0.0.1 --allow-run --allow-read docs/upstream/deno_serve_idle_emfile.ts
 */
if (Deno.args[0] === "server") {
  Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: ({ port }) => console.log(port) },
    () => new Response("ok\n"),
  );
} else {
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      `ulimit -n 256 && exec "$0" run --allow-net=127.0.0.1 "$1" server`,
      Deno.execPath(),
      import.meta.filename!,
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = child.stdout.getReader();
  const port = Number(new TextDecoder().decode((await reader.read()).value).trim());
  let stderr = "";
  const errDone = (async () => {
    for await (const c of child.stderr.pipeThrough(new TextDecoderStream())) stderr += c;
  })();
  const conns: Deno.TcpConn[] = [];
  const open = async (n: number) => {
    for (let i = 0; i < n; i++) {
      try {
        conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      } catch (err) {
        console.log(`connection ${conns.length + 1}: ${err}`);
        return;
      }
    }
  };
  await open(100);
  console.log(`${conns.length} idle connections open (server under ulimit -n 256)`);
  await new Promise((r) => setTimeout(r, 10_000));
  const probe = new Uint8Array(1);
  let still = 0;
  for (const c of conns) {
    const r = await Promise.race([
      c.read(probe).catch(() => null),
      new Promise<"open">((r) => setTimeout(() => r("open"), 5)),
    ]);
    if (r === "open") still++;
  }
  console.log(`after 10 s: ${still} of ${conns.length} still open (no request timeout)`);
  await open(300);
  console.log(`${conns.length} connections opened in all`);
  const status = await Promise.race([
    child.status,
    new Promise<"alive">((r) => setTimeout(() => r("alive"), 2000)),
  ]);
  if (status === "alive") {
    const page = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.status, (e) => String(e));
    console.log(`server alive; a new request: ${page}`);
  } else {
    console.log(`server ended: ${JSON.stringify(status)}`);
  }
  for (const c of conns) {
    try {
      c.close();
    } catch { /* closed */ }
  }
  if (status === "alive") child.kill("SIGKILL");
  console.log(`server exit: ${JSON.stringify(await child.status)}`);
  await errDone;
  console.log(`server stderr (last lines):\n${stderr.trim().split("\n").slice(-6).join("\n")}`);
}
