/**
 * Seeded fuzz test of the per-track depacketiser facade (issue #9), 100,000 inputs: each picks a
 * codec and clock rate, carries SDP fmtp text (parsed by the SDP module, as a track's would be)
 * and a packet sequence. The constructor may refuse options only with ParseError/LalError; once
 * built, `push`/`flush` never throw, and drop counters only grow.
 */
import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import { LalError, ParseError } from '../../core/errors.ts';
import { fuzz, fuzzCheck, FUZZ_TIMEOUT, latin1, utf8Encode } from '../../core/testing.ts';
import { parseFmtpParams } from '../../format/sdp/parse.ts';
import { interleavedPackets } from './_testing.ts';
import { RtpDepacketizer, totalDrops } from './depacketizer.ts';
import { decodeRtpPacket, type RtpPacket } from './packet.ts';
import { RtpPacketizer, type RtpCodec } from './packetizer.ts';

const CODECS: RtpCodec[] = ['h264', 'h265', 'aac', 'g711a', 'g711u', 'opus'];
const RATES = [90000, 44100, 8000, 48000, 1, 0, -1, Number.NaN];
const units = (kind: 'video' | 'audio', codec: RtpCodec): Uint8Array[] =>
  kind === 'audio' ? [new Uint8Array(30).fill(0x21)] : codec === 'h265' ? [Uint8Array.of(0x26, 1, ...new Uint8Array(90).fill(7))] : [Uint8Array.of(0x65, ...new Uint8Array(90).fill(7))];

/** codec index byte, fmtp text, newline, then interleaved RTP of that codec. */
function input(ci: number, fmtp: string): Uint8Array {
  const codec = CODECS[ci];
  const kind = codec === 'h264' || codec === 'h265' ? 'video' : 'audio';
  const p = new RtpPacketizer({ codec, payloadType: 96, clockRate: 90000, ssrc: 1, sequenceNumber: 7, mtu: 40 });
  const media = [0, 3600].map((dts) => p.packetizeBatch({ kind, codec, dts, pts: dts, key: true, units: units(kind, codec) } as never).interleaved);
  return concat([Uint8Array.of(ci), utf8Encode(`${fmtp}\n`), ...media]);
}
const CORPUS = [
  input(0, 'packetization-mode=1;profile-level-id=42C01E'),
  input(1, 'profile-id=1'),
  input(2, 'streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1210'),
  input(2, 'mode=AAC-lbr;sizelength=6;indexlength=2;indexdeltalength=2'),
  input(3, ''),
  input(5, 'sprop-stereo=1'),
];
const DICT = ['sizelength=', 'indexlength=', 'indexdeltalength=', 'ctsdeltalength=1', 'randomaccessindication=0', ';', '=', '99', '\n'].map(utf8Encode);

describe('RtpDepacketizer fuzz', () => {
  test('100,000 inputs: options refused only with ParseError/LalError, push and flush never throw', () => {
    const r = fuzz('rtp depacketizer (facade)', { seed: 0xde9a, corpus: CORPUS, dictionary: DICT, allowed: [LalError] }, ({ input: b, rnd }) => {
      if (b.length === 0) return;
      const nl = b.indexOf(0x0a);
      const fmtp = parseFmtpParams(latin1(b.subarray(1, nl < 0 ? b.length : nl)));
      const clockRate = rnd() < 0.8 ? 90000 : RATES[Math.floor(rnd() * RATES.length)];
      const d = new RtpDepacketizer({ codec: CODECS[b[0] % CODECS.length], clockRate, payloadType: rnd() < 0.5 ? 96 : undefined, fmtp });
      let drops = 0;
      const step = (out: unknown[]) => {
        fuzzCheck(Array.isArray(out), 'an array of packets');
        const now = totalDrops(d.drops);
        fuzzCheck(now >= drops, 'drop counters only grow');
        drops = now;
      };
      for (const raw of interleavedPackets(nl < 0 ? new Uint8Array(0) : b.subarray(nl + 1))) {
        let pkt: RtpPacket;
        try {
          pkt = decodeRtpPacket(raw);
        } catch (e) {
          if (e instanceof ParseError) continue; // decodeRtpPacket has its own fuzz test
          throw e;
        }
        step(d.push(pkt));
      }
      step(d.flush());
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.5);
    expect(r.rejected).toBeGreaterThan(0);
  }, FUZZ_TIMEOUT);
});
