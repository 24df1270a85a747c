import { test, expect, describe } from 'bun:test';
import { ParseError } from '../../core/errors.ts';
import {
  appendToRecordPlaylist,
  calcM3u8Duration,
  createRecordPlaylist,
  formatDuration,
  parseMediaPlaylist,
  targetDuration,
  updateRecordMax,
  writeLivePlaylist,
  writeVodPlaylist,
  MAX_MEDIA_PLAYLIST_CHARS,
  type PlaylistFragment,
} from './playlist.ts';
import { mulberry32, onlyParseError } from '../../core/testing.ts';

/** docs/tests.md §2 golden live playlist (mode 0). */
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

/** docs/tests.md §2 golden record playlist (mode 0), spelled out. */
const GOLDEN_RECORD = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:5
#EXT-X-MEDIA-SEQUENCE:0

#EXT-X-DISCONTINUITY
#EXTINF:4.000,
innertest-1642375465000-0.ts
#EXTINF:4.000,
innertest-1642375465000-1.ts
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

/** Durations as the muxer measures them: 90 kHz tick spans / 90000. */
const GOLDEN_TICKS = [360000, 360000, 300000, 360000, 438000, 282000, 360000, 237960];
const goldenFragments: PlaylistFragment[] = GOLDEN_TICKS.map((t, i) => ({
  name: `innertest-1642375465000-${i}.ts`,
  duration: t / 90000,
  discontinuity: i === 0,
}));

describe('formatDuration (%.3f as Go prints it)', () => {
  test.each([
    [300000 / 90000, '3.333'],
    [4, '4.000'],
    [438000 / 90000, '4.867'],
    [282000 / 90000, '3.133'],
    [237960 / 90000, '2.644'],
    [0, '0.000'],
    [1e-9, '0.000'],
    // exact binary ties: Go rounds half to even, toFixed would round up
    [0.0625, '0.062'],
    [0.1875, '0.188'],
    [275625 / 90000, '3.062'],
    [3.3125, '3.312'],
    [3.4375, '3.438'],
    // 0.0005 is slightly above the tie in binary
    [0.0005, '0.001'],
    [0.0015, '0.002'],
    [123456.789, '123456.789'],
    [-1.0625, '-1.062'],
  ])('%p → %s', (x, want) => {
    expect(formatDuration(x)).toBe(want);
  });
});

describe('targetDuration (docs/hls.md §3)', () => {
  test('upstream example: 3 s target, 3.333 4.000 4.867 3.133 4.000 2.644 → 5', () => {
    expect(targetDuration(GOLDEN_TICKS.slice(2).map((t) => t / 90000), 3000)).toBe(5);
  });
  test.each([
    [[], 3000, 3],
    [[2.9, 3.0], 3000, 3],
    [[3.001], 3000, 3], // 3.501
    [[3.6], 3000, 4], // 4.1
    [[5.0, 4.0], 3000, 5], // 5.5, 4.0 < 5.5
    [[4.0, 5.0], 3000, 5], // 4.5 → 5.5
    [[3088 / 1000, 3088 / 1000, 3089 / 1000], 3000, 3],
    [[1.0], 2500, 2],
  ] as [number[], number, number][])('%p target %p → %p', (d, t, want) => {
    expect(targetDuration(d, t)).toBe(want);
  });
});

describe('writeLivePlaylist', () => {
  test('reproduces the docs/tests.md golden playlist.m3u8', () => {
    const text = writeLivePlaylist({ fragments: goldenFragments.slice(2), mediaSequence: 2, targetDurationMs: 3000, ended: true });
    expect(text).toBe(GOLDEN_LIVE);
  });

  test('mode 2 golden differs only in the last EXTINF (2.600)', () => {
    const frags = goldenFragments.slice(2).map((f, i, a) => (i === a.length - 1 ? { ...f, duration: 2.6 } : f));
    const text = writeLivePlaylist({ fragments: frags, mediaSequence: 2, targetDurationMs: 3000, ended: true });
    expect(text).toBe(GOLDEN_LIVE.replace('#EXTINF:2.644,', '#EXTINF:2.600,'));
  });

  test('discontinuity tag, no ENDLIST while live', () => {
    const text = writeLivePlaylist({ fragments: goldenFragments.slice(0, 2), mediaSequence: 0, targetDurationMs: 3000, ended: false });
    expect(text).toBe(
      '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-ALLOW-CACHE:NO\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n\n' +
        '#EXT-X-DISCONTINUITY\n#EXTINF:4.000,\ninnertest-1642375465000-0.ts\n#EXTINF:4.000,\ninnertest-1642375465000-1.ts\n',
    );
  });

  test('empty window', () => {
    expect(writeLivePlaylist({ fragments: [], mediaSequence: 0, targetDurationMs: 3000, ended: false })).toBe(
      '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-ALLOW-CACHE:NO\n#EXT-X-TARGETDURATION:3\n#EXT-X-MEDIA-SEQUENCE:0\n\n',
    );
  });
});

describe('record playlist (docs/hls.md §4)', () => {
  function buildRecord(frags: PlaylistFragment[], start?: string, r0 = 0): { text: string; r: number } {
    let text = start;
    let r = r0;
    for (const f of frags) {
      r = updateRecordMax(r, f.duration);
      text = text === undefined ? createRecordPlaylist({ fragment: f, recordMax: r }) : appendToRecordPlaylist(text, { fragment: f, recordMax: r });
    }
    return { text: text ?? '', r };
  }

  test('reproduces the docs/tests.md golden record.m3u8', () => {
    expect(buildRecord(goldenFragments).text).toBe(GOLDEN_RECORD);
  });

  test('running maximum: r = d + 0.5 only when d > r (so 3 s then 3.5 s still gives 3, as upstream)', () => {
    expect([3, 3.5].reduce(updateRecordMax, 0)).toBe(3.5);
    expect([3, 4].reduce(updateRecordMax, 0)).toBe(4.5);
    expect([4.867, 2].reduce(updateRecordMax, 4.5)).toBeCloseTo(5.367, 9);
  });

  test('created with floor(r) and raised later, never lowered', () => {
    const first = createRecordPlaylist({ fragment: goldenFragments[0], recordMax: updateRecordMax(0, 4) });
    expect(first).toContain('#EXT-X-TARGETDURATION:4\n');
    const raised = appendToRecordPlaylist(first, { fragment: goldenFragments[4], recordMax: 5.367 });
    expect(raised).toContain('#EXT-X-TARGETDURATION:5\n');
    const kept = appendToRecordPlaylist(raised, { fragment: goldenFragments[5], recordMax: 3.5 });
    expect(kept).toContain('#EXT-X-TARGETDURATION:5\n');
    expect(kept.match(/#EXT-X-ENDLIST/g)?.length).toBe(1);
    expect(kept.endsWith('#EXTINF:3.133,\ninnertest-1642375465000-5.ts\n#EXT-X-ENDLIST\n')).toBe(true);
  });

  test('second input session: discontinuity, ENDLIST stays last, TARGETDURATION raised', () => {
    const s1 = buildRecord([
      { name: 's-1000-0.ts', duration: 3, discontinuity: true },
      { name: 's-4000-1.ts', duration: 3, discontinuity: false },
    ]);
    // A new muxer starts with r = 0 again.
    const s2 = buildRecord(
      [
        { name: 's-9000-0.ts', duration: 6.2, discontinuity: true },
        { name: 's-15200-1.ts', duration: 1, discontinuity: false },
      ],
      s1.text,
    );
    expect(s2.text).toBe(
      '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:0\n\n' +
        '#EXT-X-DISCONTINUITY\n#EXTINF:3.000,\ns-1000-0.ts\n#EXTINF:3.000,\ns-4000-1.ts\n' +
        '#EXT-X-DISCONTINUITY\n#EXTINF:6.200,\ns-9000-0.ts\n#EXTINF:1.000,\ns-15200-1.ts\n#EXT-X-ENDLIST\n',
    );
  });

  test('an ENDLIST not at the very end is left alone; only a trailing one is removed', () => {
    const text = '#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:1.000,\na.ts\n#EXT-X-ENDLIST\n';
    const out = appendToRecordPlaylist(text, { fragment: { name: 'b.ts', duration: 2, discontinuity: false }, recordMax: 2.5 });
    expect(out).toBe('#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:1.000,\na.ts\n#EXTINF:2.000,\nb.ts\n#EXT-X-ENDLIST\n');
  });

  test.each([
    ['no #EXT-X-TARGETDURATION', '#EXTM3U\n#EXTINF:1.000,\na.ts\n#EXT-X-ENDLIST\n'],
    ['no line end', '#EXTM3U\n#EXT-X-TARGETDURATION:3'],
    ['not an integer', '#EXTM3U\n#EXT-X-TARGETDURATION:3.5\n'],
    ['not an integer', '#EXTM3U\n#EXT-X-TARGETDURATION:\n'],
  ])('unusable existing file → ParseError (%s)', (msg, text) => {
    expect(() => appendToRecordPlaylist(text, { fragment: goldenFragments[0], recordMax: 4.5 })).toThrow(ParseError);
    expect(() => appendToRecordPlaylist(text, { fragment: goldenFragments[0], recordMax: 4.5 })).toThrow(msg);
  });
});

describe('parseMediaPlaylist', () => {
  test('golden live playlist', () => {
    const pl = parseMediaPlaylist(GOLDEN_LIVE);
    expect(pl.version).toBe(3);
    expect(pl.targetDuration).toBe(5);
    expect(pl.mediaSequence).toBe(2);
    expect(pl.allowCache).toBe('NO');
    expect(pl.endList).toBe(true);
    expect(pl.segments.map((s) => s.uri)).toEqual(goldenFragments.slice(2).map((f) => f.name));
    expect(pl.segments.map((s) => s.duration)).toEqual([3.333, 4, 4.867, 3.133, 4, 2.644]);
    expect(pl.segments.map((s) => s.sequence)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(pl.segments.every((s) => !s.discontinuity && s.title === '')).toBe(true);
  });

  test('golden record playlist: discontinuity on the first segment', () => {
    const pl = parseMediaPlaylist(GOLDEN_RECORD);
    expect(pl.mediaSequence).toBe(0);
    expect(pl.segments.length).toBe(8);
    expect(pl.segments.map((s) => s.discontinuity)).toEqual([true, false, false, false, false, false, false, false]);
    expect(pl.allowCache).toBeUndefined();
  });

  test('writer → parser round trip keeps what matters', () => {
    const frags = goldenFragments.map((f, i) => ({ ...f, discontinuity: i % 3 === 0 }));
    const pl = parseMediaPlaylist(writeLivePlaylist({ fragments: frags, mediaSequence: 17, targetDurationMs: 3000, ended: false }));
    expect(pl.endList).toBe(false);
    expect(pl.segments.map((s) => [s.uri, formatDuration(s.duration), s.discontinuity, s.sequence])).toEqual(
      frags.map((f, i) => [f.name, formatDuration(f.duration), f.discontinuity, 17 + i]),
    );
  });

  test('CRLF, BOM, titles, unknown tags and comments', () => {
    const pl = parseMediaPlaylist('\uFEFF#EXTM3U\r\n#EXT-X-PLAYLIST-TYPE:VOD\r\n# a comment\r\n#EXTINF:2,first one\r\nhttp://h/a.ts?x=1\r\n#EXTINF:1.5\r\nb.ts\r\n');
    expect(pl.segments).toEqual([
      { uri: 'http://h/a.ts?x=1', duration: 2, title: 'first one', discontinuity: false, sequence: 0 },
      { uri: 'b.ts', duration: 1.5, title: '', discontinuity: false, sequence: 1 },
    ]);
  });

  test.each([
    ['does not start with #EXTM3U', ''],
    ['does not start with #EXTM3U', '#EXT-X-VERSION:3\n'],
    ['without #EXTINF', '#EXTM3U\na.ts\n'],
    ['is not a number', '#EXTM3U\n#EXTINF:abc,\na.ts\n'],
    ['is not a number', '#EXTM3U\n#EXTINF:-1,\na.ts\n'],
    ['is not a decimal integer', '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:-3\n'],
    ['is not a decimal integer', '#EXTM3U\n#EXT-X-TARGETDURATION:1e3\n'],
  ])('malformed → ParseError (%s)', (msg, text) => {
    expect(() => parseMediaPlaylist(text)).toThrow(ParseError);
    expect(() => parseMediaPlaylist(text)).toThrow(msg);
  });

  test('oversized text is refused before splitting', () => {
    expect(() => parseMediaPlaylist('#EXTM3U\n' + ' '.repeat(MAX_MEDIA_PLAYLIST_CHARS))).toThrow('exceeds');
  });

  test('every truncation of the goldens throws only ParseError', () => {
    let parsed = 0;
    for (const g of [GOLDEN_LIVE, GOLDEN_RECORD]) {
      for (let n = 0; n <= g.length; n++) {
        onlyParseError(() => {
          parseMediaPlaylist(g.slice(0, n));
          parsed++;
        });
      }
    }
    expect(parsed).toBeGreaterThan(GOLDEN_LIVE.length);
  });

  test('200 seeded random texts throw only ParseError', () => {
    const rnd = mulberry32(0x3e8);
    const pieces = ['#EXTM3U\n', '#EXTINF:', '3.5', ',', '\n', 'a.ts', '#EXT-X-MEDIA-SEQUENCE:', '#EXT-X-TARGETDURATION:', '-', '9'.repeat(20), '\r', '#EXT-X-DISCONTINUITY', '#EXT-X-ENDLIST', '\u0000', 'é'];
    for (let i = 0; i < 200; i++) {
      let s = i % 2 ? '#EXTM3U\n' : '';
      const n = Math.floor(rnd() * 40);
      for (let j = 0; j < n; j++) s += rnd() < 0.8 ? pieces[Math.floor(rnd() * pieces.length)] : String.fromCharCode(Math.floor(rnd() * 0x3000));
      onlyParseError(() => parseMediaPlaylist(s));
      onlyParseError(() => appendToRecordPlaylist(s, { fragment: goldenFragments[0], recordMax: 4.5 }));
    }
  });
});

test('calcM3u8Duration (upstream TestCalcM3u8Duration)', () => {
  const golden = `
#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:5
#EXT-X-MEDIA-SEQUENCE:0

#EXT-X-DISCONTINUITY
#EXTINF:4.000,
1607342284-0.ts
#EXTINF:4.000,
1607342288-1.ts
#EXTINF:3.333,
1607342292-2.ts
#EXTINF:4.000,
1607342295-3.ts
#EXTINF:4.867,
1607342299-4.ts
#EXTINF:3.133,
1607342304-5.ts
#EXTINF:4.000,
1607342307-6.ts
#EXTINF:3.800,
1607342311-7.ts
#EXTINF:4.800,
1607342315-8.ts
#EXTINF:3.267,
1607342320-9.ts
#EXT-X-ENDLIST
`;
  expect(calcM3u8Duration(golden)).toBe(39.2);
});

describe('writeVodPlaylist', () => {
  test('RFC 8216 VOD playlist: type, target duration, every fragment, ENDLIST', () => {
    const text = writeVodPlaylist(
      [
        { name: 'v-1-0.ts', duration: 3.0, discontinuity: true },
        { name: 'v-1-1.ts', duration: 3.52, discontinuity: false },
        { name: 'v-1-2.ts', duration: 2.96, discontinuity: true },
      ],
      3000,
    );
    expect(text.split('\n').slice(0, 5)).toEqual(['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-TARGETDURATION:4', '#EXT-X-MEDIA-SEQUENCE:0']);
    const pl = parseMediaPlaylist(text);
    expect(pl.endList).toBe(true);
    expect(pl.segments.map((s) => [s.uri, s.duration, s.discontinuity])).toEqual([
      ['v-1-0.ts', 3, false], // nothing precedes the first fragment of a VOD
      ['v-1-1.ts', 3.52, false],
      ['v-1-2.ts', 2.96, true],
    ]);
    for (const s of pl.segments) expect(Math.round(s.duration)).toBeLessThanOrEqual(pl.targetDuration!);
  });
});
