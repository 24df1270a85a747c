import { test, expect, describe, afterAll } from 'bun:test';
import { mkdtempSync, rmSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LalError } from '../../core/errors.ts';
import type { TsFrame } from '../../format/mpegts/types.ts';
import { parseMediaPlaylist } from '../../format/m3u8/playlist.ts';
import { HlsCleanup, HlsMuxer, hlsCleanupDelayMs, type HlsMakeTsEvent, type HlsMuxerOptions, type HlsTimers } from './muxer.ts';
import { DiskStore, MemoryStore, type SegmentStore } from './store.ts';
import { utf8Decode, utf8Encode } from '../../core/testing.ts';

const CLOCK = 1642375465000; // docs/tests.md §2: 2022-01-16 23:24:25 UTC
const OUT = '/out/hls';

// ---------------------------------------------------------------------------------------------
// Synthetic TS frames: one 188-byte packet each, labelled so fragment contents can be checked.

const PAT_PMT = new Uint8Array(376).fill(0xaa);
let serial = 0;

function frame(kind: 'video' | 'audio', ts: number, opts: { key?: boolean; boundary?: boolean } = {}): TsFrame {
  const bytes = new Uint8Array(188);
  bytes[0] = 0x47;
  bytes[1] = kind === 'video' ? 0x01 : 0x02;
  new DataView(bytes.buffer).setUint32(4, ++serial);
  return { bytes, kind, dts: ts, pts: ts, ts, key: opts.key ?? false, boundary: opts.boundary ?? false };
}

/** Labels of the packets of a fragment: 'P' for PAT/PMT, 'v<serial>' / 'a<serial>'. */
function labels(bytes: Uint8Array): string[] {
  const out: string[] = [];
  for (let o = 0; o < bytes.length; o += 188) {
    const p = bytes.subarray(o, o + 188);
    if (p[0] === 0xaa) {
      out.push('P');
      o += 188; // PAT+PMT come as one 376-byte block
      continue;
    }
    out.push(`${p[1] === 1 ? 'v' : 'a'}${new DataView(p.buffer, p.byteOffset).getUint32(4)}`);
  }
  return out;
}
const label = (f: TsFrame) => `${f.kind === 'video' ? 'v' : 'a'}${new DataView(f.bytes.buffer).getUint32(4)}`;

function makeMuxer(over: Partial<HlsMuxerOptions> & { store: SegmentStore }): { mux: HlsMuxer; events: HlsMakeTsEvent[] } {
  const events: HlsMakeTsEvent[] = [];
  const mux = new HlsMuxer({
    streamName: 'innertest',
    outPath: OUT,
    fragmentDurationMs: 3000,
    fragmentNum: 6,
    deleteThreshold: 6,
    cleanupMode: 0,
    now: () => CLOCK,
    onMakeTs: (e) => events.push(e),
    ...over,
  });
  mux.start();
  mux.setPatPmt(PAT_PMT);
  return { mux, events };
}

const noFlush = () => [];

function readText(store: SegmentStore, path: string): string | undefined {
  const b = store.readFile(path);
  return b ? utf8Decode(b) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Goldens (docs/tests.md §2)

const GOLDEN_LIVE = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-ALLOW-CACHE:NO
#EXT-X-TARGETDURATION:5
#EXT-X-MEDIA-SEQUENCE:2

#EXTINF:3.333,
innertest-1642375465000-2.ts
#EXTINF:4.000,
innertest-1642375465000-3.ts
#EXTINF:4.867,
innertest-1642375465000-4.ts
#EXTINF:3.133,
innertest-1642375465000-5.ts
#EXTINF:4.000,
innertest-1642375465000-6.ts
#EXTINF:2.644,
innertest-1642375465000-7.ts
#EXT-X-ENDLIST
`;

const GOLDEN_RECORD =
  '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:5\n#EXT-X-MEDIA-SEQUENCE:0\n\n#EXT-X-DISCONTINUITY\n' +
  ['4.000', '4.000', '3.333', '4.000', '4.867', '3.133', '4.000', '2.644'].map((d, i) => `#EXTINF:${d},\ninnertest-1642375465000-${i}.ts\n`).join('') +
  '#EXT-X-ENDLIST\n';

/**
 * 30 fps video (3000 ticks a frame) with key frames (= boundaries, video-only stream) cutting
 * fragments of 120, 120, 100, 120, 146, 94, 120 frames: 4.000 4.000 3.333 4.000 4.867 3.133
 * 4.000 s; the last fragment has 80 frames and ends with an audio frame 2.644 s after its start.
 */
const KEY_FRAMES = [0, 120, 240, 340, 460, 606, 700, 820];
function goldenFrames(): TsFrame[] {
  const frames: TsFrame[] = [];
  for (let i = 0; i < 900; i++) {
    const key = KEY_FRAMES.includes(i);
    frames.push(frame('video', i * 3000, { key, boundary: key }));
  }
  frames.push(frame('audio', 820 * 3000 + 237960));
  return frames;
}

describe('HlsMuxer goldens (docs/tests.md §2)', () => {
  for (const mode of [0, 1] as const) {
    test(`mode ${mode}: playlist.m3u8 and record.m3u8 reproduce the goldens`, () => {
      const store = new MemoryStore();
      const { mux, events } = makeMuxer({ store, cleanupMode: mode });
      const frames = goldenFrames();
      for (const f of frames) mux.feed(f, noFlush);
      // Before the end fragment 7 is still open: the window is 1–6, no ENDLIST.
      const live = parseMediaPlaylist(readText(store, `${OUT}/innertest/playlist.m3u8`)!);
      expect([live.mediaSequence, live.segments.length, live.endList]).toEqual([1, 6, false]);
      mux.end();
      expect(readText(store, `${OUT}/innertest/playlist.m3u8`)).toBe(GOLDEN_LIVE);
      expect(readText(store, `${OUT}/innertest/record.m3u8`)).toBe(GOLDEN_RECORD);
      expect(store.exists(`${OUT}/innertest/playlist.m3u8.bak`)).toBe(false);
      expect(store.exists(`${OUT}/innertest/record.m3u8.bak`)).toBe(false);

      // 8 fragments, named <stream>-<unix_ms>-<id>.ts, nothing deleted in modes 0/1.
      const ts = store.listFiles().filter((p) => p.endsWith('.ts'));
      expect(ts).toEqual(KEY_FRAMES.map((_, i) => `${OUT}/innertest/innertest-${CLOCK}-${i}.ts`));

      // Concatenated fragments = PAT/PMT at each head + every frame exactly once, in order.
      const all = ts.flatMap((p) => labels(store.readFile(p)!));
      expect(all.filter((l) => l === 'P').length).toBe(8);
      expect(all.filter((l) => l !== 'P')).toEqual(frames.map(label));
      // Each fragment starts with PAT/PMT then its key frame.
      for (let i = 0; i < 8; i++) expect(labels(store.readFile(ts[i])!).slice(0, 2)).toEqual(['P', label(frames[KEY_FRAMES[i]])]);

      // on_hls_make_ts: open/close pairs, close N before open N+1, durations unrounded.
      expect(events.map((e) => `${e.event}${e.id}`)).toEqual(KEY_FRAMES.flatMap((_, i) => [`open${i}`, `close${i}`]));
      const closes = events.filter((e) => e.event === 'close');
      expect(closes.map((e) => e.duration)).toEqual([4, 4, 300000 / 90000, 4, 438000 / 90000, 282000 / 90000, 4, 237960 / 90000]);
      expect(closes[2].duration).toBe(3.3333333333333335);
      expect(events.filter((e) => e.event === 'open').every((e) => e.duration === 0)).toBe(true);
      expect(events[0]).toEqual({
        event: 'open',
        streamName: 'innertest',
        tsFile: '/out/hls/innertest/innertest-1642375465000-0.ts',
        liveM3u8File: '/out/hls/innertest/playlist.m3u8',
        recordM3u8File: '/out/hls/innertest/record.m3u8',
        id: 0,
        duration: 0,
      });
      expect(mux.stats).toEqual({ fragmentsClosed: 8, forcedSplits: 0, droppedFrames: 0, ioErrors: 0 });
    });
  }

  test('mode 2: same live playlist, no record playlist, old fragments deleted', () => {
    const store = new MemoryStore();
    const { mux, events } = makeMuxer({ store, cleanupMode: 2, fragmentNum: 6, deleteThreshold: 1 });
    for (const f of goldenFrames()) mux.feed(f, noFlush);
    mux.end();
    expect(readText(store, `${OUT}/innertest/playlist.m3u8`)).toBe(GOLDEN_LIVE);
    expect(store.exists(`${OUT}/innertest/record.m3u8`)).toBe(false);
    // closing k = 7 deleted 7 − 6 − 1 = 0
    const ts = store.listFiles().filter((p) => p.endsWith('.ts'));
    expect(ts).toEqual([1, 2, 3, 4, 5, 6, 7].map((i) => `${OUT}/innertest/innertest-${CLOCK}-${i}.ts`));
    // record_m3u8_file is still reported
    expect(events.every((e) => e.recordM3u8File === '/out/hls/innertest/record.m3u8')).toBe(true);
  });
});

describe('fragmenting rules (docs/hls.md §2)', () => {
  test('mode 2 keeps fragment_num + delete_threshold closed fragments plus the open one', () => {
    const store = new MemoryStore();
    const { mux } = makeMuxer({ store, cleanupMode: 2, fragmentNum: 3, deleteThreshold: 2 });
    let t = 0;
    for (let k = 0; k < 12; k++) {
      // one fragment = 4 s of 25 fps video, key frame first
      for (let i = 0; i < 100; i++, t += 3600) mux.feed(frame('video', t, { key: i === 0, boundary: i === 0 }), noFlush);
      const ids = store
        .listFiles()
        .filter((p) => p.endsWith('.ts'))
        .map((p) => Number(p.slice(p.lastIndexOf('-') + 1, -3)));
      // fragment k is open; closed are 0..k-1, of which at most 3 + 2 remain
      const lo = Math.max(0, k - 5);
      expect(ids).toEqual(Array.from({ length: k - lo + 1 }, (_, i) => lo + i));
    }
    const pl = parseMediaPlaylist(readText(store, `${OUT}/innertest/playlist.m3u8`)!);
    expect(pl.mediaSequence).toBe(8);
    expect(pl.segments.map((s) => s.uri)).toEqual([8, 9, 10].map((i) => `innertest-${CLOCK}-${i}.ts`));
    expect(pl.segments.every((s) => s.duration === 4)).toBe(true);
    expect(pl.endList).toBe(false);
  });

  test('a fragment ends at the first boundary after reaching the target; key frames before it do not cut', () => {
    const store = new MemoryStore();
    const { mux } = makeMuxer({ store });
    // key frames every 1 s (25 fps): cuts at 0, 3, 6, 9 s
    for (let i = 0; i < 25 * 10; i++) mux.feed(frame('video', i * 3600, { key: i % 25 === 0, boundary: i % 25 === 0 }), noFlush);
    mux.end();
    const pl = parseMediaPlaylist(readText(store, `${OUT}/innertest/playlist.m3u8`)!);
    expect(pl.segments.map((s) => s.duration)).toEqual([3, 3, 3, 0.96]);
    expect(pl.segments.map((s) => s.discontinuity)).toEqual([true, false, false, false]);
  });

  test('without boundaries a fragment grows; before the first boundary frames are dropped', () => {
    const store = new MemoryStore();
    let flushed = 0;
    const { mux } = makeMuxer({ store });
    mux.feed(frame('video', 0), () => (flushed++, []));
    mux.feed(frame('audio', 100), () => (flushed++, []));
    expect(mux.stats.droppedFrames).toBe(2);
    expect(flushed).toBe(0);
    expect(store.listFiles()).toEqual([]);
    mux.feed(frame('video', 3600, { key: true, boundary: true }), () => (flushed++, []));
    expect(flushed).toBe(1);
    for (let i = 2; i < 200; i++) mux.feed(frame('video', i * 3600), noFlush); // 7.9 s, no boundary
    expect(mux.current?.duration).toBeCloseTo((199 * 3600 - 3600) / 90000, 9);
    expect(mux.window.length).toBe(0);
  });

  test('opening a fragment writes PAT/PMT, then the flushed audio, then the frame; the event comes before the frame', () => {
    const store = new MemoryStore();
    const order: string[] = [];
    const mux = new HlsMuxer({
      streamName: 's',
      outPath: OUT,
      fragmentDurationMs: 3000,
      fragmentNum: 3,
      deleteThreshold: 3,
      cleanupMode: 1,
      store,
      now: () => CLOCK,
      onMakeTs: (e) => order.push(`${e.event}${e.id}:${labels(store.readFile(e.tsFile)!).join(',')}`),
    });
    mux.start();
    mux.setPatPmt(PAT_PMT);
    const pendingA = frame('audio', 0);
    const pendingB = frame('audio', 1800);
    const k0 = frame('video', 0, { key: true, boundary: true });
    mux.feed(k0, () => [pendingA, pendingB]);
    expect(labels(store.readFile(`${OUT}/s/s-${CLOCK}-0.ts`)!)).toEqual(['P', label(pendingA), label(pendingB), label(k0)]);
    expect(order).toEqual([`open0:P,${label(pendingA)},${label(pendingB)}`]);
  });

  test('audio-only stream: every frame is a boundary; durations from PTS', () => {
    const store = new MemoryStore();
    const { mux } = makeMuxer({ store });
    // AAC 44.1 kHz, PES of 7 frames (~162.5 ms), RTMP ms timestamps
    const pesMs = (n: number) => Math.round((n * 7 * 1024 * 1000) / 44100);
    for (let n = 0; n < 100; n++) mux.feed(frame('audio', pesMs(n) * 90, { boundary: true }), noFlush);
    mux.end();
    const pl = parseMediaPlaylist(readText(store, `${OUT}/innertest/playlist.m3u8`)!);
    const closed = mux.window;
    // each fragment holds 19 PES (19 × 162.5 ms = 3.0875 s ≥ 3 s, 18 would be 2.925 s)
    for (const f of closed.slice(0, -1)) expect(f.duration * 1000).toBeCloseTo(pesMs(19 * (f.id + 1)) - pesMs(19 * f.id), 6);
    expect(pl.segments.slice(0, -1).map((s) => s.duration)).toEqual([0, 1, 2, 3, 4].map((k) => (pesMs(19 * (k + 1)) - pesMs(19 * k)) / 1000));
    expect(pl.segments.slice(0, -1).map((s) => s.duration)).toEqual([3.088, 3.089, 3.088, 3.088, 3.088]);
    expect(pl.targetDuration).toBe(3);
    expect(closed.length).toBe(6);
    expect(mux.stats.fragmentsClosed).toBe(6);
  });

  test('forced split after more than 10× the target, marked discontinuous', () => {
    const store = new MemoryStore();
    const { mux, events } = makeMuxer({ store, fragmentDurationMs: 1000 });
    mux.feed(frame('video', 0, { key: true, boundary: true }), noFlush);
    // no boundary ever again; 10 s = 900000 ticks is still fine, 900001 is not
    mux.feed(frame('video', 900000), noFlush);
    expect(mux.stats.forcedSplits).toBe(0);
    let flushed = 0;
    mux.feed(frame('video', 900001), () => (flushed++, []));
    expect(mux.stats.forcedSplits).toBe(1);
    expect(flushed).toBe(1);
    expect(mux.current).toMatchObject({ id: 1, startTs: 900001, discontinuity: true, duration: 0 });
    mux.feed(frame('video', 903601), noFlush);
    mux.end();
    expect(readText(store, `${OUT}/innertest/playlist.m3u8`)).toBe(
      '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-ALLOW-CACHE:NO\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n\n' +
        `#EXT-X-DISCONTINUITY\n#EXTINF:10.000,\ninnertest-${CLOCK}-0.ts\n` +
        `#EXT-X-DISCONTINUITY\n#EXTINF:0.040,\ninnertest-${CLOCK}-1.ts\n#EXT-X-ENDLIST\n`,
    );
    expect(events.map((e) => `${e.event}${e.id}`)).toEqual(['open0', 'close0', 'open1', 'close1']);
  });

  test('backwards jump: up to 1 s is tolerated (duration never shrinks), more forces a split', () => {
    const store = new MemoryStore();
    const { mux } = makeMuxer({ store });
    mux.feed(frame('video', 900000, { key: true, boundary: true }), noFlush);
    mux.feed(frame('video', 990000), noFlush); // +1 s
    mux.feed(frame('audio', 810000), noFlush); // exactly 1 s before the start: no split
    expect(mux.stats.forcedSplits).toBe(0);
    expect(mux.current?.duration).toBe(1);
    mux.feed(frame('video', 809999), noFlush); // 1 s + 1 tick before: split
    expect(mux.stats.forcedSplits).toBe(1);
    expect(mux.window.map((f) => [f.id, f.duration])).toEqual([[0, 1]]);
    expect(mux.current).toMatchObject({ id: 1, startTs: 809999, discontinuity: true });
    // a boundary later is judged against the new start
    mux.feed(frame('video', 809999 + 270000, { key: true, boundary: true }), noFlush);
    expect(mux.window.map((f) => [f.id, f.duration, f.discontinuity])).toEqual([
      [0, 1, true],
      [1, 3, true],
    ]);
    expect(mux.current).toMatchObject({ id: 2, discontinuity: false });
  });

  test('live window slides: MEDIA-SEQUENCE = fragments slid out; TARGETDURATION from the window only', () => {
    const store = new MemoryStore();
    const { mux } = makeMuxer({ store, fragmentNum: 2 });
    const starts = [0, 8, 11, 14, 17]; // seconds: durations 8, 3, 3, 3
    for (const s of starts) mux.feed(frame('video', s * 90000, { key: true, boundary: true }), noFlush);
    const pl = parseMediaPlaylist(readText(store, `${OUT}/innertest/playlist.m3u8`)!);
    expect(pl.mediaSequence).toBe(2);
    expect(pl.targetDuration).toBe(3);
    expect(pl.segments.map((s) => s.uri)).toEqual([`innertest-${CLOCK}-2.ts`, `innertest-${CLOCK}-3.ts`]);
  });
});

describe('record playlist across input sessions (docs/hls.md §4)', () => {
  test('second session: discontinuity, TARGETDURATION raised, ENDLIST kept last', () => {
    const store = new MemoryStore();
    let clock = 1_000_000;
    const run = (durationsS: number[]) => {
      const { mux } = makeMuxer({ store, streamName: 's', now: () => clock });
      let t = 0;
      for (const d of durationsS) {
        mux.feed(frame('video', t, { key: true, boundary: true }), noFlush);
        t += d * 90000;
        clock += d * 1000;
      }
      mux.feed(frame('video', t, { key: true, boundary: true }), noFlush);
      mux.end();
      return mux;
    };
    // r: 3 → 3.5; 4 > 3.5 → 4.5 → TARGETDURATION 4
    run([3, 4]);
    const first = readText(store, `${OUT}/s/record.m3u8`)!;
    expect(first).toBe(
      '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n\n' +
        '#EXT-X-DISCONTINUITY\n#EXTINF:3.000,\ns-1000000-0.ts\n#EXTINF:4.000,\ns-1003000-1.ts\n#EXTINF:0.000,\ns-1007000-2.ts\n#EXT-X-ENDLIST\n',
    );
    clock = 2_000_000;
    run([6.25]);
    expect(readText(store, `${OUT}/s/record.m3u8`)).toBe(
      first.replace('#EXT-X-TARGETDURATION:4\n', '#EXT-X-TARGETDURATION:6\n').replace(/#EXT-X-ENDLIST\n$/, '') +
        '#EXT-X-DISCONTINUITY\n#EXTINF:6.250,\ns-2000000-0.ts\n#EXTINF:0.000,\ns-2006250-1.ts\n#EXT-X-ENDLIST\n',
    );
    // the live playlist belongs to the latest session only
    const live = parseMediaPlaylist(readText(store, `${OUT}/s/playlist.m3u8`)!);
    expect(live.segments.map((s) => s.uri)).toEqual(['s-2000000-0.ts', 's-2006250-1.ts']);
    expect(live.segments[0].discontinuity).toBe(true);
  });

  test('an existing record playlist without TARGETDURATION is left alone (error logged)', () => {
    const store = new MemoryStore();
    const errors: string[] = [];
    const log = { error: (m: string) => errors.push(m), warn() {}, info() {}, debug() {}, trace() {}, withTag() { return log; } };
    store.mkdirp(`${OUT}/s`);
    store.writeFile(`${OUT}/s/record.m3u8`, utf8Encode('#EXTM3U\n'));
    const { mux } = makeMuxer({ store, streamName: 's', log: log as never });
    mux.feed(frame('video', 0, { key: true, boundary: true }), noFlush);
    mux.end();
    expect(readText(store, `${OUT}/s/record.m3u8`)).toBe('#EXTM3U\n');
    expect(errors.some((m) => m.includes('TARGETDURATION'))).toBe(true);
  });
});

describe('lifecycle and robustness', () => {
  test('feed before start throws; after end it is ignored; end is idempotent; end without fragment writes nothing', () => {
    const store = new MemoryStore();
    const mux = new HlsMuxer({ streamName: 's', outPath: OUT, fragmentDurationMs: 3000, fragmentNum: 6, deleteThreshold: 6, cleanupMode: 1, store });
    expect(() => mux.feed(frame('video', 0, { key: true, boundary: true }), noFlush)).toThrow(LalError);
    mux.start();
    expect(store.exists(`${OUT}/s`)).toBe(true);
    mux.end();
    mux.end();
    expect(mux.ended).toBe(true);
    expect(store.listFiles()).toEqual([]);
    mux.feed(frame('video', 0, { key: true, boundary: true }), noFlush);
    expect(store.listFiles()).toEqual([]);
  });

  test('start keeps an existing directory (record playlist survives republish)', () => {
    const store = new MemoryStore();
    store.mkdirp(`${OUT}/s`);
    store.writeFile(`${OUT}/s/record.m3u8`, new Uint8Array([1]));
    makeMuxer({ store, streamName: 's' });
    expect(store.readFile(`${OUT}/s/record.m3u8`)).toEqual(new Uint8Array([1]));
  });

  test.each(['', '.', '..', 'a/b', '../etc', 'a\\b'])('unusable stream name %p is refused', (name) => {
    expect(() => makeMuxer({ store: new MemoryStore(), streamName: name })).toThrow('unsafe stream name');
  });

  test.each([
    ['fragment_duration_ms 0', { fragmentDurationMs: 0 }],
    ['fragment_duration_ms 1.5', { fragmentDurationMs: 1.5 }],
    ['fragment_num 0', { fragmentNum: 0 }],
    ['delete_threshold -1', { deleteThreshold: -1 }],
    ['cleanup_mode 3', { cleanupMode: 3 as never }],
  ] as [string, Partial<HlsMuxerOptions>][])('bad option %s is refused', (_name, over) => {
    expect(() => makeMuxer({ store: new MemoryStore(), ...over })).toThrow(LalError);
  });

  test('I/O failures are counted and logged once per fragment; the muxer carries on', () => {
    const inner = new MemoryStore();
    let failWrites = true;
    const store: SegmentStore = {
      ...bind(inner),
      openAppend(p) {
        const h = inner.openAppend(p);
        return {
          write(b) {
            if (failWrites) throw new LalError('hls-io', 'hls: write failed: ENOSPC');
            h.write(b);
          },
          close: () => h.close(),
        };
      },
    };
    const errors: string[] = [];
    const log = { error: (m: string) => errors.push(m), warn() {}, info() {}, debug() {}, trace() {}, withTag() { return log; } };
    const { mux } = makeMuxer({ store, log: log as never });
    for (let i = 0; i < 200; i++) mux.feed(frame('video', i * 3600, { key: i % 100 === 0, boundary: i % 100 === 0 }), noFlush);
    expect(mux.stats.ioErrors).toBe(2); // first write of each fragment; the fragment then stops writing
    expect(errors.length).toBe(2);
    failWrites = false;
    mux.feed(frame('video', 200 * 3600, { key: true, boundary: true }), noFlush);
    mux.end();
    expect(labels(inner.readFile(`${OUT}/innertest/innertest-${CLOCK}-2.ts`)!).length).toBe(2);
    expect(parseMediaPlaylist(readText(inner, `${OUT}/innertest/playlist.m3u8`)!).segments.length).toBe(3);
  });

  test('a throwing onMakeTs callback does not break muxing', () => {
    const store = new MemoryStore();
    const { mux } = makeMuxer({
      store,
      onMakeTs: () => {
        throw new Error('boom');
      },
    });
    mux.feed(frame('video', 0, { key: true, boundary: true }), noFlush);
    mux.feed(frame('video', 300000, { key: true, boundary: true }), noFlush);
    expect(mux.window.length).toBe(1);
  });
});

function bind(s: MemoryStore): SegmentStore {
  return {
    mkdirp: (d) => s.mkdirp(d),
    writeFile: (p, b) => s.writeFile(p, b),
    openAppend: (p) => s.openAppend(p),
    readFile: (p) => s.readFile(p),
    rename: (a, b) => s.rename(a, b),
    remove: (p) => s.remove(p),
    removeDir: (d) => s.removeDir(d),
    exists: (p) => s.exists(p),
  };
}

// ---------------------------------------------------------------------------------------------

class FakeTimers implements HlsTimers {
  now = 0;
  private seq = 0;
  readonly timers = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  advance(ms: number): void {
    this.now += ms;
    for (const [id, t] of [...this.timers].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at > this.now || !this.timers.has(id)) continue;
      this.timers.delete(id);
      t.fn();
    }
  }
}

describe('HlsCleanup (docs/hls.md §5)', () => {
  function setup() {
    const store = new MemoryStore();
    store.mkdirp(`${OUT}/s/`);
    store.writeFile(`${OUT}/s/playlist.m3u8`, new Uint8Array(1));
    store.mkdirp(`${OUT}/s2`);
    store.writeFile(`${OUT}/s2/playlist.m3u8`, new Uint8Array(1));
    const timers = new FakeTimers();
    return { store, timers, cleanup: new HlsCleanup({ store, outPath: OUT, timers }) };
  }

  test('delay is fragment_duration_ms × (fragment_num + delete_threshold): 36 s shipped', () => {
    expect(hlsCleanupDelayMs(3000, 6, 6)).toBe(36000);
  });

  test('fires after the delay and removes only that stream directory', () => {
    const { store, timers, cleanup } = setup();
    cleanup.schedule('s', 36000, () => false);
    expect(cleanup.pending).toBe(1);
    timers.advance(35999);
    expect(store.exists(`${OUT}/s/playlist.m3u8`)).toBe(true);
    timers.advance(1);
    expect(store.exists(`${OUT}/s`)).toBe(false);
    expect(store.exists(`${OUT}/s2/playlist.m3u8`)).toBe(true);
    expect(cleanup.pending).toBe(0);
  });

  test('skips when the stream is live again (republished)', () => {
    const { store, timers, cleanup } = setup();
    let asked = 0;
    cleanup.schedule('s', 1000, () => (asked++, true));
    timers.advance(1000);
    expect(asked).toBe(1);
    expect(store.exists(`${OUT}/s/playlist.m3u8`)).toBe(true);
  });

  test('a new schedule replaces the pending one; cancel and close drop timers', () => {
    const { store, timers, cleanup } = setup();
    cleanup.schedule('s', 1000, () => false);
    timers.advance(900);
    cleanup.schedule('s', 1000, () => false); // stop → republish → stop
    timers.advance(200);
    expect(store.exists(`${OUT}/s`)).toBe(true);
    timers.advance(800);
    expect(store.exists(`${OUT}/s`)).toBe(false);

    cleanup.schedule('s2', 1000, () => false);
    cleanup.cancel('s2');
    cleanup.cancel('nothing');
    timers.advance(5000);
    expect(store.exists(`${OUT}/s2`)).toBe(true);
    cleanup.schedule('s2', 1000, () => false);
    cleanup.close();
    expect(timers.timers.size).toBe(0);
    expect(cleanup.pending).toBe(0);
  });

  test('a throwing liveness check keeps the files', () => {
    const { store, timers, cleanup } = setup();
    cleanup.schedule('s', 10, () => {
      throw new Error('gone');
    });
    timers.advance(10);
    expect(store.exists(`${OUT}/s/playlist.m3u8`)).toBe(true);
  });

  test('refuses unusable stream names', () => {
    const { cleanup } = setup();
    expect(() => cleanup.schedule('..', 10, () => false)).toThrow(LalError);
  });

  test('default timers work for real (short delay)', async () => {
    const store = new MemoryStore();
    store.mkdirp(`${OUT}/s`);
    const cleanup = new HlsCleanup({ store, outPath: OUT });
    cleanup.schedule('s', 5, () => false);
    await Bun.sleep(30);
    expect(store.exists(`${OUT}/s`)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------

describe('HlsMuxer on DiskStore', () => {
  const roots: string[] = [];
  afterAll(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  test('files exist on disk, playlists renamed from .bak, cleanup removes the directory', () => {
    const root = mkdtempSync(join(tmpdir(), 'lal-hls-mux-'));
    roots.push(root);
    const out = join(root, 'lal_record', 'hls');
    const store = new DiskStore();
    const mux = new HlsMuxer({ streamName: '中文-x', outPath: out, fragmentDurationMs: 3000, fragmentNum: 6, deleteThreshold: 6, cleanupMode: 1, store, now: () => CLOCK });
    mux.start();
    mux.setPatPmt(PAT_PMT);
    const frames = goldenFrames();
    for (const f of frames) mux.feed(f, noFlush);
    mux.end();
    const dir = join(out, '中文-x');
    const names = readdirSync(dir).sort();
    expect(names).toEqual([...KEY_FRAMES.map((_, i) => `中文-x-${CLOCK}-${i}.ts`), 'playlist.m3u8', 'record.m3u8'].sort());
    expect(readFileSync(join(dir, 'playlist.m3u8'), 'utf8')).toBe(GOLDEN_LIVE.replaceAll('innertest', '中文-x'));
    expect(readFileSync(join(dir, 'record.m3u8'), 'utf8')).toBe(GOLDEN_RECORD.replaceAll('innertest', '中文-x'));
    const total = KEY_FRAMES.reduce((n, _, i) => n + readFileSync(join(dir, `中文-x-${CLOCK}-${i}.ts`)).length, 0);
    expect(total).toBe(8 * 376 + frames.length * 188);

    const timers = new FakeTimers();
    const cleanup = new HlsCleanup({ store, outPath: out, timers });
    cleanup.schedule('中文-x', 36000, () => false);
    timers.advance(36000);
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(out)).toBe(true);
  });
});
