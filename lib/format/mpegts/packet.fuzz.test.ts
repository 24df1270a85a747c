/**
 * Seeded fuzz test of the TS packet parser (issue #9): 100,000 random and mutated packets, only
 * ParseError may escape, and the payload is the view the header and adaptation field say.
 */
import { describe, expect, test } from 'bun:test';
import { fromHex, fuzz, fuzzCheck, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { decodeTsPacket, packetizePes, TsAdaptationFieldControl } from './packet.ts';
import { encodePat, encodePmt, TsPid } from './psi.ts';
import { TS_PACKET_SIZE } from './types.ts';

const CORPUS = [
  encodePat(),
  encodePmt({ video: 'h264', audio: 'opus' }),
  // first packet: adaptation field with PCR and random access; last: stuffing through the field
  packetizePes({ pid: TsPid.Video, streamId: 0xe0, pts: 126000, dts: 122400, pcr: 59400, randomAccess: true, payload: [new Uint8Array(300).fill(0x41)] }, 15).bytes,
  packetizePes({ pid: TsPid.Audio, streamId: 0xc0, pts: 1, payload: [new Uint8Array(183 - 14)] }, 0).bytes, // adaptation_field_length 0
];

describe('decodeTsPacket fuzz', () => {
  test('100,000 inputs (at random offsets): only ParseError, payload consistent with the header', () => {
    const r = fuzz('mpegts packet', { seed: 0x7590, corpus: CORPUS, maxRandomLength: 2 * TS_PACKET_SIZE, dictionary: [fromHex('47'), fromHex('471fff10')] }, ({ input, rnd }) => {
      const off = rnd() < 0.7 ? 0 : Math.floor(rnd() * 3 * TS_PACKET_SIZE) - TS_PACKET_SIZE;
      const p = decodeTsPacket(input, off);
      const afc = p.header.adaptationFieldControl;
      const payloadAt = off + 4 + (afc & TsAdaptationFieldControl.Adaptation ? 1 + (p.adaptation?.length ?? -1) : 0);
      if (afc & TsAdaptationFieldControl.Payload) {
        fuzzCheck(p.payload.byteOffset - input.byteOffset === payloadAt && payloadAt + p.payload.length === off + TS_PACKET_SIZE, 'payload view');
      } else fuzzCheck(p.payload.length === 0, 'no payload without the payload bit');
      if (p.adaptation?.pcr !== undefined) fuzzCheck(p.adaptation.pcr < 2 ** 33 && (p.adaptation.pcrExtension ?? 0) < 512, 'PCR range');
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.2);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.2);
  }, FUZZ_TIMEOUT);
});
