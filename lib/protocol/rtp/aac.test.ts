import { describe, expect, test } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import type { AvPacket } from '../../core/packet.ts';
import { concat } from '../../core/bytes.ts';
import { aacAuHeaderConfig, aacPayload, AacDepacketizer, AAC_HBR, MAX_AAC_HBR_AU_SIZE } from './aac.ts';
import { decodeRtpPacket } from './packet.ts';
import { RtpPacketizer } from './packetizer.ts';
import { rtpPacket } from './_testing.ts';
import { fromHex, mulberry32, randomBytes, toHex } from '../../core/testing.ts';

const rtp = (seq: number, ts: number, marker: boolean, payload: Uint8Array) => rtpPacket(97, seq, ts, marker, payload);
const frame = (size: number, seed = size) => randomBytes(mulberry32(seed), size);
const ticks = (ts: number, clock: number) => Math.floor((ts * 90000) / clock);

describe('AAC packetisation (docs/media.md §5.2, RFC 3640 AAC-hbr)', () => {
  test('one AU per packet: `00 10` + 13-bit size + index 0', () => {
    const f = frame(300);
    const [head, body] = aacPayload(f);
    expect(toHex(head)).toBe('00100960'); // 300 << 3 = 0x0960
    expect(body).toBe(f);
    expect(toHex(aacPayload(frame(MAX_AAC_HBR_AU_SIZE))[0])).toBe('0010fff8');
    expect(() => aacPayload(frame(MAX_AAC_HBR_AU_SIZE + 1))).toThrow(ParseError);
  });

  test('RTMP-timed frames → RTP → AvPackets: same bytes, timestamps from absolute RTP time', () => {
    const clock = 44100;
    const p = new RtpPacketizer({ codec: 'aac', payloadType: 97, clockRate: clock, sequenceNumber: 1 });
    const d = new AacDepacketizer({ clockRate: clock, payloadType: 97 });
    const frames = Array.from({ length: 50 }, (_, i) => frame(100 + i * 13, i));
    let worst = 0;
    frames.forEach((f, i) => {
      const ms = Math.floor((i * 1024 * 1000) / clock); // what an RTMP publisher sends
      const [raw, ...more] = p.packetize({ kind: 'audio', codec: 'aac', dts: ms * 90, pts: ms * 90, key: true, units: [f] });
      expect(more).toEqual([]);
      const pkt = decodeRtpPacket(raw);
      expect(pkt.header.marker).toBe(true);
      expect(pkt.header.timestamp).toBe(Math.floor((ms * clock) / 1000));
      const [out] = d.push(pkt);
      expect(toHex(out.units[0])).toBe(toHex(f));
      expect(out).toMatchObject({ kind: 'audio', codec: 'aac', key: true });
      expect(out.pts).toBe(out.dts);
      worst = Math.max(worst, Math.abs(out.dts - ms * 90));
    });
    expect(worst).toBeLessThanOrEqual(3); // < 1 RTP tick at 44.1 kHz, no accumulation
  });
});

describe('AAC depacketisation (docs/media.md §6.1)', () => {
  test('several AUs in one packet: timestamps + i × 1024', () => {
    const d = new AacDepacketizer({ clockRate: 48000 });
    const [a, b, c] = [frame(10), frame(20), frame(30)];
    const payload = concat([fromHex('0030'), fromHex('0050 00a0 00f0'), a, b, c]); // 3 × 16 bits; sizes 10, 20, 30
    const out = d.push(rtp(1, 96000, true, payload));
    expect(out.map((x) => [x.dts, toHex(x.units[0])])).toEqual([
      [ticks(96000, 48000), toHex(a)],
      [ticks(96000 + 1024, 48000), toHex(b)],
      [ticks(96000 + 2048, 48000), toHex(c)],
    ]);
    expect(out[0].units[0].buffer).toBe(payload.buffer);
  });

  test('one AU fragmented over three packets of the same timestamp', () => {
    const d = new AacDepacketizer({ clockRate: 44100 });
    const au = frame(3000);
    const head = fromHex('0010 5dc0'); // 3000 << 3
    const parts = [au.subarray(0, 1200), au.subarray(1200, 2400), au.subarray(2400)];
    expect(d.push(rtp(10, 5000, false, concat([head, parts[0]])))).toEqual([]);
    expect(d.push(rtp(11, 5000, false, concat([head, parts[1]])))).toEqual([]);
    const [out] = d.push(rtp(12, 5000, true, concat([head, parts[2]])));
    expect(toHex(out.units[0])).toBe(toHex(au));
    expect(out.dts).toBe(ticks(5000, 44100));
  });

  test('a last fragment that leaves the AU short drops it', () => {
    const d = new AacDepacketizer({ clockRate: 44100 });
    const head = fromHex('0010 5dc0');
    d.push(rtp(10, 5000, false, concat([head, frame(1200)])));
    expect(d.push(rtp(11, 5000, true, concat([head, frame(1000)])))).toEqual([]);
    expect(d.drops.fragmentLost).toBe(1);
    // joining on a middle fragment whose packet continues an unfinished timestamp
    expect(d.push(rtp(20, 9000, false, concat([fromHex('0010 0010'), frame(2)]))).length).toBe(1);
    expect(d.push(rtp(21, 9000, false, concat([head, frame(1200)])))).toEqual([]);
    expect(d.drops).toMatchObject({ fragmentLost: 1, fragmentWithoutStart: 1 });
  });

  test('a lost fragment drops that AU; the next packet decodes', () => {
    const d = new AacDepacketizer({ clockRate: 44100 });
    const head = fromHex('0010 5dc0');
    d.push(rtp(10, 5000, false, concat([head, frame(1200)])));
    // seq 11 lost
    expect(d.push(rtp(12, 5000, true, concat([head, frame(600)])))).toEqual([]);
    const f = frame(50);
    const [out] = d.push(rtp(13, 6024, true, concat([fromHex('0010 0190'), f])));
    expect(toHex(out.units[0])).toBe(toHex(f));
    expect(d.drops).toMatchObject({ fragmentLost: 1, fragmentWithoutStart: 1 });
    expect(d.flush()).toEqual([]);
  });

  const malformed: [string, string][] = [
    ['no AU headers', '0000 aabb'],
    ['header section past the end', '0020 0050'],
    ['headers length not a whole header', '0018 005000'],
    ['sizes larger than the data of a multi-AU packet', '0020 0050 0050 aabbcc'],
    ['one byte', '00'],
  ];
  test.each(malformed)('%s is counted, not thrown', (_n, payload) => {
    const d = new AacDepacketizer({ clockRate: 44100 });
    expect(d.push(rtp(1, 0, true, fromHex(payload)))).toEqual([]);
    expect(d.drops.malformed).toBe(1);
  });

  test('zero-size AUs and empty payloads are skipped', () => {
    const d = new AacDepacketizer({ clockRate: 8000, payloadType: 97 });
    const f = frame(4);
    const out = d.push(rtp(1, 0, true, concat([fromHex('0020 0000 0020'), f])));
    expect(out.map((x) => [x.dts, toHex(x.units[0])])).toEqual([[ticks(1024, 8000), toHex(f)]]);
    expect(d.push(rtp(2, 0, true, new Uint8Array(0)))).toEqual([]);
    expect(d.push({ ...rtp(3, 0, true, f), header: { ...rtp(3, 0, true, f).header, payloadType: 0 } })).toEqual([]);
    expect(d.drops).toMatchObject({ empty: 1, payloadType: 1 });
  });

  test('AAC-lbr style 8-bit AU headers (sizelength 6, indexlength 2)', () => {
    const cfg = aacAuHeaderConfig({ mode: 'AAC-lbr', sizelength: '6', indexlength: '2', indexdeltalength: '2' });
    const d = new AacDepacketizer({ clockRate: 16000, auHeader: cfg });
    const [a, b] = [frame(5), frame(7)];
    const out = d.push(rtp(1, 0, true, concat([fromHex('0010'), Uint8Array.of(5 << 2, 7 << 2), a, b])));
    expect(out.map((x) => toHex(x.units[0]))).toEqual([toHex(a), toHex(b)]);
  });

  test('random payloads never throw', () => {
    const rnd = mulberry32(3);
    const d = new AacDepacketizer({ clockRate: 44100 });
    let n = 0;
    for (let i = 0; i < 2000; i++) {
      let p = randomBytes(rnd, Math.floor(rnd() * 30));
      if (rnd() < 0.3) p = concat([aacPayload(p)[0], p]); // a valid packet now and then
      else if (p.length > 1 && rnd() < 0.5) {
        p[0] = 0;
        p[1] = 0x10;
      }
      n += d.push(rtp(i, Math.floor(i / 3) * 1024, rnd() < 0.5, p)).length;
    }
    expect(n).toBeGreaterThan(100);
  });
});

describe('aacAuHeaderConfig (RFC 3640 §4.1)', () => {
  test('defaults, mixed-case keys as parseSdp lower-cases them, and refusals', () => {
    expect(aacAuHeaderConfig({})).toEqual(AAC_HBR);
    expect(aacAuHeaderConfig({ sizelength: '13', indexlength: '3', indexdeltalength: '3', profile: '1' })).toEqual(AAC_HBR);
    expect(() => aacAuHeaderConfig({ sizelength: 'x' })).toThrow(ParseError);
    expect(() => aacAuHeaderConfig({ sizelength: '0' })).toThrow(ParseError);
    expect(() => aacAuHeaderConfig({ indexlength: '9' })).toThrow(ParseError);
    expect(() => aacAuHeaderConfig({ ctsdeltalength: '16' })).toThrow(ParseError);
    expect(aacAuHeaderConfig({ randomaccessindication: '0' })).toEqual(AAC_HBR);
  });
});

describe('packet shape', () => {
  test('an AvPacket is audio with one unit', () => {
    const d = new AacDepacketizer({ clockRate: 44100 });
    const [pkt] = d.push(rtp(1, 0, true, concat([fromHex('0010 0008'), fromHex('21')])));
    const want: AvPacket = { kind: 'audio', codec: 'aac', dts: 0, pts: 0, key: true, units: [fromHex('21')] };
    expect(pkt).toEqual(want);
  });
});
