/** ffmpeg.ts: which binary the tests run, and the capability checks that pick another one. */
import { afterAll, afterEach, describe, expect, spyOn, test } from 'bun:test';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FFMPEG_CAPABILITIES, ffmpegHas, ffmpegPath, ffprobeHas, ffprobePath, ffprobeWith, versionOf } from './ffmpeg.ts';

const require = createRequire(import.meta.url);
const npmFfmpeg = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const npmFfprobe = (require('@ffprobe-installer/ffprobe') as { path: string }).path;

const tmp = mkdtempSync(join(tmpdir(), 'lal-ffhelper-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A stand-in `ffprobe` that answers -version and fails everything else: it can do nothing. */
const fake = join(tmp, 'ffprobe');
writeFileSync(fake, '#!/bin/sh\nif [ "$1" = "-version" ]; then echo "ffprobe version 0.0-fake"; exit 0; fi\nexit 1\n');
chmodSync(fake, 0o755);

const saved = { FFMPEG: process.env.FFMPEG, FFPROBE: process.env.FFPROBE };
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('which ffmpeg/ffprobe', () => {
  test('without $FFMPEG/$FFPROBE: the pinned npm builds, whatever is on the PATH', () => {
    delete process.env.FFMPEG;
    delete process.env.FFPROBE;
    expect(ffmpegPath()).toBe(npmFfmpeg);
    expect(ffprobePath()).toBe(npmFfprobe);
  });

  test('$FFPROBE wins; a name is looked up on the PATH; a missing one is a clear error', () => {
    process.env.FFPROBE = fake;
    expect(ffprobePath()).toBe(fake);
    process.env.FFPROBE = 'sh';
    expect(ffprobePath()).toBe(Bun.which('sh')!);
    process.env.FFPROBE = join(tmp, 'nope');
    expect(() => ffprobePath()).toThrow(`ffprobe: $FFPROBE=${join(tmp, 'nope')} does not exist`);
  });
});

describe('capabilities', () => {
  test('the npm ffprobe reads enhanced-RTMP hvc1 in FLV; the npm ffmpeg has what the tests publish with', () => {
    expect(ffprobeHas('hvc1-flv', npmFfprobe)).toBe(true);
    expect(ffprobeHas('tls', npmFfprobe)).toBe(true);
    for (const cap of Object.keys(FFMPEG_CAPABILITIES) as (keyof typeof FFMPEG_CAPABILITIES)[]) expect({ cap, has: ffmpegHas(cap, npmFfmpeg) }).toEqual({ cap, has: true });
    expect(versionOf(npmFfprobe)).toMatch(/^N-\d+-g[0-9a-f]+/);
  });

  test('a configured ffprobe without the capability: the npm one is used, and the test output says so', () => {
    process.env.FFPROBE = fake;
    expect(ffprobeHas('hvc1-flv', fake)).toBe(false);
    const warn = spyOn(console, 'warn').mockImplementation(() => {});
    try {
      expect(ffprobeWith('hvc1-flv')).toBe(npmFfprobe);
      expect(ffprobeWith('hvc1-flv')).toBe(npmFfprobe);
      expect(warn).toHaveBeenCalledTimes(1); // once per test
      expect(String(warn.mock.calls[0][0])).toBe(
        `ffprobe: the ffprobe from $FFPROBE (${fake}, version 0.0-fake) cannot read enhanced-RTMP H.265 (hvc1) from FLV; using the npm ffprobe (${npmFfprobe}, version ${versionOf(npmFfprobe)}) for this`,
      );
    } finally {
      warn.mockRestore();
    }
  });

  test('a configured ffprobe that has it is used as is', () => {
    process.env.FFPROBE = npmFfprobe;
    expect(ffprobeWith('hvc1-flv', 'tls')).toBe(npmFfprobe);
  });
});
