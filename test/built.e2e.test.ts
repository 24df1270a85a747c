/**
 * The prebuilt commands (bin/build.ts → dist/, bin/lal.ts): every subcommand gets a
 * bytecode bundle, `lal` runs it only while it matches the sources, and it behaves exactly like
 * the sources (same bytes out, same help).
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILT_MANIFEST, staleReason, type BuiltManifest } from '../bin/lal.ts';
import { SUBCOMMANDS } from '../commands/_subcommands.ts';
import { run, stopAll } from './helpers/proc.ts';

const root = join(import.meta.dir, '..');
const tmp = mkdtempSync(join(tmpdir(), 'lal-built-'));
const fixture = join(root, 'fixtures/h264-aac.flv');
afterAll(async () => {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
});

const readManifest = (dir: string): BuiltManifest => JSON.parse(readFileSync(join(dir, BUILT_MANIFEST), 'utf8'));

describe('bin/build.ts', () => {
  const out = join(tmp, 'dist');

  test('one CommonJS bytecode bundle per subcommand and a manifest of its sources', async () => {
    const r = await run([process.execPath, join(root, 'bin/build.ts'), '--out', out], 60_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = readManifest(out);
    expect(m.bun).toBe(Bun.version);
    expect(Object.keys(m.commands).sort()).toEqual(Object.keys(SUBCOMMANDS).sort());
    for (const [name, c] of Object.entries(m.commands)) {
      expect(c.file).toBe(`${name}.js`);
      expect(statSync(join(out, `${name}.js.jsc`)).size).toBeGreaterThan(1000);
      expect(readFileSync(join(out, c.file), 'utf8')).toStartWith('// @bun @bytecode @bun-cjs');
      expect(c.inputs.map(([p]) => p)).toContain(`commands/${name}.ts`);
    }
    const remuxInputs = new Map(m.commands.remux.inputs.map(([p, size, mtime]) => [p, { size, mtime }]));
    const st = statSync(join(root, 'lib/client/remux.ts'));
    expect(remuxInputs.get('lib/client/remux.ts')).toEqual({ size: st.size, mtime: Bun.file(join(root, 'lib/client/remux.ts')).lastModified });
    expect(remuxInputs.has('lib/remux/mpegts.ts')).toBe(true);
  });

  test('staleReason: fresh against the files on disk; any changed input, another Bun or LAL_BUILT=0 is stale', () => {
    const m = readManifest(out);
    expect(staleReason(m, 'remux', root)).toBeUndefined();
    expect(staleReason(undefined, 'remux', root)).toMatch(/no build/);
    expect(staleReason(m, 'nope', root)).toMatch(/not in the build/);
    expect(staleReason({ ...m, bun: '0.0.1' }, 'remux', root)).toMatch(/built by Bun 0\.0\.1/);
    const edited = structuredClone(m);
    const i = edited.commands.remux.inputs.findIndex(([p]) => p === 'lib/remux/mpegts.ts');
    edited.commands.remux.inputs[i][1] += 1;
    expect(staleReason(edited, 'remux', root)).toBe('lib/remux/mpegts.ts changed since the build');
    const touched = structuredClone(m);
    touched.commands.remux.inputs[i][2] -= 1000;
    expect(staleReason(touched, 'remux', root)).toBe('lib/remux/mpegts.ts changed since the build');
    process.env.LAL_BUILT = '0';
    try {
      expect(staleReason(m, 'remux', root)).toBe('LAL_BUILT=0');
    } finally {
      delete process.env.LAL_BUILT;
    }
  });
});

describe('lal runs a fresh bundle, and the sources once anything changed', () => {
  // A copy of the checkout with just what `lal remux` needs, built there: its files can be edited
  // without touching the real checkout (whose dist/ other tests use).
  const copy = join(tmp, 'checkout');

  test('same bytes and summary from the bundle and from the sources; an edit falls back to the sources', async () => {
    for (const p of ['bin', 'commands', 'lib', 'package.json', 'tsconfig.json', 'bunfig.toml']) cpSync(join(root, p), join(copy, p), { recursive: true, preserveTimestamps: true });
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
    const b = await run([process.execPath, join(copy, 'bin/build.ts')], 60_000);
    expect(b.code).toBe(0);
    const lal = (out: string, env: Record<string, string> = {}) =>
      run([process.execPath, join(copy, 'bin/lal.ts'), 'remux', '-i', fixture, '-o', join(tmp, out)], 30_000, { env: { LAL_BUILT_DEBUG: '1', ...env } });

    const built = await lal('built.ts');
    expect(built.code).toBe(0);
    expect(built.stderr).toContain('lal: remux runs from dist/');
    const src = await lal('src.ts', { LAL_BUILT: '0' });
    expect(src.code).toBe(0);
    expect(src.stderr).not.toContain('runs from dist/');
    expect(readFileSync(join(tmp, 'built.ts')).equals(readFileSync(join(tmp, 'src.ts')))).toBe(true);
    const summary = (s: string) => s.replace(/\S+\.ts:/, 'OUT:').replace(/ in [\d.]+ s \(\d+ MB\/s\)/, '');
    expect(summary(built.stdout)).toBe(summary(src.stdout));
    expect(built.stdout).toMatch(/100 video \/ \d+ audio frames/);

    // An edit to a module the bundle was built from: the sources run (and see the edit).
    const edited = join(copy, 'lib/remux/mpegts.ts');
    appendFileSync(edited, '\n// edited after the build\n');
    const after = await lal('after.ts');
    expect(after.code).toBe(0);
    expect(after.stderr).toContain('lal: remux runs from the sources: lib/remux/mpegts.ts changed since the build');
    expect(readFileSync(join(tmp, 'after.ts')).equals(readFileSync(join(tmp, 'built.ts')))).toBe(true);

    // Help and usage errors still come from citty, whichever way the command would have run.
    const help = await run([process.execPath, join(copy, 'bin/lal.ts'), 'remux', '--help'], 30_000);
    expect(help.code).toBe(0);
    expect(help.stdout + help.stderr).toContain('--output');
  }, 90_000);

  test('a bundle that no longer loads (deleted after the check) falls back to the sources', async () => {
    // The manifest says fresh, but the bundle file is gone.
    const dist = join(copy, 'dist');
    const restore = readFileSync(join(copy, 'lib/remux/mpegts.ts'), 'utf8').replace('\n// edited after the build\n', '');
    writeFileSync(join(copy, 'lib/remux/mpegts.ts'), restore);
    const m = readManifest(dist);
    const i = m.commands.remux.inputs.findIndex(([p]) => p === 'lib/remux/mpegts.ts');
    const st = Bun.file(join(copy, 'lib/remux/mpegts.ts'));
    m.commands.remux.inputs[i] = ['lib/remux/mpegts.ts', st.size, st.lastModified];
    writeFileSync(join(dist, BUILT_MANIFEST), JSON.stringify(m));
    rmSync(join(dist, 'remux.js'));
    const r = await run([process.execPath, join(copy, 'bin/lal.ts'), 'remux', '-i', fixture, '-o', join(tmp, 'gone.ts')], 30_000, { env: { LAL_BUILT_DEBUG: '1' } });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('the dist/ bundle failed to load');
    expect(readFileSync(join(tmp, 'gone.ts')).equals(readFileSync(join(tmp, 'built.ts')))).toBe(true);
  }, 60_000);
});
