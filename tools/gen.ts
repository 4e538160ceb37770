/**
 * `deno task gen`: writes what one source decides into the files that repeat it: the environment
 * lists of `deno.json`'s permission sets and the flag tables of `docs/operations.md` (from the flag
 * tables, `src/config/flags.ts`), the metric tables of `docs/operations.md` (from what
 * `src/http/metrics.ts` renders) and the close-code table of `docs/protocol.md` (from
 * `CLOSE_CODES`, `static/protocol.js`). Generated sections sit between `<!-- gen:NAME -->` and
 * `<!-- /gen:NAME -->`. `tests/unit/flags_consistency_test.ts` fails while a file disagrees.
 *
 * @module
 */
import { docsTable } from "../src/config/flag_docs.ts";
import { envNames, type FlagTable } from "../src/config/flag.ts";
import {
  FORWARDER_FLAGS,
  LIMIT_FLAGS,
  NATS_FLAG_TABLE,
  ROLE_TABLES,
  SECURITY_FLAGS,
  SERVER_FLAGS,
} from "../src/config/flags.ts";
import { renderMetrics } from "../src/http/metrics.ts";
import { emptyFrontStats } from "../src/http/front_constants.ts";
import { renderForwarderMetrics } from "../src/http/forwarder_metrics.ts";
import type { RelayStats } from "../src/relay/worker_messages.ts";
import type { BridgeStats } from "../src/protocol/stats.ts";
import { CLOSE_CODES } from "../src/protocol/close_codes.ts";
import { WRITEV_ENV } from "../src/runtime/vectored_writes.ts";

/** The permission sets of `deno.json` and the environment each must allow. */
export function permissionEnv(): Record<"server" | "forwarder" | "compile", string[]> {
  // Besides the flags' variables, the server sets Deno's DENO_USE_WRITEV itself.
  const server = [...envNames(ROLE_TABLES.server), WRITEV_ENV].sort();
  const forwarder = envNames(ROLE_TABLES.forwarder);
  // The compiled binary runs both roles (`zws`, `zws forwarder`).
  const compile = [...new Set([...server, ...forwarder])].sort();
  return { server, forwarder, compile };
}

/** The generated sections of `docs/operations.md`, by name. */
export const DOC_TABLES: Readonly<Record<string, readonly FlagTable[]>> = {
  server: [SERVER_FLAGS, LIMIT_FLAGS, SECURITY_FLAGS],
  forwarder: [FORWARDER_FLAGS],
  nats: [NATS_FLAG_TABLE],
};

/** `deno.json` (parsed) with each permission set's `env` made what the tables read. */
export function withEnvLists(config: Record<string, unknown>): Record<string, unknown> {
  const sets = (config.permissions ?? {}) as Record<string, Record<string, unknown>>;
  const env = permissionEnv();
  const out: Record<string, Record<string, unknown>> = { ...sets };
  for (const [name, names] of Object.entries(env)) out[name] = { ...sets[name], env: names };
  return { ...config, permissions: out };
}

/** Replaces the section `name` of `md` with `body`; throws when its markers are missing. */
export function replaceSection(md: string, name: string, body: string): string {
  const open = `<!-- gen:${name} -->`;
  const close = `<!-- /gen:${name} -->`;
  const a = md.indexOf(open);
  const b = md.indexOf(close);
  if (a < 0 || b < a) throw new Error(`no ${open} … ${close} section`);
  return `${md.slice(0, a + open.length)}\n\n${body}\n\n${md.slice(b)}`;
}

/** A Markdown table of the metric families in Prometheus `text`, with their label values. */
export function metricsTable(text: string): string {
  const families = new Map<
    string,
    { type: string; help: string; labels: Map<string, Set<string>> }
  >();
  for (const line of text.split("\n")) {
    const help = /^# HELP (\S+) (.*)$/.exec(line);
    if (help) families.set(help[1], { type: "", help: help[2], labels: new Map() });
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) families.get(type[1])!.type = type[2];
    const sample = /^([a-z_]+)\{(.*)\} /.exec(line);
    if (sample) {
      for (const [, k, v] of sample[2].matchAll(/(\w+)="([^"]*)"/g)) {
        const labels = families.get(sample[1])!.labels;
        if (!labels.has(k)) labels.set(k, new Set());
        labels.get(k)!.add(v);
      }
    }
  }
  const rows = ["| Metric | Type | Labels | Meaning |", "| --- | --- | --- | --- |"];
  for (const [name, f] of families) {
    const labels = [...f.labels].map(([k, vs]) => `${k}: ${[...vs].join(", ")}`).join("; ");
    rows.push(`| \`${name}\` | ${f.type} | ${labels} | ${f.help.replaceAll("|", "\\|")} |`);
  }
  return rows.join("\n");
}

/** Counters that are all 0, with a store, so every family of `/metrics` is rendered. */
function sampleRelay(): RelayStats {
  return {
    messages: 0,
    points: 0,
    rejected: {},
    lastSeq: 0,
    persist: {
      mode: "disk",
      pointsPersisted: 0,
      pointsNotPersisted: 0,
      failures: 0,
      pointsTrimmed: 0,
      maxFlushMs: 0,
    } as RelayStats["persist"] & object,
  };
}

/** A server's and a forwarder's metric families, as `/metrics` renders them. */
export function metricSamples(): { server: string; forwarder: string } {
  const zeros = new Proxy({}, { get: () => 0 }) as BridgeStats;
  return {
    server: renderMetrics({
      relay: sampleRelay(),
      bridge: zeros,
      server: {
        wsRejected: {},
        relayRestarts: 0,
        uptimeSeconds: 0,
        memory: { rss: 0, heapUsed: 0, heapTotal: 0, external: 0 },
      },
      upstream: { connected: false, connects: 0, disconnects: 0, epochChanges: 0 },
      front: { ...emptyFrontStats(), restarts: 0 },
    }),
    forwarder: renderForwarderMetrics({
      relay: sampleRelay(),
      gatewaysConnected: 0,
      gatewayConnectionsTotal: 0,
      upstreamConnected: false,
      uptimeSeconds: 0,
    }),
  };
}

/** The close codes as a Markdown table. */
export function closeCodesTable(): string {
  const rows = ["| Code | Name | Meaning | What to do |", "| --- | --- | --- | --- |"];
  for (const [code, c] of Object.entries(CLOSE_CODES)) {
    rows.push(`| ${code} | \`${c.name}\` | ${c.meaning} | ${c.action} |`);
  }
  return rows.join("\n");
}

/** `docs/operations.md` with every generated section replaced. */
export function renderOperations(md: string): string {
  let out = md;
  for (const [name, tables] of Object.entries(DOC_TABLES)) {
    out = replaceSection(out, `flags:${name}`, docsTable(tables));
  }
  const metrics = metricSamples();
  out = replaceSection(out, "metrics:server", metricsTable(metrics.server));
  out = replaceSection(out, "metrics:forwarder", metricsTable(metrics.forwarder));
  return out;
}

/** `docs/protocol.md` with the close-code table replaced. */
export function renderProtocol(md: string): string {
  return replaceSection(md, "close-codes", closeCodesTable());
}

/**
 * Markdown tables compared cell by cell (`deno fmt` pads cells and dash rows): each table row's
 * cells trimmed, dashes shortened.
 */
export function normalizeTables(md: string): string {
  return md.split("\n").map((line) => {
    if (!line.startsWith("|")) return line.trimEnd();
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    return "|" + cells.map((c) => /^-+$/.test(c) ? "---" : c).join("|") + "|";
  }).join("\n");
}

if (import.meta.main) {
  const root = new URL("../", import.meta.url);
  const json = new URL("deno.json", root);
  const config = JSON.parse(await Deno.readTextFile(json));
  await Deno.writeTextFile(json, JSON.stringify(withEnvLists(config), null, 2) + "\n");
  for (
    const [path, render] of [["docs/operations.md", renderOperations], [
      "docs/protocol.md",
      renderProtocol,
    ]] as const
  ) {
    const url = new URL(path, root);
    await Deno.writeTextFile(url, render(await Deno.readTextFile(url)));
  }
  console.log("gen: deno.json env lists, docs/operations.md and docs/protocol.md written");
}
