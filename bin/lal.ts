#!/usr/bin/env bun
/**
 * `lal`. A subcommand with plain arguments runs directly, without loading citty (~4 ms of
 * start-up that `lal remux` spends racing `ffmpeg -c copy`): from its prebuilt bytecode bundle in
 * dist/ when that is up to date with the sources, else from the sources. Help, version, usage
 * errors and anything unusual go through citty's runMain as before (design.md §1.6).
 *
 * Prebuilt subcommands (dist/, written by bin/build.ts, which `npm install` runs): `lal <name> …`
 * runs dist/<name>.js when dist/manifest.json says it was built by this Bun version from exactly
 * the files on disk (same size and mtime for every input), so an edit never runs stale code; it
 * only costs the start-up the bundle saves until the next `bun run build`. The check is a few
 * dozen `stat`s through Bun.file (no node:fs, whose loading alone costs more), for the subcommand
 * being run only. It lives here, not in a module of its own: at start-up every module loaded
 * costs ~0.4 ms, and a fresh bundle carries everything else it needs (`runSimple` included).
 *
 * `LAL_BUILT=0` always runs the sources; `LAL_BUILT_DEBUG=1` says on stderr which one runs and why.
 */
import type { CommandDef } from 'citty';
import type { runSimple } from '../commands/_args.ts';

export const BUILT_MANIFEST = 'manifest.json';

/** dist/manifest.json. */
export interface BuiltManifest {
  /** Bun.version that wrote the bytecode (bytecode is tied to one JavaScriptCore). */
  bun: string;
  commands: Record<string, { file: string; inputs: [path: string, size: number, mtimeMs: number][] }>;
}

/** What each dist/<name>.js exports (the build's entry for it, bin/build.ts). */
export interface BuiltCommand {
  default: CommandDef<any>;
  runSimple: typeof runSimple;
}

/** Why subcommand `name` does not run from `<root>/dist`, or undefined when it can. */
export function staleReason(manifest: BuiltManifest | undefined, name: string, root: string): string | undefined {
  if (process.env.LAL_BUILT === '0') return 'LAL_BUILT=0';
  if (!manifest) return 'no build (bun run build)';
  if (manifest.bun !== Bun.version) return `built by Bun ${manifest.bun}, running ${Bun.version}`;
  if (!Object.hasOwn(manifest.commands, name)) return `${name} is not in the build`;
  for (const [path, size, mtime] of manifest.commands[name].inputs) {
    const f = Bun.file(`${root}/${path}`);
    if (f.size !== size || f.lastModified !== mtime) return `${path} changed since the build`;
  }
  return undefined;
}

/**
 * The fresh bundle of subcommand `name` under `<root>/dist`, or undefined (no build, stale, not
 * a subcommand, or the bundle failed to load: then the sources run).
 */
export function loadBuilt(name: string | undefined, root: string): BuiltCommand | undefined {
  if (!name || name.startsWith('-')) return undefined;
  const debug = process.env.LAL_BUILT_DEBUG === '1';
  let manifest: BuiltManifest | undefined;
  try {
    manifest = require(`${root}/dist/${BUILT_MANIFEST}`) as BuiltManifest;
  } catch {
    manifest = undefined;
  }
  const why = staleReason(manifest, name, root);
  if (why !== undefined) {
    if (debug) console.error(`lal: ${name} runs from the sources: ${why}`);
    return undefined;
  }
  try {
    const m = require(`${root}/dist/${manifest!.commands[name].file}`) as Partial<BuiltCommand>;
    if (typeof m.runSimple !== 'function' || !m.default) throw new Error('it does not export default and runSimple');
    if (debug) console.error(`lal: ${name} runs from dist/`);
    return m as BuiltCommand;
  } catch (e) {
    if (debug) console.error(`lal: ${name}: the dist/ bundle failed to load (${(e as Error).message}), running the sources`);
    return undefined;
  }
}

async function main(): Promise<void> {
  const dir = import.meta.dir;
  const root = dir.slice(0, Math.max(dir.lastIndexOf('/'), dir.lastIndexOf('\\'))); // bin/..
  const argv = process.argv.slice(2);
  const built = loadBuilt(argv[0], root);
  if (built) {
    if (await built.runSimple(argv, { [argv[0]]: () => Promise.resolve(built.default) })) return;
  } else {
    const [{ runSimple }, { SUBCOMMANDS }] = await Promise.all([import('../commands/_args.ts'), import('../commands/_subcommands.ts')]);
    if (await runSimple(argv, SUBCOMMANDS)) return;
  }
  const [{ runMain }, { main: rootCommand }] = await Promise.all([import('citty'), import('../commands/index.ts')]);
  await runMain(rootCommand);
}

// Imported (bin/build.ts, tests) it only lends its functions. No top-level await: Bun ends a
// process whose entry module awaits a promise that never settles.
if (import.meta.main) void main();
