/**
 * The relay's sockets (see `relay.ts`): the ingress, a native `zmq.Proxy` from an XSubscriber bound
 * on the producers' TCP endpoint (and the demo's and the control inproc ones) to an XPublisher on
 * inproc, the inbox JavaScript receives on, and the points bus it publishes on. With CURVE, the
 * ZAP handler that holds the allow-list is started first. Receiving on TCP is left to the native
 * proxy: under Deno a JavaScript socket that receives on TCP loses messages (docs/architecture.md,
 * "ZeroMQ under Deno").
 *
 * Plain producers (no CURVE, a tcp:// ingress) are read by `src/zmq/plain_ingress.ts` instead, a
 * ZMTP reader on `Deno.listen` that bounds a whole message by `maxMessageBytes` before holding it
 * (libzmq bounds only each frame); its messages go to a bounded queue (`message_queue.ts`). CURVE
 * producers (and `nativeIngress`, and ipc://) connect to the XSubscriber itself.
 *
 * @module
 */
import * as zmq from "zeromq";
import type { RelayOptions } from "./worker_messages.ts";
import { ZAP_DOMAIN } from "../zmq/curve.ts";
import { startZapHandler, type ZapHandler } from "../zmq/zap.ts";
import { errorMessage, log, type RateLimitedLog } from "../runtime/log.ts";
import type { RejectReason } from "../protocol/ingress.ts";
import { listenPlainIngress, type PlainIngress, tcpListenAddress } from "../zmq/plain_ingress.ts";
import { MessageQueue } from "./message_queue.ts";
import { FdBudget, openFdProbe } from "../runtime/fd_limit.ts";

let relayCount = 0;

/** A relay's open sockets and its running proxy. */
export interface RelaySockets {
  front: zmq.XSubscriber;
  back: zmq.XPublisher;
  /** What JavaScript receives producers' messages on (inproc). */
  inbox: zmq.Subscriber;
  /** The points bus (`opts.bus`). */
  bus: zmq.Publisher;
  zap?: ZapHandler;
  /** The ingress actually bound (a `*` port resolved). */
  ingress: string;
  /** The plain ingress (absent: CURVE, `nativeIngress`, or not tcp://); started by the caller. */
  plain?: PlainIngress;
  /** Where {@link RelaySockets.plain} queues its messages. */
  plainQueue?: MessageQueue;
  proxy: zmq.Proxy;
  /** Settles when the proxy has ended. */
  proxyDone: Promise<void>;
  /** Inproc endpoints the front also binds: stop and probe messages, the demo producer. */
  control: string;
  demoIngress: string;
  /** Every socket, for {@link RelaySockets.closeAll} (the caller may add its own). */
  sockets: zmq.Socket[];
  /** Closes every socket of {@link RelaySockets.sockets} not closed yet. */
  closeAll(): void;
}

/**
 * Opens and binds a relay's sockets and starts its proxy. Throws (with the endpoint in the
 * message) when the ingress cannot be bound; nothing stays open then.
 */
export async function openRelaySockets(
  opts: RelayOptions,
  rateLog: RateLimitedLog,
  onPlainDropped: (reason: RejectReason, detail: string) => void,
): Promise<RelaySockets> {
  const id = `${Date.now().toString(36)}-${relayCount++}`;
  const internal = `inproc://zws-relay-${id}`;
  const demoIngress = `inproc://zws-demo-${id}`;
  const control = `inproc://zws-control-${id}`;
  // Native cap: ZeroMQ cuts the connection of a peer that exceeds it, so keep it well above the
  // configured limit; messages between the two are dropped and counted by the parser instead.
  const nativeCap = Math.max(4 * opts.maxMessageBytes, 1024 * 1024);
  let zap: ZapHandler | undefined;
  if (opts.curve) {
    if (!zmq.capability.curve) {
      throw new Error("this ZeroMQ build has no CURVE support; cannot encrypt the ingress");
    }
    // The allow-list must be in place before the ingress binds: without a ZAP handler, libzmq
    // lets every CURVE client in.
    zap = await startZapHandler({
      allow: opts.curve.allow,
      onRefused: (d) =>
        rateLog.log(
          "warn",
          "relay",
          "zap-refused",
          `refused producer ${d.address || "?"}: ` +
            (d.publicKey ? `CURVE key ${d.publicKey} is not on the allow-list` : "bad ZAP request"),
        ),
    });
  }
  const front = new zmq.XSubscriber({
    maxMessageSize: nativeCap,
    receiveHighWaterMark: 10000,
    ...(opts.curve
      ? { curveServer: true, curveSecretKey: opts.curve.secretKey, zapDomain: ZAP_DOMAIN }
      : {}),
  });
  // noDrop: when the JS side falls behind, the proxy waits (and TCP pushes back on producers)
  // instead of dropping points silently between the proxy and us.
  const back = new zmq.XPublisher({ sendHighWaterMark: 10000, noDrop: true });
  const inbox = new zmq.Subscriber({ receiveHighWaterMark: 10000 });
  // Counted in batches (up to BUS_BATCH_POINTS points each): a full bus is EAGAIN, which the send
  // loop waits out.
  const bus = new zmq.Publisher({ sendHighWaterMark: 100, noDrop: true });
  const sockets = [front, back, inbox, bus];
  const closeAll = () => sockets.forEach((s) => s.closed || s.close());
  // Plain producers on tcp:// are read by the ZMTP reader (whole-message limit).
  const plainPath = !opts.curve && !opts.nativeIngress && tcpListenAddress(opts.ingress) !== null;
  const plainQueue = plainPath
    ? new MessageQueue(Math.max(8 * 1024 * 1024, 4 * opts.maxMessageBytes))
    : undefined;
  let plain: PlainIngress | undefined;
  let ingress: string;
  try {
    if (plainQueue) {
      const probe = openFdProbe();
      plain = listenPlainIngress({
        endpoint: opts.ingress,
        maxMessageBytes: opts.maxMessageBytes,
        deliver: (frames, from) => plainQueue.push(frames, from),
        onDropped: onPlainDropped,
        ...(probe ? { fds: new FdBudget(probe) } : {}),
      });
      ingress = plain.endpoint;
    } else {
      await front.bind(opts.ingress);
      ingress = front.lastEndpoint ?? opts.ingress;
    }
  } catch (err) {
    closeAll();
    await zap?.close();
    throw new Error(`cannot bind ingress ${opts.ingress}: ${errorMessage(err)}`);
  }
  let proxy: zmq.Proxy;
  let proxyDone: Promise<void>;
  try {
    if (opts.demo) await front.bind(demoIngress);
    await front.bind(control);
    await back.bind(internal);
    await bus.bind(opts.bus);
    inbox.connect(internal);
    inbox.subscribe();
    proxy = new zmq.Proxy(front, back);
    proxyDone = proxy.run().catch((err) => log("error", "relay", `proxy: ${errorMessage(err)}`));
  } catch (err) {
    closeAll();
    await plain?.close();
    await zap?.close();
    throw new Error(`cannot start relay: ${errorMessage(err)}`);
  }

  return {
    front,
    back,
    inbox,
    bus,
    zap,
    ingress,
    plain,
    plainQueue,
    proxy,
    proxyDone,
    control,
    demoIngress,
    sockets,
    closeAll,
  };
}
