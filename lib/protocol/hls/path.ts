/**
 * HLS naming and request routing (docs/hls.md §1, docs/urls.md §8): fragment and playlist names on the
 * writing side, request path → stream name and file on the serving side.
 *
 *   <out_path>/<stream>/playlist.m3u8
 *   <out_path>/<stream>/record.m3u8
 *   <out_path>/<stream>/<stream>-<unix_ms>-<id>.ts
 *
 *   /hls/test110.m3u8                        → test110  <out>/test110/playlist.m3u8
 *   /hls/test110/playlist.m3u8               → test110  <out>/test110/playlist.m3u8
 *   /hls/test110/record.m3u8                 → test110  <out>/test110/record.m3u8
 *   /hls/test110/test110-1620540712084-0.ts  → test110  <out>/test110/test110-1620540712084-0.ts
 *   /hls/test110-1620540712084-0.ts          → test110  (same file)
 *
 * Security: a request can only ever name a file `<out_path>/<stream>/<file>` where the stream
 * name passes checkStreamName (docs/architecture.md §1.5) and both names are single path
 * components; every path is built by fileInside, which also proves it stays inside out_path.
 * Percent-escapes are decoded once, before splitting (docs/urls.md §2), and a path with any `.`/`..`
 * segment after decoding is refused, so `%2e%2e`, `..%2f` and friends never reach the file system.
 */
import { LalError } from '../../core/errors.ts';
import { checkStreamName, quoteName } from '../../core/stream-name.ts';
import { checkPathComponent, fileInside } from '../../core/safe-path.ts';

export const LIVE_PLAYLIST_NAME = 'playlist.m3u8';
export const RECORD_PLAYLIST_NAME = 'record.m3u8';

/** docs/hls.md §6: the Content-Type of each servable file type. */
export const HlsContentType = {
  m3u8: 'application/x-mpegurl',
  ts: 'video/mp2t',
} as const;

export type HlsFileType = keyof typeof HlsContentType;

export interface HlsRequestInfo {
  /** docs/urls.md §8 stream name (may contain `-`, `.` and non-ASCII). */
  streamName: string;
  /** File inside `<out_path>/<stream>/`: `playlist.m3u8`, `record.m3u8` or a fragment name. */
  fileName: string;
  fileType: HlsFileType;
  /** Which playlist an `.m3u8` request reads. */
  playlist?: 'live' | 'record';
  /**
   * docs/hls.md §7 `app_name` `[QUIRK]` (docs/quirks.md Q-HLS-3, kept): the directory part of the path after
   * the url pattern (`test110` for `/hls/test110/playlist.m3u8`, '' for `/hls/test110.m3u8`).
   */
  appName: string;
}

export interface HlsRequestError {
  error: 'invalid';
  /** Why, for the log line. */
  reason: string;
}

/** A request path longer than this is refused (browsers and players send far less). */
export const MAX_HLS_REQUEST_PATH = 8 * 1024;

/** docs/hls.md §1: `<stream>-<unix_ms>-<id>.ts`. */
export function hlsFragmentName(streamName: string, unixMs: number, id: number): string {
  return `${streamName}-${unixMs}-${id}.ts`;
}

/**
 * docs/urls.md §8: the stream a fragment name belongs to: the name up to (not including) its
 * second-to-last `-`; with fewer than two `-` the whole file name (which then finds nothing).
 */
export function streamNameOfFragment(fileName: string): string {
  const last = fileName.lastIndexOf('-');
  const second = last > 0 ? fileName.lastIndexOf('-', last - 1) : -1;
  return second >= 0 ? fileName.slice(0, second) : fileName;
}

function assertStreamName(name: string): void {
  const why = checkStreamName(name);
  if (why !== undefined) throw new LalError('hls-path', `hls: unsafe stream name ${quoteName(name)}: ${why}`);
}

/** `<out_path>/<stream>` (path-cleaned). Throws LalError for an unsafe stream name. */
export function hlsStreamDir(outPath: string, streamName: string): string {
  assertStreamName(streamName);
  return fileInside(outPath, streamName);
}

/**
 * `<out_path>/<stream>/<file>` (path-cleaned, as reported in `on_hls_make_ts`). Throws LalError
 * when the stream name is refused by checkStreamName, the file name is not one path component,
 * or the result would leave out_path (fileInside).
 */
export function hlsFilePath(outPath: string, streamName: string, fileName: string): string {
  assertStreamName(streamName);
  return fileInside(outPath, streamName, fileName);
}

function invalid(reason: string): HlsRequestError {
  return { error: 'invalid', reason };
}

/**
 * docs/urls.md §8: map a request path to the stream and the file to serve.
 *
 * `urlPath` is the path part of the request target **as sent** (percent-encoded; anything from
 * the first `?` on is ignored); it is decoded exactly once here. `urlPattern` is the HLS route
 * (`/hls/`). Invalid requests (docs/hls.md §6 step 5, and every traversal attempt) give
 * `{ error: 'invalid' }`; the server answers 404 (docs/quirks.md Q-HLS-1 FIX) and never touches the
 * file system.
 */
export function resolveHlsRequest(urlPath: string, urlPattern: string): HlsRequestInfo | HlsRequestError {
  const q = urlPath.indexOf('?');
  const raw = q >= 0 ? urlPath.slice(0, q) : urlPath;
  if (raw.length > MAX_HLS_REQUEST_PATH) return invalid(`path longer than ${MAX_HLS_REQUEST_PATH}`);
  if (!raw.startsWith('/')) return invalid('path is not absolute-path form');
  if (/[\\\0]/.test(raw)) return invalid('backslash or NUL in path');
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return invalid('bad percent-escape');
  }
  if (/[\\\0]/.test(path)) return invalid('backslash or NUL in decoded path');
  const pattern = urlPattern.endsWith('/') ? urlPattern : `${urlPattern}/`;
  if (!path.startsWith(pattern)) return invalid(`path not under ${pattern}`);

  const segments = path.slice(1).split('/');
  for (const s of segments) if (s === '.' || s === '..') return invalid('dot segment in path');
  const last = segments[segments.length - 1];
  const dirSegments = segments.slice(0, -1);
  if (last === '') return invalid('empty file name');
  const dot = last.lastIndexOf('.');
  const ext = dot >= 0 ? last.slice(dot + 1) : '';
  const appName = path.slice(pattern.length, Math.max(pattern.length, path.length - last.length - 1));

  let streamName: string;
  let fileName: string;
  let playlist: 'live' | 'record' | undefined;
  let fileType: HlsFileType;
  if (ext === 'm3u8') {
    fileType = 'm3u8';
    if (last === LIVE_PLAYLIST_NAME || last === RECORD_PLAYLIST_NAME) {
      streamName = dirSegments[dirSegments.length - 1] ?? '';
      fileName = last;
      playlist = last === RECORD_PLAYLIST_NAME ? 'record' : 'live';
    } else {
      streamName = last.slice(0, dot);
      fileName = LIVE_PLAYLIST_NAME;
      playlist = 'live';
    }
  } else if (ext === 'ts') {
    fileType = 'ts';
    streamName = streamNameOfFragment(last);
    fileName = last;
  } else {
    return invalid(`file type ${JSON.stringify(ext.slice(0, 20))} is neither m3u8 nor ts`);
  }
  const badStream = checkStreamName(streamName);
  if (badStream !== undefined) return invalid(`unusable stream name ${quoteName(streamName)}: ${badStream}`);
  const badFile = checkPathComponent(fileName);
  if (badFile !== undefined) return invalid(`unusable file name ${quoteName(fileName)}: ${badFile}`);
  return playlist ? { streamName, fileName, fileType, playlist, appName } : { streamName, fileName, fileType, appName };
}
