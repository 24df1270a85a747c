import { describe, expect, test } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import { decodePesHeader, decodeTimestamp, encodePesHeaderInto, encodeTimestampInto, pesHeaderSize, PesStreamId, TIMESTAMP_MODULO, type PesHeaderInput } from './pes.ts';
import { fromHex, mulberry32, randomBytes, toHex, truncations } from '../../core/testing.ts';

function encode(h: PesHeaderInput): Uint8Array {
  const out = new Uint8Array(pesHeaderSize(h));
  expect(encodePesHeaderInto(h, out, 0)).toBe(out.length);
  return out;
}

describe('PES header: LAL byte layout (docs/media.md §4.6)', () => {
  test('audio, PTS only: 80 80 05 and marker nibble 0010 (PTS 63000 = the +700 ms of frame 0)', () => {
    expect(toHex(encode({ streamId: PesStreamId.Audio, payloadLength: 100, pts: 63000 }))).toBe(
      toHex(fromHex('00 00 01 C0 00 6C 80 80 05 21 00 03 EC 31')), // length 100 + 3 + 5 = 0x6C
    );
  });

  test('video, PTS ≠ DTS: 80 C0 0A, PTS nibble 0011 then DTS nibble 0001', () => {
    expect(toHex(encode({ streamId: PesStreamId.Video, payloadLength: 1000, pts: 70200, dts: 63000 }))).toBe(
      toHex(fromHex('00 00 01 E0 03 F5 80 C0 0A 31 00 05 24 71 11 00 03 EC 31')), // 1000 + 3 + 10 = 0x3F5
    );
  });

  test('DTS equal to PTS is not written', () => {
    expect(encode({ streamId: 0xe0, payloadLength: 1, pts: 5, dts: 5 }).length).toBe(14);
  });

  test.each([
    [65535 - 8, 65535],
    [65535 - 7, 0],
    [1 << 20, 0],
  ])('payload %d → PES_packet_length %d (0 when > 65535)', (payloadLength, want) => {
    const b = encode({ streamId: 0xc0, payloadLength, pts: 0 });
    expect((b[4] << 8) | b[5]).toBe(want);
  });

  test('writes at an offset; no room throws ParseError', () => {
    const out = new Uint8Array(30).fill(0xaa);
    expect(encodePesHeaderInto({ streamId: 0xc0, payloadLength: 0, pts: 0 }, out, 10)).toBe(14);
    expect(out[9]).toBe(0xaa);
    expect(out[24]).toBe(0xaa);
    expect(() => encodePesHeaderInto({ streamId: 0xc0, payloadLength: 0, pts: 0, dts: 1 }, out, 12)).toThrow(ParseError);
  });
});

describe('timestamps', () => {
  test.each([0, 1, 63000, 2 ** 30 - 1, 2 ** 30, 2 ** 32 + 12345, TIMESTAMP_MODULO - 1])('%d round-trips', (ts) => {
    const b = new Uint8Array(5);
    encodeTimestampInto(2, ts, b, 0);
    expect(b[0] >> 4).toBe(2);
    expect(b[0] & 1 && b[2] & 1 && b[4] & 1).toBe(1); // marker bits
    expect(decodeTimestamp(b, 0)).toBe(ts);
  });

  test('written modulo 2^33; negative values wrap', () => {
    const b = new Uint8Array(5);
    encodeTimestampInto(1, TIMESTAMP_MODULO + 7, b, 0);
    expect(decodeTimestamp(b, 0)).toBe(7);
    encodeTimestampInto(1, -1, b, 0);
    expect(decodeTimestamp(b, 0)).toBe(TIMESTAMP_MODULO - 1);
  });
});

describe('decodePesHeader', () => {
  const cases: [string, PesHeaderInput][] = [
    ['audio PTS', { streamId: 0xc0, payloadLength: 100, pts: 63000 }],
    ['video PTS+DTS', { streamId: 0xe0, payloadLength: 70000, pts: 2 ** 33 - 2, dts: 2 ** 32 }],
    ['private stream 1', { streamId: 0xbd, payloadLength: 0, pts: 1 }],
  ];
  test.each(cases)('%s round-trips', (_n, h) => {
    const b = encode(h);
    const len = h.payloadLength + b.length - 6;
    expect(decodePesHeader(b)).toEqual({
      streamId: h.streamId,
      pesPacketLength: len > 0xffff ? 0 : len,
      pts: h.pts,
      ...(h.dts !== undefined && h.dts !== h.pts ? { dts: h.dts } : {}),
      headerLength: b.length - 9,
      payloadOffset: b.length,
    });
  });

  test('header with no PTS and extra header bytes (stuffing) skips them', () => {
    expect(decodePesHeader(fromHex('00 00 01 E0 00 00 80 00 03 FF FF FF 42'))).toEqual({
      streamId: 0xe0, pesPacketLength: 0, headerLength: 3, payloadOffset: 12,
    });
  });

  test('streams without the optional header (padding, private_stream_2, PSM …)', () => {
    for (const sid of [0xbc, 0xbe, 0xbf, 0xf0, 0xf1, 0xf2, 0xf8, 0xff]) {
      expect(decodePesHeader(fromHex(`00 00 01 ${sid.toString(16)} 00 02 ff ff`))).toEqual({ streamId: sid, pesPacketLength: 2, headerLength: 0, payloadOffset: 6 });
    }
  });

  test.each([
    ['no start code', '00 00 02 E0 00 00 80 80 05 21 00 01 00 01', /no start code/],
    ['MPEG-1 syntax', '00 00 01 E0 00 00 0F FF 21', /MPEG-1/],
    ['PTS flag without room', '00 00 01 E0 00 00 80 80 03 21 00 01', /PES_header_data_length is 3/],
    ['PTS+DTS flag without room', '00 00 01 E0 00 00 80 C0 05 31 00 01 00 01', /need 10/],
    ['length shorter than the header', '00 00 01 C0 00 04 80 80 05 21 00 01 00 01', /shorter than its/],
    ['header data runs past the end', '00 00 01 C0 00 00 80 80 05 21 00', /runs past the end/],
  ])('%s → ParseError', (_n, h, re) => {
    expect(() => decodePesHeader(fromHex(h))).toThrow(re);
  });

  test('every truncation throws ParseError; random input only ParseError', () => {
    const b = encode({ streamId: 0xe0, payloadLength: 10, pts: 1, dts: 0 });
    for (const cut of truncations(b)) expect(() => decodePesHeader(cut)).toThrow(ParseError);
    const rnd = mulberry32(7);
    for (let i = 0; i < 200; i++) {
      const r = randomBytes(rnd, Math.floor(rnd() * 40));
      if (i % 2 === 0 && r.length >= 4) r.set([0, 0, 1], 0);
      try {
        decodePesHeader(r);
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
      }
    }
  });
});
