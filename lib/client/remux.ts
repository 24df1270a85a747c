/**
 * `lal remux` as a library (issue #3; docs/clients-and-demos.md §2.9 pullrtmp2hls, §3): FLV ⇄
 * MPEG-TS file conversion, an HLS VOD (segments + `EXT-X-PLAYLIST-TYPE:VOD` playlist, RFC 8216
 * §4.3.3.5) from a file, and live HLS from an `rtmp://` input (LAL's pullrtmp2hls: cleanup mode
 * 0, delete_threshold 0, 10 s start and read timeouts). This file is the orchestration: it picks
 * the input (./_remux-input.ts) and the output (./_remux-output.ts) by extension or scheme,
 * counts frames, reports progress and builds the summary.
 *
 *   input (by extension or scheme)          output (by extension)
 *   .flv    FlvReader → RtmpToAv            .flv   AvToFlvFile → FlvFileWriter
 *   .ts     TsDemuxer → TsPesToAv → aligner .ts    AvToMpegts (docs/media.md §4)
 *   rtmp:// RTMP client session → RtmpToAv  .m3u8  AvToMpegts → HlsMuxer (docs/hls.md §2)
 *
 * On any failure (or an abort of a file conversion) everything this run created is removed, so
 * no partial output is left behind and an existing file is only ever replaced by a complete one.
 * A live run ends on the signal, the server closing, or the read timeout, and the live playlist
 * then gets `#EXT-X-ENDLIST`.
 *
 * TS → FLV: all tracks are shifted together so the earliest packet is at 0; H.265 is written
 * as enhanced RTMP `hvc1` (docs/protocols.md §2.6: SequenceStart, then CodedFramesX, or
 * CodedFrames when a frame has a composition time), which ffmpeg ≥ 6.1 reads, rather than LAL's
 * legacy codec id 12 that stock ffmpeg does not know. Timestamps become milliseconds through
 * `ticksToFlvMs`, as in the server. → TS: the shared remuxer zero-bases audio and video
 * separately as LAL does (docs/media.md §4.4), so a start offset between the tracks is not kept.
 */
import { statSync } from 'node:fs';
import { LalError, errorText } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { AudioTrack, TrackInfo } from '../core/packet.ts';
import type { PacketTarget } from '../remux/align.ts';
import { openInput, readFlvFile, readRtmp, readTsFile, type FileInput, type Progress, type SourceResult } from './_remux-input.ts';
import { FlvSink, FrameCounter, HlsSink, TsSink, type RemuxSink } from './_remux-output.ts';

export { READ_CHUNK_SIZE, RTMP_READ_TIMEOUT_MS, RTMP_START_TIMEOUT_MS } from './_remux-input.ts';
export { WRITE_BUFFER_SIZE } from './_remux-output.ts';

/** Default HLS fragment duration and live window (docs/config.md §3.7 values, pullrtmp2hls flags). */
export const DEFAULT_FRAGMENT_MS = 3000;
export const DEFAULT_FRAGMENT_NUM = 6;

export type RemuxInputKind = 'flv' | 'ts' | 'rtmp';
export type RemuxOutputKind = 'flv' | 'ts' | 'hls';

export interface RemuxOptions {
  /** `in.flv`, `in.ts`, or `rtmp[s]://host[:port]/app/stream`. */
  input: string;
  /** `out.flv`, `out.ts`, or `DIR/NAME.m3u8` (HLS). */
  output: string;
  /** HLS fragment duration in ms (default 3000). */
  fragmentMs?: number;
  /** HLS live playlist window in fragments (default 6; rtmp:// input only). */
  fragmentNum?: number;
  /**
   * Stops the run. Live input: the output is finished normally (playlist ENDLIST). File input:
   * the conversion is abandoned, its output removed, and remux() rejects with code `aborted`.
   */
  signal?: AbortSignal;
  /** Called after each input chunk (file) or at most every 250 ms (live). */
  onProgress?: (p: RemuxProgress) => void;
  /** Warnings of the converters (dropped frames …); silent when absent. */
  log?: Logger;
  /** rtmp:// input: start timeout (default 10 s). */
  startTimeoutMs?: number;
  /** rtmp:// input: end the run after this long without data (default 10 s). */
  readTimeoutMs?: number;
}

export interface RemuxProgress {
  bytesIn: number;
  /** File input size; undefined for live input. */
  totalBytes?: number;
  videoFrames: number;
  audioFrames: number;
  /** Media time read so far, ms. */
  mediaMs: number;
}

export interface RemuxSummary {
  input: string;
  output: string;
  inputKind: RemuxInputKind;
  outputKind: RemuxOutputKind;
  video?: { codec: string; width: number; height: number };
  audio?: { codec: string; sampleRate: number; channels: number };
  /** Video / audio frames read from the input and handed to the output. */
  videoFrames: number;
  audioFrames: number;
  /** Media duration (longest track: last − first timestamp + one frame), ms. */
  durationMs: number;
  bytesIn: number;
  /** Bytes written (all segments and the playlist for HLS). */
  bytesOut: number;
  elapsedMs: number;
  /** HLS: fragment file names in DIR, in playlist order. */
  segments: string[];
  /** Live input ended by the signal (rather than by the server or the read timeout). */
  stopped: boolean;
  /** Frames the output could not carry, frames before the first HLS boundary, … */
  warnings: string[];
}

function usage(msg: string): LalError {
  return new LalError('remux-usage', `remux: ${msg}`);
}

/** The input kind of a path or URL; throws LalError(`remux-usage`) for anything else. */
export function remuxInputKind(input: string): RemuxInputKind {
  if (/^rtmps?:\/\//i.test(input)) return 'rtmp';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) throw usage(`unsupported input URL ${input} (rtmp:// or rtmps:// only)`);
  const ext = fileExtension(input);
  if (ext === '.flv') return 'flv';
  if (ext === '.ts') return 'ts';
  throw usage(`unknown input format ${JSON.stringify(fileName(input))} (expected .flv, .ts or an rtmp:// URL)`);
}

/** The output kind of a path; throws LalError(`remux-usage`) for anything else. */
export function remuxOutputKind(output: string): RemuxOutputKind {
  const ext = fileExtension(output);
  if (ext === '.flv') return 'flv';
  if (ext === '.ts') return 'ts';
  if (ext === '.m3u8') return 'hls';
  throw usage(`unknown output format ${JSON.stringify(fileName(output))} (expected .flv, .ts or .m3u8)`);
}

/** The last segment of a path (as node:path basename, for messages; `/` or `\\` separated). */
function fileName(p: string): string {
  return p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);
}

/** The lower-cased extension of the last segment, `.ts` (node:path extname rules: `.ts` alone has none). */
function fileExtension(p: string): string {
  const name = fileName(p);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot).toLowerCase() : '';
}

/** `a` and `b` name the same file (device and inode: also through a link). */
function sameFile(a: string, b: string): boolean {
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

// ---- entry point ----------------------------------------------------------------------------

function positiveInt(v: number | undefined, def: number, what: string): number {
  if (v === undefined) return def;
  if (!Number.isInteger(v) || v <= 0) throw usage(`${what} must be a positive integer, got ${v}`);
  return v;
}

/**
 * Convert `input` into `output` (see the file comment). Resolves with a summary; rejects with a
 * LalError whose message is one line (`remux: …`) after removing everything it wrote.
 */
export async function remux(opts: RemuxOptions): Promise<RemuxSummary> {
  const t0 = performance.now();
  const inputKind = remuxInputKind(opts.input);
  const outputKind = remuxOutputKind(opts.output);
  const fragmentMs = positiveInt(opts.fragmentMs, DEFAULT_FRAGMENT_MS, 'fragment duration (ms)');
  const fragmentNum = positiveInt(opts.fragmentNum, DEFAULT_FRAGMENT_NUM, 'fragment count');
  const input: FileInput | undefined = inputKind === 'rtmp' ? undefined : openInput(opts.input);
  // Only an existing output can be the input (also through a link): compared by device and inode.
  if (input && sameFile(opts.input, opts.output)) throw usage('input and output are the same file');
  const totalBytes = input?.size;

  let read: (target: PacketTarget, progress: Progress) => Promise<SourceResult>;
  if (inputKind === 'flv') read = (t, p) => readFlvFile(input!, t, opts, p);
  else if (inputKind === 'ts') read = (t, p) => readTsFile(input!, t, opts, p);
  else read = (t, p) => readRtmp(opts.input, t, opts, p);

  let sink: RemuxSink;
  if (outputKind === 'hls') sink = new HlsSink(opts.output, inputKind !== 'rtmp', fragmentMs, fragmentNum, opts.log);
  else if (outputKind === 'ts') sink = new TsSink(opts.output, opts.log);
  else sink = new FlvSink(opts.output);

  const counter = new FrameCounter();
  let tracks: TrackInfo = {};
  const target: PacketTarget = {
    tracks: (t) => {
      tracks = t;
      sink.tracks(t);
    },
    packet: (p) => {
      counter.add(p);
      sink.packet(p);
    },
  };
  const progress = (bytesIn: number): void => {
    opts.onProgress?.({ bytesIn, totalBytes, videoFrames: counter.video.frames, audioFrames: counter.audio.frames, mediaMs: counter.durationMs });
  };

  let res: SourceResult;
  try {
    res = await read(target, progress);
    if (counter.total === 0) throw new LalError('remux-empty', `remux: ${opts.input}: no audio or video frames found`);
    sink.finish(counter);
  } catch (e) {
    sink.abort();
    if (e instanceof LalError && e.message.startsWith('remux:')) throw e;
    throw new LalError(e instanceof LalError ? e.code : 'remux', `remux: ${opts.input}: ${errorText(e)}`, { cause: e });
  }

  const summary: RemuxSummary = {
    input: opts.input,
    output: opts.output,
    inputKind,
    outputKind,
    videoFrames: counter.video.frames,
    audioFrames: counter.audio.frames,
    durationMs: counter.durationMs,
    bytesIn: res.bytesIn,
    bytesOut: sink.bytesOut,
    elapsedMs: performance.now() - t0,
    segments: sink.segments,
    stopped: res.stopped,
    warnings: [...(res.warnings ?? []), ...sink.warnings()],
  };
  const v = tracks.video;
  if (v && counter.video.frames > 0) summary.video = { codec: v.codec, width: v.width, height: v.height };
  const a: AudioTrack | undefined = tracks.audio;
  if (a && counter.audio.frames > 0) summary.audio = { codec: a.codec, sampleRate: a.sampleRate, channels: a.channels };
  return summary;
}
