/**
 * Seeded fuzz test of the PES header parser (issue #9): 100,000 random and mutated headers,
 * only ParseError may escape, and accepted timestamps survive encode → decode.
 */
import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import { fromHex, fuzz, fuzzCheck, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { decodePesHeader, encodePesHeaderInto, pesHeaderSize, type PesHeaderInput } from './pes.ts';

function header(h: PesHeaderInput, payload: number): Uint8Array {
  const out = new Uint8Array(pesHeaderSize(h));
  encodePesHeaderInto(h, out, 0);
  return concat([out, new Uint8Array(payload).fill(0x41)]);
}

const CORPUS = [
  header({ streamId: 0xe0, payloadLength: 40, pts: 126000, dts: 122400 }, 40),
  header({ streamId: 0xc0, payloadLength: 20, pts: 2 ** 33 - 1 }, 20),
  header({ streamId: 0xe0, payloadLength: 70000, pts: 5 }, 8), // PES_packet_length 0
  fromHex('000001be0004ffffffff'), // padding stream: no optional header
  fromHex('000001e0000c80800a2100010001ffffffffff'), // header data longer than the PTS
];

describe('decodePesHeader fuzz', () => {
  test('100,000 inputs: only ParseError, payload offset inside, timestamps round-trip', () => {
    const r = fuzz('mpegts PES header', { seed: 0x9e5, corpus: CORPUS, maxRandomLength: 32, dictionary: [fromHex('000001')] }, ({ input }) => {
      const h = decodePesHeader(input);
      fuzzCheck(h.payloadOffset <= input.length, () => `payload offset ${h.payloadOffset} of ${input.length}`);
      if (h.pts === undefined) return;
      fuzzCheck(h.pts < 2 ** 33 && (h.dts ?? 0) < 2 ** 33, 'timestamps are 33-bit');
      const again = decodePesHeader(header({ streamId: h.streamId, payloadLength: 0, pts: h.pts, dts: h.dts }, 0));
      fuzzCheck(again.pts === h.pts && (again.dts ?? again.pts) === (h.dts ?? h.pts), 'timestamps round trip');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.1);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.1);
  }, FUZZ_TIMEOUT);
});
