/** The Worker of main.ts (see there). */
import * as zmq from "zeromq";
const asString = Deno.env.get("ZC_STRINGS") === "1";
const ep = `inproc://zc-${crypto.randomUUID()}`;
const xsub = new zmq.XSubscriber({ receiveHighWaterMark: 0 }); // 0: no limit, nothing dropped
const xpub = new zmq.XPublisher({ sendHighWaterMark: 0 });
await xsub.bind(ep + "-in");
await xpub.bind(ep + "-out");
const sub = new zmq.Subscriber({ receiveHighWaterMark: 0 });
sub.connect(ep + "-out");
sub.subscribe();
const pub = new zmq.Publisher({ sendHighWaterMark: 0 });
pub.connect(ep + "-in");
const proxy = new zmq.Proxy(xsub, xpub);
const proxyDone = proxy.run();
await new Promise((r) => setTimeout(r, 200));
const N = 20000;
let got = 0;
const recv = (async () => {
  while (got < N) {
    const [m] = await sub.receive();
    if (m.length !== 1000) throw new Error("bad length");
    got++;
  }
})();
for (let i = 0; i < N; i++) {
  const b = new Uint8Array(1000).fill(0x61 + (i % 26));
  await pub.send(asString ? new TextDecoder().decode(b) : b);
  if (i % 1000 === 0) await new Promise((r) => setTimeout(r, 1));
}
await recv;
proxy.terminate();
await proxyDone;
for (const s of [pub, sub, xsub, xpub]) s.close();
self.postMessage(got);
self.close();
