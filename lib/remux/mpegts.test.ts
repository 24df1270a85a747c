import { describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concat } from '../core/bytes.ts';
import type { AvPacket, TrackInfo, VideoTrack } from '../core/packet.ts';
import { decodeAsc, encodeAdtsHeader, splitAdts } from '../codec/aac/index.ts';
import { FlvReader } from '../format/flv/index.ts';
import { decodePesHeader, decodeTsPacket, encodePatPmt, TsDemuxer, TsPesToAv, TsPid, type PesHeader, type TsFrame } from '../format/mpegts/index.ts';
import { ffprobePath } from '../../test/helpers/ffmpeg.ts';
import { AvToMpegts, MAX_AUDIO_CACHE_FRAMES, PROBE_QUEUE_SIZE, type AvToMpegtsOptions, type TsEvent } from './mpegts.ts';
import { RtmpToAv } from './rtmp.ts';
import { fromHex, toHex } from '../core/testing.ts';

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

// ---- helpers -----------------------------------------------------------------------------------

/** PES header and payload of one frame's TS packets, read back with the packet decoder. */
function pesOf(frame: TsFrame | Uint8Array): { h: PesHeader; payload: Uint8Array; pcr?: number; randomAccess: boolean; pids: number[]; ccs: number[] } {
  const bytes = frame instanceof Uint8Array ? frame : frame.bytes;
  const pieces: Uint8Array[] = [];
  const pids: number[] = [];
  const ccs: number[] = [];
  let pcr: number | undefined;
  let randomAccess = false;
  for (let o = 0; o < bytes.length; o += 188) {
    const p = decodeTsPacket(bytes, o);
    pids.push(p.header.pid);
    ccs.push(p.header.continuityCounter);
    if (p.adaptation?.pcr !== undefined) {
      expect(o).toBe(0); // only the first packet may carry a PCR
      pcr = p.adaptation.pcr;
    }
    if (o === 0) randomAccess = p.adaptation?.randomAccess ?? false;
    pieces.push(p.payload);
  }
  const pes = concat(pieces);
  const h = decodePesHeader(pes);
  return { h, payload: pes.subarray(h.payloadOffset), pcr, randomAccess, pids, ccs };
}

function frames(ev: TsEvent[]): TsFrame[] {
  return ev.flatMap((e) => (e.type === 'frame' ? [e.frame] : []));
}

const SPS = fromHex('67 64 00 0d ac d9');
const PPS = fromHex('68 eb e3 cb');
const VPS = fromHex('40 01 0c 01');
const SPS5 = fromHex('42 01 01 01 60');
const PPS5 = fromHex('44 01 c1 72');
const ASC = fromHex('12 10'); // AAC-LC 44.1 kHz stereo
const ASC_INFO = decodeAsc(ASC);

const h264Track = (sps = SPS, pps = PPS): VideoTrack => ({ codec: 'h264', width: 320, height: 240, profile: 'High', level: 13, sps: [sps], pps: [pps] });
const h265Track = (): VideoTrack => ({ codec: 'h265', width: 320, height: 240, profile: 'Main', level: 60, sps: [SPS5], pps: [PPS5], vps: [VPS] });
const aacTracks = (video?: VideoTrack): TrackInfo => ({ ...(video ? { video } : {}), audio: { codec: 'aac', sampleRate: 44100, channels: 2, asc: ASC } });

const nal = (first: number, n = 8, seed = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i === 0 ? first : 0x10 + ((i * 7 + seed) % 200)));
const IDR = nal(0x65, 30);
const P = nal(0x41, 12);
const SEI = nal(0x06, 6);
const AUD264 = fromHex('09 f0');

function vpkt(ms: number, units: Uint8Array[], key: boolean, ctsMs = 0, codec: 'h264' | 'h265' = 'h264'): AvPacket {
  return { kind: 'video', codec, dts: ms * 90, pts: (ms + ctsMs) * 90, key, units };
}
function apkt(ms: number, raw: Uint8Array = nal(0x21, 20, ms), codec: AvPacket['codec'] = 'aac'): AvPacket {
  return { kind: 'audio', codec, dts: ms * 90, pts: ms * 90, key: true, units: [raw] };
}

/**
 * A muxer whose probe completes with the first push: `tracks`, then metadata changes up to
 * message 15 (each counts as one queued message, as in LAL), so the first packet is the 16th.
 */
function ready(tracks: TrackInfo): AvToMpegts {
  const mux = new AvToMpegts();
  mux.setTracks(tracks);
  for (let i = 0; i < PROBE_QUEUE_SIZE - 2; i++) mux.setTracks({ ...tracks, metadata: Uint8Array.of(2, i) });
  return mux;
}

// ---- the real stream ---------------------------------------------------------------------------

interface Run {
  ts: Uint8Array;
  events: TsEvent[];
  mux: AvToMpegts;
  src: AvPacket[];
}

/** fixtures/NAME through FlvReader → RtmpToAv → AvToMpegts, as the hub would deliver it. */
function remuxFixture(name: string, opts?: AvToMpegtsOptions): Run {
  const tags = new FlvReader().feed(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url)));
  const rtmp = new RtmpToAv();
  const mux = new AvToMpegts(opts);
  const events: TsEvent[] = [];
  const src: AvPacket[] = [];
  for (const tag of tags) {
    const r = rtmp.push({ type: tag.type, timestamp: tag.timestamp, body: tag.body });
    if (r.kind === 'tracks') mux.setTracks(r.tracks);
    if (r.kind === 'packet') {
      if (r.tracksChanged) mux.setTracks(r.tracksChanged);
      src.push(r.packet);
      events.push(...mux.push(r.packet));
    }
  }
  events.push(...mux.end());
  const ts = concat(events.map((e) => (e.type === 'patpmt' ? e.bytes : e.frame.bytes)));
  return { ts, events, mux, src };
}

interface Probe {
  streams: { codec_type: string; codec_name: string; profile?: string; width?: number; height?: number; sample_rate?: string; channels?: number; nb_read_frames: string }[];
}

function ffprobe(ts: Uint8Array): Probe {
  const dir = mkdtempSync(join(tmpdir(), 'lal-mpegts-'));
  try {
    const file = join(dir, 'out.ts');
    writeFileSync(file, ts);
    const p = Bun.spawnSync([ffprobePath(), '-v', 'error', '-count_frames', '-show_entries', 'stream=codec_type,codec_name,profile,width,height,sample_rate,channels,nb_read_frames', '-of', 'json', file], { stdout: 'pipe', stderr: 'pipe' });
    expect(p.stderr.toString()).toBe('');
    expect(p.exitCode).toBe(0);
    return JSON.parse(p.stdout.toString()) as Probe;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Golden md5 of the whole TS output for fixtures/h264-aac.flv (deterministic; see docs/media.md §4). */
const GOLDEN_H264_AAC = { md5: '94188a2cc49f680508775ab817c50773', bytes: 243648 };

describe('fixtures/h264-aac.flv → TS', () => {
  const run = remuxFixture('h264-aac.flv');

  test('ffprobe decodes 100 H.264 High 320x240 frames and 174 AAC 44100 Hz stereo frames', () => {
    const p = ffprobe(run.ts);
    const v = p.streams.find((s) => s.codec_type === 'video');
    const a = p.streams.find((s) => s.codec_type === 'audio');
    expect(v).toMatchObject({ codec_name: 'h264', profile: 'High', width: 320, height: 240, nb_read_frames: '100' });
    expect(a).toMatchObject({ codec_name: 'aac', sample_rate: '44100', channels: 2, nb_read_frames: '174' });
  });

  test('golden md5 of the whole output', () => {
    expect({ md5: md5(run.ts), bytes: run.ts.length }).toEqual(GOLDEN_H264_AAC);
  });

  test('PAT/PMT (AVC + AAC) first, once; then frames of whole 188-byte packets with per-PID CC from 1', () => {
    expect(run.events[0]).toEqual({ type: 'patpmt', bytes: encodePatPmt({ video: 'h264', audio: 'aac' }) });
    expect(run.events.filter((e) => e.type === 'patpmt').length).toBe(1);
    expect(toHex(run.mux.patPmt!)).toBe(toHex(encodePatPmt({ video: 'h264', audio: 'aac' })));
    const fs = frames(run.events);
    expect(fs.filter((f) => f.kind === 'video').length).toBe(100);
    const next = { [TsPid.Video]: 1, [TsPid.Audio]: 1 } as Record<number, number>;
    for (const f of fs) {
      expect(f.bytes.length % 188).toBe(0);
      const { pids, ccs } = pesOf(f);
      for (let i = 0; i < pids.length; i++) {
        expect(pids[i]).toBe(f.kind === 'video' ? TsPid.Video : TsPid.Audio);
        expect(ccs[i]).toBe(next[pids[i]]);
        next[pids[i]] = (next[pids[i]] + 1) & 15;
      }
    }
    expect(run.mux.stats).toMatchObject({ videoFrames: 100, noParameterSets: 0, noAudioConfig: 0, beforeBase: 0 });
  });

  test('PES timestamps +63000, PCR = DTS − 63000 (floored at 0) on key frames only, boundaries at key frames', () => {
    for (const f of frames(run.events)) {
      const { h, pcr, randomAccess } = pesOf(f);
      expect(h.pts).toBe(f.pts + 63000);
      expect(h.dts ?? h.pts).toBe(f.dts + 63000);
      expect(f.ts).toBe(f.kind === 'video' ? f.dts : f.pts);
      expect(pcr).toBe(f.kind === 'video' && f.key ? Math.max(0, f.dts - 63000) : undefined);
      expect(randomAccess).toBe(f.kind === 'video' && f.key);
      if (f.kind === 'audio') expect(f.boundary).toBe(false); // video parameter sets are known
      else if (!f.key) expect(f.boundary).toBe(false);
    }
    const video = frames(run.events).filter((f) => f.kind === 'video');
    expect(video[0]).toMatchObject({ key: true, boundary: true, dts: 0 });
    expect(frames(run.events).find((f) => f.kind === 'audio')?.pts).toBe(0); // audio rebased on its own (docs/quirks.md Q-TS-1)
  });

  test('our demuxer reads back the source: same NAL units (modulo AUD and parameter sets) and rebased timestamps', () => {
    const d = new TsDemuxer();
    const conv = new TsPesToAv();
    const got: AvPacket[] = [];
    for (const e of [...d.feed(run.ts), ...d.flush()]) if (e.type === 'pes') got.push(...conv.push(e).packets);
    expect(d.stats).toMatchObject({ continuityErrors: 0, duplicates: 0, syncLosses: 0, truncatedPes: 0, pesErrors: 0 });
    expect(conv.tracks.video).toMatchObject({ codec: 'h264', width: 320, height: 240, profile: 'High' });
    expect(conv.tracks.audio).toMatchObject({ codec: 'aac', sampleRate: 44100, channels: 2 });
    const srcV = run.src.filter((p) => p.kind === 'video' && p.units.length > 0);
    const srcA = run.src.filter((p) => p.kind === 'audio');
    const gotV = got.filter((p) => p.kind === 'video');
    const gotA = got.filter((p) => p.kind === 'audio');
    expect(gotV.length).toBe(srcV.length);
    expect(gotA.length).toBe(srcA.length);
    const v0 = srcV[0].dts;
    srcV.forEach((s, i) => {
      expect(gotV[i].units.map(toHex)).toEqual(s.units.filter((u) => ![7, 8, 9].includes(u[0] & 0x1f)).map(toHex));
      expect(gotV[i].key).toBe(s.key);
      expect(gotV[i].dts).toBe(s.dts - v0 + 63000);
      expect(gotV[i].pts).toBe(s.pts - v0 + 63000);
    });
    const a0 = srcA[0].dts;
    srcA.forEach((s, i) => {
      expect(toHex(gotA[i].units[0])).toBe(toHex(s.units[0]));
      // the first frame of each PES is exact; later ones are timed by sample count (±1 ms)
      expect(Math.abs(gotA[i].pts - (s.dts - a0 + 63000))).toBeLessThanOrEqual(90);
    });
    const pesStarts = frames(run.events).filter((f) => f.kind === 'audio').map((f) => f.pts + 63000);
    for (const t of pesStarts) expect(gotA.some((p) => p.pts === t)).toBe(true);
  });
});

describe('output: frames packetised into a file writer\'s buffer (lal remux)', () => {
  /** A writer that hands out consecutive room in one arena and records the calls. */
  function arenaOutput(size: number) {
    const arena = new Uint8Array(size);
    const calls: string[] = [];
    let used = 0;
    return {
      arena,
      calls,
      used: () => used,
      output: {
        patPmt(b: Uint8Array) {
          calls.push('patpmt');
          arena.set(b, used);
          used += b.length;
        },
        reserve(n: number) {
          calls.push(`frame ${n}`);
          const v = arena.subarray(used, used + n);
          used += n;
          return v;
        },
      },
    };
  }

  test.each(['h264-aac.flv', 'aac-only.flv', 'h265-enhanced.flv'])('%s: the bytes written in call order are the default output; events carry views', (name) => {
    const plain = remuxFixture(name);
    const w = arenaOutput(plain.ts.length);
    const run = remuxFixture(name, { output: w.output });
    expect(w.used()).toBe(plain.ts.length);
    expect(md5(w.arena)).toBe(md5(plain.ts));
    // PAT/PMT once, before the first frame; then one reserve per frame event, same sizes
    const frames = run.events.filter((e) => e.type === 'frame');
    expect(w.calls).toEqual(['patpmt', ...frames.map((e) => `frame ${e.frame.bytes.length}`)]);
    for (const e of frames) expect(e.frame.bytes.buffer).toBe(w.arena.buffer);
    expect(run.mux.stats).toEqual(plain.mux.stats);
  });

  test('a probe completed only by end(), and flushAudio(), go through the output too', () => {
    const w = arenaOutput(64 * 1024);
    const mux = new AvToMpegts({ output: w.output });
    mux.setTracks(aacTracks());
    expect(mux.push(apkt(0))).toEqual([]);
    expect(mux.push(apkt(20))).toEqual([]);
    expect(w.calls).toEqual([]);
    const tail = mux.end();
    expect(tail.map((e) => e.type)).toEqual(['patpmt', 'frame']);
    const f0 = frames(tail)[0];
    expect(w.calls).toEqual(['patpmt', `frame ${f0.bytes.length}`]);
    expect(f0.bytes.length).toBe(188);
    mux.push(apkt(40));
    const [f1] = mux.flushAudio();
    expect(w.calls.at(-1)).toBe(`frame ${f1.bytes.length}`);
    expect(f1.bytes.buffer).toBe(w.arena.buffer);
    expect(md5(w.arena.subarray(0, w.used()))).toBe(md5(concat([mux.patPmt!, f0.bytes, f1.bytes])));
  });
});

describe('fixtures: audio only, video only, H.265', () => {
  test('aac-only.flv: PMT AAC only (PCR PID 0x100 kept), every audio PES is a boundary; ffprobe 88 frames', () => {
    const run = remuxFixture('aac-only.flv');
    expect(toHex(run.mux.patPmt!)).toBe(toHex(encodePatPmt({ audio: 'aac' })));
    const fs = frames(run.events);
    expect(fs.length).toBeGreaterThan(5);
    expect(fs.every((f) => f.kind === 'audio' && f.boundary && !f.key)).toBe(true);
    const p = ffprobe(run.ts);
    expect(p.streams).toHaveLength(1);
    expect(p.streams[0]).toMatchObject({ codec_name: 'aac', sample_rate: '44100', channels: 2, nb_read_frames: '88' });
    // each PES holds the ADTS frames of ≤ 150 ms of audio
    const raws = fs.flatMap((f) => splitAdts(pesOf(f).payload));
    expect(raws.length).toBe(88);
  });

  test('h264-only.flv: PMT AVC only, boundaries = key frames; ffprobe 50 frames', () => {
    const run = remuxFixture('h264-only.flv');
    expect(toHex(run.mux.patPmt!)).toBe(toHex(encodePatPmt({ video: 'h264' })));
    const fs = frames(run.events);
    expect(fs.map((f) => f.boundary)).toEqual(fs.map((f) => f.key));
    expect(fs.filter((f) => f.key).length).toBe(2);
    const p = ffprobe(run.ts);
    expect(p.streams).toHaveLength(1);
    expect(p.streams[0]).toMatchObject({ codec_name: 'h264', width: 320, height: 240, nb_read_frames: '50' });
  });

  test('h265 legacy (id 12) and enhanced (hvc1) give the same TS: PMT HEVC, AUD 46 01 10, VPS/SPS/PPS before IRAP', () => {
    const legacy = remuxFixture('h265-legacy.flv');
    const enhanced = remuxFixture('h265-enhanced.flv');
    expect(md5(enhanced.ts)).toBe(md5(legacy.ts));
    expect(toHex(legacy.mux.patPmt!)).toBe(toHex(encodePatPmt({ video: 'h265' })));
    const fs = frames(legacy.events);
    expect(fs.length).toBe(50);
    const key = pesOf(fs[0]).payload;
    expect(toHex(key.subarray(0, 11))).toBe('00000001460110' + '00000001'); // AUD, then the VPS with a 4-byte start code
    expect((key[11] >> 1) & 0x3f).toBe(32);
    const d = new TsDemuxer();
    const conv = new TsPesToAv();
    const got = [...d.feed(legacy.ts), ...d.flush()].flatMap((e) => (e.type === 'pes' ? conv.push(e).packets : []));
    expect(got.length).toBe(50);
    expect(conv.tracks.video).toMatchObject({ codec: 'h265', width: 320, height: 240, profile: 'Main' });
  });
});

// ---- docs/media.md §4 rule by rule ------------------------------------------------------------------

describe('probe and PAT/PMT (§4.1)', () => {
  test('sequence headers of both kinds complete the probe; PAT/PMT comes out with the next push', () => {
    const mux = new AvToMpegts();
    mux.setTracks({ metadata: fromHex('02') });
    mux.setTracks({ metadata: fromHex('02'), video: h264Track() });
    expect(mux.patPmt).toBeUndefined();
    mux.setTracks(aacTracks(h264Track()));
    const ev = mux.push(vpkt(0, [IDR], true));
    expect(ev.map((e) => e.type)).toEqual(['patpmt', 'frame']);
    expect(toHex(mux.patPmt!)).toBe(toHex(encodePatPmt({ video: 'h264', audio: 'aac' })));
  });

  test(`video only: queued until ${PROBE_QUEUE_SIZE} messages (metadata and sequence headers count), then PAT/PMT and the queue in order`, () => {
    const mux = new AvToMpegts();
    const metadata = fromHex('02');
    mux.setTracks({ metadata });
    mux.setTracks({ metadata, video: h264Track() }); // only the video changed: one more message
    const out: TsEvent[] = [];
    for (let i = 0; i < PROBE_QUEUE_SIZE - 3; i++) out.push(...mux.push(vpkt(i * 40, [i === 0 ? IDR : P], i === 0)));
    expect(out).toEqual([]);
    const ev = mux.push(vpkt(520, [P], false)); // the 16th message
    expect(ev[0]).toEqual({ type: 'patpmt', bytes: encodePatPmt({ video: 'h264' }) });
    expect(frames(ev).map((f) => f.dts)).toEqual(Array.from({ length: 14 }, (_, i) => i * 40 * 90));
    expect(frames(mux.push(vpkt(560, [P], false))).length).toBe(1); // straight through afterwards
  });

  test('the last codec seen per kind decides; unsupported audio means no audio stream', () => {
    const mux = new AvToMpegts();
    mux.setTracks({ video: h265Track() });
    const ev = mux.push(apkt(0, nal(0xd5, 10), 'g711a'));
    expect(ev[0]).toEqual({ type: 'patpmt', bytes: encodePatPmt({ video: 'h265' }) });
    expect(mux.stats.unsupported).toBe(1);
  });

  test('an opaque end-of-sequence packet (`17 02 00 00 00`) counts as an AVC message', () => {
    const mux = new AvToMpegts();
    mux.setTracks(aacTracks());
    const eos: AvPacket = { kind: 'video', codec: 'other', dts: 0, pts: 0, key: false, units: [], flvBody: fromHex('1702000000') };
    const ev = mux.push(eos);
    expect(ev).toEqual([{ type: 'patpmt', bytes: encodePatPmt({ video: 'h264', audio: 'aac' }) }]);
  });

  test('Opus is announced with its descriptors; G.711 and Opus tracks are not extra messages', () => {
    const mux = new AvToMpegts();
    mux.setTracks({ video: h264Track() });
    const op = apkt(0, nal(0xfc, 10), 'opus');
    mux.setTracks({ video: h264Track(), audio: { codec: 'opus', sampleRate: 48000, channels: 2 } }); // comes with the packet
    const ev = mux.push(op);
    expect(ev[0]).toEqual({ type: 'patpmt', bytes: encodePatPmt({ video: 'h264', audio: 'opus' }) });
    const f = frames(ev)[0];
    expect(f.kind).toBe('audio');
    const { h, payload, pids } = pesOf(f);
    expect(h.streamId).toBe(0xc0);
    expect(pids[0]).toBe(TsPid.Audio);
    expect(toHex(payload)).toBe(toHex(op.units[0])); // no Opus control header
    expect(frames(mux.push(apkt(20, Uint8Array.of(0xfc), 'opus')))).toEqual([]); // ≤ 2-byte RTMP payload
  });

  test('end() flushes a probe that never completed (short input) and the pending audio', () => {
    const mux = new AvToMpegts();
    mux.setTracks(aacTracks());
    for (let i = 0; i < 3; i++) expect(mux.push(apkt(i * 23))).toEqual([]);
    const ev = mux.end();
    expect(ev[0]).toEqual({ type: 'patpmt', bytes: encodePatPmt({ audio: 'aac' }) });
    expect(frames(ev).length).toBe(1);
    expect(new AvToMpegts().end()).toEqual([]);
  });
});

describe('video access units (§4.3)', () => {
  const au = (units: Uint8Array[], key = true, tracks: TrackInfo = { video: h264Track() }): Uint8Array | undefined => {
    const f0 = ready(tracks);
    const f = frames(f0.push(vpkt(0, units, key)))[0];
    return f && pesOf(f).payload;
  };
  const SC3 = '000001';
  const SETS = `00000001${toHex(SPS)}00000001${toHex(PPS)}`;

  test('AUD (4-byte start code) first, parameter sets before the IDR, 3-byte start codes; SEI kept for H.264', () => {
    expect(toHex(au([AUD264, SEI, IDR])!)).toBe(`0000000109f0${SC3}${toHex(SEI)}${SETS}${SC3}${toHex(IDR)}`);
  });

  test('parameter sets once per run of IDR slices; a non-IDR slice ends the run, SEI does not', () => {
    const idr2 = nal(0x65, 9, 5);
    expect(toHex(au([IDR, SEI, idr2, P, IDR])!)).toBe(
      `0000000109f0${SETS}${SC3}${toHex(IDR)}${SC3}${toHex(SEI)}${SC3}${toHex(idr2)}${SC3}${toHex(P)}${SETS}${SC3}${toHex(IDR)}`,
    );
  });

  test('in-band SPS+PPS replace the remembered set (not copied); an incomplete set does not', () => {
    const sps2 = nal(0x67, 7, 9);
    const pps2 = nal(0x68, 5, 9);
    const mux = ready({ video: h264Track() });
    const a = pesOf(frames(mux.push(vpkt(0, [sps2, pps2, IDR], true)))[0]).payload;
    expect(toHex(a)).toBe(`0000000109f000000001${toHex(sps2)}00000001${toHex(pps2)}${SC3}${toHex(IDR)}`);
    const b = pesOf(frames(mux.push(vpkt(40, [pps2, sps2, IDR], true)))[0]).payload; // PPS before SPS: no new set, same as before
    expect(toHex(b)).toBe(toHex(a));
    const c = pesOf(frames(mux.push(vpkt(80, [nal(0x67, 7, 1), IDR], true)))[0]).payload; // SPS alone: no change
    expect(toHex(c)).toBe(toHex(a));
  });

  test('a key frame before any parameter sets is dropped; P frames are not; only SEI/AUD/sets → nothing', () => {
    const mux = new AvToMpegts();
    mux.setTracks({ metadata: fromHex('02') });
    for (let i = 0; i < 15; i++) mux.push(apkt(i, undefined, 'mp3'));
    // probe done with no video: the packets still convert
    expect(frames(mux.push(vpkt(0, [IDR], true)))).toEqual([]);
    expect(mux.stats.noParameterSets).toBe(1);
    expect(toHex(pesOf(frames(mux.push(vpkt(40, [P], false)))[0]).payload)).toBe(`0000000109f0${SC3}${toHex(P)}`);
    expect(au([AUD264, SEI], false)).toBeDefined(); // SEI alone is kept for H.264
    expect(au([AUD264, SPS, PPS], false)).toBeUndefined();
    expect(au([], false)).toBeUndefined();
  });

  test('H.265: AUD 46 01 10, SEI prefix/suffix dropped, VPS+SPS+PPS before each IRAP run, any non-IRAP ends it', () => {
    const irap = nal(0x26, 10); // IDR_W_RADL (19)
    const trail = nal(0x02, 10); // TRAIL_R (1)
    const seiPrefix = nal(0x4e, 5); // 39
    const seiSuffix = nal(0x50, 5); // 40
    const sets = `00000001${toHex(VPS)}00000001${toHex(SPS5)}00000001${toHex(PPS5)}`;
    const mux0 = ready({ video: h265Track() });
    const f = frames(mux0.push(vpkt(0, [seiPrefix, irap, seiSuffix, irap, trail, irap], true, 0, 'h265')))[0];
    expect(toHex(pesOf(f).payload)).toBe(`00000001460110${sets}${SC3}${toHex(irap)}${SC3}${toHex(irap)}${SC3}${toHex(trail)}${sets}${SC3}${toHex(irap)}`);
  });

  test('key = FLV frame type 1 for packets cut from FLV (an IDR in an inter-typed tag is no TS key frame)', () => {
    const mux = ready({ video: h264Track() });
    const typedInter: AvPacket = { ...vpkt(0, [IDR], true), flvBody: fromHex('2701000000') };
    const f = frames(mux.push(typedInter))[0];
    expect(f.key).toBe(false);
    expect(pesOf(f).pcr).toBeUndefined();
    const typedKey: AvPacket = { ...vpkt(40, [P], false), flvBody: fromHex('1701000000') };
    expect(frames(mux.push(typedKey))[0].key).toBe(true);
    const enhancedKey: AvPacket = { ...vpkt(80, [IDR], false, 0, 'h265'), flvBody: fromHex('9368766331') };
    expect(frames(ready({ video: h265Track() }).push(enhancedKey))[0].key).toBe(true);
  });

  test('sequence headers: unknown codecs are ignored, an incomplete set forgets the remembered one', () => {
    const mux = ready({ video: h264Track() });
    mux.setTracks({ video: { ...h264Track(), codec: 'other' } });
    expect(frames(mux.push(vpkt(0, [IDR], true)))).toHaveLength(1);
    mux.setTracks({ video: { ...h264Track(), pps: [] } });
    expect(frames(mux.push(vpkt(40, [IDR], true)))).toEqual([]);
    expect(mux.stats.noParameterSets).toBe(1);
  });

  test('PES: stream id E0, PTS only when PTS = DTS; PTS = DTS + composition time', () => {
    const mux = ready({ video: h264Track() });
    const a = pesOf(frames(mux.push(vpkt(1000, [IDR], true)))[0]).h;
    expect(a).toMatchObject({ streamId: 0xe0, pts: 63000, headerLength: 5 });
    expect(a.dts).toBeUndefined();
    const f = frames(mux.push(vpkt(1040, [P], false, 80)))[0];
    expect({ dts: f.dts, pts: f.pts }).toEqual({ dts: 3600, pts: 3600 + 7200 });
    expect(pesOf(f).h).toMatchObject({ pts: 63000 + 10800, dts: 63000 + 3600, headerLength: 10 });
  });
});

describe('audio accumulation (§4.2)', () => {
  test('frames join one PES while within 150 ms of its first (inclusive); ADTS headers from the ASC', () => {
    const mux = ready(aacTracks(h264Track()));
    const out: TsEvent[] = [];
    const raws = [0, 23, 46, 70, 93, 116, 150].map((ms) => {
      const r = nal(0x21, 10 + ms, ms);
      out.push(...mux.push(apkt(ms, r)));
      return r;
    });
    expect(frames(out)).toEqual([]); // 150 ms is not "more than 150 ms"
    const next = nal(0x21, 9, 151);
    const ev = mux.push(apkt(151, next));
    const fs = frames(ev);
    expect(fs).toHaveLength(1);
    expect(fs[0]).toMatchObject({ kind: 'audio', dts: 0, pts: 0, ts: 0, key: false, boundary: false });
    const { h, payload, pcr } = pesOf(fs[0]);
    expect(h).toMatchObject({ streamId: 0xc0, pts: 63000, headerLength: 5 });
    expect(pcr).toBeUndefined();
    expect(toHex(payload)).toBe(toHex(concat(raws.flatMap((r) => [encodeAdtsHeader(ASC_INFO, r.length), r]))));
    expect(toHex(payload.subarray(0, 7))).toBe('fff15080023ffc'); // LC, 44.1 kHz, stereo, length 10 + 7
    const rest = mux.flushAudio();
    expect(rest).toHaveLength(1);
    expect(rest[0].pts).toBe(151 * 90);
    expect(mux.flushAudio()).toEqual([]);
    expect(mux.end()).toEqual([]);
  });

  test('a video frame more than 300 ms after the first buffered audio flushes it first', () => {
    const mux = ready(aacTracks(h264Track()));
    mux.push(apkt(1000));
    expect(frames(mux.push(vpkt(1300, [P], false))).map((f) => f.kind)).toEqual(['video']);
    expect(frames(mux.push(vpkt(1301, [P], false))).map((f) => f.kind)).toEqual(['audio', 'video']);
  });

  test(`frames that do not advance in time are flushed every ${MAX_AUDIO_CACHE_FRAMES} (memory bound)`, () => {
    const mux = ready(aacTracks());
    const out: TsEvent[] = [];
    for (let i = 0; i < MAX_AUDIO_CACHE_FRAMES + 3; i++) out.push(...mux.push(apkt(0, nal(0x21, 4))));
    expect(frames(out)).toHaveLength(1);
    expect(splitAdts(pesOf(frames(out)[0]).payload)).toHaveLength(MAX_AUDIO_CACHE_FRAMES);
    expect(splitAdts(pesOf(mux.flushAudio()[0]).payload)).toHaveLength(3);
  });

  test('AAC frames before the sequence header, and empty ones, are dropped', () => {
    const mux = new AvToMpegts();
    mux.setTracks({ video: h264Track() });
    mux.push(apkt(0)); // completes the probe; no ASC yet
    expect(mux.stats.noAudioConfig).toBe(1);
    mux.setTracks(aacTracks(h264Track()));
    mux.push(apkt(10, new Uint8Array(0)));
    expect(mux.stats.empty).toBe(1);
    mux.push(apkt(15, new Uint8Array(8200))); // beyond ADTS's 13-bit frame length
    expect(mux.stats.tooLarge).toBe(1);
    mux.push(apkt(20));
    expect(frames(mux.end())).toHaveLength(1);
  });

  test('an ASC change mid-buffer: each frame keeps the ADTS header of the ASC it arrived with', () => {
    const mux = ready(aacTracks(h264Track()));
    mux.push(apkt(0, nal(0x21, 10)));
    mux.setTracks({ video: h264Track(), audio: { codec: 'aac', sampleRate: 48000, channels: 1, asc: fromHex('1188') } });
    mux.push(apkt(20, nal(0x21, 10)));
    const p = pesOf(mux.flushAudio()[0]).payload;
    expect(toHex(p.subarray(0, 7))).toBe('fff15080023ffc');
    expect(toHex(p.subarray(17, 24))).toBe('fff14c40023ffc'); // 48 kHz (index 3), mono
  });
});

describe('timestamps (§4.4) and boundaries (§4.5)', () => {
  test('audio and video are rebased separately; an earlier frame is left unshifted', () => {
    const mux = ready(aacTracks(h264Track()));
    const v = frames(mux.push(vpkt(2000, [IDR], true)));
    expect(v[0]).toMatchObject({ dts: 0, pts: 0 });
    mux.push(apkt(1000));
    const a = mux.flushAudio()[0];
    expect(a).toMatchObject({ dts: 0, pts: 0 });
    const back = frames(mux.push(vpkt(1500, [P], false, 40)))[0];
    expect(back).toMatchObject({ dts: 1500 * 90, pts: 1540 * 90 });
    expect(mux.stats.beforeBase).toBe(1);
  });

  test('PCR = DTS − 63000, or 0 while DTS ≤ 63000', () => {
    const mux = ready({ video: h264Track() });
    expect(pesOf(frames(mux.push(vpkt(0, [IDR], true)))[0]).pcr).toBe(0);
    expect(pesOf(frames(mux.push(vpkt(700, [IDR], true)))[0]).pcr).toBe(0);
    expect(pesOf(frames(mux.push(vpkt(701, [IDR], true)))[0]).pcr).toBe(90);
    expect(pesOf(frames(mux.push(vpkt(800, [P], false)))[0]).pcr).toBeUndefined();
  });

  test('video: key ∧ (no ASC ∨ nothing opened yet ∨ audio buffered); audio: no video parameter sets', () => {
    const mux = ready(aacTracks(h264Track()));
    const b = (ev: TsEvent[]): boolean[] => frames(ev).map((f) => f.boundary);
    expect(b(mux.push(vpkt(0, [IDR], true)))).toEqual([true]); // first boundary
    expect(b(mux.push(vpkt(40, [P], false)))).toEqual([false]);
    expect(b(mux.push(vpkt(1000, [IDR], true)))).toEqual([false]); // audio buffer empty
    mux.push(apkt(1010));
    expect(b(mux.push(vpkt(1040, [IDR], true)))).toEqual([true]); // audio buffered
    expect(mux.flushAudio()[0].boundary).toBe(false); // parameter sets known

    const vOnly = ready({ video: h264Track() });
    expect(b(vOnly.push(vpkt(0, [IDR], true)))).toEqual([true]);
    expect(b(vOnly.push(vpkt(40, [IDR], true)))).toEqual([true]); // no ASC: every key frame

    const aOnly = ready(aacTracks());
    aOnly.push(apkt(0));
    expect(aOnly.flushAudio()[0].boundary).toBe(true);
  });

  test('continuity counters per PID start at 1 and carry across frames', () => {
    const mux = ready(aacTracks(h264Track()));
    const big = nal(0x41, 3000);
    const ccs: number[] = [];
    for (let i = 0; i < 3; i++) ccs.push(...pesOf(frames(mux.push(vpkt(i * 40, [i === 0 ? IDR : big], i === 0)))[0]).ccs);
    expect(ccs).toEqual([1, ...Array.from({ length: 17 }, (_, i) => (i + 2) & 15), ...Array.from({ length: 17 }, (_, i) => (i + 19) & 15)]);
    mux.push(apkt(0));
    expect(pesOf(mux.flushAudio()[0]).ccs).toEqual([1]);
  });
});

describe('robustness', () => {
  test('600 seeded random packets and track changes never throw and always give whole packets', () => {
    let seed = 99;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
    const codecs: AvPacket['codec'][] = ['h264', 'h265', 'aac', 'opus', 'g711a', 'mp3', 'other'];
    for (let run = 0; run < 3; run++) {
      const mux = new AvToMpegts();
      const out: TsEvent[] = [];
      for (let i = 0; i < 200; i++) {
        const r = rnd();
        if (r < 0.05) mux.setTracks({ video: i % 2 ? h264Track(bytes(5), bytes(3)) : h265Track(), audio: { codec: 'aac', sampleRate: 44100, channels: 2, asc: bytes(2) } });
        const codec = codecs[Math.floor(rnd() * codecs.length)];
        const kind = codec === 'h264' || codec === 'h265' || (codec === 'other' && rnd() < 0.5) ? 'video' : 'audio';
        const units = Array.from({ length: Math.floor(rnd() * 4) }, () => bytes(Math.floor(rnd() * 400)));
        const dts = Math.floor(rnd() * 1e7);
        out.push(...mux.push({ kind, codec, dts, pts: dts + Math.floor(rnd() * 9000) - 3000, key: rnd() < 0.3, units }));
        if (rnd() < 0.05) out.push(...mux.flushAudio().map((frame) => ({ type: 'frame' as const, frame })));
      }
      out.push(...mux.end());
      expect(frames(out).length).toBeGreaterThan(20);
      for (const e of out) expect((e.type === 'patpmt' ? e.bytes : e.frame.bytes).length % 188).toBe(0);
      const d = new TsDemuxer();
      d.feed(concat(out.map((e) => (e.type === 'patpmt' ? e.bytes : e.frame.bytes))));
      d.flush();
      expect(d.stats).toMatchObject({ syncLosses: 0, invalidPackets: 0, continuityErrors: 0, pesErrors: 0, psiErrors: 0 });
    }
  });
});
