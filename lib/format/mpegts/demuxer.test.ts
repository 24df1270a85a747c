import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { concat } from '../../core/bytes.ts';
import { ParseError } from '../../core/errors.ts';
import type { AvPacket } from '../../core/packet.ts';
import { decodeAsc, encodeAdtsHeader } from '../../codec/aac/index.ts';
import { decodeAvcConfigRecord } from '../../codec/h264/index.ts';
import { ffmpegPath } from '../../../test/helpers/ffmpeg.ts';
import { FlvReader } from '../flv/index.ts';
import { crc32Mpeg2 } from './crc32.ts';
import { MAX_RESYNC_BYTES, splitOpusPes, TsDemuxer, TsPesToAv, type TsDemuxEvent, type TsPesEvent } from './demuxer.ts';
import { encodeTsPacketHeaderInto, packetizePes } from './packet.ts';
import { encodePatPmt, TsPid, type PmtStreams } from './psi.ts';
import { mulberry32, mutateBytes, onlyParseError, randomBytes, splitAt, toHex } from '../../core/testing.ts';

// Real parameter sets and ASC from the committed fixture (320x240 High, AAC-LC 44.1 kHz stereo).
const FIXTURE = readFileSync(new URL('../../../fixtures/h264-aac.flv', import.meta.url));
const fixtureTags = new FlvReader().feed(FIXTURE);
const avcc = decodeAvcConfigRecord(fixtureTags.find((t) => t.type === 9)!.body.subarray(5));
const SPS = avcc.sps[0];
const PPS = avcc.pps[0];
const ASC = fixtureTags.find((t) => t.type === 8 && t.body[1] === 0)!.body.subarray(2);
const ASC_INFO = decodeAsc(ASC);

const SC4 = Uint8Array.of(0, 0, 0, 1);
const SC3 = Uint8Array.of(0, 0, 1);
const AUD = Uint8Array.of(0, 0, 0, 1, 0x09, 0xf0);

function fill(n: number, seed: number, first: number): Uint8Array {
  const b = new Uint8Array(n);
  b[0] = first;
  // bytes ≥ 4 never form a start code inside the unit
  for (let i = 1; i < n; i++) b[i] = 4 + ((i * 13 + seed) % 250);
  return b;
}

interface Pes {
  pid: number;
  pts: number;
  dts: number;
  data: Uint8Array;
}

/** PAT/PMT then interleaved video and audio PES as a muxer would write them. */
function makeStream(opts: { frames?: number; bigEvery?: number; streams?: PmtStreams } = {}): { ts: Uint8Array; pes: Pes[] } {
  const frames = opts.frames ?? 24;
  const parts: Uint8Array[] = [encodePatPmt(opts.streams ?? { video: 'h264', audio: 'aac' })];
  const pes: Pes[] = [];
  let vcc = 0;
  let acc = 0;
  for (let i = 0; i < frames; i++) {
    const key = i % 8 === 0;
    const size = opts.bigEvery && i % opts.bigEvery === 3 ? 70000 : 20 + ((i * 997) % 3000);
    const slice = fill(size, i, key ? 0x65 : 0x41);
    const units = key ? [AUD, SC4, SPS, SC4, PPS, SC3, slice] : [AUD, SC3, slice];
    const data = concat(units);
    const dts = 63000 + i * 3600;
    const pts = dts + (i % 3) * 3600;
    const v = packetizePes({ pid: TsPid.Video, streamId: 0xe0, pts, dts, pcr: key ? dts - 63000 : undefined, randomAccess: key, payload: [data] }, vcc);
    vcc = v.cc;
    parts.push(v.bytes);
    pes.push({ pid: TsPid.Video, pts, dts, data });
    if (i % 2 === 1) {
      const raws = [fill(100 + i, i, 0x21), fill(120 + i, i + 1, 0x21), fill(90, i + 2, 0x21)];
      const adts = concat(raws.flatMap((r) => [encodeAdtsHeader(ASC_INFO, r.length), r]));
      const apts = 63000 + i * 3600;
      const a = packetizePes({ pid: TsPid.Audio, streamId: 0xc0, pts: apts, payload: [adts] }, acc);
      acc = a.cc;
      parts.push(a.bytes);
      pes.push({ pid: TsPid.Audio, pts: apts, dts: apts, data: adts });
    }
  }
  return { ts: concat(parts), pes };
}

function feedAll(ts: Uint8Array, cuts: number[] = [], d = new TsDemuxer()): TsDemuxEvent[] {
  const ev: TsDemuxEvent[] = [];
  for (const piece of splitAt(ts, cuts)) ev.push(...d.feed(piece));
  ev.push(...d.flush());
  return ev;
}

/** Events in comparable form (hex data). */
function plain(ev: TsDemuxEvent[]): unknown[] {
  return ev.map((e) => (e.type === 'pes' ? { ...e, data: toHex(e.data) } : e));
}

function pesOf(ev: TsDemuxEvent[], pid: number): Pes[] {
  return ev.filter((e): e is TsPesEvent => e.type === 'pes' && e.pid === pid).map((e) => ({ pid, pts: e.pts!, dts: e.dts!, data: e.data }));
}

function expectPes(got: Pes[], want: Pes[]): void {
  expect(got.map((p) => [p.pts, p.dts, p.data.length])).toEqual(want.map((p) => [p.pts, p.dts, p.data.length]));
  for (let i = 0; i < want.length; i++) expect(toHex(got[i].data)).toBe(toHex(want[i].data));
}

describe('TsDemuxer', () => {
  test('PAT → PMT → PES: every PES comes back with its timestamps and bytes', () => {
    const { ts, pes } = makeStream({ bigEvery: 10 });
    const d = new TsDemuxer();
    const ev = feedAll(ts, [], d);
    expect(ev[0]).toEqual({
      type: 'pmt', programNumber: 1, pcrPid: TsPid.Video,
      streams: [{ pid: TsPid.Video, streamType: 0x1b, codec: 'h264' }, { pid: TsPid.Audio, streamType: 0x0f, codec: 'aac' }],
    });
    expect(ev.filter((e) => e.type === 'pmt').length).toBe(1);
    expectPes(pesOf(ev, TsPid.Video), pes.filter((p) => p.pid === TsPid.Video));
    expectPes(pesOf(ev, TsPid.Audio), pes.filter((p) => p.pid === TsPid.Audio));
    const keys = ev.filter((e): e is TsPesEvent => e.type === 'pes' && e.pid === TsPid.Video).map((e) => e.randomAccess);
    expect(keys.filter(Boolean).length).toBe(3);
    expect(d.stats).toMatchObject({ continuityErrors: 0, syncLosses: 0, duplicates: 0, truncatedPes: 0, pesErrors: 0, psiErrors: 0 });
  });

  test('bounded PES are emitted as soon as complete; an unbounded one waits for the next start or flush', () => {
    const { ts } = makeStream({ frames: 4, bigEvery: 4 }); // frame 3 is 70000 bytes: PES_packet_length 0
    const d = new TsDemuxer();
    const ev = d.feed(ts);
    expect(ev.filter((e) => e.type === 'pes').length).toBe(3 + 2); // frames 0..2 and two audio PES
    const rest = d.flush();
    expect(rest.length).toBe(1);
    expect((rest[0] as TsPesEvent).data.length).toBe(70000 + 6 + 3 * 0 + 3);
  });

  test('identical events fed whole, byte by byte and in random splits', () => {
    const { ts } = makeStream({ frames: 12, bigEvery: 6 });
    const whole = plain(feedAll(ts));
    const d = new TsDemuxer();
    const bytewise: TsDemuxEvent[] = [];
    for (let i = 0; i < ts.length; i++) bytewise.push(...d.feed(ts.subarray(i, i + 1)));
    bytewise.push(...d.flush());
    expect(plain(bytewise)).toEqual(whole);
    const rnd = mulberry32(5);
    for (let k = 0; k < 10; k++) {
      const cuts: number[] = [];
      for (let p = Math.floor(rnd() * 400); p < ts.length; p += 1 + Math.floor(rnd() * 700)) cuts.push(p);
      expect(plain(feedAll(ts, cuts))).toEqual(whole);
    }
  });

  test('junk before and between packets: resync, same PES', () => {
    const { ts, pes } = makeStream({ frames: 10 });
    const junk = Uint8Array.from({ length: 500 }, (_, i) => (i * 31) & 0xff).map((b) => (b === 0x47 ? 0 : b));
    const cut = 188 * 20;
    const dirty = concat([junk, ts.subarray(0, cut), junk.subarray(0, 77), Uint8Array.of(0x47, 1, 2), ts.subarray(cut)]);
    const d = new TsDemuxer();
    const ev = feedAll(dirty, [], d);
    expectPes(pesOf(ev, TsPid.Video), pes.filter((p) => p.pid === TsPid.Video));
    expect(d.stats.syncLosses).toBe(2);
    expect(d.stats.skippedBytes).toBe(500 + 77 + 3);
    // byte by byte gives the same
    const d2 = new TsDemuxer();
    const ev2: TsDemuxEvent[] = [];
    for (let i = 0; i < dirty.length; i++) ev2.push(...d2.feed(dirty.subarray(i, i + 1)));
    ev2.push(...d2.flush());
    expect(plain(ev2)).toEqual(plain(ev));
  });

  test('a lost packet counts a continuity error and truncates that PES; a duplicate is dropped', () => {
    const { ts, pes } = makeStream({ frames: 6 });
    // find the 2nd packet of the first video PES (PID 0x100, no PUSI)
    let second = -1;
    for (let o = 0; o < ts.length; o += 188) {
      if (((ts[o + 1] & 0x1f) << 8 | ts[o + 2]) === TsPid.Video && !(ts[o + 1] & 0x40)) {
        second = o;
        break;
      }
    }
    const lost = concat([ts.subarray(0, second), ts.subarray(second + 188)]);
    const d = new TsDemuxer();
    const ev = feedAll(lost, [], d);
    expect(d.stats.continuityErrors).toBe(1);
    expect(d.stats.truncatedPes).toBe(1); // its PES_packet_length is never reached
    expect(pesOf(ev, TsPid.Video).length).toBe(pes.filter((p) => p.pid === TsPid.Video).length - 1);

    const dup = concat([ts.subarray(0, second + 188), ts.subarray(second, second + 188), ts.subarray(second + 188)]);
    const d2 = new TsDemuxer();
    expect(plain(feedAll(dup, [], d2))).toEqual(plain(feedAll(ts)));
    expect(d2.stats).toMatchObject({ duplicates: 1, continuityErrors: 0 });
  });

  test('PES beyond maxPesSize are dropped and counted', () => {
    const { ts } = makeStream({ frames: 8, bigEvery: 4 });
    const d = new TsDemuxer({ maxPesSize: 50000 });
    const ev = feedAll(ts, [], d);
    expect(d.stats.oversizedPes).toBe(2);
    expect(pesOf(ev, TsPid.Video).every((p) => p.data.length < 50000)).toBe(true);
    expect(pesOf(ev, TsPid.Video).length).toBe(6);
  });

  test('PSI across packets with pointer_field, program 0 (NIT) skipped, PMT change re-announced', () => {
    // PAT listing NIT (program 0) first, then program 7 on PMT PID 0x42
    const pat = sectionWithCrc([0x00, 0xb0, 0, 0x00, 0x02, 0xc1, 0, 0, 0x00, 0x00, 0xe0, 0x10, 0x00, 0x07, 0xe0, 0x42]);
    // PMT with 400 bytes of descriptors in program_info: spans three packets
    const info = new Uint8Array(400).fill(0);
    for (let i = 0; i < 400; i += 4) info.set([0x99, 2, 0, 0], i);
    const pmtBody = [0x02, 0xb0, 0, 0x00, 0x07, 0xc1, 0, 0, 0xe2, 0x00, 0xf0 | (400 >> 8), 400 & 0xff, ...info, 0x24, 0xe2, 0x00, 0xf0, 0x00, 0x06, 0xe2, 0x01, 0xf0, 0x06, 0x05, 0x04, 0x4f, 0x70, 0x75, 0x73];
    const pmt = sectionWithCrc(pmtBody);
    const pmt2 = sectionWithCrc(pmtBody.slice(0, pmtBody.length - 11).map((b, i) => (i === 5 ? 0xc3 : b)));
    const pkts = [
      ...psiPackets(0, pat, 3), // pointer_field 3 with 3 junk bytes before the section
      ...psiPackets(0x42, pmt, 0),
      ...psiPackets(0x42, pmt2, 0, 3),
    ];
    const d = new TsDemuxer();
    const ev = feedAll(concat(pkts), [], d);
    expect(d.stats.psiErrors).toBe(0);
    expect(ev).toEqual([
      { type: 'pmt', programNumber: 7, pcrPid: 0x200, streams: [{ pid: 0x200, streamType: 0x24, codec: 'h265' }, { pid: 0x201, streamType: 6, codec: 'opus' }] },
      { type: 'pmt', programNumber: 7, pcrPid: 0x200, streams: [{ pid: 0x200, streamType: 0x24, codec: 'h265' }] },
    ]);
    expect(d.pmtStreams.length).toBe(1);
  });

  test('a corrupted PAT CRC is counted, not thrown', () => {
    const ts = encodePatPmt({ video: 'h264' });
    ts[20] ^= 0xff;
    const d = new TsDemuxer();
    expect(feedAll(ts, [], d)).toEqual([]);
    expect(d.stats.psiErrors).toBe(1);
  });

  test('hostile input: every truncation, 200 random buffers, 200 mutated streams — only ParseError', () => {
    const { ts } = makeStream({ frames: 3 });
    for (let n = 0; n <= ts.length; n += n < 1200 ? 1 : 7) onlyParseError(() => feedAll(ts.subarray(0, n)));
    const rnd = mulberry32(42);
    for (let i = 0; i < 200; i++) {
      const b = randomBytes(rnd, Math.floor(rnd() * 3000));
      // sprinkle sync bytes on a 188 grid so the packet paths run too
      if (i % 2 === 0) for (let k = 0; k < b.length; k += 188) b[k] = 0x47;
      onlyParseError(() => feedAll(b, [Math.floor(b.length / 3)]));
    }
    for (let i = 0; i < 200; i++) {
      const b = mutateBytes(rnd, ts.slice(), 1 + (i % 8));
      onlyParseError(() => {
        const ev = feedAll(b, [Math.floor(rnd() * b.length)]);
        const conv = new TsPesToAv();
        for (const e of ev) if (e.type === 'pes') conv.push(e);
      });
    }
  });

  test(`more than ${MAX_RESYNC_BYTES} bytes without sync is not MPEG-TS: ParseError`, () => {
    const d = new TsDemuxer();
    expect(() => d.feed(new Uint8Array(MAX_RESYNC_BYTES + 10))).toThrow(/not an MPEG-TS stream/);
  });
});

function sectionWithCrc(body: number[]): Uint8Array {
  const s = new Uint8Array(body.length + 4);
  s.set(body);
  const len = s.length - 3;
  s[1] = (s[1] & 0xf0) | (len >> 8);
  s[2] = len & 0xff;
  const crc = crc32Mpeg2(s, 0, s.length - 4);
  s.set([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff], s.length - 4);
  return s;
}

/** A section split over as many packets as needed; the first has pointer_field `pointer`. */
function psiPackets(pid: number, section: Uint8Array, pointer: number, firstCc = 0): Uint8Array[] {
  const data = concat([Uint8Array.of(pointer), new Uint8Array(pointer).fill(0xab), section]);
  const out: Uint8Array[] = [];
  for (let o = 0, i = 0; o < data.length; o += 184, i++) {
    const p = new Uint8Array(188).fill(0xff);
    encodeTsPacketHeaderInto({ pid, payloadUnitStart: i === 0, adaptationFieldControl: 1, continuityCounter: firstCc + i }, p, 0);
    p.set(data.subarray(o, o + 184), 4);
    out.push(p);
  }
  return out;
}

describe('TsPesToAv', () => {
  const pes = (codec: TsPesEvent['codec'], data: Uint8Array, pts?: number, dts?: number, pid = 0x100): TsPesEvent =>
    ({ type: 'pes', pid, streamId: 0xe0, codec, data, randomAccess: false, ...(pts !== undefined ? { pts, dts: dts ?? pts } : {}) });

  test('H.264: AUD dropped, SPS/PPS moved into the TrackInfo once, key from the IDR', () => {
    const c = new TsPesToAv();
    const idr = fill(50, 1, 0x65);
    const sei = fill(20, 2, 0x06);
    const r = c.push(pes('h264', concat([AUD, SC4, SPS, SC4, PPS, SC3, sei, SC3, idr]), 70200, 63000));
    expect(r.tracksChanged?.video).toMatchObject({ codec: 'h264', width: 320, height: 240, profile: 'High' });
    expect(r.tracksChanged?.video?.sps.map(toHex)).toEqual([toHex(SPS)]);
    expect(r.packets.length).toBe(1);
    const p = r.packets[0];
    expect({ kind: p.kind, codec: p.codec, dts: p.dts, pts: p.pts, key: p.key }).toEqual({ kind: 'video', codec: 'h264', dts: 63000, pts: 70200, key: true });
    expect(p.units.map(toHex)).toEqual([toHex(sei), toHex(idr)]);
    // the same parameter sets again: no change
    expect(c.push(pes('h264', concat([SC4, SPS, SC4, PPS, SC3, idr]), 80000)).tracksChanged).toBeUndefined();
    const p2 = c.push(pes('h264', concat([AUD, SC3, fill(30, 3, 0x41)]), 90000)).packets[0];
    expect(p2.key).toBe(false);
    expect(c.push(pes('h264', AUD, 91000)).packets).toEqual([]); // nothing but an AUD
  });

  test('AAC: one AvPacket per ADTS frame, 1024 samples apart; ASC in the TrackInfo', () => {
    const c = new TsPesToAv();
    const raws = [fill(100, 1, 0x21), fill(110, 2, 0x21), fill(120, 3, 0x21)];
    const data = concat(raws.flatMap((r) => [encodeAdtsHeader(ASC_INFO, r.length), r]));
    const r = c.push(pes('aac', data, 90000, undefined, 0x101));
    expect(r.tracksChanged?.audio).toMatchObject({ codec: 'aac', sampleRate: 44100, channels: 2 });
    expect(toHex(r.tracksChanged!.audio!.asc!)).toBe(toHex(ASC.subarray(0, 2)));
    expect(r.packets.map((p) => p.pts)).toEqual([90000, 90000 + 2090, 90000 + 4180]); // 1024 × 90000 / 44100 = 2089.8
    expect(r.packets.map((p) => toHex(p.units[0]))).toEqual(raws.map(toHex));
    expect(c.push(pes('aac', data, 200000, undefined, 0x101)).tracksChanged).toBeUndefined();
    // a frame cut short: earlier frames kept, the break counted
    const cut = c.push(pes('aac', data.subarray(0, data.length - 5), 300000, undefined, 0x101));
    expect(cut.packets.length).toBe(2);
    expect(c.stats.badFraming).toBe(1);
  });

  test('Opus: access units behind control headers, timed by their TOC', () => {
    const au1 = Uint8Array.of(0xfc, 1, 2, 3); // config 31: CELT 20 ms, one frame
    const au2 = new Uint8Array(300).fill(0xfc); // au_size 300 = FF 2D
    const data = concat([Uint8Array.of(0x7f, 0xe0, 4), au1, Uint8Array.of(0x7f, 0xf0, 0xff, 0x2d, 0, 0), au2]);
    expect(splitOpusPes(data).map((a) => a.length)).toEqual([4, 300]);
    const c = new TsPesToAv();
    const r = c.push(pes('opus', data, 1000, undefined, 0x101));
    expect(r.tracksChanged?.audio).toEqual({ codec: 'opus', sampleRate: 48000, channels: 2 });
    expect(r.packets.map((p) => p.pts)).toEqual([1000, 1000 + 1800]);
    // LAL writes no control header: the whole payload is one packet
    expect(c.push(pes('opus', au1, 5000, undefined, 0x101)).packets.map((p) => p.units[0].length)).toEqual([4]);
    expect(() => splitOpusPes(Uint8Array.of(0x7f, 0xe0, 10, 1))).toThrow(ParseError);
  });

  test('no PTS, other codecs; 33-bit wrap is unwrapped per PID', () => {
    const c = new TsPesToAv();
    expect(c.push(pes('h264', concat([SC3, fill(10, 1, 0x41)]))).packets).toEqual([]);
    expect(c.stats.noTimestamp).toBe(1);
    expect(c.push(pes('other', Uint8Array.of(1, 2, 3), 5)).packets).toEqual([]);
    const slice = concat([SC3, fill(10, 1, 0x41)]);
    const times = [2 ** 33 - 3000, 2 ** 33 - 1000, 500, 4000].map((t) => c.push(pes('h264', slice, t)).packets[0].dts);
    expect(times).toEqual([2 ** 33 - 3000, 2 ** 33 - 1000, 2 ** 33 + 500, 2 ** 33 + 4000]);
    // PTS just across the wrap from DTS
    const p = c.push(pes('h264', slice, 100, 2 ** 33 - 100, 0x300)).packets[0];
    expect(p.pts - p.dts).toBe(200);
  });
});

describe('a TS written by ffmpeg', () => {
  test('ffmpeg -c copy of the fixture: same NAL units, AAC frames and relative timestamps as the FLV', () => {
    const p = Bun.spawnSync([ffmpegPath(), '-hide_banner', '-loglevel', 'error', '-i', 'pipe:0', '-c', 'copy', '-f', 'mpegts', 'pipe:1'], { stdin: FIXTURE, stdout: 'pipe', stderr: 'pipe' });
    expect(p.exitCode).toBe(0);
    const ts = new Uint8Array(p.stdout);
    const d = new TsDemuxer();
    const conv = new TsPesToAv();
    const got: AvPacket[] = [];
    for (const e of feedAll(ts, [1000, 77777], d)) if (e.type === 'pes') got.push(...conv.push(e).packets);
    expect(d.stats).toMatchObject({ continuityErrors: 0, syncLosses: 0, truncatedPes: 0, pesErrors: 0, psiErrors: 0 });
    expect(conv.tracks.video).toMatchObject({ codec: 'h264', width: 320, height: 240, profile: 'High' });
    expect(conv.tracks.audio).toMatchObject({ codec: 'aac', sampleRate: 44100, channels: 2 });

    // the source, from the FLV tags (video: AVCC units, audio: raw frames), in ms
    const srcVideo = fixtureTags.filter((t) => t.type === 9 && t.body[1] === 1);
    const srcAudio = fixtureTags.filter((t) => t.type === 8 && t.body[1] === 1);
    const video = got.filter((x) => x.kind === 'video');
    const audio = got.filter((x) => x.kind === 'audio');
    expect(video.length).toBe(srcVideo.length);
    expect(audio.length).toBe(srcAudio.length);
    const v0 = video[0].dts;
    for (let i = 0; i < video.length; i++) {
      const body = srcVideo[i].body;
      const units: string[] = [];
      for (let o = 5; o < body.length;) {
        const n = (body[o] << 24) | (body[o + 1] << 16) | (body[o + 2] << 8) | body[o + 3];
        units.push(toHex(body.subarray(o + 4, o + 4 + n)));
        o += 4 + n;
      }
      expect(video[i].units.map(toHex)).toEqual(units);
      expect(video[i].key).toBe(body[0] >> 4 === 1);
      expect(video[i].dts - v0).toBe((srcVideo[i].timestamp - srcVideo[0].timestamp) * 90);
    }
    const a0 = audio[0].pts;
    for (let i = 0; i < audio.length; i++) {
      expect(toHex(audio[i].units[0])).toBe(toHex(srcAudio[i].body.subarray(2)));
      // frames after the first in a PES are timed by sample count, the FLV by rounded ms
      expect(Math.abs(audio[i].pts - a0 - (srcAudio[i].timestamp - srcAudio[0].timestamp) * 90)).toBeLessThanOrEqual(90);
    }
  });
});
