/**
 * FLV files on disk (Adobe FLV spec v10.1 annex E): read a whole file into tags, and THE FLV
 * file writer, used by the FLV recorder, `lal pull` and `lal remux`.
 *
 * FlvFileWriter is synchronous and fd-based (lib/core/file-writer.ts): the header goes out at
 * open, then each tag as it comes. Unbuffered (the default) every tag is in the file when the
 * call returns, so a killed process leaves a playable file (recordings, pulls); a conversion
 * asks for a write buffer instead. It keeps the position of the first onMetaData's `duration`
 * and `filesize` numbers and patches them in place on close (as ffmpeg's flvenc does), with the
 * final file size and the media span of the audio/video tags written (or a duration given).
 *
 * Errors: a write error is reported, never thrown. The first one is kept in `failure` and passed
 * to `onError`; from then on every write returns false and is dropped, `closed` is true, and
 * `close()` closes the descriptor without patching (an atomic file is then removed, a plain one
 * keeps the tags written before the failure). Only `open` throws (a file that cannot be created),
 * and `writeTag` for a body the format cannot frame (≥ 16 MiB, a caller's bug).
 */
import { readFileSync } from 'node:fs';
import { LalError, ParseError, errorText } from '../../core/errors.ts';
import { FileWriter } from '../../core/file-writer.ts';
import type { ByteSink } from '../../core/sink.ts';
import { encodeFlvHeader, FlvHeaderFlag, type FlvHeader } from './header.ts';
import { FlvReader } from './reader.ts';
import { encodeFlvTagInto, flvTagSize, FLV_PREV_TAG_SIZE_SIZE, FLV_TAG_HEADER_SIZE, FlvTagType, isFlvSequenceHeader, MAX_FLV_TAG_SIZE, type FlvTag } from './tag.ts';

export interface FlvFile {
  header: FlvHeader;
  tags: FlvTag[];
  /** Bytes after the last complete tag (a recording cut short); 0 for a clean file. */
  trailingBytes: number;
}

/**
 * Read and parse a whole FLV file. A truncated last tag is reported, not thrown. (Read
 * synchronously: node:fs/promises alone costs a CLI run ~2 ms to load.)
 */
export async function readFlvFile(path: string): Promise<FlvFile> {
  const buf = new Uint8Array(readFileSync(path));
  const reader = new FlvReader();
  const tags = reader.feed(buf);
  if (!reader.header) throw new ParseError(`flv: ${path} is shorter than the FLV header (${buf.length} bytes)`, 'truncated');
  return { header: reader.header, tags, trailingBytes: reader.pendingBytes };
}

/**
 * Offset in `body` of the 8-byte double of the AMF0 number property `name` (its u16 key length,
 * the key, then the number marker 00), or -1.
 */
export function findAmf0NumberProperty(body: Uint8Array, name: string): number {
  const n = name.length;
  outer: for (let i = 0; i + n + 11 <= body.length; i++) {
    if (body[i] !== 0 || body[i + 1] !== n || body[i + n + 2] !== 0x00) continue;
    for (let j = 0; j < n; j++) if (body[i + 2 + j] !== name.charCodeAt(j)) continue outer;
    return i + n + 3;
  }
  return -1;
}

export interface FlvFileWriterOptions {
  /** FLV header flags (default both); `setHeaderFlags` can correct them before close. */
  audio?: boolean;
  video?: boolean;
  /** Write buffer in bytes; 0 (default): every tag is in the file when the write returns. */
  bufferSize?: number;
  /** Write a temporary file beside `path`, renamed over it by a successful close. */
  atomic?: boolean;
  /** Prefix of error messages; default `flv`. */
  tag?: string;
  /** Called once, with the first write error. */
  onError?: (e: LalError) => void;
}

export interface FlvFileCloseOptions {
  /** onMetaData `duration` in seconds; default: the span of the audio/video tags written. */
  duration?: number;
  /** Patch the first onMetaData's `duration`/`filesize` (default true). */
  patchMetadata?: boolean;
}

/**
 * Writes an FLV file (see the file comment). Also a ByteSink of whole encoded tags, so a
 * fan-out subscriber can write the shared tag bytes straight into it.
 */
export class FlvFileWriter implements ByteSink {
  readonly pendingBytes = 0;
  readonly lastProgressAt = performance.now();
  private readonly buffered: boolean;
  private readonly atomic: boolean;
  private readonly onError: ((e: LalError) => void) | undefined;
  private failed: LalError | undefined;
  private done = false;
  /** File offsets of the first onMetaData's `duration` / `filesize` doubles (-1: none). */
  private durationAt = -1;
  private filesizeAt = -1;
  private sawScript = false;
  /** First and greatest timestamp (ms) of audio/video tags other than sequence headers. */
  private firstMs: number | undefined;
  private lastMs = 0;

  private constructor(private readonly file: FileWriter, opts: FlvFileWriterOptions) {
    this.buffered = (opts.bufferSize ?? 0) > 0;
    this.atomic = opts.atomic ?? false;
    this.onError = opts.onError;
  }

  /** Create (truncate) `path` and write the FLV header. Throws a LalError when it cannot be created. */
  static open(path: string, opts: FlvFileWriterOptions = {}): FlvFileWriter {
    const file = new FileWriter(path, { bufferSize: opts.bufferSize, atomic: opts.atomic, tag: opts.tag ?? 'flv', code: 'flv-io' });
    const w = new FlvFileWriter(file, opts);
    w.put(encodeFlvHeader({ audio: opts.audio ?? true, video: opts.video ?? true }));
    return w;
  }

  get path(): string {
    return this.file.path;
  }

  /** Bytes written (header included). */
  get size(): number {
    return this.file.size;
  }

  /** ByteSink: bytes written. */
  get bytesWritten(): number {
    return this.file.size;
  }

  /** The first write error, if any. */
  get failure(): LalError | undefined {
    return this.failed;
  }

  /** Closed, or failed: nothing more is written. */
  get closed(): boolean {
    return this.done || this.failed !== undefined;
  }

  /** Media span (ms) of the audio/video tags written so far, sequence headers aside. */
  get spanMs(): number {
    return this.firstMs === undefined ? 0 : this.lastMs - this.firstMs;
  }

  private fail(e: unknown): false {
    if (!this.failed) {
      this.failed = e instanceof LalError ? e : new LalError('flv-io', `flv: cannot write ${this.file.path}: ${errorText(e)}`, { cause: e });
      this.onError?.(this.failed);
    }
    return false;
  }

  private put(b: Uint8Array): boolean {
    if (this.closed) return false;
    try {
      this.file.write(b);
      return true;
    } catch (e) {
      return this.fail(e);
    }
  }

  /** Note what a tag whose body starts at file offset `bodyAt` means for the close-time patch. */
  private note(type: number, timestamp: number, body: Uint8Array, bodyAt: number): void {
    if (type === FlvTagType.Script) {
      if (this.sawScript) return;
      this.sawScript = true;
      const d = findAmf0NumberProperty(body, 'duration');
      const f = findAmf0NumberProperty(body, 'filesize');
      if (d >= 0) this.durationAt = bodyAt + d;
      if (f >= 0) this.filesizeAt = bodyAt + f;
    } else if ((type === FlvTagType.Audio || type === FlvTagType.Video) && !isFlvSequenceHeader(type, body)) {
      if (this.firstMs === undefined) this.firstMs = this.lastMs = timestamp;
      else if (timestamp > this.lastMs) this.lastMs = timestamp;
    }
  }

  /** Write one tag (encoded straight into the write buffer when buffered). False when not written. */
  writeTag(type: number, timestamp: number, body: Uint8Array): boolean {
    if (this.closed) return false;
    if (body.length >= MAX_FLV_TAG_SIZE) {
      throw new LalError('too-large', `flv: tag body of ${body.length} bytes does not fit the 24-bit DataSize`);
    }
    const at = this.file.size;
    const n = flvTagSize(body.length);
    try {
      if (this.buffered) {
        encodeFlvTagInto(type, timestamp, body, this.file.reserve(n), 0);
      } else {
        const out = new Uint8Array(n);
        encodeFlvTagInto(type, timestamp, body, out, 0);
        this.file.write(out);
      }
    } catch (e) {
      return this.fail(e);
    }
    this.note(type, timestamp, body, at + FLV_TAG_HEADER_SIZE);
    return true;
  }

  /**
   * Write one or more whole encoded tags (`encodeFlvTag` output, e.g. the bytes shared by every
   * HTTP-FLV player). False when not written (closed or failed).
   */
  write(tags: Uint8Array): boolean {
    const at = this.file.size;
    if (!this.put(tags)) return false;
    for (let o = 0; o + FLV_TAG_HEADER_SIZE <= tags.length; ) {
      const size = (tags[o + 1] << 16) | (tags[o + 2] << 8) | tags[o + 3];
      const end = o + FLV_TAG_HEADER_SIZE + size;
      if (end > tags.length) break;
      // Timestamp (u24) with TimestampExtended as its high byte: FLV's SI32 (E.4.1).
      const ts = (tags[o + 7] << 24) | (tags[o + 4] << 16) | (tags[o + 5] << 8) | tags[o + 6];
      this.note(tags[o] & 0x1f, ts, tags.subarray(o + FLV_TAG_HEADER_SIZE, end), at + o + FLV_TAG_HEADER_SIZE);
      o = end + FLV_PREV_TAG_SIZE_SIZE;
    }
    return true;
  }

  /** Rewrite the header's audio/video flags (before close). */
  setHeaderFlags(flags: { audio: boolean; video: boolean }): void {
    if (this.closed) return;
    try {
      this.file.patch(4, Uint8Array.of((flags.audio ? FlvHeaderFlag.Audio : 0) | (flags.video ? FlvHeaderFlag.Video : 0)));
    } catch (e) {
      this.fail(e);
    }
  }

  /** ByteSink close (a recorder's end): `finish()` with the defaults. */
  close(_reason?: string): void {
    this.finish();
  }

  /**
   * Patch the first onMetaData's `duration` (s) and `filesize` (bytes) where it has them, flush
   * and close (an atomic file is renamed over its path). True when the file is complete.
   */
  finish(opts: FlvFileCloseOptions = {}): boolean {
    if (this.done) return !this.failed;
    this.done = true;
    if (this.failed) {
      if (this.atomic) this.file.discard();
      else {
        try {
          this.file.close();
        } catch {
          /* already reported */
        }
      }
      return false;
    }
    try {
      if (opts.patchMetadata !== false) {
        const patch = (at: number, v: number): void => {
          if (at < 0) return;
          const d = new Uint8Array(8);
          new DataView(d.buffer).setFloat64(0, v);
          this.file.patch(at, d);
        };
        patch(this.durationAt, opts.duration ?? this.spanMs / 1000);
        patch(this.filesizeAt, this.file.size);
      }
      this.file.close();
      return true;
    } catch (e) {
      this.fail(e);
      if (this.atomic) this.file.discard();
      return false;
    }
  }

  /** Close without patching and delete the file (the temporary file of an atomic writer). */
  discard(): void {
    this.done = true;
    this.file.discard();
  }
}
