/**
 * `deno task keygen`: prints a new ZeroMQ CURVE key pair (Z85) in the key-file format that
 * `--curve-secret-key-file` (zws) and `--curve-keys-file` (`deno task produce`) read. Make one for
 * the server and one per producer; put each producer's `public-key` line on zws's allow-list.
 *
 *     (umask 077; deno task keygen > secrets/server.keys)
 *
 * @module
 */
import * as zmq from "zeromq";
import { formatKeyFile } from "../src/zmq/curve.ts";

/** A fresh key pair, formatted as a key file. */
export function newKeyFile(): string {
  return formatKeyFile(zmq.curveKeyPair());
}

if (import.meta.main) {
  if (Deno.args.length > 0) {
    const help = Deno.args[0] === "--help" || Deno.args[0] === "-h";
    (help ? console.log : console.error)(
      "Usage: deno task keygen > secrets/NAME.keys\n\n" +
        "Prints a new ZeroMQ CURVE key pair: share public-key, keep secret-key private.",
    );
    Deno.exit(help ? 0 : 2);
  }
  if (!zmq.capability.curve) {
    console.error("zws keygen: this ZeroMQ build has no CURVE support");
    Deno.exit(1);
  }
  await Deno.stdout.write(new TextEncoder().encode(newKeyFile()));
}
