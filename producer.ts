/**
 * The demo producer: a smooth, visibly moving wave published over ZeroMQ with the producer protocol
 * (see README). Runs inside the relay worker by default, or standalone: `deno task produce`.
 *
 * Next stop of its messages: `relay.ts`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as zmq from "zeromq";
import { argsProblem, endpoint } from "./src/config/config.ts";
import { isCurveKey, parseKeyFile, publicKeyFromSecret } from "./src/zmq/curve.ts";
import { errorMessage } from "./src/runtime/log.ts";

/** One demo point as sent on the wire. */
export interface DemoPoint {
  x: number;
  y: number;
  series: string;
}

/** Period of the demo's main wave, in milliseconds. */
export const WAVE_PERIOD_MS = 6000;

/** The demo's points at time `t` (epoch ms): two smooth waves, "sine" and "cosine". */
export function demoPoints(t: number): DemoPoint[] {
  const phase = (2 * Math.PI * t) / WAVE_PERIOD_MS;
  const ripple = 0.15 * Math.sin((2 * Math.PI * t) / 1700);
  return [
    { x: t, y: round(Math.sin(phase) + ripple), series: "sine" },
    { x: t, y: round(0.6 * Math.cos(phase)), series: "cosine" },
  ];
}

function round(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

/** Options of {@link runProducer}. */
export interface ProducerOptions {
  /** Endpoint to connect to (the relay's ingress). */
  endpoint: string;
  /** Batches per second (each batch holds one point per series). */
  rate: number;
  /** Stops the producer; its socket is closed before the returned promise settles. */
  signal: AbortSignal;
  /** Stop after this many batches (default: run until aborted). */
  count?: number;
  /** CURVE client keys, for an ingress that runs CURVE (all Z85). */
  curve?: CurveClientKeys;
}

/** What a producer needs to connect to a CURVE ingress. */
export interface CurveClientKeys {
  /** The server's public key (zws logs it at start). */
  serverKey: string;
  /** This producer's public key (must be on the server's allow-list). */
  publicKey: string;
  /** This producer's secret key. */
  secretKey: string;
}

/** Publishes {@link demoPoints} as one JSON batch per tick until aborted. */
export async function runProducer(opts: ProducerOptions): Promise<number> {
  const pub = new zmq.Publisher({
    sendHighWaterMark: 1000,
    linger: 500,
    ...(opts.curve
      ? {
        curveServerKey: opts.curve.serverKey,
        curvePublicKey: opts.curve.publicKey,
        curveSecretKey: opts.curve.secretKey,
      }
      : {}),
  });
  pub.connect(opts.endpoint);
  const interval = 1000 / opts.rate;
  let sent = 0;
  try {
    let next = performance.now();
    while (!opts.signal.aborted && (opts.count === undefined || sent < opts.count)) {
      await pub.send(JSON.stringify(demoPoints(Date.now())));
      sent++;
      next += interval;
      const wait = Math.max(0, next - performance.now());
      await abortableSleep(wait, opts.signal);
    }
  } finally {
    pub.close();
  }
  return sent;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

const USAGE = `Usage: deno task produce [--ingress tcp://127.0.0.1:5000] [--rate 10] [--count N]
                         [--curve-server-key KEY --curve-keys-file secrets/producer.keys]

Publishes the demo wave ("sine" and "cosine") to a zws ingress. Environment: ZWS_INGRESS.

For an ingress that runs CURVE (docs/securing.md): --curve-server-key is the public key zws prints
at start [ZWS_CURVE_SERVER_KEY]; --curve-keys-file is this producer's key pair, as printed by
deno task keygen, whose public key is on zws's allow-list [ZWS_PRODUCER_KEYS_FILE].`;

/** Reads the producer's CURVE flags; `undefined` when neither is given. Throws one clean line. */
async function curveKeys(
  serverKey: string | undefined,
  keysFile: string | undefined,
): Promise<CurveClientKeys | undefined> {
  if (serverKey === undefined && keysFile === undefined) return undefined;
  if (serverKey === undefined || keysFile === undefined) {
    throw new Error("--curve-server-key and --curve-keys-file go together");
  }
  if (!isCurveKey(serverKey)) {
    throw new Error("--curve-server-key is not a CURVE public key (40 Z85 characters)");
  }
  let text: string;
  try {
    text = await Deno.readTextFile(keysFile);
  } catch (err) {
    const why = err instanceof Deno.errors.NotCapable
      ? "no read permission (deno task produce reads files under ./secrets/ only)"
      : err instanceof Deno.errors.NotFound
      ? "no such file"
      : errorMessage(err).split("\n")[0];
    throw new Error(`cannot read --curve-keys-file ${keysFile}: ${why}`);
  }
  let keys;
  try {
    keys = parseKeyFile(text);
  } catch (err) {
    throw new Error(`--curve-keys-file ${keysFile}: ${errorMessage(err)}`);
  }
  if (!keys.secretKey) throw new Error(`--curve-keys-file ${keysFile} holds no secret key`);
  return {
    serverKey,
    secretKey: keys.secretKey,
    publicKey: keys.publicKey ?? publicKeyFromSecret(keys.secretKey),
  };
}

if (import.meta.main) {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        ingress: { type: "string" },
        rate: { type: "string", default: "10" },
        count: { type: "string" },
        "curve-server-key": { type: "string" },
        "curve-keys-file": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (err) {
    console.error(`zws produce: ${argsProblem(err)}\n\n${USAGE}`);
    Deno.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const rate = Number(values.rate);
  const count = values.count === undefined ? undefined : Number(values.count);
  let target: string;
  let curve: CurveClientKeys | undefined;
  try {
    curve = await curveKeys(
      values["curve-server-key"] ?? Deno.env.get("ZWS_CURVE_SERVER_KEY"),
      values["curve-keys-file"] ?? Deno.env.get("ZWS_PRODUCER_KEYS_FILE"),
    );
    target = endpoint(values.ingress ?? Deno.env.get("ZWS_INGRESS") ?? "tcp://127.0.0.1:5000");
    if (!(rate > 0 && rate <= 100000)) throw new Error(`--rate must be in (0, 100000]`);
    if (count !== undefined && !(Number.isInteger(count) && count > 0)) {
      throw new Error(`--count must be a positive whole number`);
    }
  } catch (err) {
    console.error(`zws produce: ${errorMessage(err)}`);
    Deno.exit(2);
  }
  const stop = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, () => stop.abort());
  console.error(
    `zws produce: publishing to ${target} at ${rate} batches/s${curve ? " (CURVE)" : ""}`,
  );
  const sent = await runProducer({ endpoint: target, rate, signal: stop.signal, count, curve });
  console.error(`zws produce: sent ${sent} batches`);
  Deno.exit(0);
}
