import { afterEach, describe, expect, test } from 'bun:test';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogFile, formatLogLine, logFileReporter } from './log-file.ts';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'lal-logfile-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const local = (y: number, mo: number, d: number, h = 0, mi = 0) => new Date(y, mo - 1, d, h, mi).getTime();

describe('LogFile', () => {
  test('creates its directory, appends lines, flushes on close', () => {
    const path = join(tmp(), 'logs', 'sub', 'lalserver.log');
    const f = LogFile.open({ path });
    f.write('one');
    f.write('two\n');
    f.close();
    expect(readFileSync(path, 'utf8')).toBe('one\ntwo\n');
    f.write('after close is ignored');
    expect(readFileSync(path, 'utf8')).toBe('one\ntwo\n');
  });

  test('opens the file once: lines are written by a timer without reopening', async () => {
    const path = join(tmp(), 'a.log');
    const f = LogFile.open({ path });
    f.write('x');
    expect(readFileSync(path, 'utf8')).toBe(''); // batched
    await Bun.sleep(250);
    expect(readFileSync(path, 'utf8')).toBe('x\n');
    // the file keeps being written through the same descriptor even after it was renamed away
    rmSync(path);
    f.write('y');
    f.flush();
    expect(existsSync(path)).toBe(false);
    f.close();
  });

  test('the buffer is bounded: an over-long line is dropped and counted, and the loss is noted', () => {
    const path = join(tmp(), 'b.log');
    const f = LogFile.open({ path, maxBufferBytes: 3000 });
    f.write('a'.repeat(2000)); // 6000 bytes at worst: over the bound
    f.write('kept');
    expect(f.dropped).toBe(1);
    f.close();
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('1 lines were not written');
    expect(text.endsWith('kept\n')).toBe(true);
  });

  test('many lines are written in batches, none lost', () => {
    const path = join(tmp(), 'c.log');
    const f = LogFile.open({ path });
    for (let i = 0; i < 20_000; i++) f.write(`line ${i} ${'z'.repeat(40)}`);
    f.close();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines.length).toBe(20_000);
    expect(lines[19_999]).toStartWith('line 19999 ');
    expect(f.dropped).toBe(0);
  });

  test('daily rotation with LAL naming: <file>.<YYYYMMDD of the day it holds>', () => {
    const dir = tmp();
    const path = join(dir, 'lalserver.log');
    let now = local(2024, 3, 9, 23, 59);
    const f = LogFile.open({ path, rotateDaily: true, now: () => now });
    f.write('day 9');
    now = local(2024, 3, 10, 0, 0);
    f.write('day 10 a');
    now = local(2024, 3, 10, 13, 0);
    f.write('day 10 b');
    now = local(2024, 3, 12, 8, 0); // a day without lines in between
    f.write('day 12');
    f.close();
    expect(readdirSync(dir).sort()).toEqual(['lalserver.log', 'lalserver.log.20240309', 'lalserver.log.20240310']);
    expect(readFileSync(`${path}.20240309`, 'utf8')).toBe('day 9\n');
    expect(readFileSync(`${path}.20240310`, 'utf8')).toBe('day 10 a\nday 10 b\n');
    expect(readFileSync(path, 'utf8')).toBe('day 12\n');
  });

  test('hourly rotation names files <file>.<YYYYMMDDHH>', () => {
    const dir = tmp();
    const path = join(dir, 'h.log');
    let now = local(2024, 12, 31, 23, 10);
    const f = LogFile.open({ path, rotateHourly: true, now: () => now });
    f.write('23h');
    now = local(2025, 1, 1, 0, 5);
    f.write('0h');
    f.close();
    expect(readFileSync(`${path}.2024123123`, 'utf8')).toBe('23h\n');
    expect(readFileSync(path, 'utf8')).toBe('0h\n');
  });

  test('without rotation the date changes nothing', () => {
    const dir = tmp();
    const path = join(dir, 'n.log');
    let now = local(2024, 1, 1);
    const f = LogFile.open({ path, now: () => now });
    f.write('a');
    now = local(2024, 1, 5);
    f.write('b');
    f.close();
    expect(readdirSync(dir)).toEqual(['n.log']);
    expect(readFileSync(path, 'utf8')).toBe('a\nb\n');
  });

  test('a failed rotation keeps writing the current file', () => {
    const dir = tmp();
    const path = join(dir, 'r.log');
    // the backup name is taken by a non-empty directory: the rename fails (EISDIR/ENOTEMPTY)
    mkdirSync(`${path}.20240501`);
    writeFileSync(join(`${path}.20240501`, 'x'), 'x');
    let now = local(2024, 5, 1, 12);
    const f = LogFile.open({ path, rotateDaily: true, now: () => now });
    f.write('before');
    f.flush();
    now = local(2024, 5, 2, 12);
    f.write('after');
    f.close();
    expect(readFileSync(path, 'utf8')).toBe('before\nafter\n');
    expect(f.lastError).toBeDefined();
  });
});

test('formatLogLine and the consola reporter', () => {
  const path = join(tmp(), 'fmt.log');
  const f = LogFile.open({ path });
  const err = new Error('bad thing');
  const rep = logFileReporter(f);
  rep.log({ date: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)), type: 'warn', tag: 'rtmp', args: ['hello', { a: 1 }] });
  rep.log({ date: new Date(0), type: 'error', args: [err] });
  f.close();
  const text = readFileSync(path, 'utf8');
  expect(text).toStartWith('2024-01-02T03:04:05.006Z WARN [rtmp] hello {"a":1}\n');
  expect(text).toContain('ERROR Error: bad thing\n    at ');
  expect(formatLogLine({ date: new Date(0), type: 'info', args: [] })).toBe('1970-01-01T00:00:00.000Z INFO ');
});
