/**
 * `deno task token`: prints a viewer token (HS256 JWT) for a zws started with the same secret.
 *
 *     ZWS_AUTH_SECRET_FILE=secrets/auth-secret deno task token --ttl 8h --series sine
 *
 * The secret comes from ZWS_AUTH_SECRET or the file named by ZWS_AUTH_SECRET_FILE /
 * `--auth-secret-file` (never from a flag value, which other users could see in `ps`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { MAX_TOKEN_LENGTH, MIN_SECRET_BYTES, signToken } from "../src/http/auth.ts";
import { seriesProblem } from "../src/protocol/ingress.ts";
import { errorMessage } from "../src/runtime/log.ts";

const USAGE =
  `Usage: deno task token [--ttl 1h] [--series a,b] [--sub NAME] [--auth-secret-file PATH]

Prints a viewer token for zws. The secret: ZWS_AUTH_SECRET, or the file in ZWS_AUTH_SECRET_FILE or
--auth-secret-file (under ./secrets/). --ttl: lifetime, e.g. 90s, 30m, 8h, 7d (default 1h).
--series: the only series the token may see (comma-separated; default all).`;

/** Parses a lifetime like `90`, `90s`, `30m`, `8h`, `7d` into seconds; throws on anything else. */
export function parseTtl(raw: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(raw.trim());
  if (!m) throw new Error(`--ttl must look like 90s, 30m, 8h or 7d, got "${raw}"`);
  const unit: Record<string, number> = { "": 1, s: 1, m: 60, h: 3600, d: 86400 };
  const n = Number(m[1]) * unit[m[2]];
  if (n < 1 || n > 366 * 86400) throw new Error(`--ttl must be between 1s and 366d`);
  return n;
}

if (import.meta.main) {
  try {
    const { values } = parseArgs({
      options: {
        ttl: { type: "string", default: "1h" },
        series: { type: "string" },
        sub: { type: "string" },
        "auth-secret-file": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
    if (values.help) {
      console.log(USAGE);
      Deno.exit(0);
    }
    const ttlSeconds = parseTtl(values.ttl);
    const series = values.series?.split(",").map((s) => s.trim()).filter((s) => s !== "");
    for (const s of series ?? []) {
      const problem = seriesProblem(s);
      if (problem) throw new Error(`--series: ${problem}`);
    }
    if (series && series.length === 0) throw new Error("--series names no series");
    const file = values["auth-secret-file"] ?? Deno.env.get("ZWS_AUTH_SECRET_FILE");
    let secret = file === undefined ? Deno.env.get("ZWS_AUTH_SECRET") : undefined;
    if (file !== undefined) {
      try {
        secret = await Deno.readTextFile(file);
      } catch (err) {
        const why = err instanceof Deno.errors.NotCapable
          ? "no read permission (deno task token reads files under ./secrets/ only)"
          : err instanceof Deno.errors.NotFound
          ? "no such file"
          : errorMessage(err).split("\n")[0];
        throw new Error(`cannot read ${file}: ${why}`);
      }
    }
    const bytes = new TextEncoder().encode(secret?.trim() ?? "");
    if (bytes.length === 0) throw new Error("no secret: set ZWS_AUTH_SECRET or --auth-secret-file");
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new Error(`the secret must be at least ${MIN_SECRET_BYTES} bytes`);
    }
    const token = await signToken(bytes, { ttlSeconds, series, subject: values.sub });
    if (token.length > MAX_TOKEN_LENGTH) {
      // zws refuses longer tokens: say so here rather than hand out one that never works.
      throw new Error(
        `the token would be ${token.length} characters, over zws's limit of ${MAX_TOKEN_LENGTH}: ` +
          `name fewer or shorter series (docs/securing.md)`,
      );
    }
    console.log(token);
  } catch (err) {
    console.error(`zws token: ${errorMessage(err).split("\n")[0]}\n\n${USAGE}`);
    Deno.exit(2);
  }
}
