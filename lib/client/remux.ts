/**
 * `lal remux` as a library (issue #3; clients-and-demos.md §2.9 pullrtmp2hls, §3): FLV ⇄ MPEG-TS
 * file conversion, an HLS VOD (segments + `EXT-X-PLAYLIST-TYPE:VOD` playlist, RFC 8216 §4.3.3.5)
 * from a file, and live HLS from an `rtmp://` input (LAL's pullrtmp2hls: cleanup mode 0,
 * delete_threshold 0, 10 s start and read timeouts).
 *
 *   input  (by extension or scheme)            output (by extension)
 *   .flv   FlvReader → RtmpToAv                .flv    FLV tags (FLV/RTMP bodies forwarded as read)
 *   .ts    TsDemuxer → TsPesToAv → aligner     .ts     AvToMpegts (media.md §4)
 *   rtmp:// RtmpClientConn (play) → RtmpToAv   .m3u8   AvToMpegts → HlsMuxer (hls.md §2)
 *
 * Input files are mapped (Bun.mmap; read through node:fs where a mapping is refused) and parsed
 * in READ_CHUNK_SIZE pieces; outputs go through one WRITE_BUFFER_SIZE buffer with synchronous
 * writes (a handful of syscalls per MB), the TS remuxer packetising straight into it. An FLV
 * output, and a TS output that replaces an existing file, go to a hidden temporary file renamed
 * over the target on success; a new TS file is written in place (a Bun FileSink: no node:fs,
 * whose loading alone costs a tenth of an 8 MB conversion). On any failure (or an abort of a
 * file conversion) everything this run created is removed, so no partial output is left behind
 * and an existing file is only ever replaced by a complete one.
 *
 * HLS output `DIR/NAME.m3u8`: the muxer runs with `<out_path>/<stream>` = `DIR/NAME`, and a small
 * SegmentStore maps that directory onto DIR, so fragments are `DIR/NAME-<unix_ms>-<id>.ts`
 * (hls.md §1 naming). From a file the muxer's live and record playlists are not written; at the
 * end `DIR/NAME.m3u8` becomes a VOD playlist of every fragment. From rtmp:// the live playlist
 * (window of `fragmentNum`, hls.md §3) is `DIR/NAME.m3u8` and the record playlist (hls.md §4) is
 * `DIR/NAME-record.m3u8`; the run ends on the signal, the server closing, or the read timeout,
 * and the live playlist then gets `#EXT-X-ENDLIST`.
 *
 * TS → FLV: all tracks are shifted together so the earliest packet is at 0; H.265 is written
 * as enhanced RTMP `hvc1` (protocols.md §2.6: SequenceStart, then CodedFramesX, or CodedFrames
 * when a frame has a composition time), which ffmpeg ≥ 6.1 reads, rather than LAL's legacy codec
 * id 12 that stock ffmpeg does not know. → TS: the shared remuxer zero-bases audio and video
 * separately as LAL does (media.md §4.4), so a start offset between the tracks is not kept.
 */
import type * as NodeFs from 'node:fs';
import type * as NodePath from 'node:path';
import type { FileSink } from 'bun';
import { LalError, ParseError, errorText } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { MS_TO_TICKS, type AudioTrack, type AvPacket, type TrackInfo, type VideoTrack } from '../core/packet.ts';
import type { Amf0Value } from '../format/amf0/index.ts';
import { formatDuration, targetDuration, type PlaylistFragment } from '../format/m3u8/playlist.ts';
import type { TsDemuxEvent } from '../format/mpegts/demuxer.ts';
import type { HlsMuxer } from '../protocol/hls/muxer.ts';
import type { AppendHandle, SegmentStore } from '../protocol/hls/store.ts';
import type { AvToMpegts, AvToMpegtsStats, TsEvent } from '../remux/mpegts.ts';
import type { RtmpIngestResult } from '../remux/rtmp.ts';

// Each conversion loads only the modules it needs (`load*` below, in parallel): a CLI run is
// short enough that module loading is a visible share of it (an 8 MB FLV → TS takes tens of ms).
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
/** One object with the exports of every module (their names do not collide). */
async function merge<T extends readonly object[]>(mods: Promise<T>): Promise<UnionToIntersection<T[number]>> {
  return Object.assign({}, ...(await mods)) as UnionToIntersection<T[number]>;
}
const loadFlvIn = () => merge(Promise.all([import('../format/flv/reader.ts'), import('../remux/rtmp.ts')]));
const loadTsIn = () => import('../format/mpegts/demuxer.ts');
const loadRtmpIn = () =>
  merge(Promise.all([import('../protocol/rtmp/client-conn.ts'), import('../net/tcp.ts'), import('../protocol/rtmp/url.ts'), import('../core/log.ts'), import('../remux/rtmp.ts')]));
const loadFlvOut = () =>
  merge(
    Promise.all([
      import('../format/flv/header.ts'),
      import('../format/flv/tag.ts'),
      import('../format/flv/video-header.ts'),
      import('../remux/flv.ts'),
      import('../format/amf0/index.ts'),
      import('../codec/h265/index.ts'),
      import('../core/bytes.ts'),
      import('../core/version.ts'),
    ]),
  );
const loadTsOut = () => import('../remux/mpegts.ts');
const loadHlsOut = () =>
  merge(Promise.all([import('../protocol/hls/muxer.ts'), import('../protocol/hls/store.ts'), import('../protocol/hls/path.ts'), import('../remux/mpegts.ts')]));
type FlvOutModules = Awaited<ReturnType<typeof loadFlvOut>>;
type HlsModules = Awaited<ReturnType<typeof loadHlsOut>>;
type AvToMpegtsClass = typeof AvToMpegts;

/** Input read size: big enough that per-read overhead vanishes, small enough to stream 100 MB files. */
export const READ_CHUNK_SIZE = 1024 * 1024;
/**
 * Output buffer per open file: output goes to the kernel in writes of about this size. 256 KiB
 * stays in the CPU cache for the kernel's copy and costs 64 first-touch page faults rather than
 * 256; measured ~0.5 ms faster than 1 MiB on an 8 MB FLV → TS (bench/remux.ts), and 4 writes per MB.
 */
export const WRITE_BUFFER_SIZE = 256 * 1024;
/**
 * TS input: packets held while waiting for the first packet of every PMT stream, to rebase all
 * tracks on the earliest one. A muxer interleaves tracks within a second or so; 512 packets is
 * several seconds of media, and bounds the memory a TS with an empty declared stream can hold.
 */
export const MAX_ALIGN_PACKETS = 512;
/** pullrtmp2hls: the RTMP play must start within 10 s (clients-and-demos.md §2.9). */
export const RTMP_START_TIMEOUT_MS = 10_000;
/** pullrtmp2hls: 10 s without data from the server ends the run. */
export const RTMP_READ_TIMEOUT_MS = 10_000;
/** Live input: progress reported at most this often. */
const LIVE_PROGRESS_INTERVAL_MS = 250;
/** Live input: how often the start/read timeouts are checked. */
const LIVE_TICK_MS = 100;
/** File input: let the event loop run (signals, timers) after this many bytes read. */
const YIELD_EVERY_BYTES = 16 * 1024 * 1024;
/** Default HLS fragment duration and live window (config.md §3.7 shipped values, pullrtmp2hls flags). */
export const DEFAULT_FRAGMENT_MS = 3000;
export const DEFAULT_FRAGMENT_NUM = 6;
/** Enhanced-RTMP FourCC of H.265 (protocols.md §2.6). */
const FOURCC_HVC1 = Uint8Array.of(0x68, 0x76, 0x63, 0x31);
/** onMetaData `videocodecid` / `audiocodecid` values (FLV spec E.4.3.1 / E.4.2.1; FourCC for enhanced). */
const META_VIDEO_CODEC_ID = { h264: 7, h265: 0x68766331 } as const;
const META_AUDIO_CODEC_ID = { aac: 10, mp3: 2, g711a: 7, g711u: 8, opus: 13 } as const;

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

// ---- output files ---------------------------------------------------------------------------

/**
 * node:fs and node:path, loaded only by the conversions that need them (`loadFs`): loading them
 * takes ~2.5 ms, a tenth of an 8 MB FLV → new TS file run, which needs neither (Bun.mmap in, a
 * Bun FileSink out; `fileExtension`/`fileName` below for the kinds).
 */
let nodeFs: typeof NodeFs | undefined;
let nodePath: typeof NodePath | undefined;

async function loadFs(): Promise<typeof NodeFs> {
  nodePath ??= await import('node:path');
  return (nodeFs ??= await import('node:fs'));
}

function fs(): typeof NodeFs {
  if (!nodeFs) throw new Error('remux: node:fs used before loadFs()');
  return nodeFs;
}

function paths(): typeof NodePath {
  if (!nodePath) throw new Error('remux: node:path used before loadFs()');
  return nodePath;
}

/** A hidden temporary name beside `p` (created exclusively, renamed over `p` on success). */
function tempPathBeside(p: string): string {
  const { join, dirname, basename } = paths();
  return join(dirname(p), `.${basename(p)}.${process.pid}-${Math.random().toString(36).slice(2, 8)}.tmp`);
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

/** `a` and `b` name the same file (after loadFs). */
function sameFile(a: string, b: string): boolean {
  try {
    const sa = fs().statSync(a);
    const sb = fs().statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

function ioError(op: string, path: string, e: unknown): LalError {
  const code = (e as { code?: unknown } | null)?.code;
  const why = code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'permission denied' : code === 'ENOSPC' ? 'no space left on device' : errorText(e);
  return new LalError('remux-io', `remux: cannot ${op} ${path}: ${why}`, { cause: e });
}

/**
 * How an OutputFile reaches the disk:
 * - `temp`: a hidden file beside `path` (created exclusively) that `commit()` renames over it,
 *   so an existing file is only ever replaced by a complete one;
 * - `direct`: `path` itself through a Bun FileSink, deleted again by `discard()`; for a target
 *   that does not exist yet (a failed run still leaves nothing behind) and needs no node:fs;
 * - `plain`: `path` itself (HLS fragments, which the HLS store cleans up).
 * `temp` and `plain` need `loadFs()` first.
 */
type OutputMode = 'temp' | 'direct' | 'plain';

/**
 * A file written through one WRITE_BUFFER_SIZE buffer with synchronous writes: a handful of
 * syscalls per MB, and the same buffer pages every time (fresh memory costs a page fault per
 * 4 KiB). `reserve` lets a producer write straight into the buffer.
 */
class OutputFile implements AppendHandle {
  readonly writePath: string;
  private fd = -1;
  private sink: FileSink | undefined;
  private buf: Uint8Array | undefined;
  private used = 0;
  /** A `reserve`d region too large for the buffer, written on the next call. */
  private large: Uint8Array | undefined;
  /** Bytes already in the file. */
  private flushed = 0;
  private open = true;

  constructor(readonly path: string, readonly mode: OutputMode) {
    this.writePath = mode === 'temp' ? tempPathBeside(path) : path;
    try {
      if (mode === 'direct') this.sink = Bun.file(path).writer();
      else this.fd = fs().openSync(this.writePath, mode === 'temp' ? 'wx' : 'w');
    } catch (e) {
      throw ioError('create', path, e);
    }
  }

  get size(): number {
    return this.flushed + this.used + (this.large?.length ?? 0);
  }

  private buffer(): Uint8Array {
    return (this.buf ??= new Uint8Array(WRITE_BUFFER_SIZE));
  }

  write(b: Uint8Array): void {
    if (!this.open) throw new LalError('remux-io', `remux: write to closed file ${this.path}`);
    this.flushLarge();
    const buf = this.buffer();
    if (b.length > buf.length - this.used) {
      this.flush();
      if (b.length >= buf.length) {
        this.put(b);
        return;
      }
    }
    buf.set(b, this.used);
    this.used += b.length;
  }

  /**
   * Room for the next `n` bytes, to be filled by the caller before its next call on this file:
   * a view of the buffer (no allocation), or for more than the buffer holds a buffer of its own
   * that goes out on the next call.
   */
  reserve(n: number): Uint8Array {
    if (!this.open) throw new LalError('remux-io', `remux: write to closed file ${this.path}`);
    this.flushLarge();
    const buf = this.buffer();
    if (n > buf.length - this.used) {
      this.flush();
      if (n > buf.length) return (this.large = new Uint8Array(n));
    }
    const v = buf.subarray(this.used, this.used + n);
    this.used += n;
    return v;
  }

  /** Write `n` bytes produced by `fill(buf, off)` straight into the buffer (no allocation). */
  writeWith(n: number, fill: (buf: Uint8Array, off: number) => void): void {
    fill(this.reserve(n), 0);
  }

  /** Overwrite bytes already written at `at` (not in `direct` mode: a FileSink only appends). */
  patch(at: number, b: Uint8Array): void {
    if (this.sink) throw new Error('remux: patch() on an append-only output');
    this.flush();
    this.pwrite(b, at);
  }

  flush(): void {
    if (this.used > 0 && this.buf) {
      const n = this.used;
      this.used = 0;
      this.put(this.buf.subarray(0, n));
    }
    this.flushLarge();
  }

  /** A `reserve`d buffer larger than the write buffer (the buffer was empty when it was made). */
  private flushLarge(): void {
    const b = this.large;
    if (!b) return;
    this.large = undefined;
    this.put(b);
  }

  /** Append `b` to the file. */
  private put(b: Uint8Array): void {
    if (this.sink) this.append(this.sink, b);
    else this.pwrite(b, this.flushed);
    this.flushed += b.length;
  }

  private pwrite(b: Uint8Array, at: number): void {
    try {
      const { writeSync } = fs();
      for (let off = 0; off < b.length; ) off += writeSync(this.fd, b, off, b.length - off, at + off);
    } catch (e) {
      throw ioError('write', this.path, e);
    }
  }

  /**
   * FileSink write + flush: to a regular file both complete synchronously (a number), so the
   * buffer can be reused at once. A failure comes back as an already rejected promise.
   */
  private append(sink: FileSink, b: Uint8Array): void {
    let r = sink.write(b);
    if (typeof r === 'number') r = sink.flush();
    if (typeof r === 'number') return;
    r.catch(() => {});
    const err = Bun.peek.status(r) === 'rejected' ? Bun.peek(r) : new Error('the write did not complete synchronously');
    throw ioError('write', this.path, err);
  }

  /** Flush and close (AppendHandle: `plain` and `temp` files; a `direct` one closes in commit()). */
  close(): void {
    if (!this.open) return;
    if (this.sink) throw new Error('remux: close() on a direct output');
    this.flush();
    this.open = false;
    this.buf = undefined;
    try {
      fs().closeSync(this.fd);
    } catch (e) {
      throw ioError('close', this.path, e);
    }
  }

  /** Flush, close and, for `temp`, move the temporary file over `path`. */
  async commit(): Promise<void> {
    if (this.sink) {
      if (!this.open) return;
      this.flush();
      this.open = false;
      this.buf = undefined;
      try {
        await this.sink.end();
      } catch (e) {
        throw ioError('close', this.path, e);
      }
      return;
    }
    this.close();
    if (this.mode !== 'temp') return;
    try {
      // Unlink first: ext4 flushes the new file's data when a rename replaces an existing file
      // (auto_da_alloc), which costs more than the whole conversion of a small file.
      fs().rmSync(this.path, { force: true });
      fs().renameSync(this.writePath, this.path);
    } catch (e) {
      throw ioError('rename to', this.path, e);
    }
  }

  /** Close (ignoring errors) and delete what was written. */
  async discard(): Promise<void> {
    if (this.open) {
      this.open = false;
      this.buf = undefined;
      this.large = undefined;
      try {
        if (this.sink) await this.sink.end();
        else fs().closeSync(this.fd);
      } catch {
        /* already failing */
      }
    }
    (await loadFs()).rmSync(this.writePath, { force: true });
  }
}

// ---- frame accounting -----------------------------------------------------------------------

interface TrackClock {
  frames: number;
  first: number;
  prev: number;
  last: number;
}

/** Counts the frames handed to the output and the media time they span (90 kHz). */
class FrameCounter {
  readonly video: TrackClock = { frames: 0, first: 0, prev: 0, last: 0 };
  readonly audio: TrackClock = { frames: 0, first: 0, prev: 0, last: 0 };

  add(p: AvPacket): void {
    if (p.units.length === 0) return; // end-of-sequence markers and opaque codecs
    const c = p.kind === 'video' ? this.video : this.audio;
    if (c.frames === 0) c.first = c.last = c.prev = p.dts;
    else {
      c.prev = c.last;
      c.last = p.dts;
    }
    c.frames++;
  }

  private static span(c: TrackClock): number {
    if (c.frames === 0) return 0;
    return c.last - c.first + (c.last - c.prev);
  }

  get total(): number {
    return this.video.frames + this.audio.frames;
  }

  /** Longest track, ms. */
  get durationMs(): number {
    return Math.max(FrameCounter.span(this.video), FrameCounter.span(this.audio)) / MS_TO_TICKS;
  }
}

// ---- sinks ----------------------------------------------------------------------------------

/** Where packets go. `finish` completes the output; `abort` removes everything it created. */
interface Sink {
  tracks(t: TrackInfo): void;
  packet(p: AvPacket): void;
  finish(c: FrameCounter): void | Promise<void>;
  abort(): void | Promise<void>;
  readonly bytesOut: number;
  readonly segments: string[];
  warnings(): string[];
}

/** When the remuxer emitted no frame at all: what the input had instead. */
function assertTsOutput(s: AvToMpegtsStats, codecs: ReadonlySet<string>): void {
  if (s.videoFrames + s.audioFrames > 0) return;
  const why = tsWarnings(s);
  throw new LalError(
    'remux-unsupported',
    `remux: nothing MPEG-TS can carry in the input (codecs: ${[...codecs].join(', ') || 'none'}${why.length ? `; ${why.join('; ')}` : ''})`,
  );
}

function tsWarnings(s: AvToMpegtsStats): string[] {
  const w: string[] = [];
  if (s.unsupported) w.push(`${s.unsupported} frames of codecs MPEG-TS cannot carry were dropped`);
  if (s.noParameterSets) w.push(`${s.noParameterSets} video key frames before any SPS/PPS were dropped`);
  if (s.noAudioConfig) w.push(`${s.noAudioConfig} AAC frames before a usable AAC sequence header were dropped`);
  if (s.tooLarge) w.push(`${s.tooLarge} AAC frames too large for ADTS were dropped`);
  return w;
}

/** FLV file: header, onMetaData, sequence headers on every track change, one tag per packet. */
class FlvSink implements Sink {
  readonly segments: string[] = [];
  private readonly file: OutputFile;
  private current: TrackInfo = {};
  private started = false;
  private lastTimestamp = 0;
  private hasAudio = false;
  private hasVideo = false;
  /** Our generated onMetaData: where its body sits, to rewrite it with the final values. */
  private metaAt = -1;
  private metaFields: Record<string, Amf0Value> | undefined;

  constructor(private readonly m: FlvOutModules, path: string) {
    this.file = new OutputFile(path, 'temp');
    this.file.write(m.encodeFlvHeader({ audio: true, video: true }));
  }

  get bytesOut(): number {
    return this.file.size;
  }

  warnings(): string[] {
    return [];
  }

  /** One tag, encoded straight into the output buffer. */
  private tag(type: number, timestamp: number, body: Uint8Array): void {
    const m = this.m;
    this.file.writeWith(m.flvTagSize(body.length), (buf, off) => m.encodeFlvTagInto(type, timestamp, body, buf, off));
  }

  /** On the first event: our own onMetaData when the input brought none (TS input). */
  private start(t: TrackInfo): void {
    if (this.started) return;
    this.started = true;
    if (t.metadata) return;
    this.metaFields = metadataFields(this.m, t);
    const body = this.m.encodeAmf0('onMetaData', new this.m.Amf0EcmaArray(this.metaFields));
    this.metaAt = this.file.size + this.m.FLV_TAG_HEADER_SIZE;
    this.tag(this.m.FlvTagType.Script, 0, body);
  }

  tracks(t: TrackInfo): void {
    this.start(t);
    const prev = this.current;
    const type = this.m.FlvTagType;
    this.current = t;
    if (t.metadata && t.metadata !== prev.metadata) this.tag(type.Script, this.lastTimestamp, t.metadata);
    if (t.video && t.video !== prev.video) {
      const body = flvVideoSeqHeader(this.m, t.video);
      if (body) {
        this.tag(type.Video, this.lastTimestamp, body);
        this.hasVideo = true;
      }
    }
    if (t.audio && t.audio !== prev.audio) {
      const body = this.m.audioSeqHeaderBody(t.audio);
      if (body) {
        this.tag(type.Audio, this.lastTimestamp, body);
        this.hasAudio = true;
      }
    }
  }

  packet(p: AvPacket): void {
    this.start(this.current);
    const body = p.flvBody ?? (p.kind === 'video' && p.codec === 'h265' ? enhancedH265Body(this.m, p) : this.m.avPacketToFlvBody(p));
    const ts = Math.floor(p.dts / MS_TO_TICKS);
    this.lastTimestamp = ts;
    if (p.kind === 'video') this.hasVideo = true;
    else this.hasAudio = true;
    this.tag(p.kind === 'video' ? this.m.FlvTagType.Video : this.m.FlvTagType.Audio, ts, body);
  }

  async finish(c: FrameCounter): Promise<void> {
    const m = this.m;
    // FLV header flags as they turned out (byte 4), and our onMetaData's duration/filesize.
    this.file.patch(4, Uint8Array.of((this.hasAudio ? m.FlvHeaderFlag.Audio : 0) | (this.hasVideo ? m.FlvHeaderFlag.Video : 0)));
    if (this.metaFields && this.metaAt >= 0) {
      // Numbers are fixed-size in AMF0, so the new body has the old one's length.
      const f = { ...this.metaFields, duration: c.durationMs / 1000, filesize: this.file.size };
      this.file.patch(this.metaAt, m.encodeAmf0('onMetaData', new m.Amf0EcmaArray(f)));
    }
    await this.file.commit();
  }

  abort(): Promise<void> {
    return this.file.discard();
  }
}

/** onMetaData for outputs whose input had none (FLV spec E.5), duration/filesize patched at the end. */
function metadataFields(m: FlvOutModules, t: TrackInfo): Record<string, Amf0Value> {
  const o: Record<string, Amf0Value> = { duration: 0 };
  const v = t.video;
  if (v && (v.codec === 'h264' || v.codec === 'h265')) {
    o.width = v.width;
    o.height = v.height;
    o.videocodecid = META_VIDEO_CODEC_ID[v.codec];
  }
  const a = t.audio;
  if (a && a.codec !== 'other') {
    o.audiocodecid = META_AUDIO_CODEC_ID[a.codec];
    o.audiosamplerate = a.sampleRate;
    o.stereo = a.channels > 1;
  }
  o.encoder = `lal ${m.LAL_VERSION}`;
  o.filesize = 0;
  return o;
}

/** Video sequence header body: as received, enhanced `hvc1` for H.265, classic AVC otherwise. */
function flvVideoSeqHeader(m: FlvOutModules, v: VideoTrack): Uint8Array | undefined {
  if (v.flvSeqHeader) return v.flvSeqHeader;
  if (v.codec === 'h265') {
    const config = v.config ?? m.encodeHevcConfigRecord({ vps: v.vps ?? [], sps: v.sps, pps: v.pps });
    const out = new Uint8Array(5 + config.length);
    out[0] = m.FLV_EX_HEADER_BIT | (m.FlvVideoFrameType.Key << 4) | m.FlvExVideoPacketType.SequenceStart;
    out.set(FOURCC_HVC1, 1);
    out.set(config, 5);
    return out;
  }
  if (v.codec === 'h264' && v.sps.length > 0 && v.pps.length > 0) return m.videoSeqHeaderBody(v);
  return undefined;
}

/**
 * Enhanced RTMP coded frame: byte 0 = 1 FrameType PacketType, 'hvc1', then 4-byte-length NALUs.
 * PacketType 3 CodedFramesX (no composition time) when PTS = DTS, else 1 CodedFrames with an SI24
 * composition time. CodedFramesX also keeps ffmpeg 6.x readers working: they mis-size
 * CodedFrames tags of `hvc1` (ffprobe reports "Packet mismatch" and loses the stream).
 */
function enhancedH265Body(m: FlvOutModules, p: AvPacket): Uint8Array {
  const cts = Math.min(0x7fffff, Math.max(-0x800000, Math.round((p.pts - p.dts) / MS_TO_TICKS)));
  const head = cts === 0 ? 5 : 8;
  let size = head;
  for (const u of p.units) size += 4 + u.length;
  const out = new Uint8Array(size);
  const frameType = p.key ? m.FlvVideoFrameType.Key : m.FlvVideoFrameType.Inter;
  const packetType = cts === 0 ? m.FlvExVideoPacketType.CodedFramesX : m.FlvExVideoPacketType.CodedFrames;
  out[0] = m.FLV_EX_HEADER_BIT | (frameType << 4) | packetType;
  out.set(FOURCC_HVC1, 1);
  if (cts !== 0) m.putU24be(out, 5, cts & 0xffffff);
  let off = head;
  for (const u of p.units) {
    m.putU32be(out, off, u.length);
    out.set(u, off + 4);
    off += 4 + u.length;
  }
  return out;
}

/**
 * MPEG-TS file: PAT/PMT once, then every frame's TS packets (media.md §4), packetised straight
 * into the file's write buffer (the remuxer's `output`), so the events carry nothing to copy.
 */
class TsSink implements Sink {
  readonly segments: string[] = [];
  private readonly file: OutputFile;
  private readonly remuxer: AvToMpegts;
  private readonly codecs = new Set<string>();

  constructor(Remuxer: AvToMpegtsClass, path: string, mode: OutputMode, log: Logger | undefined) {
    const file = new OutputFile(path, mode);
    this.file = file;
    this.remuxer = new Remuxer({ log, output: { patPmt: (b) => file.write(b), reserve: (n) => file.reserve(n) } });
  }

  get bytesOut(): number {
    return this.file.size;
  }

  warnings(): string[] {
    return tsWarnings(this.remuxer.stats);
  }

  tracks(t: TrackInfo): void {
    this.remuxer.setTracks(t);
  }

  packet(p: AvPacket): void {
    this.codecs.add(p.codec);
    this.remuxer.push(p);
  }

  async finish(): Promise<void> {
    this.remuxer.end();
    assertTsOutput(this.remuxer.stats, this.codecs);
    await this.file.commit();
  }

  abort(): Promise<void> {
    return this.file.discard();
  }
}

/**
 * The SegmentStore behind `lal remux`'s HLS muxer: `<muxer dir>/x` ↦ `DIR/x`, the muxer's live and
 * record playlists renamed (or not written at all: `undefined`), fragments buffered, and every
 * file and directory it creates remembered so a failed run can remove them.
 */
class RemuxHlsStore implements SegmentStore {
  readonly created = new Set<string>();
  private createdDir: string | undefined;
  firstError: string | undefined;
  private readonly disk: SegmentStore;
  /** The muxer's own playlist names (hls.md §1). */
  private readonly names: { live: string; record: string };

  constructor(
    mods: HlsModules,
    private readonly muxerDir: string,
    readonly outDir: string,
    private readonly livePlaylist: string | undefined,
    private readonly recordPlaylist: string | undefined,
  ) {
    this.disk = new mods.DiskStore();
    this.names = { live: mods.LIVE_PLAYLIST_NAME, record: mods.RECORD_PLAYLIST_NAME };
  }

  /** Real path of a muxer path; undefined for a playlist this run does not write. */
  private map(p: string): string | undefined {
    const { normalize, dirname, basename, join } = paths();
    const n = normalize(p);
    if (n === normalize(this.muxerDir)) return this.outDir;
    if (dirname(n) !== normalize(this.muxerDir)) return p;
    const name = basename(n);
    const bak = name.endsWith('.bak') ? '.bak' : '';
    const bare = bak ? name.slice(0, -4) : name;
    if (bare === this.names.live) return this.livePlaylist && join(this.outDir, this.livePlaylist + bak);
    if (bare === this.names.record) return this.recordPlaylist && join(this.outDir, this.recordPlaylist + bak);
    return join(this.outDir, name);
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      this.firstError ??= errorText(e);
      throw e;
    }
  }

  mkdirp(dir: string): void {
    const d = this.map(dir)!;
    this.guard(() => {
      try {
        // the first directory created, or undefined when it existed
        this.createdDir ??= fs().mkdirSync(d, { recursive: true });
      } catch (e) {
        throw ioError('create directory', d, e);
      }
    });
  }

  writeFile(path: string, bytes: Uint8Array): void {
    const p = this.map(path);
    if (!p) return;
    this.guard(() => this.disk.writeFile(p, bytes));
    this.created.add(p);
  }

  openAppend(path: string): AppendHandle {
    const p = this.map(path)!;
    const f = this.guard(() => new OutputFile(p, 'plain'));
    this.created.add(p);
    return {
      write: (b) => this.guard(() => f.write(b)),
      close: () => this.guard(() => f.close()),
    };
  }

  readFile(path: string): Uint8Array | undefined {
    const p = this.map(path);
    return p ? this.guard(() => this.disk.readFile(p)) : undefined;
  }

  rename(from: string, to: string): void {
    const f = this.map(from);
    const t = this.map(to);
    if (!f || !t) return;
    this.guard(() => this.disk.rename(f, t));
    this.created.delete(f);
    this.created.add(t);
  }

  remove(path: string): void {
    const p = this.map(path);
    if (p) this.guard(() => this.disk.remove(p));
  }

  removeDir(dir: string): void {
    const d = this.map(dir);
    if (d) this.guard(() => this.disk.removeDir(d));
  }

  exists(path: string): boolean {
    const p = this.map(path);
    return p ? this.disk.exists(p) : false;
  }

  /** Remove every file this run created, then the directories it created (when empty). */
  cleanup(): void {
    for (const p of this.created) fs().rmSync(p, { force: true });
    this.created.clear();
    if (!this.createdDir) return;
    const { resolve, dirname } = paths();
    const top = resolve(this.createdDir);
    for (let d = resolve(this.outDir); ; d = dirname(d)) {
      try {
        fs().rmdirSync(d);
      } catch {
        return; // not empty (someone else's files) or gone
      }
      if (d === top || dirname(d) === d) return;
    }
  }
}

/** A VOD media playlist (RFC 8216 §4.3.3.5 `EXT-X-PLAYLIST-TYPE:VOD`, §4.3.3.4 ENDLIST) of `fragments`. */
export function writeVodPlaylist(fragments: readonly PlaylistFragment[], fragmentMs: number): string {
  const t = targetDuration(
    fragments.map((f) => f.duration),
    fragmentMs,
  );
  let s = `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:${t}\n#EXT-X-MEDIA-SEQUENCE:0\n\n`;
  fragments.forEach((f, i) => {
    // The muxer marks its first fragment discontinuous (hls.md §3); in a VOD there is nothing before it.
    if (f.discontinuity && i > 0) s += '#EXT-X-DISCONTINUITY\n';
    s += `#EXTINF:${formatDuration(f.duration)},\n${f.name}\n`;
  });
  return `${s}#EXT-X-ENDLIST\n`;
}

/** HLS output: AvToMpegts → HlsMuxer on a RemuxHlsStore; VOD playlist written at the end. */
class HlsSink implements Sink {
  private readonly remuxer: AvToMpegts;
  private readonly muxer: HlsMuxer;
  private readonly store: RemuxHlsStore;
  private readonly fragments: PlaylistFragment[] = [];
  private readonly discontinuity = new Map<number, boolean>();
  private readonly playlistPath: string;
  private playlistBytes = 0;
  private readonly codecs = new Set<string>();

  constructor(
    mods: HlsModules,
    output: string,
    private readonly vod: boolean,
    private readonly fragmentMs: number,
    fragmentNum: number,
    log: Logger | undefined,
  ) {
    const { dirname, basename, extname, join } = paths();
    const outDir = dirname(output);
    const name = basename(output, extname(output));
    if (name === '' || name.startsWith('.')) throw usage(`HLS output ${JSON.stringify(basename(output))} needs a playlist name (NAME.m3u8)`);
    this.playlistPath = output;
    // <out_path>/<stream> = DIR/NAME, which the store maps onto DIR.
    const muxerDir = join(outDir, name);
    this.store = new RemuxHlsStore(mods, muxerDir, outDir, vod ? undefined : `${name}.m3u8`, vod ? undefined : `${name}-record.m3u8`);
    this.remuxer = new mods.AvToMpegts({ log });
    const startedAt = Date.now();
    this.muxer = new mods.HlsMuxer({
      streamName: name,
      outPath: outDir,
      fragmentDurationMs: fragmentMs,
      fragmentNum,
      deleteThreshold: 0,
      cleanupMode: mods.HlsCleanupMode.Never,
      store: this.store,
      // A VOD's fragments all carry the run's start time: the wall clock says nothing about them.
      now: vod ? () => startedAt : Date.now,
      log,
      onMakeTs: (ev) => {
        if (ev.event === 'open') this.discontinuity.set(ev.id, this.muxer.current?.discontinuity ?? false);
        else {
          this.fragments.push({ name: basename(ev.tsFile), duration: ev.duration, discontinuity: this.discontinuity.get(ev.id) ?? false });
          this.discontinuity.delete(ev.id);
        }
      },
    });
    this.muxer.start();
    this.check();
  }

  get segments(): string[] {
    return this.fragments.map((f) => f.name);
  }

  get bytesOut(): number {
    let n = this.playlistBytes;
    for (const f of this.fragments) {
      try {
        n += fs().statSync(paths().join(this.store.outDir, f.name)).size;
      } catch {
        /* counted as 0 */
      }
    }
    return n;
  }

  warnings(): string[] {
    const w = tsWarnings(this.remuxer.stats);
    const d = this.muxer.stats.droppedFrames;
    if (d) w.push(`${d} frames before the first key frame were dropped (a fragment starts at a key frame)`);
    return w;
  }

  /** The muxer counts I/O errors instead of throwing (a server keeps going); a CLI run fails. */
  private check(): void {
    if (this.muxer.stats.ioErrors > 0) {
      throw new LalError('remux-io', `remux: writing HLS to ${this.store.outDir} failed: ${this.store.firstError ?? 'I/O error'}`);
    }
  }

  tracks(t: TrackInfo): void {
    this.remuxer.setTracks(t);
  }

  packet(p: AvPacket): void {
    this.codecs.add(p.codec);
    this.handle(this.remuxer.push(p));
  }

  private handle(events: TsEvent[]): void {
    for (let i = 0; i < events.length; i++) {
      const ev = events[i];
      if (ev.type === 'patpmt') this.muxer.setPatPmt(ev.bytes);
      else this.muxer.feed(ev.frame, () => this.remuxer.flushAudio());
    }
    this.check();
  }

  async finish(): Promise<void> {
    this.handle(this.remuxer.end());
    this.muxer.end();
    this.check();
    assertTsOutput(this.remuxer.stats, this.codecs);
    if (this.fragments.length === 0) {
      throw new LalError('remux-empty', 'remux: no HLS fragment was written (no video key frame or audio frame to start one)');
    }
    if (!this.vod) return;
    const text = new TextEncoder().encode(writeVodPlaylist(this.fragments, this.fragmentMs));
    const f = new OutputFile(this.playlistPath, 'temp');
    try {
      f.write(text);
      await f.commit();
    } catch (e) {
      await f.discard();
      throw e;
    }
    this.playlistBytes = text.length;
  }

  abort(): void {
    try {
      this.muxer.end();
    } catch {
      /* already failing */
    }
    this.store.cleanup();
  }
}

// ---- TS input: rebasing all tracks on the earliest packet ------------------------------------

/** What the pipeline hands the sink. */
interface PacketTarget {
  tracks(t: TrackInfo): void;
  packet(p: AvPacket): void;
}

type Queued = { tracks: TrackInfo; packet?: undefined } | { packet: AvPacket; tracks?: undefined };

/**
 * Holds events until every stream the PMT declares has sent a packet (at most MAX_ALIGN_PACKETS),
 * then shifts every timestamp by the earliest DTS seen, so an FLV written from a TS starts at 0
 * with its tracks still in sync. Every TrackInfo in the window is completed with the tracks
 * found later in it, so writers know all tracks before the first packet. A track that only starts after the limit, earlier than the base, is
 * clamped at 0 until it passes it (broken input; FLV timestamps cannot be negative).
 */
class TsAligner implements PacketTarget {
  private queue: Queued[] = [];
  private queuedPackets = 0;
  private base: number | undefined;
  private lastTracks: TrackInfo | undefined;
  private seenVideo = false;
  private seenAudio = false;

  constructor(
    private readonly next: PacketTarget,
    private readonly expected: () => { video: boolean; audio: boolean },
  ) {}

  tracks(t: TrackInfo): void {
    if (this.base !== undefined) return this.next.tracks(t);
    this.lastTracks = t;
    this.queue.push({ tracks: t });
  }

  packet(p: AvPacket): void {
    if (this.base !== undefined) return this.next.packet(this.shift(p));
    this.queue.push({ packet: p });
    this.queuedPackets++;
    if (p.kind === 'video') this.seenVideo = true;
    else this.seenAudio = true;
    const want = this.expected();
    if (((this.seenVideo || !want.video) && (this.seenAudio || !want.audio)) || this.queuedPackets >= MAX_ALIGN_PACKETS) this.release();
  }

  end(): void {
    if (this.base === undefined) this.release();
  }

  private shift(p: AvPacket): AvPacket {
    const dts = Math.max(0, p.dts - this.base!);
    return { ...p, dts, pts: dts + (p.pts - p.dts) };
  }

  private release(): void {
    let base = Infinity;
    for (const q of this.queue) if (q.packet && q.packet.dts < base) base = q.packet.dts;
    this.base = base === Infinity ? 0 : base;
    const queue = this.queue;
    this.queue = [];
    // Tracks that appear later in the window are already known to earlier TrackInfos (same
    // track objects, so writers see no change when the later TrackInfo arrives).
    const last = this.lastTracks;
    const fill = (t: TrackInfo): TrackInfo => (!last || t === last ? t : { ...t, video: t.video ?? last.video, audio: t.audio ?? last.audio });
    for (const q of queue) {
      if (q.packet) this.next.packet(this.shift(q.packet));
      else this.next.tracks(fill(q.tracks));
    }
  }
}

// ---- sources --------------------------------------------------------------------------------

interface SourceResult {
  bytesIn: number;
  stopped: boolean;
}

function aborted(what: string): LalError {
  return new LalError('aborted', `remux: ${what} interrupted; partial output removed`);
}

/** An input file: mapped into memory, or (where mapping is refused) read through node:fs. */
interface FileInput {
  path: string;
  size: number;
  map?: Uint8Array;
}

/**
 * Open `path` for reading. Bun.mmap is the fast way in: no read copies and no fresh buffers
 * (each fresh 4 KiB page costs a fault), parsers keep views into the mapping, and it needs no
 * node:fs. The mapping is private, and the file is only read, never written through it; a file
 * truncated by someone else during the run ends the process with SIGBUS. Empty and special
 * files (EINVAL), and files we may only read (EACCES: Bun maps read-write), are read instead.
 */
async function openInput(path: string): Promise<FileInput> {
  try {
    const map = Bun.mmap(path, { shared: false });
    return { path, size: map.length, map };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOENT') throw new LalError('remux-input', `remux: cannot read ${path}: no such file`);
    if (code === 'EISDIR') throw new LalError('remux-input', `remux: ${path} is not a regular file`);
  }
  let st;
  try {
    st = (await loadFs()).statSync(path);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new LalError('remux-input', `remux: cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : errorText(e)}`);
  }
  if (!st.isFile()) throw new LalError('remux-input', `remux: ${path} is not a regular file`);
  return { path, size: st.size };
}

/**
 * The input in READ_CHUNK_SIZE pieces: views of the mapping, or fresh buffers filled with
 * synchronous reads (from the page cache they cost less than a thread-pool round trip each;
 * parsers keep views into them, so none is reused). A macrotask break every YIELD_EVERY_BYTES
 * lets signals and timers run.
 */
async function* readChunks(input: FileInput): AsyncGenerator<Uint8Array> {
  let sinceYield = 0;
  const pause = async (n: number): Promise<void> => {
    sinceYield += n;
    if (sinceYield < YIELD_EVERY_BYTES) return;
    sinceYield = 0;
    await new Promise<void>((r) => setImmediate(r));
  };
  const { map, path } = input;
  if (map) {
    for (let off = 0; off < map.length; off += READ_CHUNK_SIZE) {
      yield map.subarray(off, off + READ_CHUNK_SIZE);
      await pause(READ_CHUNK_SIZE);
    }
    return;
  }
  const { openSync, readSync, closeSync } = fs();
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw ioError('read', path, e);
  }
  try {
    for (;;) {
      const buf = new Uint8Array(READ_CHUNK_SIZE);
      let n = 0;
      while (n < buf.length) {
        let got: number;
        try {
          got = readSync(fd, buf, n, buf.length - n, null);
        } catch (e) {
          throw ioError('read', path, e);
        }
        if (got === 0) break;
        n += got;
      }
      if (n === 0) return;
      yield n === buf.length ? buf : buf.subarray(0, n);
      if (n < buf.length) return;
      await pause(n);
    }
  } finally {
    closeSync(fd);
  }
}

/** Deliver one RtmpToAv result (FLV file or RTMP input). */
function deliverRtmp(r: RtmpIngestResult, target: PacketTarget): void {
  if (r.kind === 'tracks') target.tracks(r.tracks);
  else if (r.kind === 'packet') {
    if (r.tracksChanged) target.tracks(r.tracksChanged);
    target.packet(r.packet);
  }
}

type Progress = (bytesIn: number) => void;

async function readFlvFile(mods: ReturnType<typeof loadFlvIn>, input: FileInput, target: PacketTarget, opts: RemuxOptions, progress: Progress): Promise<SourceResult> {
  const m = await mods;
  const path = input.path;
  const reader = new m.FlvReader();
  const conv = new m.RtmpToAv();
  let bytesIn = 0;
  for await (const chunk of readChunks(input)) {
    if (opts.signal?.aborted) throw aborted(`conversion of ${path}`);
    bytesIn += chunk.length;
    let tags;
    try {
      tags = reader.feed(chunk);
    } catch (e) {
      if (e instanceof ParseError && !reader.header) throw new LalError('remux-input', `remux: ${path} is not an FLV file (${e.message})`);
      throw e;
    }
    for (let i = 0; i < tags.length; i++) deliverRtmp(conv.push(tags[i]), target);
    progress(bytesIn);
  }
  if (!reader.header) throw new LalError('remux-input', `remux: ${path} is not an FLV file (${bytesIn} bytes, shorter than an FLV header)`);
  if (reader.pendingBytes > 0) {
    throw new LalError('remux-input', `remux: ${path} is truncated: its last tag is incomplete (${reader.pendingBytes} bytes after the last whole tag)`);
  }
  return { bytesIn, stopped: false };
}

async function readTsFile(mods: ReturnType<typeof loadTsIn>, input: FileInput, target: PacketTarget, opts: RemuxOptions, progress: Progress): Promise<SourceResult> {
  const m = await mods;
  const path = input.path;
  const demuxer = new m.TsDemuxer();
  const conv = new m.TsPesToAv();
  const aligner = new TsAligner(target, () => {
    let video = false;
    let audio = false;
    for (const s of demuxer.pmtStreams) {
      if (s.codec === 'h264' || s.codec === 'h265') video = true;
      if (s.codec === 'aac' || s.codec === 'opus') audio = true;
    }
    return { video, audio };
  });
  const handle = (events: TsDemuxEvent[]): void => {
    for (let i = 0; i < events.length; i++) {
      const ev = events[i];
      if (ev.type !== 'pes') continue;
      const r = conv.push(ev);
      if (r.tracksChanged) aligner.tracks(r.tracksChanged);
      for (let j = 0; j < r.packets.length; j++) aligner.packet(r.packets[j]);
    }
  };
  let bytesIn = 0;
  for await (const chunk of readChunks(input)) {
    if (opts.signal?.aborted) throw aborted(`conversion of ${path}`);
    bytesIn += chunk.length;
    try {
      handle(demuxer.feed(chunk));
    } catch (e) {
      if (e instanceof ParseError && e.code === 'no-sync') throw new LalError('remux-input', `remux: ${path} is not an MPEG-TS file (${e.message})`);
      throw e;
    }
    progress(bytesIn);
  }
  const skippedBefore = demuxer.stats.skippedBytes;
  handle(demuxer.flush());
  aligner.end();
  if (demuxer.stats.packets === 0) throw new LalError('remux-input', `remux: ${path} is not an MPEG-TS file (no 188-byte packets starting with 0x47)`);
  const partial = demuxer.stats.skippedBytes - skippedBefore;
  if (partial > 0) throw new LalError('remux-input', `remux: ${path} is truncated: it ends with ${partial} bytes of an incomplete TS packet`);
  return { bytesIn, stopped: false };
}

/** pullrtmp2hls: play the URL, feed every media message until signal / close / read timeout. */
async function readRtmp(mods: ReturnType<typeof loadRtmpIn>, url: string, target: PacketTarget, opts: RemuxOptions, progress: Progress): Promise<SourceResult> {
  const m = await mods;
  const log = opts.log ?? m.silentLogger;
  let u;
  try {
    u = m.parseRtmpUrl(url);
  } catch (e) {
    throw usage(`bad input URL ${url}: ${errorText(e)}`);
  }
  const conv = new m.RtmpToAv();
  let bytesIn = 0;
  let lastDataAt = performance.now();
  let started = false;
  let media = 0;
  let settle!: (r: { error?: Error; stopped: boolean }) => void;
  const done = new Promise<{ error?: Error; stopped: boolean }>((res) => (settle = res));
  let finished = false;
  const end = (r: { error?: Error; stopped: boolean }): void => {
    if (finished) return;
    finished = true;
    settle(r);
  };
  let client: InstanceType<typeof m.RtmpClientConn> | undefined;
  let conn;
  try {
    conn = await m.connectTcp({
      host: u.host,
      port: u.port,
      tls: u.scheme === 'rtmps',
      handler: (c) => {
        client = new m.RtmpClientConn({
          sink: c.sink,
          log,
          url,
          mode: 'play',
          handler: {
            onStarted: () => {
              started = true;
            },
            onMedia: (msg) => {
              if (finished) return;
              try {
                const r = conv.push({ type: msg.type, timestamp: msg.timestamp, body: msg.body });
                if (r.kind === 'packet') media++;
                deliverRtmp(r, target);
              } catch (e) {
                end({ error: e instanceof Error ? e : new Error(String(e)), stopped: false });
              }
            },
            onError: (e) => end({ error: new LalError('remux-input', `remux: ${url}: ${e.message}`), stopped: false }),
          },
        });
        return {
          onData: (d) => {
            bytesIn += d.length;
            lastDataAt = performance.now();
            client!.feed(d);
          },
          onClose: (err) => {
            if (!started) end({ error: new LalError('remux-input', `remux: ${url}: connection closed before play started${err ? ` (${err.message})` : ''}`), stopped: false });
            else end({ stopped: false });
          },
        };
      },
    });
  } catch (e) {
    throw new LalError('remux-input', `remux: cannot connect to ${u.host}:${u.port}: ${errorText(e)}`);
  }
  client!.start();
  const startTimeout = opts.startTimeoutMs ?? RTMP_START_TIMEOUT_MS;
  const readTimeout = opts.readTimeoutMs ?? RTMP_READ_TIMEOUT_MS;
  const t0 = performance.now();
  let lastProgress = 0;
  const onAbort = (): void => end({ stopped: true });
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();
  const timer = setInterval(() => {
    const now = performance.now();
    if (!started && now - t0 > startTimeout) {
      end({ error: new LalError('remux-input', `remux: ${url}: play not started after ${startTimeout} ms`), stopped: false });
    } else if (now - lastDataAt > readTimeout) {
      end({ stopped: false }); // pullrtmp2hls: a read timeout ends the session
    }
    if (now - lastProgress >= LIVE_PROGRESS_INTERVAL_MS) {
      lastProgress = now;
      progress(bytesIn);
    }
  }, LIVE_TICK_MS);
  const r = await done;
  clearInterval(timer);
  opts.signal?.removeEventListener('abort', onAbort);
  client?.close();
  conn.sink.close();
  if (r.error) throw r.error;
  if (media === 0) throw new LalError('remux-input', `remux: ${url}: no audio or video received${r.stopped ? ' before the stop' : ''}`);
  return { bytesIn, stopped: r.stopped };
}

// ---- entry point ----------------------------------------------------------------------------

/** A promise awaited later: mark it handled now so an early failure elsewhere leaves no unhandled rejection. */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

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
  let input: FileInput | undefined;
  if (inputKind !== 'rtmp') input = await openInput(opts.input);
  const outputExists = await Bun.file(opts.output).exists();
  // Only an existing output can be the input (also through a link): compared by device and inode.
  if (input && outputExists) {
    await loadFs();
    if (sameFile(opts.input, opts.output)) throw usage('input and output are the same file');
  }
  const totalBytes = input?.size;

  // Start loading the input's modules now: the loader works on them and the sink's in parallel.
  let read: (target: PacketTarget, progress: Progress) => Promise<SourceResult>;
  if (inputKind === 'flv') {
    const mods = quiet(loadFlvIn());
    read = (t, p) => readFlvFile(mods, input!, t, opts, p);
  } else if (inputKind === 'ts') {
    const mods = quiet(loadTsIn());
    read = (t, p) => readTsFile(mods, input!, t, opts, p);
  } else {
    const mods = quiet(loadRtmpIn());
    read = (t, p) => readRtmp(mods, opts.input, t, opts, p);
  }

  let sink: Sink;
  if (outputKind === 'hls') {
    await loadFs();
    sink = new HlsSink(await loadHlsOut(), opts.output, inputKind !== 'rtmp', fragmentMs, fragmentNum, opts.log);
  } else if (outputKind === 'ts') {
    // A new file is written in place (no node:fs); an existing one is replaced by rename.
    if (outputExists) await loadFs();
    sink = new TsSink((await loadTsOut()).AvToMpegts, opts.output, outputExists ? 'temp' : 'direct', opts.log);
  } else {
    await loadFs();
    sink = new FlvSink(await loadFlvOut(), opts.output);
  }

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
    await sink.finish(counter);
  } catch (e) {
    await sink.abort();
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
    warnings: sink.warnings(),
  };
  const v = tracks.video;
  if (v && counter.video.frames > 0) summary.video = { codec: v.codec, width: v.width, height: v.height };
  const a: AudioTrack | undefined = tracks.audio;
  if (a && counter.audio.frames > 0) summary.audio = { codec: a.codec, sampleRate: a.sampleRate, channels: a.channels };
  return summary;
}
