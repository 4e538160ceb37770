/**
 * What the HTTP front (`src/http/front.ts`) costs, bounded, loopback only: the server
 * (`deno task start`) with the front and with `--no-front`, one after the other. For each it
 * prints the open files and RSS per connected WebSocket client (`--clients` idle clients), and
 * the server's CPU per MB relayed to clients (`--receivers` clients reading a producer's
 * `--rate` points/s for `--seconds`). Reads `/proc/<pid>` of the server, so it runs with -A.
 *
 *   deno run -A bench/front_cost.ts --clients 200 --receivers 20 --rate 20000 --seconds 10
 *
 * Figures: `docs/securing.md` ("The HTTP front").
 *
 * @module
 */
import { parseArgs } from "node:util";
import { sleep } from "../tests/_support/async.ts";
import { rssBytes, startZws } from "../tests/_support/processes.ts";
import { openClient, type WsRecorder } from "../tests/_support/ws_client.ts";
import { connectPublisher } from "../tests/_support/zmq.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    clients: { type: "string", default: "200" },
    receivers: { type: "string", default: "20" },
    rate: { type: "string", default: "20000" },
    seconds: { type: "string", default: "10" },
  },
});
const CLIENTS = Math.min(2000, Number(values.clients));
const RECEIVERS = Math.min(200, Number(values.receivers));
const RATE = Math.min(100_000, Number(values.rate));
const SECONDS = Math.min(30, Number(values.seconds));
const PER_MSG = 100;
const TICK = Number(
  new TextDecoder().decode(
    (await new Deno.Command("getconf", { args: ["CLK_TCK"] }).output()).stdout,
  ).trim(),
) || 100;

function openFiles(pid: number): number {
  let n = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
  return n;
}

/** CPU seconds (user + system) the process used so far. */
function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICK;
}

async function measure(flags: string[]) {
  const zws = await startZws([
    "--no-demo",
    "--max-clients",
    String(CLIENTS + RECEIVERS + 10),
    ...flags,
  ]);
  const pid = zws.child.pid;
  const clients: WsRecorder[] = [];
  try {
    await sleep(1000);
    const fd0 = openFiles(pid);
    const rss0 = await rssBytes(pid);
    for (let i = 0; i < CLIENTS; i++) clients.push(await openClient(zws.wsUrl));
    await sleep(1000);
    const fd1 = openFiles(pid);
    const rss1 = await rssBytes(pid);
    for (const c of clients.splice(0)) await c.close();
    await sleep(500);

    const receivers: WsRecorder[] = [];
    let bytes = 0;
    for (let i = 0; i < RECEIVERS; i++) {
      const r = await openClient(zws.wsUrl);
      r.ws.addEventListener("message", (e) => bytes += (e.data as string).length);
      receivers.push(r);
    }
    const pub = await connectPublisher(zws.ingress);
    const msgsPerTick = Math.max(1, Math.round(RATE / PER_MSG / 20));
    const cpu0 = cpuSeconds(pid);
    const bytes0 = bytes;
    const t0 = Date.now();
    let sent = 0;
    while (Date.now() - t0 < SECONDS * 1000) {
      for (let k = 0; k < msgsPerTick; k++) {
        const batch = Array.from({ length: PER_MSG }, (_, i) => ({
          x: Date.now(),
          y: sent + i,
          series: "s",
        }));
        await pub.send(JSON.stringify(batch));
        sent += PER_MSG;
      }
      await sleep(50);
    }
    await sleep(1000);
    const cpu = cpuSeconds(pid) - cpu0;
    const mbOut = (bytes - bytes0) / 1e6;
    pub.close();
    for (const r of receivers) await r.close();
    return {
      fdsPerClient: (fd1 - fd0) / CLIENTS,
      rssPerClientKb: (rss1 - rss0) / CLIENTS / 1024,
      mbOut,
      cpu,
      cpuMsPerMb: (cpu * 1000) / mbOut,
      points: sent,
    };
  } finally {
    for (const c of clients) await c.close();
    await zws.stop();
  }
}

const load = Deno.loadavg?.()[0]?.toFixed(1) ?? "?";
console.log(
  `front cost: ${CLIENTS} idle clients; ${RECEIVERS} receivers x ${RATE} points/s for ` +
    `${SECONDS} s; Deno ${Deno.version.deno}; load ${load}`,
);
for (const [name, flags] of [["front", []], ["--no-front", ["--no-front"]]] as const) {
  const r = await measure([...flags]);
  console.log(
    `${name.padEnd(10)} open files per client ${r.fdsPerClient.toFixed(2)}, RSS per client ` +
      `${r.rssPerClientKb.toFixed(1)} KiB; relayed ${r.mbOut.toFixed(1)} MB to clients ` +
      `(${r.points} points) with ${r.cpu.toFixed(2)} s CPU: ${r.cpuMsPerMb.toFixed(2)} ms per MB`,
  );
}
