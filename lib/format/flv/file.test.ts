import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LalError, ParseError } from '../../core/errors.ts';
import { FlvFileWriter, readFlvFile } from './file.ts';
import { FLV_HEADER } from './header.ts';
import { encodeFlvTag, FlvTagType, type FlvTag } from './tag.ts';
import { toHex } from '../../core/testing.ts';

const dir = mkdtempSync(join(tmpdir(), 'lal-flv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// onMetaData with duration and filesize placeholders (AMF0: string, ECMA array of 2 numbers).
const META = Buffer.from(
  '02000a6f6e4d6574614461746108' + '00000002' +
  '0008' + Buffer.from('duration').toString('hex') + '00' + '0000000000000000' +
  '0008' + Buffer.from('filesize').toString('hex') + '00' + '0000000000000000' +
  '000009',
  'hex',
);
const TAGS: FlvTag[] = [
  { type: FlvTagType.Script, timestamp: 0, body: META },
  { type: FlvTagType.Video, timestamp: 0, body: Uint8Array.of(0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f) },
  { type: FlvTagType.Audio, timestamp: 23, body: Uint8Array.of(0xaf, 1, 0x21, 0x10) },
  { type: FlvTagType.Video, timestamp: 0x1000001, body: Uint8Array.of(0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41) },
];
const norm = (tags: FlvTag[]) => tags.map((t) => ({ ...t, body: toHex(t.body) }));

describe('FLV files', () => {
  test('writer then reader round-trips tags; bytes are header + encoded tags', async () => {
    const p = join(dir, 'a.flv');
    const w = await FlvFileWriter.open(p);
    for (const t of TAGS) w.write(t);
    await w.close();
    const f = await readFlvFile(p);
    expect(f.header).toEqual({ version: 1, audio: true, video: true, dataOffset: 9 });
    expect(f.trailingBytes).toBe(0);
    expect(norm(f.tags)).toEqual(norm(TAGS));
    const want = Buffer.concat([FLV_HEADER, ...TAGS.map((t) => encodeFlvTag(t.type, t.timestamp, t.body))]);
    expect(readFileSync(p).equals(want)).toBe(true);
  });

  test('the file is playable before close (a killed process leaves a valid file)', async () => {
    const p = join(dir, 'b.flv');
    const w = await FlvFileWriter.open(p, { audio: false, video: true });
    w.write(TAGS[1]);
    w.writeBytes(encodeFlvTag(TAGS[3].type, TAGS[3].timestamp, TAGS[3].body));
    expect(w.bytesQueued).toBe(13 + 15 + 9 + 15 + 10);
    await w.flush();
    expect(w.pendingBytes).toBe(0);
    const f = await readFlvFile(p);
    expect(f.header.audio).toBe(false);
    expect(norm(f.tags)).toEqual(norm([TAGS[1], TAGS[3]]));
    await w.close();
  });

  test('close patches onMetaData duration and filesize', async () => {
    const p = join(dir, 'c.flv');
    const w = await FlvFileWriter.open(p);
    for (const t of TAGS) w.write(t);
    const size = w.bytesQueued;
    await w.close({ duration: 12.5, filesize: size });
    const f = await readFlvFile(p);
    const body = Buffer.from(f.tags[0].body);
    const d = body.indexOf(Buffer.from('duration')) + 9;
    const s = body.indexOf(Buffer.from('filesize')) + 9;
    expect(body.readDoubleBE(d)).toBe(12.5);
    expect(body.readDoubleBE(s)).toBe(size);
    // only the two doubles changed
    expect(norm(f.tags.slice(1))).toEqual(norm(TAGS.slice(1)));
  });

  test('write after close is refused', async () => {
    const w = await FlvFileWriter.open(join(dir, 'd.flv'));
    await w.close();
    expect(() => w.write(TAGS[2])).toThrow(LalError);
  });

  test('a truncated recording reads its complete tags and reports the tail', async () => {
    const full = Buffer.concat([FLV_HEADER, ...TAGS.map((t) => encodeFlvTag(t.type, t.timestamp, t.body))]);
    const p = join(dir, 'e.flv');
    writeFileSync(p, full.subarray(0, full.length - 5));
    const f = await readFlvFile(p);
    expect(f.tags.length).toBe(3);
    expect(f.trailingBytes).toBe(11 + 10 + 4 - 5);
  });

  test('a file without FLV header is a ParseError', async () => {
    const p = join(dir, 'f.flv');
    writeFileSync(p, Buffer.from('464c56'));
    await expect(readFlvFile(p)).rejects.toBeInstanceOf(ParseError);
    writeFileSync(p, Buffer.from('not an flv file at all'));
    await expect(readFlvFile(p)).rejects.toThrow('flv: bad signature');
  });
});
