/**
 * What the flag tables (`flag.ts`, `flags.ts`) look like to people: `--help` text and the Markdown
 * tables of `docs/operations.md`. Pure.
 *
 * @module
 */
import type { FlagSpec, FlagTable } from "./flag.ts";

/** A section of `--help`: a title and its tables. */
export interface HelpSection {
  title: string;
  table: FlagTable;
  /** Lines printed after the flags. */
  note?: string;
  /** Ends the flags with `-h, --help`. */
  withHelp?: boolean;
}

/** Width of the flag column in `--help`. */
const FLAG_COLUMN = 29;
/** Width of `--help` lines. */
const HELP_WIDTH = 100;

/** How a flag is written in help and docs: `--port <n>`, `--curve-allow=<pubkey>`. */
export function flagUsage(spec: FlagSpec): string {
  if (!spec.flag) return spec.env ?? "";
  const short = spec.short ? `-${spec.short}, ` : "";
  const arg = spec.arg ? `${spec.equals ? "=" : " "}${spec.arg}` : "";
  return `${short}--${spec.flag}${arg}`;
}

/** The bracket of a spec in `--help`: its variable (and default). */
function envNote(spec: FlagSpec): string {
  const env = !spec.env || !spec.flag
    ? ""
    : `[${spec.env}${spec.arg ? "" : "=1"}${spec.multiple ? ", comma-separated" : ""}]`;
  const def = spec.shown === undefined ? "" : `(default ${spec.shown})`;
  return [env, def].filter((s) => s !== "").join(" ");
}

/** Wraps `text` into lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** The `--help` lines of one spec. */
function helpLines(spec: FlagSpec): string[] {
  const left = `  ${flagUsage(spec)}`;
  const body = wrap(`${spec.help} ${envNote(spec)}`, HELP_WIDTH - FLAG_COLUMN);
  const pad = " ".repeat(FLAG_COLUMN);
  if (left.length >= FLAG_COLUMN - 1) return [left, ...body.map((l) => pad + l)];
  return [left.padEnd(FLAG_COLUMN) + body[0], ...body.slice(1).map((l) => pad + l)];
}

/** Renders `--help`: a head (none when empty), then each section's flags. */
export function renderUsage(head: string, sections: readonly HelpSection[]): string {
  const out = head.trim() === "" ? [] : [head.trimEnd(), ""];
  for (const s of sections) {
    out.push(`${s.title}:`);
    for (const spec of Object.values(s.table)) out.push(...helpLines(spec));
    if (s.withHelp) {
      out.push(...helpLines({ flag: "help", short: "h", help: "print this help and exit" }));
    }
    if (s.note) out.push("", ...s.note.trimEnd().split("\n"));
    out.push("");
  }
  return out.join("\n").trimEnd() + "\n";
}

/** A Markdown table of some tables' flags (for `docs/operations.md`). */
export function docsTable(tables: readonly FlagTable[]): string {
  const cell = (s: string) => s.replaceAll("|", "\\|").replace(/\s+/g, " ").trim();
  const rows = ["| Flag | Environment | Default | Meaning |", "| --- | --- | --- | --- |"];
  for (const t of tables) {
    for (const spec of Object.values(t)) {
      const flag = spec.flag ? `\`${flagUsage(spec)}\`` : "(environment only)";
      const env = spec.env ? `\`${spec.env}\`` : "";
      rows.push(
        `| ${cell(flag)} | ${cell(env)} | ${cell(spec.shown ?? "")} | ${cell(spec.help)} |`,
      );
    }
  }
  return rows.join("\n");
}
