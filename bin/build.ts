#!/usr/bin/env bun
/**
 * `bun run build` (also run by `npm install` / `npm ci` as `prepare`): one prebuilt bundle per
 * subcommand in dist/, CommonJS with Bun's bytecode cache (`dist/<name>.js` + `.js.jsc`), and
 * dist/manifest.json naming every source file each bundle was built from (size and mtime).
 *
 * Why: a short CLI run is mostly start-up. From source, Bun transpiles and links each of the ~35
 * modules `lal remux` loads and JavaScriptCore compiles every function on its first call; an
 * 8 MB FLV → TS conversion spends more time on that than on converting. The bytecode bundle
 * skips both (Bun's own advice for CLIs, docs/bundler/bytecode.mdx).
 *
 * bin/lal.ts runs a subcommand from dist/ only when the manifest matches the files on disk and
 * this Bun version (bin/lal.ts); after any edit it runs the sources, so a stale build is
 * never used. Each bundle also carries the direct-run code (`runSimple`), so a fresh build needs
 * no source module at all. Source maps are linked, so a stack trace still names lib/ files.
 *
 *   bun bin/build.ts [--out DIR]        default DIR: dist/ beside bin/
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SUBCOMMANDS } from '../commands/_subcommands.ts';
import { BUILT_MANIFEST, type BuiltManifest } from './lal.ts';

const root = resolve(import.meta.dir, '..');
const { values } = parseArgs({ options: { out: { type: 'string' } } });
const outDir = resolve(values.out ?? join(root, 'dist'));

/**
 * Left out of the bundles, loaded from node_modules at run time: consola's env detection reads
 * `import.meta`, which a CommonJS bundle cannot hold (Bun then silently writes no bytecode).
 */
const EXTERNAL = ['consola'];

/** The entry of subcommand `name`'s bundle, a virtual module beside commands/<name>.ts (BuiltCommand). */
function builtEntrySource(name: string): string {
  return `export { default } from './${name}.ts';\nexport { runSimple } from './_args.ts';\n`;
}

const t0 = performance.now();
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const manifest: BuiltManifest = { bun: Bun.version, commands: {} };
for (const name of Object.keys(SUBCOMMANDS)) {
  // A virtual module beside commands/<name>.ts: the command and the direct-run code (bin/lal.ts).
  const entry = join(root, 'commands', `.built-${name}.ts`);
  const res = await Bun.build({
    entrypoints: [entry],
    files: { [entry]: builtEntrySource(name) },
    outdir: outDir,
    naming: `${name}.js`,
    target: 'bun',
    format: 'cjs',
    bytecode: true,
    sourcemap: 'linked',
    // Less source to read and hash at load; identifiers kept, so stack traces stay readable.
    minify: { whitespace: true, syntax: true, identifiers: false },
    external: EXTERNAL,
    metafile: true,
  });
  if (!res.success) {
    for (const m of res.logs) console.error(m);
    console.error(`build: bundling ${relative(root, entry)} failed`);
    process.exit(1);
  }
  const outputs = res.outputs.map((o) => relative(outDir, o.path));
  if (!outputs.includes(`${name}.js.jsc`)) {
    // Bun writes no bytecode for a bundle it cannot compile as CommonJS (import.meta, top-level await).
    console.error(`build: no bytecode for ${name} (outputs: ${outputs.join(', ')}); something in its imports needs ESM`);
    process.exit(1);
  }
  const inputs: [string, number, number][] = [];
  for (const [input, info] of Object.entries(res.metafile?.inputs ?? {})) {
    // metafile paths are relative to the working directory
    const abs = resolve(process.cwd(), input);
    const f = Bun.file(abs);
    // virtual inputs (the entry, the bundler's runtime helpers) have no file
    if (abs === entry || !(await f.exists())) continue;
    if (f.size !== info.bytes) {
      console.error(`build: ${relative(root, abs)} changed while ${name} was being bundled; run the build again`);
      process.exit(1);
    }
    inputs.push([relative(root, abs), f.size, f.lastModified]);
  }
  // A manifest that misses inputs would let a stale bundle run: refuse rather than guess.
  if (!inputs.some(([p]) => p === `commands/${name}.ts`)) {
    console.error(`build: the bundle of ${name} does not list commands/${name}.ts among its inputs; not writing a manifest that could miss edits`);
    process.exit(1);
  }
  manifest.commands[name] = { file: `${name}.js`, inputs };
}
writeFileSync(join(outDir, BUILT_MANIFEST), `${JSON.stringify(manifest)}\n`);
const names = Object.keys(manifest.commands);
console.log(`build: ${names.length} commands (${names.join(', ')}) → ${relative(process.cwd(), outDir) || '.'} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
