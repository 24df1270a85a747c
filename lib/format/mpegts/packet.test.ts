import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import { ParseError } from '../../core/errors.ts';
import {
  decodeTsPacket, encodePcrInto, encodeTsPacketHeaderInto, packetizedSize, packetizePes, packetizePesInto,
  tsPacketCount, TsAdaptationFieldControl, type PesPacketizeInput,
} from './packet.ts';
import { decodePesHeader, pesHeaderSize } from './pes.ts';
import { mulberry32, randomBytes, toHex } from '../../core/testing.ts';

function payloadOf(n: number, seed = n): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

/**
 * Check the packetiser's output against docs/media.md §4.6 with the independent packet decoder:
 * 188-byte packets on one PID, PUSI only on the first, CC from lastCc+1 wrapping, adaptation
 * field (RAI+PCR) only on the first packet when asked, stuffing only in the last packet and all
 * 0xFF (after a 00 flags byte when the field exists only for stuffing), and the payloads
 * concatenated give back PES header + payload. Returns the per-packet decodes.
 */
function verify(input: PesPacketizeInput, lastCc: number, bytes: Uint8Array): void {
  const payload = concat(input.payload as Uint8Array[]);
  expect(bytes.length % 188).toBe(0);
  const n = bytes.length / 188;
  expect(n).toBe(tsPacketCount(payload.length, pesHeaderSize({ streamId: input.streamId, payloadLength: payload.length, pts: input.pts, dts: input.dts }), input.pcr !== undefined ? 7 : input.randomAccess ? 1 : 0));
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const p = decodeTsPacket(bytes, i * 188);
    expect(p.header.pid).toBe(input.pid);
    expect(p.header.payloadUnitStart).toBe(i === 0);
    expect(p.header.continuityCounter).toBe((lastCc + 1 + i) & 15);
    expect(p.header.adaptationFieldControl & TsAdaptationFieldControl.Payload).toBe(1);
    const af = p.adaptation;
    if (i === 0 && (input.pcr !== undefined || input.randomAccess)) {
      expect(af?.randomAccess).toBe(true);
      expect(af?.pcr).toBe(input.pcr);
      if (input.pcr !== undefined) expect(af?.pcrExtension).toBe(0);
      const stuffing = (af?.length ?? 0) - (input.pcr !== undefined ? 7 : 1);
      expect(stuffing === 0 || i === n - 1).toBe(true);
      const start = i * 188 + 5 + (input.pcr !== undefined ? 7 : 1);
      expect(bytes.subarray(start, start + stuffing).every((b) => b === 0xff)).toBe(true);
    } else if (af) {
      expect(i).toBe(n - 1); // stuffing only in the last packet
      if (af.length > 0) {
        expect(bytes[i * 188 + 5]).toBe(0); // flags 00
        expect(bytes.subarray(i * 188 + 6, i * 188 + 5 + af.length).every((b) => b === 0xff)).toBe(true);
      }
    }
    if (i < n - 1) expect(af === undefined || i === 0).toBe(true);
    pieces.push(p.payload);
  }
  const pes = concat(pieces);
  const h = decodePesHeader(pes);
  expect(h.streamId).toBe(input.streamId);
  expect(h.pts).toBe(input.pts);
  expect(h.dts).toBe(input.dts !== undefined && input.dts !== input.pts ? input.dts : undefined);
  const len = pes.length - 6;
  expect(h.pesPacketLength).toBe(len > 0xffff ? 0 : len);
  expect(toHex(pes.subarray(h.payloadOffset))).toBe(toHex(payload));
}

describe('TS packet header and adaptation field', () => {
  test.each([
    [{ pid: 0x100, payloadUnitStart: true, adaptationFieldControl: 1, continuityCounter: 1 }, '47410011'],
    [{ pid: 0x101, payloadUnitStart: false, adaptationFieldControl: 3, continuityCounter: 15 }, '4701013f'],
    [{ pid: 0x1fff, payloadUnitStart: false, adaptationFieldControl: 1, continuityCounter: 0 }, '471fff10'],
  ])('%o ⇄ %s', (h, want) => {
    const b = new Uint8Array(188).fill(0xff);
    expect(encodeTsPacketHeaderInto(h, b, 0)).toBe(4);
    expect(toHex(b.subarray(0, 4))).toBe(want);
    if (h.adaptationFieldControl === 3) b[4] = 0;
    const p = decodeTsPacket(b);
    expect(p.header).toEqual({ transportError: false, priority: false, scrambling: 0, ...h });
  });

  test.each([0, 1, 27000, 2 ** 32 + 1, 2 ** 33 - 1])('PCR base %d: LAL bytes (reserved 1s, extension 0) and decode', (base) => {
    const b = new Uint8Array(188);
    encodeTsPacketHeaderInto({ pid: 0x100, payloadUnitStart: true, adaptationFieldControl: 3, continuityCounter: 1 }, b, 0);
    b[4] = 7;
    b[5] = 0x50;
    expect(encodePcrInto(base, b, 6)).toBe(6);
    expect(b[10] & 0x7e).toBe(0x7e);
    expect(b[11]).toBe(0);
    const p = decodeTsPacket(b);
    expect(p.adaptation).toEqual({ length: 7, discontinuity: false, randomAccess: true, pcr: base, pcrExtension: 0 });
    expect(p.payload.length).toBe(188 - 12);
  });

  test('PCR base 27000 bytes', () => {
    const b = new Uint8Array(6);
    encodePcrInto(27000, b, 0);
    expect(toHex(b)).toBe('000034bc7e00'); // 27000 >> 1 = 0x34BC, bit 0 = 0
  });

  test.each([
    ['short', new Uint8Array(100), /needs 188/],
    ['sync', Uint8Array.from({ length: 188 }, () => 0x46), /sync byte/],
    ['AFC 0', Uint8Array.of(0x47, 0, 0, 0x00, ...new Uint8Array(184)), /reserved adaptation_field_control/],
    ['AF too long (AFC 3)', Uint8Array.of(0x47, 0, 0, 0x30, 183, ...new Uint8Array(183)), /exceeds 182/],
    ['AF too long (AFC 2)', Uint8Array.of(0x47, 0, 0, 0x20, 184, ...new Uint8Array(183)), /exceeds 183/],
    ['PCR flag in a short field', Uint8Array.of(0x47, 0, 0, 0x30, 2, 0x10, ...new Uint8Array(182)), /too short for its PCR/],
  ])('%s → ParseError', (_n, b, re) => {
    expect(() => decodeTsPacket(b)).toThrow(re);
  });

  test('AFC 2 (adaptation only) has an empty payload', () => {
    const b = Uint8Array.of(0x47, 0, 0x11, 0x20, 183, 0, ...new Uint8Array(182).fill(0xff));
    const p = decodeTsPacket(b);
    expect(p.payload.length).toBe(0);
    expect(p.adaptation?.length).toBe(183);
  });

  test('hostile input: random packets only throw ParseError', () => {
    const rnd = mulberry32(11);
    for (let i = 0; i < 300; i++) {
      const b = randomBytes(rnd, 188);
      if (i % 2 === 0) b[0] = 0x47;
      try {
        decodeTsPacket(b);
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
      }
    }
  });
});

describe('packetizePes (docs/media.md §4.6)', () => {
  test('audio PES sizes 1..2000: every invariant holds', () => {
    let cc = 0;
    for (let n = 1; n <= 2000; n++) {
      const input = { pid: 0x101, streamId: 0xc0, pts: 63000 + n, payload: [payloadOf(n)] };
      const { bytes, cc: next } = packetizePes(input, cc);
      verify(input, cc, bytes);
      cc = next;
    }
  });

  test('video key frames with PCR and PTS ≠ DTS, sizes 1..2000, payload in several pieces', () => {
    let cc = 9;
    for (let n = 1; n <= 2000; n++) {
      const whole = payloadOf(n);
      const cut1 = Math.floor(n / 3);
      const cut2 = Math.floor((2 * n) / 3);
      const input = { pid: 0x100, streamId: 0xe0, pts: 70200 + n, dts: 63000 + n, pcr: n, randomAccess: true, payload: [whole.subarray(0, cut1), new Uint8Array(0), whole.subarray(cut1, cut2), whole.subarray(cut2)] };
      const { bytes, cc: next } = packetizePes(input, cc);
      verify(input, cc, bytes);
      // pieces give the same bytes as one buffer
      expect(toHex(bytes)).toBe(toHex(packetizePes({ ...input, payload: [whole] }, cc).bytes));
      cc = next;
    }
  });

  // Audio PES header 14 bytes: first packet room 170, then 184 per packet.
  test.each([
    [170, 1, 0], // exact fit, no adaptation field
    [169, 1, 1], // one stuffing byte: adaptation_field_length 0
    [168, 1, 2], // two: length 1, flags 00
    [170 + 183, 2, 1],
    [170 + 184, 2, 0],
    [170 + 185, 3, 183],
    [183, 2, 171],
    [184, 2, 170],
    [185, 2, 169],
  ])('audio payload %d → %d packets, %d stuffing bytes in the last', (n, packets, stuffing) => {
    const { bytes } = packetizePes({ pid: 0x101, streamId: 0xc0, pts: 0, payload: [payloadOf(n)] }, 0);
    expect(bytes.length).toBe(packets * 188);
    const last = decodeTsPacket(bytes, (packets - 1) * 188);
    if (stuffing === 0) expect(last.adaptation).toBeUndefined();
    else expect(last.adaptation?.length).toBe(stuffing - 1);
    if (stuffing === 1) expect(bytes[(packets - 1) * 188 + 4]).toBe(0);
  });

  test('key frame with PCR and stuffing in one packet: the field grows, FF after the PCR', () => {
    // room = 184 - 8 (AF len + flags + PCR) - 19 (PES header with DTS) = 157
    const { bytes } = packetizePes({ pid: 0x100, streamId: 0xe0, pts: 70200, dts: 63000, pcr: 0, randomAccess: true, payload: [payloadOf(150)] }, 0);
    expect(bytes.length).toBe(188);
    expect(toHex(bytes.subarray(0, 12))).toBe('47410031' + '0e' + '50' + '000000007e00'); // AF length 7 + 7
    expect(bytes.subarray(12, 19).every((b) => b === 0xff)).toBe(true);
    expect(toHex(bytes.subarray(19, 22))).toBe('000001');
  });

  test('key frame exactly filling the first packet has no stuffing', () => {
    const { bytes } = packetizePes({ pid: 0x100, streamId: 0xe0, pts: 1, pcr: 5, randomAccess: true, payload: [payloadOf(184 - 8 - 14)] }, 0);
    expect(bytes.length).toBe(188);
    expect(bytes[4]).toBe(7);
  });

  test('empty payload still writes its PES header in one packet', () => {
    const { bytes, cc } = packetizePes({ pid: 0x101, streamId: 0xc0, pts: 0, payload: [] }, 15);
    expect(bytes.length).toBe(188);
    expect(cc).toBe(0);
    verify({ pid: 0x101, streamId: 0xc0, pts: 0, payload: [] }, 15, bytes);
  });

  test('CC wraps 15 → 0 and the returned cc is the last written', () => {
    const { bytes, cc } = packetizePes({ pid: 0x100, streamId: 0xe0, pts: 0, payload: [payloadOf(184 * 5)] }, 13);
    const ccs = Array.from({ length: bytes.length / 188 }, (_, i) => bytes[i * 188 + 3] & 15);
    expect(ccs).toEqual([14, 15, 0, 1, 2, 3]);
    expect(cc).toBe(3);
  });

  test('packetizePesInto writes at an offset into one preallocated buffer; too small throws ParseError', () => {
    const input = { pid: 0x101, streamId: 0xc0, pts: 0, payload: [payloadOf(500)] };
    const size = packetizedSize(input);
    expect(size).toBe(3 * 188);
    const out = new Uint8Array(size + 10).fill(0xaa);
    const r = packetizePesInto(input, 0, out, 10);
    expect(r).toEqual({ written: size, cc: 3 });
    expect(out.subarray(0, 10).every((b) => b === 0xaa)).toBe(true);
    expect(toHex(out.subarray(10))).toBe(toHex(packetizePes(input, 0).bytes));
    expect(() => packetizePesInto(input, 0, out, 11)).toThrow(ParseError);
  });

  test('packetizePes with an allocator writes into the memory it hands out, exactly sized', () => {
    const arena = new Uint8Array(4096).fill(0xaa);
    let used = 100;
    const sizes: number[] = [];
    const alloc = (n: number) => {
      sizes.push(n);
      const v = arena.subarray(used, used + n);
      used += n;
      return v;
    };
    const input = { pid: 0x100, streamId: 0xe0, pts: 9000, dts: 6000, pcr: 0, randomAccess: true, payload: [payloadOf(300), payloadOf(77)] };
    const { bytes, cc } = packetizePes(input, 7, alloc);
    expect(sizes).toEqual([packetizedSize(input)]);
    expect(bytes.buffer).toBe(arena.buffer);
    expect(bytes.byteOffset - arena.byteOffset).toBe(100);
    const plain = packetizePes(input, 7);
    expect(toHex(bytes)).toBe(toHex(plain.bytes));
    expect(cc).toBe(plain.cc);
    expect(arena[99]).toBe(0xaa);
    expect(arena[100 + bytes.length]).toBe(0xaa);
    // an allocator handing out the wrong size is refused, not overrun
    expect(() => packetizePes(input, 7, (n) => new Uint8Array(n - 1))).toThrow(ParseError);
  });
});

describe('packetizePes with a payload writer', () => {
  test('a writer gives the same packets as the same bytes in parts, for every size around packet boundaries', () => {
    const rnd = mulberry32(29);
    for (const size of [0, 1, 2, 15, 16, 17, 150, 165, 166, 167, 183, 184, 185, 349, 350, 351, 368, 369, 2000, 5000]) {
      const bytes = randomBytes(rnd, size);
      // small and large parts, so both copy paths of the gather run
      const parts = [bytes.subarray(0, Math.min(3, size)), bytes.subarray(Math.min(3, size), Math.min(40, size)), bytes.subarray(Math.min(40, size))];
      const base = { pid: 0x100, streamId: 0xe0, pts: 123456, dts: 120000, pcr: 60000, randomAccess: true };
      const fromParts = packetizePes({ ...base, payload: parts }, 5);
      let calls = 0;
      const fromWriter = packetizePes(
        { ...base, payload: { length: size, writeInto: (out, off) => { calls++; out.set(bytes, off); } } },
        5,
      );
      expect(calls).toBe(1);
      expect(fromWriter.cc).toBe(fromParts.cc);
      expect(toHex(fromWriter.bytes)).toBe(toHex(fromParts.bytes));
    }
  });
});
