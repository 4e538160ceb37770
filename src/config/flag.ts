/**
 * Flag tables: each setting of a role written once, as a {@link FlagSpec} (flag, environment
 * variable, default, parser, help), from which come the `parseArgs` options, the environment
 * fallbacks, `--help`, the environment list of `deno.json`'s permission sets (checked by
 * `tests/unit/flags_consistency_test.ts`) and the flag tables of `docs/operations.md`
 * (`deno task gen`). The tables themselves are in `flags.ts`. Pure: no I/O.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** A raw value: the flag's text (a list for a repeatable flag), or `true` for a switch. */
export type Raw = string | string[] | true;

/** One setting of a role. */
export interface FlagSpec<T = unknown> {
  /** The flag without dashes (`max-clients`); absent: environment only (a secret `ps` would show). */
  readonly flag?: string;
  /** One-letter alias (`h`). */
  readonly short?: string;
  /** Environment variable read when the flag is absent. */
  readonly env?: string;
  /** Placeholder of the value in `--help` (`<n>`); absent: a switch that takes no value. */
  readonly arg?: string;
  /** Repeatable flag; its environment variable is then a comma-separated list. */
  readonly multiple?: boolean;
  /** One line (or a few) of help; the docs table joins them. */
  readonly help: string;
  /** The default as shown in `--help` and the docs (absent: none shown). */
  readonly shown?: string;
  /** Write it `--flag=VALUE` in the help (values may start with "-"). */
  readonly equals?: boolean;
  /** A secret: given as a flag, it is visible to other users (`ps`); the server warns. */
  readonly secret?: boolean;
  /**
   * Turns the raw value (undefined: neither flag nor environment) into the setting; throws an
   * Error with a one-line message naming the flag. Absent: a role's own rules read the flag
   * (several flags make one setting, e.g. `--data-dir` with `--no-persist`).
   */
  readonly read?: (raw: Raw | undefined) => T;
}

/** A spec that reads its setting by itself. */
export type ReadSpec<T> = FlagSpec<T> & { readonly read: (raw: Raw | undefined) => T };

/** What every kind of spec has, besides how its value is read. */
type Common = Omit<FlagSpec, "read" | "arg" | "multiple">;

/** The flag's name for messages: `--max-clients` (or the environment variable). */
export function flagName(spec: Pick<FlagSpec, "flag" | "env">): string {
  return spec.flag ? `--${spec.flag}` : spec.env ?? "?";
}

/** A setting with one value: `parse` gets the text (flag, else environment, trimmed). */
export function value<T>(
  spec: Common & { arg: string; fallback: T; parse: (raw: string, flag: string) => T },
): ReadSpec<T> {
  const { fallback, parse, ...rest } = spec;
  const name = flagName(spec);
  return {
    ...rest,
    read: (raw) => raw === undefined ? structuredClone(fallback) : parse(raw as string, name),
  };
}

/** A repeatable setting: `parse` gets every value (flags, else the environment list). */
export function list<T>(
  spec: Common & { arg: string; fallback: T; parse: (raw: string[], flag: string) => T },
): ReadSpec<T> {
  const { fallback, parse, ...rest } = spec;
  const name = flagName(spec);
  return {
    ...rest,
    multiple: true,
    read: (raw) => raw === undefined ? structuredClone(fallback) : parse(raw as string[], name),
  };
}

/**
 * A switch (`--reuse-port`): on when given, or when its variable is 1, true, yes or on; with
 * `meaning`, the setting is what it makes of that (`--no-demo`: the demo runs when off).
 */
export function toggle(spec: Common): ReadSpec<boolean>;
export function toggle<T>(spec: Common & { meaning: (on: boolean) => T }): ReadSpec<T>;
export function toggle<T>(spec: Common & { meaning?: (on: boolean) => T }): ReadSpec<T | boolean> {
  const { meaning, ...rest } = spec;
  return { ...rest, read: (raw) => meaning ? meaning(raw === true) : raw === true };
}

/** A flag (or variable) that a role's own rules read, with others: only named and documented here. */
export function ruled(spec: Common & { arg?: string; multiple?: boolean }): FlagSpec<never> {
  return spec;
}

/** A role's table: settings by the key they have in the role's config. */
export type FlagTable = Readonly<Record<string, FlagSpec>>;

type ReadOf<S> = S extends { read: (raw: never) => infer T } ? T : never;
type HasRead<S> = S extends { read: (raw: never) => unknown } ? true : false;

/**
 * The settings a table reads by itself: each spec with a reader, by its key; a setting that may
 * be undefined is an optional key (absent, not undefined, when not given).
 */
export type SettingsOf<Tb extends FlagTable> =
  & {
    -readonly [
      K in keyof Tb as HasRead<Tb[K]> extends true ? undefined extends ReadOf<Tb[K]> ? never
        : K
        : never
    ]: ReadOf<Tb[K]>;
  }
  & {
    -readonly [
      K in keyof Tb as HasRead<Tb[K]> extends true ? undefined extends ReadOf<Tb[K]> ? K
        : never
        : never
    ]?: Exclude<ReadOf<Tb[K]>, undefined>;
  };

/** `parseArgs`' values: by flag name. */
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** Command-line flags read against a role's tables, with its environment as fallback. */
export interface ReadFlags {
  /** The flags as given (by flag name), for a role's own rules. */
  values: FlagValues;
  /** Whether `--help` (or `-h`) was given. */
  help: boolean;
  /** Whether the flag was on the command line. */
  given(flag: string): boolean;
  /** The raw value of a spec: its flag, else its environment variable (trimmed; blank: unset). */
  raw(spec: FlagSpec): Raw | undefined;
  /** The text of a spec that takes a value (its flag, else its variable), or undefined. */
  text(spec: FlagSpec): string | undefined;
  /** A spec's variable alone (trimmed; blank: unset), whatever the flags say. */
  fromEnv(spec: FlagSpec): string | undefined;
}

/** The `parseArgs` options of some tables, plus `--help`. */
export function parseArgsOptions(
  tables: readonly FlagTable[],
): Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> {
  const options: Record<
    string,
    { type: "string" | "boolean"; multiple?: boolean; short?: string }
  > = {};
  for (const table of tables) {
    for (const spec of Object.values(table)) {
      if (!spec.flag) continue;
      options[spec.flag] = {
        type: spec.arg ? "string" : "boolean",
        ...(spec.multiple ? { multiple: true } : {}),
        ...(spec.short ? { short: spec.short } : {}),
      };
    }
  }
  options.help = { type: "boolean", short: "h" };
  return options;
}

/**
 * Parses `args` against `tables` (strict: an unknown flag, a positional or a malformed flag
 * throws parseArgs' error) and looks values up, flag first, then `env`.
 */
export function readFlags(
  tables: readonly FlagTable[],
  args: readonly string[],
  env: (name: string) => string | undefined,
): ReadFlags {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    allowPositionals: false,
    options: parseArgsOptions(tables),
  });
  const given = (flag: string) => values[flag] !== undefined;
  const raw = (spec: FlagSpec): Raw | undefined => {
    if (spec.flag && given(spec.flag)) {
      const v = values[spec.flag];
      return v === true ? true : v as string | string[];
    }
    const e = spec.env === undefined ? undefined : nonEmpty(env(spec.env));
    if (e === undefined) return undefined;
    if (!spec.arg) return truthy(e) ? true : undefined;
    return spec.multiple ? e.split(",") : e;
  };
  return {
    values: values as FlagValues,
    help: values.help === true,
    given,
    raw,
    text: (spec) => {
      const r = raw(spec);
      return typeof r === "string" ? r : undefined;
    },
    fromEnv: (spec) => spec.env === undefined ? undefined : nonEmpty(env(spec.env)),
  };
}

/** Every setting of `table` that has a reader, by key (undefined ones left out). */
export function readSettings<Tb extends FlagTable>(table: Tb, flags: ReadFlags): SettingsOf<Tb> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    if (!spec.read) continue;
    const v = spec.read(flags.raw(spec));
    if (v !== undefined) out[key] = v;
  }
  return out as SettingsOf<Tb>;
}

/** The environment variable of each key of `table` (keys without one left out). */
export function envVars(table: FlagTable): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, spec] of Object.entries(table)) if (spec.env) out[key] = spec.env;
  return out;
}

/** Every environment variable the tables read, sorted, once each. */
export function envNames(tables: readonly FlagTable[]): string[] {
  const names = new Set<string>();
  for (const t of tables) for (const s of Object.values(t)) if (s.env) names.add(s.env);
  return [...names].sort();
}

/** Trimmed, or undefined when blank. */
export function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === "" ? undefined : s.trim();
}

/** Whether an environment value turns a switch on: 1, true, yes or on (any case). */
export function truthy(s: string | undefined): boolean {
  return s !== undefined && /^(1|true|yes|on)$/i.test(s.trim());
}
