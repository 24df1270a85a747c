/**
 * HLS media playlists (RFC 8216 §4.3) as LAL writes them: the sliding live playlist
 * (`playlist.m3u8`, docs/hls.md §3), the ever-growing record playlist (`record.m3u8`, docs/hls.md §4,
 * created and updated as pure text functions), and a small media-playlist parser for tests and
 * for the HLS relay.
 *
 * Live playlist, every line ending in `\n`:
 *
 *   #EXTM3U
 *   #EXT-X-VERSION:3
 *   #EXT-X-ALLOW-CACHE:NO
 *   #EXT-X-TARGETDURATION:<T>
 *   #EXT-X-MEDIA-SEQUENCE:<S>
 *   <empty line>
 *   [#EXT-X-DISCONTINUITY]
 *   #EXTINF:<duration %.3f>,
 *   <fragment file name>
 *   ...
 *   [#EXT-X-ENDLIST]
 */
import { ParseError } from '../../core/errors.ts';

/** One fragment as listed in a playlist. */
export interface PlaylistFragment {
  /** Bare file name, relative to the playlist (`test110-1642375465000-2.ts`). */
  name: string;
  /** Seconds, unrounded; printed with three decimals. */
  duration: number;
  /** Preceded by `#EXT-X-DISCONTINUITY`. */
  discontinuity: boolean;
}

export interface LivePlaylist {
  /** The window, oldest first (docs/hls.md §3: the last `min(closed, fragment_num)` closed fragments). */
  fragments: readonly PlaylistFragment[];
  /** `#EXT-X-MEDIA-SEQUENCE`: id of the first fragment of the window. */
  mediaSequence: number;
  /** Configured `fragment_duration_ms`; the start value of the TARGETDURATION walk. */
  targetDurationMs: number;
  /** Input ended: append `#EXT-X-ENDLIST`. */
  ended: boolean;
}

/** Record playlist header/ending text, shared by create and append. */
const TARGET_DURATION_TAG = '#EXT-X-TARGETDURATION:';
const ENDLIST_LINE = '#EXT-X-ENDLIST\n';
const DISCONTINUITY_LINE = '#EXT-X-DISCONTINUITY\n';

/**
 * A playlist longer than this is refused by the parser. A week-long record playlist at 3 s
 * fragments is about 200k entries of ~60 characters, i.e. 12 MB.
 */
export const MAX_MEDIA_PLAYLIST_CHARS = 16 * 1024 * 1024;

/**
 * `%.3f` exactly as Go's fmt prints it: the nearest 3-decimal value of the exact binary number,
 * ties to even. `Number.prototype.toFixed` rounds exact ties up instead, and durations such as
 * 3.0625 s (275625 ticks of 90 kHz) are exact ties.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  const neg = seconds < 0;
  const x = Math.abs(seconds);
  // A tie k + 0.5 at the 3rd decimal is (2k+1)/2000, a binary fraction only when it is a multiple
  // of 1/16; multiplying by 16 is exact, so this finds every tie.
  const sixteenths = x * 16;
  if (Number.isInteger(sixteenths) && sixteenths <= Number.MAX_SAFE_INTEGER / 1000) {
    const thousandths2 = sixteenths * 125; // = 2 × x × 1000, an exact integer here
    if (thousandths2 % 2 === 1) {
      const lo = (thousandths2 - 1) / 2;
      const n = lo % 2 === 0 ? lo : lo + 1;
      const s = `${Math.floor(n / 1000)}.${String(n % 1000).padStart(3, '0')}`;
      return neg && n !== 0 ? `-${s}` : s;
    }
  }
  const s = x.toFixed(3);
  return neg && s !== '0.000' ? `-${s}` : s;
}

/**
 * docs/hls.md §3 TARGETDURATION: start with `m = fragment_duration_ms / 1000`; walk the window in
 * order and whenever a duration `d > m` set `m = d + 0.5`; the answer is `floor(m)`.
 */
export function targetDuration(durations: readonly number[], fragmentDurationMs: number): number {
  let m = fragmentDurationMs / 1000;
  for (const d of durations) if (d > m) m = d + 0.5;
  return Math.floor(m);
}

/** The `#EXTINF` line and file name of one fragment, with its optional discontinuity tag. */
function fragmentLines(f: PlaylistFragment): string {
  return `${f.discontinuity ? DISCONTINUITY_LINE : ''}#EXTINF:${formatDuration(f.duration)},\n${f.name}\n`;
}

/** docs/hls.md §3: the live playlist text. */
export function writeLivePlaylist(p: LivePlaylist): string {
  const t = targetDuration(
    p.fragments.map((f) => f.duration),
    p.targetDurationMs,
  );
  let s = `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-ALLOW-CACHE:NO\n${TARGET_DURATION_TAG}${t}\n#EXT-X-MEDIA-SEQUENCE:${p.mediaSequence}\n\n`;
  for (const f of p.fragments) s += fragmentLines(f);
  if (p.ended) s += ENDLIST_LINE;
  return s;
}

/**
 * A VOD media playlist of `fragments` (RFC 8216 §4.3.3.5 `EXT-X-PLAYLIST-TYPE:VOD`, §4.3.3.4
 * ENDLIST), as `lal remux` writes for a file: the live playlist's header and TARGETDURATION walk
 * (docs/hls.md §3), media sequence 0, every fragment. The HLS muxer marks its first fragment
 * discontinuous (docs/hls.md §3); in a VOD nothing precedes it, so that mark is not written.
 */
export function writeVodPlaylist(fragments: readonly PlaylistFragment[], fragmentDurationMs: number): string {
  const t = targetDuration(
    fragments.map((f) => f.duration),
    fragmentDurationMs,
  );
  let s = `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n${TARGET_DURATION_TAG}${t}\n#EXT-X-MEDIA-SEQUENCE:0\n\n`;
  fragments.forEach((f, i) => (s += fragmentLines(i === 0 && f.discontinuity ? { ...f, discontinuity: false } : f)));
  return s + ENDLIST_LINE;
}

/**
 * docs/hls.md §4 running maximum of the record playlist: when a closed fragment has `d > r`,
 * `r = d + 0.5` (r starts at 0 for each muxer). Returns the new `r`.
 */
export function updateRecordMax(r: number, duration: number): number {
  return duration > r ? duration + 0.5 : r;
}

export interface RecordEntry {
  fragment: PlaylistFragment;
  /** The muxer's running maximum `r` after this fragment (see `updateRecordMax`). */
  recordMax: number;
}

/** docs/hls.md §4: a new `record.m3u8` holding one fragment. */
export function createRecordPlaylist(e: RecordEntry): string {
  return (
    `#EXTM3U\n#EXT-X-VERSION:3\n${TARGET_DURATION_TAG}${Math.floor(e.recordMax)}\n#EXT-X-MEDIA-SEQUENCE:0\n\n` +
    fragmentLines(e.fragment) +
    ENDLIST_LINE
  );
}

/**
 * docs/hls.md §4: append one fragment to an existing `record.m3u8`: drop a trailing
 * `#EXT-X-ENDLIST\n`, raise (never lower) `#EXT-X-TARGETDURATION` to `floor(recordMax)`, append
 * the optional discontinuity, the `#EXTINF` line and the name, then `#EXT-X-ENDLIST\n` again.
 * Throws ParseError when the first TARGETDURATION tag is missing, has no line end, or its value
 * is not an integer (the caller skips the update and logs, as upstream does).
 */
export function appendToRecordPlaylist(existing: string, e: RecordEntry): string {
  let text = existing.endsWith(ENDLIST_LINE) ? existing.slice(0, -ENDLIST_LINE.length) : existing;
  const at = text.indexOf(TARGET_DURATION_TAG);
  if (at < 0) throw new ParseError('m3u8: record playlist has no #EXT-X-TARGETDURATION line');
  const valueAt = at + TARGET_DURATION_TAG.length;
  const eol = text.indexOf('\n', valueAt);
  if (eol < 0) throw new ParseError('m3u8: record playlist #EXT-X-TARGETDURATION line has no line end');
  const old = text.slice(valueAt, eol);
  if (!/^[+-]?\d{1,15}$/.test(old)) {
    throw new ParseError(`m3u8: record playlist #EXT-X-TARGETDURATION value ${JSON.stringify(old.slice(0, 40))} is not an integer`);
  }
  const want = Math.floor(e.recordMax);
  if (want > Number(old)) text = text.slice(0, valueAt) + String(want) + text.slice(eol);
  return text + fragmentLines(e.fragment) + ENDLIST_LINE;
}

// ---------------------------------------------------------------------------------------------
// Parsing

export interface MediaSegment {
  uri: string;
  /** `#EXTINF` duration in seconds. */
  duration: number;
  /** `#EXTINF` title (text after the comma, '' when none). */
  title: string;
  /** Preceded by `#EXT-X-DISCONTINUITY`. */
  discontinuity: boolean;
  /** Media sequence number of this segment (`mediaSequence` + index). */
  sequence: number;
}

export interface MediaPlaylist {
  version?: number;
  targetDuration?: number;
  /** `#EXT-X-MEDIA-SEQUENCE`, 0 when absent (RFC 8216 §4.3.3.2). */
  mediaSequence: number;
  /** `#EXT-X-ALLOW-CACHE` value (`YES`/`NO`) when present (removed in later RFC drafts). */
  allowCache?: string;
  segments: MediaSegment[];
  endList: boolean;
}

const DECIMAL_INTEGER = /^\d{1,15}$/;
const DECIMAL_FLOAT = /^\d{1,15}(\.\d{0,15})?$/;

function parseIntTag(line: string, tag: string): number {
  const v = line.slice(tag.length).trim();
  if (!DECIMAL_INTEGER.test(v)) throw new ParseError(`m3u8: ${tag} value ${JSON.stringify(v.slice(0, 40))} is not a decimal integer`);
  return Number(v);
}

/**
 * Parse a media playlist (RFC 8216 §4.3; `\n` or `\r\n` line ends). Keeps what LAL writes and an
 * HLS relay needs: EXTINF durations and titles, sequence numbers, discontinuities, ENDLIST.
 * Unknown tags and comments are ignored. Throws ParseError on a missing `#EXTM3U`, bad numbers,
 * a URI without `#EXTINF`, or a text longer than MAX_MEDIA_PLAYLIST_CHARS.
 */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  if (text.length > MAX_MEDIA_PLAYLIST_CHARS) {
    throw new ParseError(`m3u8: playlist of ${text.length} characters exceeds ${MAX_MEDIA_PLAYLIST_CHARS}`);
  }
  const lines = text.split('\n');
  const first = (lines[0] ?? '').replace(/^\uFEFF/, '').trimEnd();
  if (first !== '#EXTM3U') throw new ParseError('m3u8: playlist does not start with #EXTM3U');
  const pl: MediaPlaylist = { mediaSequence: 0, segments: [], endList: false };
  let pendingInf: { duration: number; title: string } | undefined;
  let pendingDiscontinuity = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    if (line.startsWith('#EXTINF:')) {
      const body = line.slice('#EXTINF:'.length);
      const comma = body.indexOf(',');
      const d = (comma >= 0 ? body.slice(0, comma) : body).trim();
      if (!DECIMAL_FLOAT.test(d)) throw new ParseError(`m3u8: line ${i + 1}: #EXTINF duration ${JSON.stringify(d.slice(0, 40))} is not a number`);
      pendingInf = { duration: Number(d), title: comma >= 0 ? body.slice(comma + 1) : '' };
    } else if (line === '#EXT-X-DISCONTINUITY') {
      pendingDiscontinuity = true;
    } else if (line.startsWith('#EXT-X-TARGETDURATION:')) {
      pl.targetDuration = parseIntTag(line, '#EXT-X-TARGETDURATION:');
    } else if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) {
      pl.mediaSequence = parseIntTag(line, '#EXT-X-MEDIA-SEQUENCE:');
    } else if (line.startsWith('#EXT-X-VERSION:')) {
      pl.version = parseIntTag(line, '#EXT-X-VERSION:');
    } else if (line.startsWith('#EXT-X-ALLOW-CACHE:')) {
      pl.allowCache = line.slice('#EXT-X-ALLOW-CACHE:'.length).trim();
    } else if (line === '#EXT-X-ENDLIST') {
      pl.endList = true;
    } else if (line.startsWith('#')) {
      // Other tags (RFC 8216 says to ignore unknown ones) and comments.
    } else {
      if (!pendingInf) throw new ParseError(`m3u8: line ${i + 1}: segment uri ${JSON.stringify(line.slice(0, 80))} without #EXTINF`);
      pl.segments.push({
        uri: line,
        duration: pendingInf.duration,
        title: pendingInf.title,
        discontinuity: pendingDiscontinuity,
        sequence: 0,
      });
      pendingInf = undefined;
      pendingDiscontinuity = false;
    }
  }
  pl.segments.forEach((seg, i) => (seg.sequence = pl.mediaSequence + i));
  return pl;
}

/**
 * Sum of all `#EXTINF` durations in seconds (upstream `CalcM3u8Duration`: the durations the
 * playlist claims, not the media's). Throws ParseError on a malformed playlist.
 */
export function calcM3u8Duration(text: string): number {
  let sum = 0;
  for (const s of parseMediaPlaylist(text.replace(/^\s+/, '')).segments) sum += s.duration;
  return sum;
}
