/**
 * lal remux as a library (issue #3): format detection, FLV → TS → FLV at the
 * AvPacket level (same NAL units and raw audio frames, same parameter sets, same relative
 * timing), FLV → FLV pass-through, failures that leave nothing behind.
 */
import { mulberry32, rejection } from '../core/testing.ts';
import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concat } from '../core/bytes.ts';
import { LalError } from '../core/errors.ts';
import type { AvPacket, TrackInfo } from '../core/packet.ts';
import { decodeAsc } from '../codec/aac/index.ts';
import { decodeAmf0All } from '../format/amf0/index.ts';
import { encodeFlvHeader, encodeFlvTag, FlvReader } from '../format/flv/index.ts';
import { parseMediaPlaylist } from '../format/m3u8/playlist.ts';
import { RtmpToAv } from '../remux/rtmp.ts';
import { remux, remuxInputKind, remuxOutputKind } from './remux.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lal-remux-unit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fixture = (name: string) => new URL(`../../fixtures/${name}`, import.meta.url).pathname;

/** Media packets and final tracks of an FLV file, through the same ingest the server uses. */
function flvMedia(path: string): { packets: AvPacket[]; tracks: TrackInfo } {
  const conv = new RtmpToAv();
  const packets: AvPacket[] = [];
  for (const t of new FlvReader().feed(readFileSync(path))) {
    const r = conv.push(t);
    if (r.kind === 'packet' && r.packet.units.length > 0) packets.push(r.packet);
  }
  return { packets, tracks: conv.tracks };
}

/** H.265 SEI NAL units (types 39/40): the TS remuxer drops them, as LAL does (docs/media.md §4.3). */
function withoutH265Sei(p: AvPacket): Uint8Array[] {
  if (p.codec !== 'h265') return p.units;
  return p.units.filter((u) => {
    const t = (u[0] >> 1) & 0x3f;
    return t !== 39 && t !== 40;
  });
}


describe('format detection', () => {
  test.each([
    ['in.flv', 'flv'],
    ['IN.FLV', 'flv'],
    ['dir.x/in.ts', 'ts'],
    ['a.b.Ts', 'ts'],
    ['C:\\media\\in.flv', 'flv'],
    ['rtmp://h/app/s', 'rtmp'],
    ['RTMPS://h:443/app/s?k=v', 'rtmp'],
  ])('input %s → %s', (input, kind) => expect(remuxInputKind(input)).toBe(kind as 'flv'));
  // node:path extname rules: a leading dot is a hidden name, not an extension; only the last segment counts
  test.each([['in.mp4'], ['in'], ['.flv'], ['dir/.ts'], ['in.flv/x'], ['in.flv.'], ['http://h/live/s.flv'], ['srt://h:1/x.ts']])('input %s is refused', (input) => {
    expect(() => remuxInputKind(input)).toThrow(/^remux: (unknown input format|unsupported input URL)/);
  });
  test.each([
    ['out.flv', 'flv'],
    ['out.ts', 'ts'],
    ['d/NAME.m3u8', 'hls'],
  ])('output %s → %s', (output, kind) => expect(remuxOutputKind(output)).toBe(kind as 'flv'));
  test.each([['out.mkv'], ['out'], ['out.m3u'], ['.m3u8'], ['d.ts/out']])('output %s is refused', (output) => {
    expect(() => remuxOutputKind(output)).toThrow(/^remux: unknown output format/);
  });
});

describe('FLV → TS → FLV keeps every frame', () => {
  test.each(['h264-aac.flv', 'h264-only.flv', 'aac-only.flv', 'h265-enhanced.flv'])('%s', async (name) => {
    const ts = join(tmp, `${name}.ts`);
    const back = join(tmp, `${name}.back.flv`);
    const s1 = await remux({ input: fixture(name), output: ts });
    const s2 = await remux({ input: ts, output: back });
    const a = flvMedia(fixture(name));
    const b = flvMedia(back);
    expect(s1.videoFrames + s1.audioFrames).toBe(a.packets.length);
    expect([s2.videoFrames, s2.audioFrames]).toEqual([s1.videoFrames, s1.audioFrames]);
    expect(b.packets.length).toBe(a.packets.length);
    // parameter sets and audio configuration
    expect(b.tracks.video?.codec).toBe(a.tracks.video?.codec);
    expect(b.tracks.video?.sps).toEqual(a.tracks.video?.sps ?? undefined!);
    expect(b.tracks.video?.pps).toEqual(a.tracks.video?.pps ?? undefined!);
    expect([b.tracks.video?.width, b.tracks.video?.height]).toEqual([a.tracks.video?.width, a.tracks.video?.height]);
    if (a.tracks.audio?.asc) {
      const [x, y] = [decodeAsc(a.tracks.audio.asc), decodeAsc(b.tracks.audio!.asc!)];
      expect([y.objectType, y.sampleRate, y.channels]).toEqual([x.objectType, x.sampleRate, x.channels]);
    }
    // per track: same bytes, same relative timing (ms; audio may round by 1 ms)
    for (const kind of ['video', 'audio'] as const) {
      const pa = a.packets.filter((p) => p.kind === kind);
      const pb = b.packets.filter((p) => p.kind === kind);
      expect(pb.length).toBe(pa.length);
      for (let i = 0; i < pa.length; i++) {
        expect(concat(pb[i].units)).toEqual(concat(withoutH265Sei(pa[i])));
        expect(pb[i].key).toBe(pa[i].key);
        const da = (pa[i].dts - pa[0].dts) / 90;
        const db = (pb[i].dts - pb[0].dts) / 90;
        expect(Math.abs(db - da)).toBeLessThanOrEqual(kind === 'audio' ? 1 : 0);
        expect(pb[i].pts - pb[i].dts).toBe(pa[i].pts - pa[i].dts);
      }
    }
    // the FLV written from TS starts at 0 and says what it holds
    expect(Math.min(...b.packets.map((p) => p.dts))).toBe(0);
    const header = readFileSync(back).subarray(0, 5);
    expect(header[4]).toBe((a.tracks.audio ? 4 : 0) | (a.tracks.video ? 1 : 0));
    expect(s2.durationMs).toBeCloseTo(s1.durationMs, -2);
    // the summary and our onMetaData know both tracks, though TS announces them one PES at a time
    expect([!!s2.video, !!s2.audio]).toEqual([!!a.tracks.video, !!a.tracks.audio]);
    const script = new FlvReader().feed(readFileSync(back))[0];
    expect(script.type).toBe(18);
    const [tag, meta] = decodeAmf0All(script.body) as [string, Record<string, unknown>];
    expect(tag).toBe('onMetaData');
    expect(meta.duration).toBeCloseTo(s2.durationMs / 1000, 6);
    expect(meta.filesize).toBe(readFileSync(back).length);
    if (a.tracks.video) expect([meta.width, meta.height]).toEqual([a.tracks.video.width, a.tracks.video.height]);
    expect(meta.audiocodecid).toBe(a.tracks.audio ? 10 : undefined);
  });
});

test('FLV → FLV forwards tag bodies and timestamps unchanged', async () => {
  const out = join(tmp, 'copy.flv');
  await remux({ input: fixture('h264-aac.flv'), output: out });
  const strip = (p: string) => new FlvReader().feed(readFileSync(p)).map((t) => [t.type, t.timestamp, Buffer.from(t.body).toString('hex')]);
  expect(strip(out)).toEqual(strip(fixture('h264-aac.flv')));
});

test('TS → TS and FLV → HLS VOD from the library', async () => {
  const ts = join(tmp, 'a.ts');
  await remux({ input: fixture('h264-only.flv'), output: ts });
  const again = await remux({ input: ts, output: join(tmp, 'b.ts') });
  expect([again.videoFrames, again.audioFrames]).toEqual([50, 0]);
  const dir = join(tmp, 'vod', 'deep');
  const s = await remux({ input: fixture('h264-aac.flv'), output: join(dir, 'v.m3u8'), fragmentMs: 1000 });
  expect(s.segments.length).toBe(4);
  expect(readdirSync(dir).sort()).toEqual([...s.segments, 'v.m3u8'].sort());
  expect(parseMediaPlaylist(readFileSync(join(dir, 'v.m3u8'), 'utf8')).segments.map((x) => x.uri)).toEqual(s.segments);
  expect(s.bytesOut).toBeGreaterThan(s.bytesIn);
});

test('damage in a TS input is counted and named in the summary (continuity errors, dropped packets)', async () => {
  const ts = join(tmp, 'clean.ts');
  await remux({ input: fixture('h264-aac.flv'), output: ts });
  expect((await remux({ input: ts, output: join(tmp, 'clean.flv') })).warnings).toEqual([]);
  const bad = new Uint8Array(readFileSync(ts));
  // every 50th packet with payload: continuity counter + 5 (a gap), and one with transport_error set
  for (let off = 188 * 10; off + 188 <= bad.length; off += 188 * 50) bad[off + 3] = (bad[off + 3] & 0xf0) | ((bad[off + 3] + 5) & 0x0f);
  bad[188 * 7 + 1] |= 0x80;
  const damaged = join(tmp, 'damaged.ts');
  writeFileSync(damaged, bad);
  const s = await remux({ input: damaged, output: join(tmp, 'damaged.flv') });
  expect(s.warnings.join('\n')).toMatch(/input TS packets: .*\d+ continuityErrors/);
  expect(s.warnings.join('\n')).toMatch(/\d+ transportErrors/);
});

describe('failures leave nothing behind', () => {
  /** An FLV whose only media is G.711 A-law, which MPEG-TS does not carry. */
  function g711Flv(): string {
    const p = join(tmp, 'g711.flv');
    const tags = [encodeFlvHeader({ audio: true, video: false })];
    for (let i = 0; i < 20; i++) tags.push(encodeFlvTag(8, i * 20, concat([Uint8Array.of(0x72), new Uint8Array(160).fill(0xd5)])));
    writeFileSync(p, concat(tags));
    return p;
  }

  test('a codec MPEG-TS cannot carry: clear error, no output; FLV → FLV still works', async () => {
    const dir = join(tmp, 'g711-out');
    mkdirSync(dir);
    const e = await rejection(remux({ input: g711Flv(), output: join(dir, 'o.ts') }));
    expect(e.message).toMatch(/nothing MPEG-TS can carry.*g711a/);
    const e2 = await rejection(remux({ input: g711Flv(), output: join(dir, 'hls', 'o.m3u8') }));
    expect(e2.message).toMatch(/nothing MPEG-TS can carry/);
    expect(readdirSync(dir)).toEqual([]);
    const ok = await remux({ input: g711Flv(), output: join(dir, 'o.flv') });
    expect(ok.audioFrames).toBe(20);
  });

  test('a truncated FLV to HLS removes the fragments and the directories it created', async () => {
    const trunc = join(tmp, 'trunc.flv');
    writeFileSync(trunc, readFileSync(fixture('h264-aac.flv')).subarray(0, 150_000));
    const e = await rejection(remux({ input: trunc, output: join(tmp, 'new1', 'new2', 'x.m3u8'), fragmentMs: 500 }));
    expect(e.message).toMatch(/is truncated/);
    expect(existsSync(join(tmp, 'new1'))).toBe(false);
  });

  test('an aborted file conversion rejects with code aborted and removes its output', async () => {
    const dir = join(tmp, 'abort');
    mkdirSync(dir);
    const ac = new AbortController();
    ac.abort();
    const e = await rejection(remux({ input: fixture('h264-aac.flv'), output: join(dir, 'o.ts'), signal: ac.signal }));
    expect(e.code).toBe('aborted');
    expect(readdirSync(dir)).toEqual([]);
  });

  test('TS output: a new file is written in place, an existing one only replaced by a complete file', async () => {
    const dir = join(tmp, 'replace');
    mkdirSync(dir);
    const out = join(dir, 'o.ts');
    const trunc = join(dir, 'cut.flv');
    writeFileSync(trunc, readFileSync(fixture('h264-aac.flv')).subarray(0, 100_000));
    // new output, failing input: nothing left
    expect((await rejection(remux({ input: trunc, output: out }))).message).toMatch(/is truncated/);
    expect(readdirSync(dir)).toEqual(['cut.flv']);
    // new output written in place; the same bytes when it replaces an existing file
    await remux({ input: fixture('h264-aac.flv'), output: out });
    const first = readFileSync(out);
    await remux({ input: fixture('h264-aac.flv'), output: out });
    expect(readFileSync(out).equals(first)).toBe(true);
    // existing output, failing input: the old file stays as it was
    writeFileSync(out, 'keep me');
    expect((await rejection(remux({ input: trunc, output: out }))).message).toMatch(/is truncated/);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    expect(readdirSync(dir).sort()).toEqual(['cut.flv', 'o.ts']);
  });

  test('inputs that cannot be mapped are read instead (an empty file); a directory is refused', async () => {
    const dir = join(tmp, 'unmapped');
    mkdirSync(join(dir, 'd.flv'), { recursive: true });
    writeFileSync(join(dir, 'empty.flv'), '');
    expect((await rejection(remux({ input: join(dir, 'empty.flv'), output: join(dir, 'o.ts') }))).message).toMatch(/empty\.flv is not an FLV file \(0 bytes/);
    expect((await rejection(remux({ input: join(dir, 'd.flv'), output: join(dir, 'o.ts') }))).message).toMatch(/d\.flv is not a regular file/);
    expect(readdirSync(dir).sort()).toEqual(['d.flv', 'empty.flv']);
  });

  test('bad arguments', async () => {
    expect((await rejection(remux({ input: join(tmp, 'none.flv'), output: join(tmp, 'o.ts') }))).message).toBe(`remux: cannot read ${join(tmp, 'none.flv')}: no such file`);
    expect((await rejection(remux({ input: fixture('h264-aac.flv'), output: join(tmp, 'o.ts'), fragmentMs: 0 }))).message).toMatch(/fragment duration/);
    expect((await rejection(remux({ input: fixture('h264-aac.flv'), output: fixture('h264-aac.flv') }))).message).toMatch(/same file/);
    // the same file under another name: a hard link and a symbolic link
    const orig = join(tmp, 'orig.flv');
    writeFileSync(orig, readFileSync(fixture('h264-aac.flv')));
    linkSync(orig, join(tmp, 'hard.flv'));
    symlinkSync(orig, join(tmp, 'soft.flv'));
    for (const other of ['hard.flv', 'soft.flv']) {
      expect((await rejection(remux({ input: orig, output: join(tmp, other) }))).message).toMatch(/same file/);
      expect((await rejection(remux({ input: join(tmp, other), output: orig }))).message).toMatch(/same file/);
    }
    expect(readFileSync(orig)).toEqual(readFileSync(fixture('h264-aac.flv')));
    expect(existsSync(join(tmp, 'o.ts'))).toBe(false);
  });
});

describe('hostile input: only remux LalErrors, never a stray temporary file', () => {
  const dir = join(tmp, 'hostile');
  mkdirSync(dir, { recursive: true });

  async function outcome(bytes: Uint8Array, ext: 'flv' | 'ts', output: string): Promise<'ok' | 'rejected'> {
    const input = join(dir, `in.${ext}`);
    writeFileSync(input, bytes);
    try {
      await remux({ input, output: join(dir, output) });
      return 'ok';
    } catch (e) {
      if (!(e instanceof LalError) || !e.message.startsWith('remux: ')) throw e;
      return 'rejected';
    } finally {
      rmSync(join(dir, output), { recursive: true, force: true });
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    }
  }

  test('truncations of an FLV and of a TS', async () => {
    const flv = readFileSync(fixture('h264-aac.flv'));
    const ts = join(tmp, 'hostile-src.ts');
    await remux({ input: fixture('h264-aac.flv'), output: ts });
    const tsBytes = readFileSync(ts);
    const seen = new Set<string>();
    for (let cut = 0; cut < flv.length; cut += 1999) seen.add(await outcome(flv.subarray(0, cut), 'flv', 'o.ts'));
    for (let cut = 0; cut < tsBytes.length; cut += 2011) seen.add(await outcome(tsBytes.subarray(0, cut), 'ts', 'o.flv'));
    expect(seen).toEqual(new Set(['ok', 'rejected']));
  });

  test('random bytes behind a valid FLV header, and random TS packets', async () => {
    const rnd = mulberry32(3);
    for (let i = 0; i < 100; i++) {
      const body = new Uint8Array(1 + Math.floor(rnd() * 4000)).map(() => Math.floor(rnd() * 256));
      if (i % 2 === 0) {
        await outcome(concat([encodeFlvHeader({ audio: true, video: true }), body]), 'flv', i % 4 === 0 ? 'o.ts' : 'h/o.m3u8');
      } else {
        // keep the sync bytes so the demuxer gets past resynchronisation
        for (let o = 0; o < body.length; o += 188) body[o] = 0x47;
        await outcome(body, 'ts', i % 4 === 1 ? 'o.flv' : 'o.ts');
      }
    }
  });
});
