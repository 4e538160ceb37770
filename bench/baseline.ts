/**
 * The naive baseline of the benchmark: the shortest Deno program that does zws's job. One native
 * `zmq.Proxy` ingress (under Deno JavaScript cannot receive on TCP, see
 * docs/architecture.md, "ZeroMQ under Deno"), one inproc subscription, and each message sent as-is to every
 * WebSocket: no validation, no batching, no bound on a slow client's queue.
 *
 * `deno run ... bench/baseline.ts --port 0 --ingress tcp://127.0.0.1:*` prints
 * `baseline: listening on http://127.0.0.1:PORT/ (ingress tcp://127.0.0.1:NNNN)`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as zmq from "zeromq";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "0" },
    ingress: { type: "string", default: "tcp://127.0.0.1:*" },
  },
});

const front = new zmq.XSubscriber();
await front.bind(values.ingress);
const back = new zmq.XPublisher();
await back.bind("inproc://baseline");
const proxy = new zmq.Proxy(front, back);
proxy.run();
const sub = new zmq.Subscriber();
sub.connect("inproc://baseline");
sub.subscribe();

const clients = new Set<WebSocket>();
const server = Deno.serve({
  port: Number(values.port),
  hostname: "127.0.0.1",
  onListen: () => {},
}, (req) => {
  const { socket, response } = Deno.upgradeWebSocket(req);
  socket.onopen = () => clients.add(socket);
  socket.onclose = () => clients.delete(socket);
  return response;
});
console.log(
  `baseline: listening on http://127.0.0.1:${server.addr.port}/ (ingress ${front.lastEndpoint})`,
);

for await (const [msg] of sub) {
  const text = msg.toString();
  for (const ws of clients) ws.send(text);
}
