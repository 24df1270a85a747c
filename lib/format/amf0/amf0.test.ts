import { test, expect, describe } from 'bun:test';
import { ParseError, LalError } from '../../core/errors.ts';
import {
  Amf0EcmaArray,
  MAX_AMF0_DEPTH,
  decodeAmf0,
  decodeAmf0All,
  encodeAmf0,
  encodeAmf0Size,
  type Amf0Value,
} from './index.ts';
import { fromHex, mulberry32, mutateBytes, onlyParseError, toHex, truncations, utf8Encode } from '../../core/testing.ts';

// One table drives both decode and encode (docs/architecture.md §1.8).
const cases: { name: string; value: Amf0Value; bytes: string }[] = [
  { name: 'number 0', value: 0, bytes: '00 0000000000000000' },
  { name: 'number 1.5', value: 1.5, bytes: '00 3ff8000000000000' },
  { name: 'number -1', value: -1, bytes: '00 bff0000000000000' },
  { name: 'number 5000000', value: 5000000, bytes: '00 415312d000000000' },
  { name: 'true', value: true, bytes: '01 01' },
  { name: 'false', value: false, bytes: '01 00' },
  { name: 'empty string', value: '', bytes: '02 0000' },
  { name: 'connect', value: 'connect', bytes: '02 0007 636f6e6e656374' },
  { name: 'utf-8 string', value: 'é直', bytes: '02 0005 c3a9 e79bb4' },
  { name: 'null', value: null, bytes: '05' },
  { name: 'undefined', value: undefined, bytes: '06' },
  { name: 'empty object', value: {}, bytes: '03 000009' },
  {
    name: 'object',
    value: { app: 'live', n: 1 },
    bytes: '03 0003 617070 02 0004 6c697665 0001 6e 00 3ff0000000000000 000009',
  },
  { name: 'nested object', value: { a: { b: null } }, bytes: '03 0001 61 03 0001 62 05 000009 000009' },
  { name: 'strict array', value: [1, 'a', null], bytes: '0a 00000003 00 3ff0000000000000 02 0001 61 05' },
  { name: 'empty strict array', value: [], bytes: '0a 00000000' },
  { name: 'ecma array', value: new Amf0EcmaArray({ w: 2 }), bytes: '08 00000001 0001 77 00 4000000000000000 000009' },
  { name: 'date', value: new Date(1000), bytes: '0b 408f400000000000 0000' },
];

describe('amf0 table', () => {
  test.each(cases)('encode $name', ({ value, bytes }) => {
    expect(toHex(encodeAmf0(value))).toBe(toHex(fromHex(bytes)));
    expect(encodeAmf0Size(value)).toBe(fromHex(bytes).length);
  });
  test.each(cases)('decode $name', ({ value, bytes }) => {
    const b = fromHex(bytes);
    const r = decodeAmf0(b, 0, { keepEcma: true });
    expect(r.offset).toBe(b.length);
    expect(r.value).toEqual(value);
  });
});

describe('amf0 specifics', () => {
  test('ECMA arrays decode as plain objects by default', () => {
    const b = encodeAmf0(new Amf0EcmaArray({ duration: 0, width: 320 }));
    const v = decodeAmf0(b).value;
    expect(v instanceof Amf0EcmaArray).toBe(false);
    expect(v).toEqual({ duration: 0, width: 320 });
  });

  test('ECMA array with a wrong count: the terminator decides', () => {
    const b = fromHex('08 00000005 0001 61 05 0001 62 06 000009');
    expect(decodeAmf0(b).value).toEqual({ a: null, b: undefined });
  });

  test('ECMA array of `count` entries without terminator at end of buffer is accepted', () => {
    const b = fromHex('08 00000001 0001 61 01 01');
    expect(decodeAmf0(b).value).toEqual({ a: true });
    // Without the exact count it is truncated.
    expect(() => decodeAmf0(fromHex('08 00000002 0001 61 01 01'))).toThrow(ParseError);
  });

  test('long strings both ways', () => {
    const s = 'x'.repeat(70000);
    const b = encodeAmf0(s);
    expect(b[0]).toBe(0x0c);
    expect(b.length).toBe(5 + 70000);
    expect(decodeAmf0(b).value).toBe(s);
    // exactly 65535 bytes stays a short string
    expect(encodeAmf0('y'.repeat(65535))[0]).toBe(0x02);
  });

  test('unsupported marker 0x0D decodes as undefined', () => {
    expect(decodeAmf0(fromHex('0d')).value).toBeUndefined();
  });

  test.each([0x04, 0x07, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0xff])('marker %d is rejected', (m) => {
    expect(() => decodeAmf0(Uint8Array.of(m, 0, 0, 0, 0))).toThrow(ParseError);
  });

  test('bare object end is rejected', () => {
    expect(() => decodeAmf0(fromHex('09'))).toThrow(/object end/);
  });

  test('decodeAmf0All reads a command body', () => {
    const body = encodeAmf0('connect', 1, { app: 'live', tcUrl: 'rtmp://h/live' });
    expect(decodeAmf0All(body)).toEqual(['connect', 1, { app: 'live', tcUrl: 'rtmp://h/live' }]);
  });

  test('decodeAmf0 honours the start offset', () => {
    const b = encodeAmf0('a', 2);
    const first = decodeAmf0(b);
    expect(decodeAmf0(b, first.offset)).toEqual({ value: 2, offset: b.length });
  });

  test('__proto__ key becomes an own property, prototype untouched', () => {
    const b = fromHex('03 0009 5f5f70726f746f5f5f 03 0001 78 01 01 000009 000009');
    const v = decodeAmf0(b).value as Record<string, Amf0Value>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect((v as Record<string, unknown>).x).toBeUndefined();
  });

  test('nesting beyond MAX_AMF0_DEPTH is a ParseError, at the limit it decodes', () => {
    const nestedArrays = (depth: number) => {
      const parts: number[] = [];
      for (let i = 0; i < depth - 1; i++) parts.push(0x0a, 0, 0, 0, 1);
      parts.push(0x0a, 0, 0, 0, 0);
      return Uint8Array.from(parts);
    };
    expect(() => decodeAmf0(nestedArrays(MAX_AMF0_DEPTH))).not.toThrow();
    expect(() => decodeAmf0(nestedArrays(MAX_AMF0_DEPTH + 1))).toThrow(/nesting/);
    // {a:{a:{a:…}}} 1000 levels deep
    const deepObj: number[] = [];
    for (let i = 0; i < 1000; i++) deepObj.push(0x03, 0, 1, 0x61);
    expect(() => decodeAmf0(Uint8Array.from(deepObj))).toThrow(/nesting/);
  });

  test('huge strict array count is refused before allocating', () => {
    expect(() => decodeAmf0(fromHex('0a ffffffff 05'))).toThrow(/count/);
  });

  test('encoder rejects cycles, long keys and functions with LalError', () => {
    const cyc: Record<string, Amf0Value> = {};
    cyc.self = cyc;
    expect(() => encodeAmf0(cyc)).toThrow(LalError);
    expect(() => encodeAmf0({ ['k'.repeat(70000)]: 1 })).toThrow(/65535/);
    expect(() => encodeAmf0((() => 1) as unknown as Amf0Value)).toThrow(LalError);
  });

  test('strings take their UTF-8 length, lone surrogates included', () => {
    for (const s of ['', 'abc', 'é', '直播', '😀', 'a\ud800b', '\udc00', 'x\ud83d']) {
      const enc = encodeAmf0(s);
      expect(enc.length).toBe(3 + utf8Encode(s).length);
    }
  });

  test('round trip of a realistic onMetaData', () => {
    const meta = new Amf0EcmaArray({
      duration: 0,
      width: 1280,
      height: 720,
      videocodecid: 7,
      encoder: 'Lavf60.16.100',
      filesize: 0,
      stereo: true,
      keyframes: { times: [0, 2, 4], filepositions: [13, 1000, 2000] },
    });
    const b = encodeAmf0('onMetaData', meta);
    const back = decodeAmf0All(b, { keepEcma: true });
    expect(back).toEqual(['onMetaData', meta]);
    expect(toHex(encodeAmf0(...back))).toBe(toHex(b));
  });
});

describe('amf0 hostile input', () => {
  const fixture = encodeAmf0(
    'connect',
    1,
    { app: 'live', flashVer: 'FMLE/3.0', fpad: false, caps: 15, d: new Date(5) },
    new Amf0EcmaArray({ a: [1, 2, { b: 'é' }], s: 'x'.repeat(300) }),
    null,
    undefined,
  );

  test('every truncation throws only ParseError', () => {
    for (const cut of truncations(fixture)) onlyParseError(() => decodeAmf0All(cut));
  });

  test('200 seeded random buffers and mutations throw only ParseError', () => {
    const rnd = mulberry32(0xa4f0);
    for (let i = 0; i < 200; i++) {
      const len = Math.floor(rnd() * 64);
      const buf = new Uint8Array(len);
      for (let j = 0; j < len; j++) buf[j] = rnd() < 0.5 ? Math.floor(rnd() * 0x12) : Math.floor(rnd() * 256);
      onlyParseError(() => decodeAmf0All(buf));
      const m = mutateBytes(rnd, fixture.slice(), 4);
      onlyParseError(() => decodeAmf0All(m));
    }
  });
});
