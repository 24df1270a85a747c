import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LalError } from './errors.ts';
import { FileWriter } from './file-writer.ts';

const dir = mkdtempSync(join(tmpdir(), 'lal-fw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);

describe('FileWriter', () => {
  test('unbuffered: every write is in the file when it returns', () => {
    const p = join(dir, 'a');
    const w = new FileWriter(p);
    w.write(bytes(3, 1));
    expect(readFileSync(p)).toEqual(Buffer.from(bytes(3, 1)));
    w.write(bytes(2, 2));
    expect(readFileSync(p).length).toBe(5);
    w.patch(1, Uint8Array.of(9));
    w.close();
    expect([...readFileSync(p)]).toEqual([1, 9, 1, 2, 2]);
    expect(() => w.write(bytes(1, 0))).toThrow(LalError);
  });

  test('buffered: writes, reservations larger and smaller than the buffer, in order', () => {
    const p = join(dir, 'b');
    const w = new FileWriter(p, { bufferSize: 8 });
    w.write(bytes(5, 1));
    expect(readFileSync(p).length).toBe(0); // still in the buffer
    w.reserve(2).set(bytes(2, 2));
    w.reserve(20).set(bytes(20, 3)); // its own buffer, out on the next call
    w.write(bytes(9, 4)); // larger than the buffer: straight out
    w.write(bytes(3, 5));
    expect(w.size).toBe(39);
    w.close();
    expect([...readFileSync(p)]).toEqual([...bytes(5, 1), ...bytes(2, 2), ...bytes(20, 3), ...bytes(9, 4), ...bytes(3, 5)]);
  });

  test('atomic: a hidden temporary file until close replaces the target; discard removes it', () => {
    const sub = join(dir, 'atomic');
    mkdirSync(sub);
    const p = join(sub, 'out.ts');
    writeFileSync(p, 'old');
    const w = new FileWriter(p, { atomic: true, bufferSize: 4 });
    w.write(bytes(10, 7));
    expect(readdirSync(sub).length).toBe(2);
    expect(readFileSync(p, 'utf8')).toBe('old');
    w.close();
    expect(readdirSync(sub)).toEqual(['out.ts']);
    expect(readFileSync(p)).toEqual(Buffer.from(bytes(10, 7)));
    const w2 = new FileWriter(p, { atomic: true });
    w2.write(bytes(1, 1));
    w2.discard();
    expect(readdirSync(sub)).toEqual(['out.ts']);
    expect(readFileSync(p)).toEqual(Buffer.from(bytes(10, 7)));
    // a plain writer's discard removes the file itself
    const q = join(sub, 'plain');
    const w3 = new FileWriter(q);
    w3.write(bytes(1, 1));
    w3.discard();
    expect(existsSync(q)).toBe(false);
  });

  test('I/O errors are LalErrors with the caller tag and code', () => {
    expect(() => new FileWriter(join(dir, 'none', 'x'), { tag: 'remux', code: 'remux-io' })).toThrow(/^remux: cannot create .*none\/x: no such directory$/);
    if (!existsSync('/dev/full')) throw new Error('this test needs /dev/full');
    const w = new FileWriter('/dev/full', { tag: 't', code: 'remux-io' });
    let err: unknown;
    try {
      w.write(bytes(10, 0));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LalError);
    expect((err as LalError).code).toBe('remux-io');
    expect((err as LalError).message).toBe('t: cannot write /dev/full: no space left on device');
    w.close();
  });
});
