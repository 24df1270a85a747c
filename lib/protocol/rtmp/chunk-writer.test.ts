import { test, expect, describe } from 'bun:test';
import { LalError } from '../../core/errors.ts';
import { encodeRtmpMessage, encodeRtmpMessageInto, encodeRtmpMessageSize } from './chunk-writer.ts';
import { RtmpChunkReader, type RtmpMessage } from './chunk-reader.ts';
import { setChunkSize } from './messages.ts';
import { fromHex, toHex } from '../../core/testing.ts';

const filled = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed) & 0xff);

describe('encodeRtmpMessage bytes', () => {
  test('single chunk, fmt 0, little-endian stream id', () => {
    const b = encodeRtmpMessage({ csid: 6, type: 8, timestamp: 0x123456, streamId: 1, body: fromHex('af01') });
    expect(toHex(b)).toBe('06' + '123456' + '000002' + '08' + '01000000' + 'af01');
  });

  test('continuations are fmt 3 with the same csid', () => {
    const body = filled(10);
    const b = encodeRtmpMessage({ csid: 7, type: 9, timestamp: 40, streamId: 1, body }, 4);
    expect(toHex(b)).toBe(
      '07 000028 00000a 09 01000000'.replace(/ /g, '') +
        toHex(body.subarray(0, 4)) + 'c7' + toHex(body.subarray(4, 8)) + 'c7' + toHex(body.subarray(8)),
    );
  });

  test('extended timestamp on the first and every continuation chunk', () => {
    const body = filled(6);
    const b = encodeRtmpMessage({ csid: 5, type: 18, timestamp: 0x01020304, streamId: 1, body }, 3);
    expect(toHex(b)).toBe(
      '05ffffff00000612' + '01000000' + '01020304' + toHex(body.subarray(0, 3)) + 'c5' + '01020304' + toHex(body.subarray(3)),
    );
  });

  test('timestamp exactly 0xFFFFFF uses the extended field; 0xFFFFFE does not', () => {
    expect(toHex(encodeRtmpMessage({ csid: 5, type: 8, timestamp: 0xffffff, streamId: 0, body: fromHex('00') }))).toBe(
      '05ffffff0000010800000000' + '00ffffff' + '00',
    );
    expect(toHex(encodeRtmpMessage({ csid: 5, type: 8, timestamp: 0xfffffe, streamId: 0, body: fromHex('00') }))).toBe(
      '05fffffe000001080000000000',
    );
  });

  test.each([
    [2, '02', 'c2'],
    [63, '3f', 'ff'],
    [64, '0000', 'c000'],
    [319, '00ff', 'c0ff'],
    [320, '010001', 'c10001'],
    [65599, '01ffff', 'c1ffff'],
  ])('csid %d: basic header %s, continuation %s', (csid, basic, cont) => {
    const b = encodeRtmpMessage({ csid, type: 8, timestamp: 0, streamId: 0, body: fromHex('aabb') }, 1);
    expect(toHex(b)).toBe(basic + '000000' + '000002' + '08' + '00000000' + 'aa' + cont + 'bb');
  });

  test('empty body is one fmt 0 header', () => {
    const b = encodeRtmpMessage({ csid: 3, type: 20, timestamp: 0, streamId: 0, body: new Uint8Array(0) });
    expect(b.length).toBe(12);
  });

  test('size function matches the output length and Into writes at an offset', () => {
    for (const [len, cs, ts, csid] of [
      [0, 128, 0, 3],
      [1, 1, 0xffffff, 64],
      [4096, 4096, 5, 6],
      [4097, 4096, 0xffffffff, 400],
      [100000, 4096, 0x1000000, 7],
      [999, 7, 1, 2],
    ]) {
      const m = { csid, type: 9, timestamp: ts, streamId: 1, body: filled(len) };
      const b = encodeRtmpMessage(m, cs);
      expect(encodeRtmpMessageSize(m, cs)).toBe(b.length);
      const out = new Uint8Array(b.length + 10);
      expect(encodeRtmpMessageInto(m, out, 5, cs)).toBe(b.length);
      expect(toHex(out.subarray(5, 5 + b.length))).toBe(toHex(b));
    }
  });

  test('invalid csid, chunk size, body size and small output buffers throw LalError', () => {
    const body = fromHex('00');
    expect(() => encodeRtmpMessage({ csid: 1, type: 8, timestamp: 0, streamId: 0, body })).toThrow(LalError);
    expect(() => encodeRtmpMessage({ csid: 65600, type: 8, timestamp: 0, streamId: 0, body })).toThrow(LalError);
    expect(() => encodeRtmpMessage({ csid: 3, type: 8, timestamp: 0, streamId: 0, body }, 0)).toThrow(LalError);
    expect(() => encodeRtmpMessage({ csid: 3, type: 8, timestamp: 0, streamId: 0, body: new Uint8Array(0x1000000) })).toThrow(/24-bit/);
    expect(() => encodeRtmpMessageInto({ csid: 3, type: 8, timestamp: 0, streamId: 0, body }, new Uint8Array(5), 0)).toThrow(LalError);
  });
});

describe('round trip with RtmpChunkReader', () => {
  const chunkSizes = [1, 2, 127, 128, 129, 1000, 4096, 65536];
  const timestamps = [0, 40, 0xfffffe, 0xffffff, 0x1000000, 0x7fffffff, 0xffffffff];
  test.each(chunkSizes)('chunk size %d across timestamps, csids and lengths', (cs) => {
    const msgs: RtmpMessage[] = [];
    let i = 0;
    for (const ts of timestamps) {
      for (const len of [0, 1, cs - 1, cs, cs + 1, 3 * cs + 7, 5000]) {
        if (len < 0) continue;
        const csid = [3, 6, 7, 64, 319, 320, 5000][i++ % 7];
        msgs.push({ csid, type: 8 + (i % 2), timestamp: ts, streamId: i % 3, body: filled(len, i) });
      }
    }
    const parts = [cs === 128 ? new Uint8Array(0) : setChunkSize(cs), ...msgs.map((m) => encodeRtmpMessage(m, cs))];
    const r = new RtmpChunkReader();
    const got: RtmpMessage[] = [];
    for (const p of parts) got.push(...r.feed(p));
    const media = got.filter((m) => m.type !== 1);
    expect(media.length).toBe(msgs.length);
    for (let k = 0; k < msgs.length; k++) {
      expect(media[k].csid).toBe(msgs[k].csid);
      expect(media[k].type).toBe(msgs[k].type);
      expect(media[k].timestamp).toBe(msgs[k].timestamp);
      expect(media[k].streamId).toBe(msgs[k].streamId);
      expect(toHex(media[k].body)).toBe(toHex(msgs[k].body));
    }
  });

  test('one shared encoding fed whole and byte by byte gives the same messages', () => {
    const m = { csid: 6, type: 8, timestamp: 0x2000000, streamId: 1, body: filled(9000, 3) };
    const bytes = new Uint8Array([...setChunkSize(4096), ...encodeRtmpMessage(m, 4096), ...encodeRtmpMessage(m, 4096)]);
    const whole = new RtmpChunkReader().feed(bytes);
    const r = new RtmpChunkReader();
    const bw: RtmpMessage[] = [];
    for (let i = 0; i < bytes.length; i++) bw.push(...r.feed(bytes.subarray(i, i + 1)));
    expect(bw.length).toBe(3);
    expect(bw.map((x) => [x.type, x.timestamp, x.body.length])).toEqual(whole.map((x) => [x.type, x.timestamp, x.body.length]));
    expect(bw[2].body).toEqual(m.body);
  });
});
