import { afterAll, describe, expect, test } from 'bun:test';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LalError, ParseError } from '../../core/errors.ts';
import { FlvFileWriter, findAmf0NumberProperty, readFlvFile } from './file.ts';
import { FLV_HEADER } from './header.ts';
import { encodeFlvTag, FlvTagType, isFlvSequenceHeader, type FlvTag } from './tag.ts';
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
const encoded = (tags: FlvTag[]) => Buffer.concat(tags.map((t) => encodeFlvTag(t.type, t.timestamp, t.body)));
const norm = (tags: FlvTag[]) => tags.map((t) => ({ ...t, body: toHex(t.body) }));
const metaNumbers = (body: Uint8Array) => {
  const b = Buffer.from(body);
  return { duration: b.readDoubleBE(findAmf0NumberProperty(body, 'duration')), filesize: b.readDoubleBE(findAmf0NumberProperty(body, 'filesize')) };
};

describe('FlvFileWriter', () => {
  test('header + tags, byte for byte; every tag is in the file when the write returns (unbuffered)', async () => {
    const p = join(dir, 'a.flv');
    const w = FlvFileWriter.open(p);
    expect(readFileSync(p).equals(Buffer.from(FLV_HEADER))).toBe(true);
    for (const t of TAGS) expect(w.writeTag(t.type, t.timestamp, t.body)).toBe(true);
    // readable before close: what a killed process leaves behind
    expect(readFileSync(p).equals(Buffer.concat([FLV_HEADER, encoded(TAGS)]))).toBe(true);
    expect(w.size).toBe(readFileSync(p).length);
    expect(w.finish({ patchMetadata: false })).toBe(true);
    const f = await readFlvFile(p);
    expect(f.header).toEqual({ version: 1, audio: true, video: true, dataOffset: 9 });
    expect(f.trailingBytes).toBe(0);
    expect(norm(f.tags)).toEqual(norm(TAGS));
  });

  test('close patches duration (media span, sequence headers aside) and filesize in place', async () => {
    const p = join(dir, 'b.flv');
    const w = FlvFileWriter.open(p);
    // written as shared tag bytes (several tags in one buffer, as a recorder's header block is)
    expect(w.write(encoded(TAGS.slice(0, 2)))).toBe(true);
    w.writeTag(FlvTagType.Audio, 1000, Uint8Array.of(0xaf, 1, 0x21));
    w.write(encodeFlvTag(FlvTagType.Video, 3500, Uint8Array.of(0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41)));
    w.writeTag(FlvTagType.Audio, 3000, Uint8Array.of(0xaf, 1, 0x21));
    expect(w.spanMs).toBe(2500);
    const size = w.size;
    expect(w.finish()).toBe(true);
    const f = await readFlvFile(p);
    expect(metaNumbers(f.tags[0].body)).toEqual({ duration: 2.5, filesize: size });
    expect(readFileSync(p).length).toBe(size);
    // only the two doubles changed
    expect(norm(f.tags.slice(1, 2))).toEqual(norm(TAGS.slice(1, 2)));
  });

  test('a given duration wins; patchMetadata false leaves the metadata as written', async () => {
    const p = join(dir, 'c.flv');
    const w = FlvFileWriter.open(p, { bufferSize: 64 });
    for (const t of TAGS) w.writeTag(t.type, t.timestamp, t.body);
    w.finish({ duration: 12.5 });
    expect(metaNumbers((await readFlvFile(p)).tags[0].body)).toEqual({ duration: 12.5, filesize: readFileSync(p).length });
    const q = join(dir, 'c2.flv');
    const w2 = FlvFileWriter.open(q);
    for (const t of TAGS) w2.writeTag(t.type, t.timestamp, t.body);
    w2.finish({ patchMetadata: false });
    expect(metaNumbers((await readFlvFile(q)).tags[0].body)).toEqual({ duration: 0, filesize: 0 });
  });

  test('buffered: tags larger and smaller than the buffer, header flags rewritten', async () => {
    const p = join(dir, 'd.flv');
    const w = FlvFileWriter.open(p, { bufferSize: 32 });
    const big = { type: FlvTagType.Video, timestamp: 40, body: new Uint8Array(100).fill(7) };
    const tags = [...TAGS, big, TAGS[2], big];
    for (const t of tags) w.writeTag(t.type, t.timestamp, t.body);
    w.setHeaderFlags({ audio: false, video: true });
    w.finish({ patchMetadata: false });
    const f = await readFlvFile(p);
    expect(f.header.audio).toBe(false);
    expect(norm(f.tags)).toEqual(norm(tags));
  });

  test('atomic: a temporary file until close, renamed over the target; discard leaves nothing', () => {
    const sub = join(dir, 'atomic');
    mkdirSync(sub);
    const p = join(sub, 'e.flv');
    writeFileSync(p, 'old');
    const w = FlvFileWriter.open(p, { atomic: true, bufferSize: 1024 });
    w.writeTag(TAGS[1].type, TAGS[1].timestamp, TAGS[1].body);
    expect(readFileSync(p, 'utf8')).toBe('old');
    expect(w.finish()).toBe(true);
    expect(readdirSync(sub)).toEqual(['e.flv']);
    expect(readFileSync(p).subarray(0, 3).toString()).toBe('FLV');
    const w2 = FlvFileWriter.open(p, { atomic: true });
    w2.writeTag(TAGS[2].type, TAGS[2].timestamp, TAGS[2].body);
    w2.discard();
    expect(readdirSync(sub)).toEqual(['e.flv']);
    expect(readFileSync(p).subarray(0, 3).toString()).toBe('FLV');
  });

  test('a write error is reported once, never thrown; later writes are dropped', () => {
    if (!existsSync('/dev/full')) throw new Error('this test needs /dev/full');
    const errors: LalError[] = [];
    const w = FlvFileWriter.open('/dev/full', { onError: (e) => errors.push(e), tag: 'record' });
    expect(w.failure).toBeInstanceOf(LalError); // the header already failed
    expect(w.writeTag(TAGS[2].type, TAGS[2].timestamp, TAGS[2].body)).toBe(false);
    expect(w.write(encoded(TAGS))).toBe(false);
    expect(w.closed).toBe(true);
    expect(errors.length).toBe(1);
    expect(errors[0].message).toBe('record: cannot write /dev/full: no space left on device');
    expect(w.finish()).toBe(false);
  });

  test('open fails loudly; writes after close are refused without throwing', () => {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    try {
      if (process.getuid?.() !== 0) expect(() => FlvFileWriter.open(join(ro, 'x.flv'))).toThrow(/^flv: cannot create .*: permission denied$/);
    } finally {
      chmodSync(ro, 0o700);
    }
    expect(() => FlvFileWriter.open(join(dir, 'missing', 'x.flv'))).toThrow(/^flv: cannot create .*: no such directory$/);
    const w = FlvFileWriter.open(join(dir, 'f.flv'));
    w.close();
    expect(w.writeTag(TAGS[2].type, TAGS[2].timestamp, TAGS[2].body)).toBe(false);
    expect(w.write(encoded(TAGS))).toBe(false);
  });
});

describe('FLV file helpers', () => {
  test('isFlvSequenceHeader: AVC/HEVC/enhanced/AAC configuration tags, not frames', () => {
    expect(isFlvSequenceHeader(9, Uint8Array.of(0x17, 0))).toBe(true);
    expect(isFlvSequenceHeader(9, Uint8Array.of(0x1c, 0))).toBe(true);
    expect(isFlvSequenceHeader(9, Uint8Array.of(0x17, 1))).toBe(false);
    expect(isFlvSequenceHeader(9, Uint8Array.of(0x90, 0x68, 0x76, 0x63, 0x31))).toBe(true);
    expect(isFlvSequenceHeader(9, Uint8Array.of(0x93, 0x68, 0x76, 0x63, 0x31))).toBe(false);
    expect(isFlvSequenceHeader(8, Uint8Array.of(0xaf, 0))).toBe(true);
    expect(isFlvSequenceHeader(8, Uint8Array.of(0xaf, 1))).toBe(false);
    expect(isFlvSequenceHeader(8, Uint8Array.of(0x72, 0))).toBe(false);
    expect(isFlvSequenceHeader(18, META)).toBe(false);
  });

  test('a truncated recording reads its complete tags and reports the tail', async () => {
    const full = Buffer.concat([FLV_HEADER, encoded(TAGS)]);
    const p = join(dir, 'g.flv');
    writeFileSync(p, full.subarray(0, full.length - 5));
    const f = await readFlvFile(p);
    expect(f.tags.length).toBe(3);
    expect(f.trailingBytes).toBe(11 + 10 + 4 - 5);
  });

  test('a file without FLV header is a ParseError', async () => {
    const p = join(dir, 'h.flv');
    writeFileSync(p, Buffer.from('464c56'));
    await expect(readFlvFile(p)).rejects.toBeInstanceOf(ParseError);
    writeFileSync(p, Buffer.from('not an flv file at all'));
    await expect(readFlvFile(p)).rejects.toThrow('flv: bad signature');
  });
});
