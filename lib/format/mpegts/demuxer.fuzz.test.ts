/**
 * Seeded fuzz test of the TS push demuxer and the PES → AvPacket step (issue #9): 100,000
 * random and mutated streams, each fed whole and in random pieces. Both feeds must give the same
 * events and counters; `feed`/`flush` throw only ParseError (and only for non-TS input); the
 * PES events then go through TsPesToAv, which may throw only ParseError.
 */
import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import { ParseError } from '../../core/errors.ts';
import { encodeAdtsHeader } from '../../codec/aac/adts.ts';
import { decodeAsc } from '../../codec/aac/asc.ts';
import { FIXTURE_ASC, H264_VECTORS, H265_VECTORS } from '../../codec/_testing.ts';
import { fromHex, fuzz, fuzzCheck, fuzzPieces, FUZZ_TIMEOUT } from '../../core/testing.ts';
import { TsDemuxer, TsPesToAv, type TsDemuxEvent, type TsDemuxStats } from './demuxer.ts';
import { packetizePes } from './packet.ts';
import { encodePatPmt, TsPid, type PmtStreams } from './psi.ts';

const SC = fromHex('00000001');
const ASC_INFO = decodeAsc(fromHex(FIXTURE_ASC));

function stream(streams: PmtStreams, video: Uint8Array[][], audio: Uint8Array[]): Uint8Array {
  const parts = [encodePatPmt(streams)];
  let vcc = 0;
  let acc = 0;
  video.forEach((units, i) => {
    const dts = 63000 + i * 3600;
    const v = packetizePes({ pid: TsPid.Video, streamId: 0xe0, pts: dts + 3600, dts, pcr: i === 0 ? 0 : undefined, randomAccess: i === 0, payload: [concat(units.flatMap((u) => [SC, u]))] }, vcc);
    vcc = v.cc;
    parts.push(v.bytes);
    if (audio[i]) {
      const a = packetizePes({ pid: TsPid.Audio, streamId: 0xc0, pts: 63000 + i * 2090, payload: [audio[i]] }, acc);
      acc = a.cc;
      parts.push(a.bytes);
    }
  });
  return concat(parts);
}

const h264 = H264_VECTORS[1];
const h265 = H265_VECTORS[0];
const adts = (...sizes: number[]) => concat(sizes.flatMap((n, i) => [encodeAdtsHeader(ASC_INFO, n), new Uint8Array(n).fill(0x21 + i)]));
const CORPUS = [
  stream({ video: 'h264', audio: 'aac' }, [[fromHex('09f0'), fromHex(h264.sps), fromHex(h264.pps), new Uint8Array(60).fill(0x65)], [fromHex('419a2201')], [new Uint8Array(190).fill(0x41)]], [adts(20, 30), adts(15)]),
  stream({ video: 'h265', audio: 'opus' }, [[fromHex(h265.vps), fromHex(h265.sps), fromHex(h265.pps), fromHex('2601af0102')], [fromHex('0201d00203')]], [fromHex('7fe00afc0102030405060708090a'), fromHex('fc0102')]),
];

interface Run {
  events: TsDemuxEvent[];
  stats: TsDemuxStats;
  error: boolean;
}

function run(pieces: Uint8Array[]): Run {
  const d = new TsDemuxer({ maxPesSize: 4096 });
  const events: TsDemuxEvent[] = [];
  try {
    for (const p of pieces) events.push(...d.feed(p));
    events.push(...d.flush());
  } catch (e) {
    if (e instanceof ParseError) return { events, stats: d.stats, error: true };
    throw e;
  }
  return { events, stats: d.stats, error: false };
}

describe('TsDemuxer fuzz', () => {
  test('100,000 inputs, whole and in random pieces: same events, only ParseError, PES → AvPacket', () => {
    const r = fuzz('mpegts demuxer', { seed: 0xde3, corpus: CORPUS, maxRandomLength: 400, dictionary: [fromHex('47'), fromHex('474000'), fromHex('000001e0')] }, ({ input, rnd }) => {
      const whole = run([input]);
      const split = run(fuzzPieces(input, rnd));
      fuzzCheck(!whole.error && !split.error, 'small inputs never look like a non-TS stream');
      fuzzCheck(Bun.deepEquals(whole.events, split.events) && Bun.deepEquals(whole.stats, split.stats), 'whole and pieces give the same events and counters');
      const conv = new TsPesToAv();
      for (const ev of whole.events) {
        if (ev.type !== 'pes') continue;
        const res = conv.push(ev);
        for (const p of res.packets) fuzzCheck(p.units.every((u) => u.length > 0) && Number.isFinite(p.dts) && Number.isFinite(p.pts), 'packets are well formed');
      }
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.9);
  }, FUZZ_TIMEOUT);
});
