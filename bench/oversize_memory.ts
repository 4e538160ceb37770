/**
 * Memory of one oversized message, bounded, loopback only (issue 12 items 3 and 6). The server
 * (`deno task start`, extra flags after `--`) gets one message far over its limit, and its RSS is
 * read before, every 50 ms while the message is sent (the peak), and `--after` seconds later.
 *
 * - `--case ws`: a WebSocket client sends one text message of `--mib` MiB in 1 MiB fragments
 *   (never finished: no FIN). `--max-ws-message-bytes` is 4096.
 * - `--case zmq`: a producer sends one message of `--mib` frames of 1 MiB - 1 (each below libzmq's
 *   per-frame cap). `--max-message-bytes` is 65536.
 *
 *   deno run -A bench/oversize_memory.ts --case ws --mib 256 -- --no-front
 *   deno run -A bench/oversize_memory.ts --case zmq --mib 200 -- --native-ingress
 *
 * Figures: `docs/reliability.md` ("One message over the limit").
 *
 * @module
 */
import { parseArgs } from "node:util";
import { sleep } from "../tests/_support/async.ts";
import { metric } from "../tests/_support/metrics.ts";
import { rssBytes, startZws } from "../tests/_support/processes.ts";
import { rawWsConnect } from "../tests/_support/raw_ws.ts";
import { connectPublisher } from "../tests/_support/zmq.ts";

const dash = Deno.args.indexOf("--");
const own = dash < 0 ? Deno.args : Deno.args.slice(0, dash);
const serverFlags = dash < 0 ? [] : Deno.args.slice(dash + 1);
const { values } = parseArgs({
  args: own,
  options: {
    case: { type: "string", default: "ws" },
    mib: { type: "string", default: "200" },
    after: { type: "string", default: "10" },
  },
});
const MIB = Math.min(1024, Number(values.mib));
const AFTER = Math.min(60, Number(values.after));
const MB = 1024 * 1024;

const zws = await startZws(["--no-demo", ...serverFlags]);
const pid = zws.child.pid;
let exited = false;
const status = zws.child.status.then((s) => {
  exited = true;
  return s;
});
const mb = (b: number) => (b / MB).toFixed(1);
try {
  await sleep(1000);
  const before = await rssBytes(pid);
  let peak = before;
  let sampling = true;
  const sampler = (async () => {
    while (sampling && !exited) {
      peak = Math.max(peak, await rssBytes(pid).catch(() => 0));
      await sleep(50);
    }
  })();
  let outcome = "";
  if (values.case === "ws") {
    const c = await rawWsConnect(zws.base);
    const chunk = new Uint8Array(MB).fill(0x61);
    let sent = 0;
    try {
      for (let i = 0; i < MIB; i++) {
        await c.sendFrame(i === 0 ? 1 : 0, chunk, { fin: false });
        sent++;
      }
    } catch { /* cut */ }
    const frames = await c.readFrames((fs) => fs.some((f) => f.opcode === 8), 2000);
    const close = frames.find((f) => f.opcode === 8);
    outcome = `${sent} of ${MIB} MiB written; ` +
      (close ? `close ${(close.payload[0] << 8) | close.payload[1]}` : "no close frame");
    c.close();
  } else {
    const pub = await connectPublisher(zws.ingress);
    const frame = new Uint8Array(MB - 1).fill(0x20);
    await pub.send(Array.from({ length: MIB }, () => frame));
    const t0 = Date.now();
    let oversize = 0;
    while (!exited && Date.now() - t0 < 30_000 && oversize === 0) {
      const m = await (await fetch(`${zws.base}/metrics`)).text();
      oversize = metric(m, 'zws_ingress_rejected_total{reason="oversize"}');
      await sleep(100);
    }
    outcome = `oversize counted ${oversize}`;
    pub.close();
  }
  await sleep(500);
  sampling = false;
  await sampler;
  await sleep(AFTER * 1000);
  const after = exited ? 0 : await rssBytes(pid);
  console.log(
    `${values.case} ${MIB} MiB, server flags [${serverFlags.join(" ")}]: ${outcome}; RSS before ` +
      `${mb(before)} MB, peak ${mb(peak)} MB, ${AFTER} s after ` +
      (exited ? `(server exited: ${JSON.stringify(await status)})` : `${mb(after)} MB`),
  );
} finally {
  await zws.stop();
}
