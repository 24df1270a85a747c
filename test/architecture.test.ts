/**
 * docs/architecture.md §1.2: the direction of imports, enforced. core ← codec ← format ← protocol ← remux ←
 * {server, client}; net imports only core; api imports only core (and hono); only lib/net calls
 * Bun's socket/serve APIs; nothing in lib imports commands; no process.exit/argv in lib; the
 * test-only lib/core/testing.ts is imported by tests (`*.test.ts`, `_testing.ts`) only.
 */
import { expect, test } from 'bun:test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const root = resolve(import.meta.dir, '..');
const lib = join(root, 'lib');

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const allowed: Record<string, string[]> = {
  core: ['core'],
  codec: ['core', 'codec'],
  format: ['core', 'codec', 'format'],
  protocol: ['core', 'codec', 'format', 'protocol'],
  remux: ['core', 'codec', 'format', 'protocol', 'remux'],
  net: ['core', 'net'],
  api: ['core', 'api'],
  server: ['core', 'codec', 'format', 'protocol', 'remux', 'net', 'api', 'server'],
  client: ['core', 'codec', 'format', 'protocol', 'remux', 'net', 'client'],
};

test('lib modules import only in the allowed direction', () => {
  const bad: string[] = [];
  for (const f of files(lib)) {
    const mod = relative(lib, f).split('/')[0];
    if (mod === 'index.ts') continue;
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)) {
      const spec = m[1];
      if (!spec.startsWith('.')) {
        if (spec === 'hono' || spec.startsWith('hono/')) {
          if (mod !== 'api' && mod !== 'server') bad.push(`${relative(root, f)} imports ${spec}`);
        }
        if (spec === 'citty') bad.push(`${relative(root, f)} imports citty (commands/ only)`);
        continue;
      }
      const target = relative(lib, resolve(dirname(f), spec));
      if (target.startsWith('..')) {
        bad.push(`${relative(root, f)} imports ${spec} (outside lib)`);
        continue;
      }
      const tmod = target.split('/')[0];
      if (!(allowed[mod] ?? []).includes(tmod)) bad.push(`${relative(root, f)} (${mod}) imports ${tmod}: ${spec}`);
      // test utilities stay out of shipped code: only *.test.ts and _testing.ts may import them
      if (target === 'core/testing.ts' && !f.endsWith('/_testing.ts')) bad.push(`${relative(root, f)} imports the test-only ${spec}`);
    }
  }
  expect(bad).toEqual([]);
});

test('only lib/net touches Bun socket and serve APIs; lib never exits the process', () => {
  const bad: string[] = [];
  for (const f of files(lib)) {
    const rel = relative(lib, f);
    const src = readFileSync(f, 'utf8');
    if (!rel.startsWith('net/') && /Bun\.(listen|connect|udpSocket|serve)\b/.test(src)) bad.push(`${rel} uses a Bun socket API`);
    if (/process\.(exit|argv)\b/.test(src)) bad.push(`${rel} uses process.exit/argv`);
  }
  expect(bad).toEqual([]);
});
