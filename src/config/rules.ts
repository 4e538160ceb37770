/**
 * Rules that read several flags into one setting, shared by the roles: persistence
 * (`--data-dir`, `--no-persist`, `--retention`) and secrets given inline or in a file. Pure.
 *
 * @module
 */
import { flagName, type FlagSpec, type ReadFlags } from "./flag.ts";
import { argsProblem, path } from "./parsers.ts";
import { parseRetention, type Retention } from "../store/retention.ts";

/** The outcome of parsing a role's flags. */
export type ParseResult<C> =
  | { kind: "config"; config: C }
  | { kind: "help" }
  | { kind: "error"; message: string };

/**
 * Runs `build` on the flags; a parseArgs error or a thrown Error becomes a one-line error
 * result, `--help` (even next to bad values) a help result. Never throws.
 */
export function parseWith<C>(
  read: () => ReadFlags,
  build: (flags: ReadFlags) => C,
): ParseResult<C> {
  let flags: ReadFlags;
  try {
    flags = read();
  } catch (err) {
    return { kind: "error", message: argsProblem(err) };
  }
  if (flags.help) return { kind: "help" };
  try {
    return { kind: "config", config: build(flags) };
  } catch (err) {
    return { kind: "error", message: (err as Error).message };
  }
}

/** The specs {@link persistence} reads. */
export interface PersistenceSpecs {
  dataDir: FlagSpec;
  noPersist: FlagSpec;
  retention: FlagSpec;
}

/**
 * `--data-dir`, `--no-persist` and `--retention` (the same variables for both roles). A flag beats
 * the environment: `--data-dir` persists whatever `ZWS_NO_PERSIST` says. The retention's count
 * defaults to `defaultCount`.
 */
export function persistence(
  flags: ReadFlags,
  specs: PersistenceSpecs,
  defaultDir: string,
  defaultCount: number,
): { dataDir: string | null; retention: Retention } {
  const dirGiven = flags.given(specs.dataDir.flag!);
  if (flags.given(specs.noPersist.flag!) && dirGiven) {
    throw new Error("--data-dir and --no-persist exclude each other");
  }
  const off = flags.raw(specs.noPersist) === true && !dirGiven;
  const dirRaw = flags.text(specs.dataDir);
  const spec = flags.text(specs.retention);
  const retention = spec === undefined
    ? { count: defaultCount }
    : parseRetention(spec, defaultCount);
  if (typeof retention === "string") throw new Error(retention);
  return {
    dataDir: off ? null : path(dirRaw ?? defaultDir, flagName(specs.dataDir)),
    retention,
  };
}

/**
 * A secret given inline or as a file (`--auth-secret`, `--auth-secret-file`): from the flags when
 * either flag is given, else from the environment; never both.
 */
export function inlineOrFile(
  flags: ReadFlags,
  inline: FlagSpec,
  file: FlagSpec,
): { inline: string | null; file: string | null } {
  const fromFlags = flags.given(inline.flag!) || flags.given(file.flag!);
  const i = fromFlags ? flags.values[inline.flag!] as string | undefined : flags.fromEnv(inline);
  const f = fromFlags ? flags.values[file.flag!] as string | undefined : flags.fromEnv(file);
  if (i !== undefined && f !== undefined) {
    throw new Error(
      fromFlags
        ? `give ${flagName(inline)} or ${flagName(file)}, not both`
        : `set ${inline.env} or ${file.env}, not both`,
    );
  }
  return { inline: i ?? null, file: f === undefined ? null : path(f, flagName(file)) };
}
