/**
 * The outputs of `lal remux` (lib/client/remux.ts): where converted packets go, each one
 * finished (`finish`) or removed with everything it created (`abort`).
 *
 *   .flv    AvToFlvFile → FlvFileWriter (buffered, atomic; onMetaData patched when built here)
 *   .ts     AvToMpegts packetising straight into a FileWriter's buffer (atomic)
 *   .m3u8   AvToMpegts → HlsMuxer on an OutputDirStore; a VOD playlist for a file input
 *
 * Files go through one WRITE_BUFFER_SIZE buffer with synchronous writes (a handful of syscalls
 * per MB) to a hidden temporary file renamed over the target on success, so an existing file is
 * only ever replaced by a complete one and a failed run leaves nothing behind.
 */
import { statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { LalError } from '../core/errors.ts';
import { FileWriter } from '../core/file-writer.ts';
import type { Logger } from '../core/log.ts';
import { MS_TO_TICKS, type AvPacket, type TrackInfo } from '../core/packet.ts';
import { FlvFileWriter } from '../format/flv/file.ts';
import { writeVodPlaylist, type PlaylistFragment } from '../format/m3u8/playlist.ts';
import { HlsCleanupMode, HlsMuxer } from '../protocol/hls/muxer.ts';
import { OutputDirStore } from '../protocol/hls/store.ts';
import { AvToFlvFile } from '../remux/flv.ts';
import { AvToMpegts, type AvToMpegtsStats, type TsEvent } from '../remux/mpegts.ts';

/**
 * Output buffer per open file: output goes to the kernel in writes of about this size. 256 KiB
 * stays in the CPU cache for the kernel's copy and costs 64 first-touch page faults rather than
 * 256; measured ~0.5 ms faster than 1 MiB on an 8 MB FLV → TS (bench/remux.ts), and 4 writes per MB.
 */
export const WRITE_BUFFER_SIZE = 256 * 1024;

interface TrackClock {
  frames: number;
  first: number;
  prev: number;
  last: number;
}

/** Counts the frames handed to the output and the media time they span (90 kHz). */
export class FrameCounter {
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

  /** Longest track: last − first timestamp + one frame, ms. */
  get durationMs(): number {
    return Math.max(FrameCounter.span(this.video), FrameCounter.span(this.audio)) / MS_TO_TICKS;
  }
}

/** Where packets go. `finish` completes the output; `abort` removes everything it created. */
export interface RemuxSink {
  tracks(t: TrackInfo): void;
  packet(p: AvPacket): void;
  finish(c: FrameCounter): void;
  abort(): void;
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

/**
 * FLV file. Tags are encoded straight into the write buffer; a write error stops the run (the
 * writer reports it, this sink throws it). Our own onMetaData (TS input) gets its duration and
 * filesize patched; an input's onMetaData is forwarded as read.
 */
export class FlvSink implements RemuxSink {
  readonly segments: string[] = [];
  private readonly file: FlvFileWriter;
  private readonly conv: AvToFlvFile;

  constructor(path: string) {
    const file = FlvFileWriter.open(path, { bufferSize: WRITE_BUFFER_SIZE, atomic: true, tag: 'remux' });
    this.file = file;
    this.conv = new AvToFlvFile({
      tag: (type, timestamp, body) => {
        if (!file.writeTag(type, timestamp, body)) throw file.failure!;
      },
    });
  }

  get bytesOut(): number {
    return this.file.size;
  }

  warnings(): string[] {
    return [];
  }

  tracks(t: TrackInfo): void {
    this.conv.tracks(t);
  }

  packet(p: AvPacket): void {
    this.conv.packet(p);
  }

  finish(c: FrameCounter): void {
    // the header flags as they turned out
    this.file.setHeaderFlags({ audio: this.conv.hasAudio, video: this.conv.hasVideo });
    if (!this.file.finish({ duration: c.durationMs / 1000, patchMetadata: this.conv.builtMetadata })) throw this.file.failure!;
  }

  abort(): void {
    this.file.discard();
  }
}

/**
 * MPEG-TS file: PAT/PMT once, then every frame's TS packets (docs/media.md §4), packetised
 * straight into the file's write buffer (the remuxer's `output`): the events carry nothing to copy.
 */
export class TsSink implements RemuxSink {
  readonly segments: string[] = [];
  private readonly file: FileWriter;
  private readonly remuxer: AvToMpegts;
  private readonly codecs = new Set<string>();

  constructor(path: string, log: Logger | undefined) {
    const file = new FileWriter(path, { bufferSize: WRITE_BUFFER_SIZE, atomic: true, tag: 'remux', code: 'remux-io' });
    this.file = file;
    this.remuxer = new AvToMpegts({ log, output: { patPmt: (b) => file.write(b), reserve: (n) => file.reserve(n) } });
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

  finish(): void {
    this.remuxer.end();
    assertTsOutput(this.remuxer.stats, this.codecs);
    this.file.close();
  }

  abort(): void {
    this.file.discard();
  }
}

/**
 * HLS output `DIR/NAME.m3u8`: the muxer runs with `<out_path>/<stream>` = `DIR/NAME`, which an
 * OutputDirStore maps onto DIR, so fragments are `DIR/NAME-<unix_ms>-<id>.ts` (docs/hls.md §1
 * naming). From a file (`vod`) the muxer's live and record playlists are not written, and at the
 * end `DIR/NAME.m3u8` becomes a VOD playlist of every fragment; from rtmp:// the live playlist
 * (window of `fragmentNum`, docs/hls.md §3) is `DIR/NAME.m3u8` and the record playlist
 * (docs/hls.md §4) `DIR/NAME-record.m3u8`, and the live playlist gets `#EXT-X-ENDLIST` at the end.
 */
export class HlsSink implements RemuxSink {
  private readonly remuxer: AvToMpegts;
  private readonly muxer: HlsMuxer;
  private readonly store: OutputDirStore;
  private readonly fragments: PlaylistFragment[] = [];
  private readonly discontinuity = new Map<number, boolean>();
  private readonly playlistPath: string;
  private playlistBytes = 0;
  private readonly codecs = new Set<string>();

  constructor(
    output: string,
    private readonly vod: boolean,
    private readonly fragmentMs: number,
    fragmentNum: number,
    log: Logger | undefined,
  ) {
    const outDir = dirname(output);
    const name = basename(output, extname(output));
    if (name === '' || name.startsWith('.')) throw new LalError('remux-usage', `remux: HLS output ${JSON.stringify(basename(output))} needs a playlist name (NAME.m3u8)`);
    this.playlistPath = output;
    this.store = new OutputDirStore({
      muxerDir: join(outDir, name),
      outDir,
      livePlaylist: vod ? undefined : `${name}.m3u8`,
      recordPlaylist: vod ? undefined : `${name}-record.m3u8`,
      writeBufferSize: WRITE_BUFFER_SIZE,
    });
    this.remuxer = new AvToMpegts({ log });
    const startedAt = Date.now();
    this.muxer = new HlsMuxer({
      streamName: name,
      outPath: outDir,
      fragmentDurationMs: fragmentMs,
      fragmentNum,
      deleteThreshold: 0,
      cleanupMode: HlsCleanupMode.Never,
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
        n += statSync(join(this.store.outDir, f.name)).size;
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

  finish(): void {
    this.handle(this.remuxer.end());
    this.muxer.end();
    this.check();
    assertTsOutput(this.remuxer.stats, this.codecs);
    if (this.fragments.length === 0) {
      throw new LalError('remux-empty', 'remux: no HLS fragment was written (no video key frame or audio frame to start one)');
    }
    if (!this.vod) return;
    const text = new TextEncoder().encode(writeVodPlaylist(this.fragments, this.fragmentMs));
    const f = new FileWriter(this.playlistPath, { atomic: true, tag: 'remux', code: 'remux-io' });
    try {
      f.write(text);
      f.close();
    } catch (e) {
      f.discard();
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
