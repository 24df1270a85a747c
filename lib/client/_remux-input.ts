/**
 * The inputs of `lal remux` (lib/client/remux.ts): each one feeds TrackInfos and AvPackets to a
 * PacketTarget until it ends.
 *
 *   .flv     FlvReader → RtmpToAv (FLV/RTMP bodies kept on the packets)
 *   .ts      TsDemuxer → TsPesToAv → StartAligner (all tracks shifted together to start at 0)
 *   rtmp://  openRtmpClient (play) → RtmpToAv, until the signal, the server closing, or the
 *            read timeout (LAL's pullrtmp2hls: 10 s start and read timeouts)
 *
 * Input files are mapped (Bun.mmap; read through node:fs where a mapping is refused) and parsed
 * in READ_CHUNK_SIZE pieces.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { LalError, ParseError, errorText } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { FlvReader } from '../format/flv/reader.ts';
import { TsDemuxer, TsPesToAv, type TsDemuxEvent } from '../format/mpegts/demuxer.ts';
import { parseRtmpUrl } from '../protocol/rtmp/url.ts';
import { StartAligner, type PacketTarget } from '../remux/align.ts';
import { RtmpToAv, type RtmpIngestResult } from '../remux/rtmp.ts';
import { openRtmpClient, type RtmpClientSession } from './rtmp-session.ts';

/** Input read size: big enough that per-read overhead vanishes, small enough to stream 100 MB files. */
export const READ_CHUNK_SIZE = 1024 * 1024;
/** File input: let the event loop run (signals, timers) after this many bytes read. */
const YIELD_EVERY_BYTES = 16 * 1024 * 1024;
/** pullrtmp2hls: the RTMP play must start within 10 s (docs/clients-and-demos.md §2.9). */
export const RTMP_START_TIMEOUT_MS = 10_000;
/** pullrtmp2hls: 10 s without data from the server ends the run. */
export const RTMP_READ_TIMEOUT_MS = 10_000;
/** Live input: progress reported at most this often. */
const LIVE_PROGRESS_INTERVAL_MS = 250;

export interface SourceResult {
  bytesIn: number;
  /** Live input ended by the signal. */
  stopped: boolean;
  /** What the input had wrong but the conversion went past (counted), for the summary. */
  warnings?: string[];
}

/** The input's counted damage as summary lines ("3 continuity errors"), zeros left out. */
function countWarnings(what: string, counts: Record<string, number>, skip: readonly string[]): string[] {
  const parts = Object.entries(counts).filter(([k, v]) => v > 0 && !skip.includes(k));
  return parts.length > 0 ? [`${what}: ${parts.map(([k, v]) => `${v} ${k}`).join(', ')}`] : [];
}

/** Called with the bytes read so far after each chunk (file) or every 250 ms (live). */
export type Progress = (bytesIn: number) => void;

export interface SourceOptions {
  signal?: AbortSignal;
  log?: Logger;
  startTimeoutMs?: number;
  readTimeoutMs?: number;
}

function aborted(what: string): LalError {
  return new LalError('aborted', `remux: ${what} interrupted; partial output removed`);
}

/** An input file: mapped into memory, or (where mapping is refused) read through node:fs. */
export interface FileInput {
  path: string;
  size: number;
  map?: Uint8Array;
}

/**
 * Open `path` for reading. Bun.mmap is the fast way in: no read copies and no fresh buffers
 * (each fresh 4 KiB page costs a fault), and parsers keep views into the mapping. The mapping
 * is private, and the file is only read, never written through it; a file truncated by someone
 * else during the run ends the process with SIGBUS. Empty and special files (EINVAL), and files
 * we may only read (EACCES: Bun maps read-write), are read instead.
 */
export function openInput(path: string): FileInput {
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
    st = statSync(path);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new LalError('remux-input', `remux: cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : errorText(e)}`);
  }
  if (!st.isFile()) throw new LalError('remux-input', `remux: ${path} is not a regular file`);
  return { path, size: st.size };
}

function readError(path: string, e: unknown): LalError {
  return new LalError('remux-io', `remux: cannot read ${path}: ${errorText(e)}`, { cause: e });
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
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw readError(path, e);
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
          throw readError(path, e);
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

export async function readFlvFile(input: FileInput, target: PacketTarget, opts: SourceOptions, progress: Progress): Promise<SourceResult> {
  const path = input.path;
  const reader = new FlvReader();
  const conv = new RtmpToAv();
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

export async function readTsFile(input: FileInput, target: PacketTarget, opts: SourceOptions, progress: Progress): Promise<SourceResult> {
  const path = input.path;
  const demuxer = new TsDemuxer();
  const conv = new TsPesToAv();
  const aligner = new StartAligner(target, () => {
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
  const warnings = [
    ...countWarnings('input TS packets', { ...demuxer.stats }, ['packets']),
    ...countWarnings('input PES', { ...conv.stats }, []),
  ];
  return { bytesIn, stopped: false, warnings };
}

/** pullrtmp2hls: play the URL, feed every media message until signal / close / read timeout. */
export async function readRtmp(url: string, target: PacketTarget, opts: SourceOptions, progress: Progress): Promise<SourceResult> {
  try {
    parseRtmpUrl(url);
  } catch (e) {
    throw new LalError('remux-usage', `remux: bad input URL ${url}: ${errorText(e)}`);
  }
  const conv = new RtmpToAv();
  let media = 0;
  let session: RtmpClientSession;
  try {
    session = await openRtmpClient({
      url,
      mode: 'play',
      tag: 'remux',
      log: opts.log ?? silentLogger,
      timeoutMs: opts.startTimeoutMs ?? RTMP_START_TIMEOUT_MS,
      readTimeoutMs: opts.readTimeoutMs ?? RTMP_READ_TIMEOUT_MS,
      signal: opts.signal,
      onMedia: (msg) => {
        const r = conv.push({ type: msg.type, timestamp: msg.timestamp, body: msg.body });
        if (r.kind === 'packet') media++;
        deliverRtmp(r, target);
      },
    });
  } catch (e) {
    // A stop before the play started is a stop, not a failure: "no audio or video received" below.
    if (!(e instanceof LalError && e.code === 'aborted')) throw e instanceof LalError ? new LalError('remux-input', e.message, { cause: e }) : e;
    throw new LalError('remux-input', `remux: ${url}: no audio or video received before the stop`);
  }
  const timer = setInterval(() => progress(session.bytesIn), LIVE_PROGRESS_INTERVAL_MS);
  const end = await session.ended;
  clearInterval(timer);
  progress(session.bytesIn);
  if (end.reason === 'error') throw end.error!;
  if (media === 0) throw new LalError('remux-input', `remux: ${url}: no audio or video received${end.reason === 'aborted' ? ' before the stop' : ''}`);
  return { bytesIn: session.bytesIn, stopped: end.reason === 'aborted' };
}
