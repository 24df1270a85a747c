/**
 * Seeded fuzz test of the one-frame-per-packet depacketiser for G.711 A-law/µ-law and Opus
 * (issue #9): 100,000 random and mutated packet sequences; `push`/`flush` never throw and every
 * non-empty payload of the track's payload type becomes one frame, timed from its timestamp.
 */
import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import { fuzz, fuzzCheck, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { depacketizeAll, interleavedPackets } from './_testing.ts';
import { RtpPacketizer } from './packetizer.ts';
import { SimpleDepacketizer } from './simple.ts';

const CODECS = [
  { codec: 'g711a', clockRate: 8000, payloadType: 8 },
  { codec: 'g711u', clockRate: 8000, payloadType: 0 },
  { codec: 'opus', clockRate: 48000, payloadType: 111 },
] as const;

const CORPUS = CODECS.map(({ codec, clockRate, payloadType }) => {
  const p = new RtpPacketizer({ codec, payloadType, clockRate, ssrc: 5, sequenceNumber: 65534 });
  const frames = [160, 160, 80, 3].map((n, i) => ({ kind: 'audio' as const, codec, dts: i * 1800 + 0xffff0000, pts: 0, key: true, units: [new Uint8Array(n).fill(0xd5 + i)] }));
  return concat(frames.map((f) => p.packetizeBatch({ ...f, pts: f.dts }, 2).interleaved));
});

describe('SimpleDepacketizer fuzz', () => {
  test('100,000 packet sequences (G.711 A/µ, Opus): never throws, one frame per usable packet', () => {
    CODECS.forEach((c, i) => {
      const d = new SimpleDepacketizer({ codec: c.codec, clockRate: c.clockRate, payloadType: c.payloadType });
      expect(depacketizeAll(d, interleavedPackets(CORPUS[i])).map((a) => a.units[0].length)).toEqual([160, 160, 80, 3]);
    });
    const r = fuzz('rtp g711/opus depacketizer', { seed: 0x711, corpus: CORPUS, allowed: [] }, ({ input, rnd }) => {
      const c = CODECS[Math.floor(rnd() * CODECS.length)];
      const d = new SimpleDepacketizer({ codec: c.codec, clockRate: c.clockRate, payloadType: rnd() < 0.5 ? c.payloadType : undefined });
      const out = depacketizeAll(d, interleavedPackets(input));
      for (const a of out) fuzzCheck(a.codec === c.codec && a.units.length === 1 && a.units[0].length > 0 && Number.isFinite(a.dts), 'one non-empty frame');
    });
    expect(r.ok).toBe(r.runs);
  }, FUZZ_TIMEOUT);
});
