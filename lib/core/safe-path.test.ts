import { describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { LalError } from './errors.ts';
import { MAX_FILE_NAME_BYTES, checkPathComponent, fileInside } from './safe-path.ts';

describe('fileInside', () => {
  test('joins and cleans, keeping a relative dir relative', () => {
    expect(fileInside('./lal_record/flv/', 'test110-1700000000.flv')).toBe(join('lal_record', 'flv', 'test110-1700000000.flv'));
    expect(fileInside('/tmp/out', 'a', 'b.ts')).toBe('/tmp/out/a/b.ts');
    expect(fileInside('/tmp/out', '..x', '..y.ts')).toBe('/tmp/out/..x/..y.ts');
    expect(fileInside('/tmp/out/', '中文-1.flv')).toBe('/tmp/out/中文-1.flv');
  });

  test('traversal attempts throw LalError and never name a path outside', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lal-safe-'));
    try {
      const attempts: string[][] = [
        ['../../out/X-1.flv'],
        ['..'],
        ['.'],
        [''],
        ['../x'],
        ['a/../../x'],
        ['/etc/passwd'],
        ['..\\..\\x'],
        ['ok', '..'],
        ['ok', '../../x.ts'],
        ['nul\0.flv'],
        ['x'.repeat(MAX_FILE_NAME_BYTES + 1)],
        [],
      ];
      for (const parts of attempts) {
        let err: unknown;
        try {
          fileInside(dir, ...parts);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(LalError);
        expect((err as LalError).code).toBe('unsafe-path');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('results stay inside the resolved dir for every accepted name', () => {
    const dir = '/srv/rec';
    for (const name of ['a', 'a.b', 'a..b', '..a', 'a.', '-', '~', '%2e%2e', '%2F']) {
      const p = resolve(fileInside(dir, name));
      expect(p.startsWith(dir + sep)).toBe(true);
    }
  });

  test('component length is counted in UTF-8 bytes', () => {
    expect(checkPathComponent('x'.repeat(MAX_FILE_NAME_BYTES))).toBeUndefined();
    expect(checkPathComponent('中'.repeat(85))).toBeUndefined(); // 255 bytes
    expect(checkPathComponent('中'.repeat(86))).toContain('longer than 255');
  });
});
