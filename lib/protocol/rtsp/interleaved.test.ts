import { test, expect, describe } from 'bun:test';
import { LalError } from '../../core/errors.ts';
import { WsFrameReader } from '../http/ws.ts';
import {
  INTERLEAVED_MAGIC,
  MAX_INTERLEAVED_PAYLOAD,
  encodeInterleaved,
  encodeInterleavedHeader,
  encodeInterleavedInto,
  encodeWsInterleavedHeader,
} from './interleaved.ts';
import { RtspMessageReader } from './message.ts';
import { toHex } from '../../core/testing.ts';

describe('interleaved framing', () => {
  test.each([
    [0, 0, '24000000'],
    [1, 12, '2401000c'],
    [255, 65535, '24ffffff'],
  ])('header channel %d len %d', (ch, len, want) => {
    expect(toHex(encodeInterleavedHeader(ch, len))).toBe(want);
  });

  test('encodeInterleavedInto writes at an offset and returns the size', () => {
    const out = new Uint8Array(10).fill(0xee);
    expect(encodeInterleavedInto(3, Uint8Array.from([1, 2, 3]), out, 2)).toBe(7);
    expect(toHex(out)).toBe('eeee240300030102' + '03ee');
    expect(() => encodeInterleavedInto(3, new Uint8Array(5), out, 2)).toThrow(LalError);
  });

  test('round trip through the message reader', () => {
    const payload = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const [it] = new RtspMessageReader().feed(encodeInterleaved(7, payload));
    expect(it).toEqual({ type: 'interleaved', channel: 7, payload });
    expect(encodeInterleaved(7, payload)[0]).toBe(INTERLEAVED_MAGIC);
  });

  test('limits', () => {
    expect(() => encodeInterleavedHeader(256, 1)).toThrow(LalError);
    expect(() => encodeInterleavedHeader(-1, 1)).toThrow(LalError);
    expect(() => encodeInterleavedHeader(0, MAX_INTERLEAVED_PAYLOAD + 1)).toThrow(LalError);
  });

  test.each([10, 200, 60000])('ws header + packet form one binary frame (%d bytes)', (n) => {
    const pkt = new Uint8Array(n).fill(9);
    const head = encodeWsInterleavedHeader(2, n);
    const [f] = new WsFrameReader().feed(Uint8Array.from([...head, ...pkt]).subarray(0, head.length + n));
    expect(f.fin).toBe(true);
    expect(f.opcode).toBe(2);
    expect(toHex(f.payload)).toBe(toHex(encodeInterleaved(2, pkt)));
  });

  test('ws header for the largest packet uses the 64-bit length form', () => {
    // 65535 + 4 = 65539 = 0x10003 → 0x82, 127, 8-byte length, then the prefix.
    expect(toHex(encodeWsInterleavedHeader(1, 65535))).toBe('827f0000000000010003' + '2401ffff');
  });
});
