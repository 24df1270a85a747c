/**
 * FLV files on disk: read a whole file into tags, and an incremental writer (header first, then
 * each tag as it comes) so a killed process still leaves a playable file. FLV layout per Adobe
 * FLV spec v10.1 annex E; onMetaData `duration`/`filesize` patching as ffmpeg's flvenc does.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { LalError, ParseError } from '../../core/errors.ts';
import { encodeFlvHeader, type FlvHeader } from './header.ts';
import { FlvReader } from './reader.ts';
import { encodeFlvTag, FLV_TAG_HEADER_SIZE, FlvTagType, type FlvTag } from './tag.ts';

export interface FlvFile {
  header: FlvHeader;
  tags: FlvTag[];
  /** Bytes after the last complete tag (a recording cut short); 0 for a clean file. */
  trailingBytes: number;
}

/** Read and parse a whole FLV file. A truncated last tag is reported, not thrown. */
export async function readFlvFile(path: string): Promise<FlvFile> {
  const buf = new Uint8Array(await readFile(path));
  const reader = new FlvReader();
  const tags = reader.feed(buf);
  if (!reader.header) throw new ParseError(`flv: ${path} is shorter than the FLV header (${buf.length} bytes)`, 'truncated');
  return { header: reader.header, tags, trailingBytes: reader.pendingBytes };
}

/** Where an onMetaData number property's 8-byte double sits: AMF0 key (u16 len + name) then marker 00. */
function findAmf0NumberProperty(body: Uint8Array, name: string): number {
  const key = new Uint8Array(name.length + 3);
  key[1] = name.length;
  for (let i = 0; i < name.length; i++) key[2 + i] = name.charCodeAt(i);
  key[name.length + 2] = 0x00; // AMF0 number marker
  outer: for (let i = 0; i + key.length + 8 <= body.length; i++) {
    for (let j = 0; j < key.length; j++) if (body[i + j] !== key[j]) continue outer;
    return i + key.length;
  }
  return -1;
}

/**
 * Writes an FLV file incrementally. `write` never blocks: bytes are queued and written in order
 * in the background; `close()` waits for them and reports the first write error, if any.
 */
export class FlvFileWriter {
  private queue: Uint8Array[] = [];
  private draining: Promise<void> | undefined;
  private error: unknown;
  private position = 0;
  private queued = 0;
  private closed = false;
  /** File offsets of the first script tag's `duration` / `filesize` doubles (-1: absent). */
  private durationAt = -1;
  private filesizeAt = -1;
  private sawScript = false;

  private constructor(private readonly fh: FileHandle, readonly path: string) {}

  /** Create (truncate) `path` and queue the FLV header (audio+video flags unless told otherwise). */
  static async open(path: string, opts: { audio?: boolean; video?: boolean } = {}): Promise<FlvFileWriter> {
    const fh = await open(path, 'w');
    const w = new FlvFileWriter(fh, path);
    w.writeBytes(encodeFlvHeader({ audio: opts.audio ?? true, video: opts.video ?? true }));
    return w;
  }

  /** Bytes accepted so far (header included), written or still queued. */
  get bytesQueued(): number {
    return this.queued;
  }

  /** Bytes queued but not yet handed to the file. */
  get pendingBytes(): number {
    return this.queued - this.position;
  }

  /** Queue one tag. */
  write(tag: FlvTag): void {
    this.writeBytes(encodeFlvTag(tag.type, tag.timestamp, tag.body));
  }

  /** Queue already-encoded bytes (a whole tag from `encodeFlvTag`, e.g. the shared fan-out bytes). */
  writeBytes(buf: Uint8Array): void {
    if (this.closed) throw new LalError('closed', `flv: write to closed file ${this.path}`);
    if (!this.sawScript && buf.length > FLV_TAG_HEADER_SIZE && (buf[0] & 0x1f) === FlvTagType.Script) {
      this.sawScript = true;
      const d = findAmf0NumberProperty(buf, 'duration');
      const f = findAmf0NumberProperty(buf, 'filesize');
      if (d >= 0) this.durationAt = this.queued + d;
      if (f >= 0) this.filesizeAt = this.queued + f;
    }
    this.queue.push(buf);
    this.queued += buf.length;
    this.draining ??= this.drain();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      if (this.error !== undefined) continue; // drop: the file is already broken
      try {
        let n = 0;
        for (const b of batch) n += b.length;
        await this.fh.writev(batch, this.position);
        this.position += n;
      } catch (e) {
        this.error = e;
      }
    }
    this.draining = undefined;
  }

  /** Wait until everything queued so far is in the file. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
    if (this.error !== undefined) throw this.error;
  }

  /**
   * Flush, patch the first onMetaData's `duration` (seconds) and `filesize` (bytes) when given
   * and present in it, and close the file.
   */
  async close(opts: { duration?: number; filesize?: number } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.flush();
      const patch = async (at: number, v: number | undefined): Promise<void> => {
        if (at < 0 || v === undefined) return;
        const d = new Uint8Array(8);
        new DataView(d.buffer).setFloat64(0, v);
        await this.fh.write(d, 0, 8, at);
      };
      await patch(this.durationAt, opts.duration);
      await patch(this.filesizeAt, opts.filesize);
    } finally {
      await this.fh.close();
    }
  }
}
