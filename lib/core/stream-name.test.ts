import { describe, expect, test } from 'bun:test';
import { utf8Length } from './bytes.ts';
import { MAX_STREAM_NAME_BYTES, checkStreamName, quoteName } from './stream-name.ts';

describe('checkStreamName', () => {
  test('LAL-compatible names pass', () => {
    for (const s of [
      'test110',
      'a.b',
      'a..b',
      '..x',
      '.hidden',
      'x.',
      'A-Z_a-z.0~9',
      'name%20with%2Fescapes',
      '中文测试',
      'emoji-😀',
      'a b',
      'c3f1e2d4-0b6a-4f7e-9a51-2f9d5b7c8e11',
      'x'.repeat(MAX_STREAM_NAME_BYTES),
    ]) {
      expect(`${s.slice(0, 20)}: ${checkStreamName(s)}`).toBe(`${s.slice(0, 20)}: undefined`);
    }
  });

  test('refused names say why', () => {
    const cases: [string, string][] = [
      ['', 'empty'],
      ['.', '"."'],
      ['..', '".."'],
      ['a/b', 'separator'],
      ['../../out/X', 'separator'],
      ['/abs', 'separator'],
      ['a\\b', 'separator'],
      ['..\\x', 'separator'],
      ['nul\0', 'control'],
      ['line\nfeed', 'control'],
      ['tab\t', 'control'],
      ['esc\x1b[31m', 'control'],
      ['del\x7f', 'control'],
      ['x'.repeat(MAX_STREAM_NAME_BYTES + 1), 'longer than 1024'],
      ['x'.repeat(60_000), 'longer than 1024'],
      // 342 three-byte characters = 1026 bytes although only 342 UTF-16 units
      ['中'.repeat(342), 'longer than 1024'],
    ];
    for (const [name, why] of cases) expect(checkStreamName(name) ?? 'ok').toContain(why);
  });

  test('the limit counts UTF-8 bytes', () => {
    expect(checkStreamName('中'.repeat(341))).toBeUndefined(); // 1023 bytes
    expect(checkStreamName('😀'.repeat(256))).toBeUndefined(); // 1024 bytes
    expect(checkStreamName('😀'.repeat(256) + 'x')).toBeDefined();
  });

  test('utf8Length matches TextEncoder, lone surrogates included', () => {
    for (const s of ['', 'abc', 'é', '中文', '😀x', '\ud800', 'a\udc00b', '\ud83d\ude00\ud83d']) {
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
    }
  });

  test('quoteName shortens long names', () => {
    expect(quoteName('abc')).toBe('"abc"');
    expect(quoteName('x'.repeat(1000)).length).toBeLessThan(90);
  });
});
