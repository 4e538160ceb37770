/**
 * Page-like test clients and producers for the multi-process tests (forwarder, JetStream):
 * a viewer that keeps what it got over its connections and resumes with since/epoch as the page
 * does, a steady one-point producer, and readers for `/metrics` and JSON endpoints.
 *
 * @module
 */
import type * as zmq from "zeromq";
import { sleep } from "./async.ts";
import { metric } from "./metrics.ts";
import { openClient, type WsRecorder } from "./ws_client.ts";

/** A point as clients receive it. */
export type Pt = { seq: number; x: number; y: number; series: string };

/** Points of history and points frames, in order of arrival. */
export function allPoints(c: WsRecorder): Pt[] {
  return c.frames.flatMap((f) =>
    f.type === "points" || f.type === "history" ? f.points as Pt[] : []
  );
}

/** One metric of `base`'s `/metrics` (`base` without a trailing slash). */
export async function getMetric(base: string, name: string): Promise<number> {
  return metric(await (await fetch(`${base}/metrics`)).text(), name);
}

/** `url`'s JSON body. */
export async function getJson(url: string): Promise<Record<string, unknown>> {
  return await (await fetch(url)).json();
}

/** A producer sending one point on `series` every `everyMs`, y counting up from 0. */
export interface SteadyProducer {
  /** Points sent so far. */
  readonly sent: number;
  /** Stops after the send in progress. */
  stop(): Promise<void>;
}

/** Sends one point on `series` every `everyMs` (y counts up from 0) until stopped. */
export function produce(pub: zmq.Publisher, series: string, everyMs: number): SteadyProducer {
  let running = true;
  let sent = 0;
  const done = (async () => {
    while (running) {
      await pub.send(JSON.stringify({ x: Date.now(), y: sent, series }));
      sent++;
      await sleep(everyMs);
    }
  })();
  return {
    get sent() {
      return sent;
    },
    async stop() {
      running = false;
      await done;
    },
  };
}

/** A page-like client: keeps what it got over its connections, resumes with since/epoch. */
export class Viewer {
  /** Points of the connections before the current one. */
  points: Pt[] = [];
  conn!: WsRecorder;
  epoch = "";
  /** Each resume's `resumed` flag, in order. */
  resumes: boolean[] = [];

  /** Connects to `url` (a `/ws` URL). */
  static async open(url: string): Promise<Viewer> {
    const v = new Viewer();
    v.conn = await openClient(url);
    v.epoch = v.conn.frames[0].epoch as string;
    return v;
  }

  /** Everything received so far, the current connection included. */
  all(): Pt[] {
    return [...this.points, ...allPoints(this.conn)];
  }

  /** Reconnects to `wsUrl` from the last seq it has (closing its connection first if open). */
  async resumeOn(wsUrl: string): Promise<void> {
    await this.conn.close();
    this.points.push(...allPoints(this.conn));
    const since = this.points.at(-1)?.seq ?? 0;
    this.conn = await openClient(`${wsUrl}?since=${since}&epoch=${this.epoch}`);
    this.resumes.push(this.conn.frames[0].resumed as boolean);
  }

  /** Closes the current connection. */
  close(): Promise<void> {
    return this.conn.close();
  }
}
