/** test/helpers/chromium.ts: where Chromium is looked for, when it is installed, what a failure says. */
import { afterAll, describe, expect, test } from 'bun:test';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APT_COMMANDS, DEFAULT_CHROMIUM_PATH, INSTALL_HINT, ensureChromium, planChromium, type ChromiumPlan, type ChromiumProbe } from './chromium.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lal-chromium-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function probe(p: { env?: string; files?: string[]; path?: Record<string, string>; root?: boolean; apt?: boolean }): ChromiumProbe {
  return {
    env: { CHROMIUM: p.env },
    exists: (f) => (p.files ?? []).includes(f),
    which: (n) => p.path?.[n] ?? null,
    isRoot: p.root ?? true,
    hasAptGet: p.apt ?? true,
  };
}

describe('planChromium', () => {
  const cases: [string, ChromiumProbe, ChromiumPlan['kind'], string | undefined][] = [
    ['$CHROMIUM wins over everything', probe({ env: '/opt/c/chrome', files: ['/opt/c/chrome', DEFAULT_CHROMIUM_PATH] }), 'found', '/opt/c/chrome'],
    ['$CHROMIUM missing is an error, not a fallback', probe({ env: '/nope', files: [DEFAULT_CHROMIUM_PATH] }), 'error', undefined],
    ['Debian path next', probe({ files: [DEFAULT_CHROMIUM_PATH], path: { chromium: '/usr/local/bin/chromium' } }), 'found', DEFAULT_CHROMIUM_PATH],
    ['chromium on PATH', probe({ path: { chromium: '/usr/local/bin/chromium', 'chromium-browser': '/x/chromium-browser' } }), 'found', '/usr/local/bin/chromium'],
    ['chromium-browser on PATH', probe({ path: { 'chromium-browser': '/x/chromium-browser' } }), 'found', '/x/chromium-browser'],
    ['missing, root with apt-get: install', probe({}), 'install', undefined],
    ['missing, not root: error', probe({ root: false }), 'error', undefined],
    ['missing, no apt-get: error', probe({ apt: false }), 'error', undefined],
  ];
  test.each(cases)('%s', (_name, p, kind, path) => {
    const plan = planChromium(p);
    expect(plan.kind).toBe(kind);
    if (plan.kind === 'found') expect(plan.path).toBe(path!);
    if (plan.kind === 'install') expect(plan.commands).toEqual(APT_COMMANDS);
    if (plan.kind === 'error') expect(plan.message).toContain(INSTALL_HINT);
  });

  test('the install commands are the system package manager, non-interactive', () => {
    expect(APT_COMMANDS.map((c) => c.join(' '))).toEqual(['apt-get update', 'apt-get install -y --no-install-recommends chromium']);
  });

  test('error messages say why and how', () => {
    const notRoot = planChromium(probe({ root: false }));
    expect(notRoot.kind === 'error' && notRoot.message).toContain('not running as root');
    const noApt = planChromium(probe({ apt: false }));
    expect(noApt.kind === 'error' && noApt.message).toContain('apt-get is not available');
    const badEnv = planChromium(probe({ env: '/nope' }));
    expect(badEnv.kind === 'error' && badEnv.message).toContain('$CHROMIUM=/nope does not exist');
    expect(INSTALL_HINT).toContain('apt-get update && apt-get install -y chromium');
  });
});

describe('ensureChromium', () => {
  function fakeBrowser(name: string, script: string): string {
    const f = join(tmp, name);
    writeFileSync(f, `#!/bin/sh\n${script}\n`);
    chmodSync(f, 0o755);
    return f;
  }

  test('returns the path and the version line of a browser that runs', async () => {
    const f = fakeBrowser('good', 'echo "some wrapper noise" >&2; echo "Chromium 156.0.1.2 built on Debian"');
    const logs: string[] = [];
    const info = await ensureChromium({ probe: probe({ env: f, files: [f] }), log: (m) => logs.push(m) });
    expect(info).toEqual({ path: f, version: 'Chromium 156.0.1.2 built on Debian', installed: false });
    expect(logs).toEqual([]);
  });

  test('a binary that does not run as Chromium fails with the install hint', async () => {
    const f = fakeBrowser('bad', 'echo broken >&2; exit 3');
    const err = await ensureChromium({ probe: probe({ env: f, files: [f] }), log: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('failed (exit 3)');
    expect((err as Error).message).toContain('broken');
    expect((err as Error).message).toContain(INSTALL_HINT);
  });

  test('missing and not allowed to install: the Error says how to install', async () => {
    const err = await ensureChromium({ probe: probe({ root: false }), log: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('chromium: not found');
    expect((err as Error).message).toContain('apt-get install -y chromium');
  });
});
