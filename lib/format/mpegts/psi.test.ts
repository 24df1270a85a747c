import { describe, expect, test } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import { crc32Mpeg2 } from './crc32.ts';
import {
  decodePat, decodePmt, encodePat, encodePatPmt, encodePatSection, encodePmt, encodePmtSection, psiSectionSize,
  tsCodecOf, TsPid, TsStreamType, type PmtStreams, type TsCodec,
} from './psi.ts';
import { fromHex, mulberry32, onlyParseError, randomBytes, toHex, truncations } from '../../core/testing.ts';

/** docs/media.md §4.1, table "PMT section (from table_id) + CRC". */
const PMT_ROWS: [string, PmtStreams, string][] = [
  ['AVC + AAC', { video: 'h264', audio: 'aac' }, '02 B0 17 00 01 C1 00 00 E1 00 F0 00 1B E1 00 F0 00 0F E1 01 F0 00 2F 44 B9 9B'],
  ['HEVC + AAC', { video: 'h265', audio: 'aac' }, '02 B0 17 00 01 C1 00 00 E1 00 F0 00 24 E1 00 F0 00 0F E1 01 F0 00 C7 72 B7 CB'],
  ['AVC only', { video: 'h264' }, '02 B0 12 00 01 C1 00 00 E1 00 F0 00 1B E1 00 F0 00 15 BD 4D 56'],
  ['HEVC only', { video: 'h265' }, '02 B0 12 00 01 C1 00 00 E1 00 F0 00 24 E1 00 F0 00 2F 00 6E E7'],
  ['AAC only', { audio: 'aac' }, '02 B0 12 00 01 C1 00 00 E1 00 F0 00 0F E1 01 F0 00 B7 43 6C 5E'],
  ['AVC + Opus', { video: 'h264', audio: 'opus' }, '02 B0 21 00 01 C1 00 00 E1 00 F0 00 1B E1 00 F0 00 06 E1 01 F0 0A 05 04 4F 70 75 73 7F 02 80 02 AE A9 63 ED'],
];

describe('PAT', () => {
  test('the exact packet of docs/media.md §4.1', () => {
    const p = encodePat();
    expect(p.length).toBe(188);
    const head = '47 40 00 10 00 00 B0 0D 00 01 C1 00 00 00 01 F0 01 2E 70 19 05';
    expect(toHex(p.subarray(0, 21))).toBe(toHex(fromHex(head)));
    expect(p.subarray(21).every((b) => b === 0xff)).toBe(true);
  });

  test('decodes back: transport_stream_id 1, program 1 → PMT PID 0x1001', () => {
    expect(decodePat(encodePatSection())).toEqual({ transportStreamId: 1, version: 0, programs: [{ programNumber: 1, pid: TsPid.Pmt }] });
  });
});

describe('PMT', () => {
  test.each(PMT_ROWS)('%s: packet bytes, CRC and decode', (_name, streams, sectionHex) => {
    const section = fromHex(sectionHex);
    expect(toHex(encodePmtSection(streams))).toBe(toHex(section));
    const p = encodePmt(streams);
    expect(p.length).toBe(188);
    expect(toHex(p.subarray(0, 5))).toBe('4750011000'); // PID 0x1001, PUSI, CC 0, pointer_field 0
    expect(toHex(p.subarray(5, 5 + section.length))).toBe(toHex(section));
    expect(p.subarray(5 + section.length).every((b) => b === 0xff)).toBe(true);

    const pmt = decodePmt(section);
    expect(pmt.programNumber).toBe(1);
    expect(pmt.pcrPid).toBe(TsPid.Video); // even without video (docs/quirks.md Q-TS-1)
    const want: { pid: number; codec: TsCodec }[] = [];
    if (streams.video) want.push({ pid: TsPid.Video, codec: streams.video });
    if (streams.audio) want.push({ pid: TsPid.Audio, codec: streams.audio });
    expect(pmt.streams.map((s) => ({ pid: s.pid, codec: s.codec }))).toEqual(want);
  });

  test('no streams at all still makes a valid section', () => {
    const s = encodePmtSection({});
    expect(toHex(s.subarray(0, 12))).toBe('02b00d0001c10000e100f000');
    expect(crc32Mpeg2(s)).toBe(0);
    expect(decodePmt(s).streams).toEqual([]);
  });

  test('encodePatPmt is PAT then PMT', () => {
    const b = encodePatPmt({ video: 'h264', audio: 'aac' });
    expect(b.length).toBe(376);
    expect(toHex(b.subarray(0, 188))).toBe(toHex(encodePat()));
    expect(toHex(b.subarray(188))).toBe(toHex(encodePmt({ video: 'h264', audio: 'aac' })));
  });

  test('stream types → codecs', () => {
    const none = new Uint8Array(0);
    expect(tsCodecOf(TsStreamType.H264, none)).toBe('h264');
    expect(tsCodecOf(TsStreamType.H265, none)).toBe('h265');
    expect(tsCodecOf(TsStreamType.AacAdts, none)).toBe('aac');
    expect(tsCodecOf(TsStreamType.PrivateData, none)).toBe('other');
    expect(tsCodecOf(TsStreamType.PrivateData, fromHex('0a 04 65 6e 67 00 05 04 4f 70 75 73'))).toBe('opus'); // after a language descriptor
    expect(tsCodecOf(TsStreamType.PrivateData, fromHex('05 04 41 43 2d 33'))).toBe('other'); // AC-3 registration
    expect(tsCodecOf(TsStreamType.Mpeg1Audio, none)).toBe('other');
  });
});

describe('section errors', () => {
  test('bad CRC, wrong table, short sections', () => {
    const pat = encodePatSection();
    const bad = pat.slice();
    bad[bad.length - 1] ^= 1;
    expect(() => decodePat(bad)).toThrow(/CRC_32 mismatch/);
    expect(() => decodePmt(pat)).toThrow(/not a PMT/);
    expect(() => decodePat(pat.subarray(0, 2))).toThrow(ParseError);
    expect(() => psiSectionSize(pat.subarray(0, 2))).toThrow(ParseError);
    expect(psiSectionSize(pat)).toBe(16);
  });

  test('every truncation of every section throws ParseError', () => {
    const sections = [encodePatSection(), ...PMT_ROWS.map((r) => encodePmtSection(r[1]))];
    for (const s of sections) {
      for (const cut of truncations(s)) {
        expect(() => (s[0] === 0 ? decodePat(cut) : decodePmt(cut))).toThrow(ParseError);
      }
    }
  });

  test('hostile input: random bytes and random sections with a valid CRC only throw ParseError', () => {
    const rnd = mulberry32(3);
    for (let i = 0; i < 200; i++) {
      const len = Math.floor(rnd() * 64);
      const b = randomBytes(rnd, len);
      onlyParseError(() => decodePat(b));
      onlyParseError(() => decodePmt(b));
      // same, but shaped like a section with a correct CRC so the body parsers run
      if (len >= 12) {
        b[0] = i % 2 === 0 ? 0 : 2;
        b[1] = 0xb0;
        b[2] = len - 3;
        const crc = crc32Mpeg2(b, 0, len - 4);
        b[len - 4] = crc >>> 24;
        b[len - 3] = (crc >>> 16) & 0xff;
        b[len - 2] = (crc >>> 8) & 0xff;
        b[len - 1] = crc & 0xff;
        onlyParseError(() => (b[0] === 0 ? decodePat(b) : decodePmt(b)));
      }
    }
  });
});
