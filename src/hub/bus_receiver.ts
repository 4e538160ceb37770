/**
 * The bridge's receive loop on one subscription to a points bus (`src/protocol/bus.ts`), owned by
 * `superviseLoop`: an exception (a bad message, a fault) never ends it for good; it is counted and
 * the loop starts again on the same socket. It ends for good on the end-of-stream (then it closes
 * the socket: never with a receive pending, which crashes the process under Deno) or when another
 * epoch arrives.
 *
 * @module
 */
import type * as zmq from "zeromq";
import type { BusBatch } from "../protocol/bus.ts";
import { decodeBus } from "../protocol/bus_decode.ts";
import { faults, superviseLoop, Yielder } from "../runtime/loop.ts";

/** What the loop tells its bridge. */
export interface BusSink {
  /** The epoch served ("" until learnt from the first batch). */
  epoch(): string;
  /** Learns the epoch (while it is ""). */
  setEpoch(epoch: string): void;
  /** A batch of another epoch arrived: the loop has ended before it. */
  epochChanged(epoch: string, firstSeq: number): void;
  /** A batch or a heartbeat arrived: the path is alive. */
  alive(): void;
  /** A batch with points. */
  take(batch: BusBatch): void;
  /** The relay's units (series -> unit), sent on the bus as they change. */
  units(units: [string, string][]): void;
  /** A message `decodeBus` refused (dropped). */
  invalid(reason: string): void;
  /** The loop failed and was restarted. */
  restarted(): void;
}

/** Receives from `sub` until the end-of-stream or an epoch change; settles then. */
export function receiveBus(sub: zmq.Subscriber, sink: BusSink): Promise<void> {
  let finished = false;
  const turns = new Yielder(5);
  const once = async () => {
    while (!sub.closed) {
      // The fault point sits before the receive: a test's failure then loses no message.
      const fault = faults.check("bridge.receive");
      if (fault) await fault;
      // Under sustained input, give the batching tick and HTTP (`/healthz`) a turn.
      const turn = turns.maybe();
      if (turn) await turn;
      const frames = await sub.receive();
      const m = decodeBus(frames);
      if (m.kind === "end") {
        // The relay's end-of-stream: this bus is done; a restarted relay gets a new bus and
        // subscription.
        finished = true;
        sub.close();
        return;
      }
      if (m.kind === "invalid") {
        sink.invalid(m.reason);
        continue;
      }
      if (m.kind === "units") {
        sink.units(m.units);
        continue;
      }
      const b = m.batch;
      sink.alive();
      if (b.epoch !== sink.epoch()) {
        if (sink.epoch() === "") sink.setEpoch(b.epoch);
        else {
          finished = true;
          sub.close();
          sink.epochChanged(b.epoch, b.firstSeq);
          return;
        }
      }
      if (b.count === 0) continue; // a heartbeat: the path is alive
      sink.take(b);
    }
    finished = true;
  };
  const loop = superviseLoop(once, {
    component: "bridge",
    name: "bus receive loop",
    stopped: () => finished || sub.closed,
    onRestart: () => sink.restarted(),
  });
  return loop.done;
}
