/**
 * The direct start path for `lal <subcommand> …` (design.md §1.6): a citty-compatible command
 * helper, and an argument parser for the plain cases that runs a subcommand without loading
 * citty. citty's parseArgs (node:util parseArgs, scule's camelCase for every name) costs ~4 ms per
 * start, a visible share of `lal remux`, which races `ffmpeg -c copy` on whole-process wall time.
 * Anything unusual (help, unknown or repeated flags, missing values or required args, `--no-…`,
 * `--`, `=` forms, …) makes `parseSimpleArgs` return undefined, and citty handles it as before, so
 * its usage text and errors are unchanged. Only `import type` from citty here.
 */
import type { ArgsDef, CommandDef, ParsedArgs } from 'citty';

/** citty's `defineCommand` (an identity function with the same typing), without loading citty. */
export function defineCommand<const T extends ArgsDef = ArgsDef>(def: CommandDef<T>): CommandDef<T> {
  return def;
}

/** Lazy subcommand loaders, as citty's `subCommands` takes them (citty too types them `any`). */
export type CommandLoaders = Readonly<Record<string, () => Promise<CommandDef<any>>>>;

/**
 * Names whose scule camelCase/kebabCase (what citty applies) are the name itself or, for kebab
 * names, one camelCase alias computed by `camelName`. Anything else is left to citty.
 */
const NAME_RE = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
/** Aliases that are plain words, so they cannot clash with `_`, `=` or `--no-` handling. */
const ALIAS_RE = /^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$/;
/** citty's runMain treats these as built-in flags wherever they appear (root command, no args). */
const BUILTIN_FLAGS: ReadonlySet<string> = new Set(['--help', '-h', '--version']);

/** `dry-run` → `dryRun`, as scule's camelCase does for NAME_RE names. */
function camelName(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

interface FlagSpec {
  readonly type: 'string' | 'boolean';
  /** Every key citty sets for this arg: the name, its aliases, its camelCase form. */
  readonly keys: readonly string[];
  readonly def: string | boolean | undefined;
  readonly required: boolean;
}

interface PositionalSpec {
  readonly name: string;
  readonly def: string | undefined;
  readonly required: boolean;
}

/**
 * The `args` object citty's `parseArgs(argv, argsDef)` builds, for plain input only: string flags
 * as `--name VALUE` or `-a VALUE` (VALUE not starting with `-`), boolean flags as `--name` or `-a`
 * (`-a` being the arg's first one-letter alias), each at most once, and positionals when the
 * command declares them. Returns undefined for anything else, meaning "let citty handle it".
 */
export function parseSimpleArgs<T extends ArgsDef>(argsDef: T, argv: readonly string[]): ParsedArgs<T> | undefined {
  const flags = new Map<string, FlagSpec>(); // `--name` and `-a` → their arg
  const flagSpecs: FlagSpec[] = [];
  const positionalSpecs: PositionalSpec[] = [];
  const usedKeys = new Set<string>(['_']);
  for (const [name, arg] of Object.entries(argsDef)) {
    if (!NAME_RE.test(name)) return undefined;
    if (arg.type === 'positional') {
      if (usedKeys.has(name)) return undefined;
      usedKeys.add(name);
      positionalSpecs.push({ name, def: arg.default, required: arg.default === undefined && arg.required !== false });
      continue;
    }
    const type = arg.type;
    if (type !== 'string' && type !== 'boolean') return undefined; // enum, untyped: citty
    if (arg.default !== undefined && typeof arg.default !== type) return undefined;
    const aliases = arg.alias === undefined ? [] : Array.isArray(arg.alias) ? arg.alias : [arg.alias];
    const keys = [...new Set([name, ...aliases, camelName(name)])];
    for (const k of keys) {
      if (!ALIAS_RE.test(k) || usedKeys.has(k)) return undefined;
      usedKeys.add(k);
    }
    const spec: FlagSpec = { type, keys, def: arg.default, required: arg.required === true };
    flagSpecs.push(spec);
    flags.set(`--${name}`, spec);
    // node:util parseArgs (inside citty) maps only the first one-letter alias to the arg itself;
    // later ones are separate options that citty merges with subtle default handling.
    const short = aliases.find((a) => a.length === 1);
    if (short !== undefined) flags.set(`-${short}`, spec);
  }

  const given = new Map<FlagSpec, string | boolean>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i];
    if (!tok.startsWith('-')) {
      positionals.push(tok);
      continue;
    }
    if (BUILTIN_FLAGS.has(tok)) return undefined;
    const spec = flags.get(tok);
    if (spec === undefined || given.has(spec)) return undefined;
    if (spec.type === 'boolean') {
      given.set(spec, true);
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('-')) return undefined;
    given.set(spec, value);
    i++;
  }
  if (positionals.length > positionalSpecs.length) return undefined;

  const out: Record<string, unknown> = { _: positionals };
  for (const spec of flagSpecs) {
    const value = given.get(spec) ?? spec.def;
    if (value === undefined) {
      if (spec.required) return undefined;
      continue;
    }
    for (const k of spec.keys) out[k] = value;
  }
  positionalSpecs.forEach((p, i) => {
    out[p.name] = positionals[i] ?? p.def;
  });
  if (positionalSpecs.some((p, i) => p.required && positionals[i] === undefined)) return undefined;
  return out as ParsedArgs<T>;
}

/**
 * Runs `lal <subcommand> …` directly when `parseSimpleArgs` accepts its arguments, with the
 * context citty would pass (`rawArgs` after the subcommand name, `args`, `data`, `cmd`), and
 * handles a thrown error as citty's runMain does (print it, exit 1). Resolves false without
 * running anything when citty must handle the invocation.
 */
export async function runSimple(rawArgs: readonly string[], loaders: CommandLoaders): Promise<boolean> {
  const name = rawArgs[0];
  if (name === undefined || !Object.hasOwn(loaders, name)) return false;
  if (rawArgs.some((a) => BUILTIN_FLAGS.has(a))) return false;
  let cmd: CommandDef<ArgsDef>;
  try {
    cmd = await loaders[name]();
  } catch {
    return false; // citty loads it again and reports the failure its way
  }
  const argsDef = cmd.args;
  if (typeof cmd.run !== 'function' || cmd.setup || cmd.cleanup || cmd.plugins?.length || cmd.subCommands) return false;
  if (argsDef !== undefined && (typeof argsDef !== 'object' || argsDef === null || argsDef instanceof Promise)) return false;
  const rest = rawArgs.slice(1);
  const args = parseSimpleArgs(argsDef ?? {}, rest);
  if (args === undefined) return false;
  try {
    await cmd.run({ rawArgs: rest, args, data: undefined, cmd });
  } catch (e) {
    console.error(e, '\n');
    process.exit(1);
  }
  return true;
}
