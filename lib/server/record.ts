/**
 * Recording (behaviour.md §9): one FLV and/or one MPEG-TS file per publish session, named
 * `<path>/<stream>-<unix_sec>.<ext>`, written synchronously as data arrives so a killed server
 * leaves a playable file. On a clean close the FLV's onMetaData `duration`/`filesize` are patched.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import type { ByteSink } from '../core/sink.ts';
import type { Logger } from '../core/log.ts';
import { errorText } from '../core/errors.ts';
import { concat } from '../core/bytes.ts';
import { fileInside } from '../core/safe-path.ts';
import { FLV_HEADER, encodeFlvTag } from '../format/flv/index.ts';
import { decodeAmf0All, encodeAmf0, Amf0EcmaArray, type Amf0Value } from '../format/amf0/index.ts';
import type { TsFrame } from '../format/mpegts/types.ts';
import type { StreamHeaders } from './fanout.ts';
import { flvFramer, headerTags, packetMs } from './framers.ts';
import { PacketOutput, type Framer } from './output.ts';
import type { TsConsumer } from './ts-branch.ts';
import type { FanoutPacket } from './fanout.ts';

/** A ByteSink over a file descriptor; synchronous writes, nothing ever pending. */
export class FileSink implements ByteSink {
  pendingBytes = 0;
  bytesWritten = 0;
  lastProgressAt = performance.now();
  closed = false;
  failed: string | undefined;
  constructor(private readonly fd: number, private readonly onError: (msg: string) => void) {}

  write(buf: Uint8Array): boolean {
    if (this.closed) return false;
    try {
      let off = 0;
      while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
      this.bytesWritten += buf.length;
      return true;
    } catch (e) {
      this.failed = errorText(e);
      this.closed = true;
      this.onError(this.failed);
      return false;
    }
  }

  /** Overwrite bytes at a file position (metadata fix-up). */
  pwrite(buf: Uint8Array, position: number): void {
    writeSync(this.fd, buf, 0, buf.length, position);
  }

  close(): void {
    if (this.closed && this.fd < 0) return;
    this.closed = true;
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }
}

/**
 * `<dir>/<stream>-<unix_sec>.<ext>` (path-cleaned). Throws LalError when the name is not one
 * file name inside `dir` (`../x`, a separator, too long): see fileInside.
 */
export function recordFileName(dir: string, streamName: string, unixSec: number, ext: 'flv' | 'ts'): string {
  return fileInside(dir, `${streamName}-${unixSec}.${ext}`);
}

function openRecordFile(dir: string, file: string): number {
  mkdirSync(dir, { recursive: true });
  return openSync(file, 'w');
}

/** Read a named number out of an AMF0 onMetaData object (for tests and the fix-up). */
function metadataObject(body: Uint8Array): Record<string, Amf0Value> | undefined {
  try {
    const v = decodeAmf0All(body);
    const obj = v[1];
    return obj && typeof obj === 'object' && !Array.isArray(obj) && !(obj instanceof Date) ? (obj as Record<string, Amf0Value>) : undefined;
  } catch {
    return undefined;
  }
}

/** Find the 8-byte big-endian double of `key` (AMF0 number after the UTF-8 key) in a body. */
function findNumberField(body: Uint8Array, key: string): number {
  const k = new TextEncoder().encode(key);
  outer: for (let i = 2; i + k.length + 9 <= body.length; i++) {
    if (body[i - 2] !== 0 || body[i - 1] !== k.length) continue;
    for (let j = 0; j < k.length; j++) if (body[i + j] !== k[j]) continue outer;
    if (body[i + k.length] === 0x00) return i + k.length + 1;
  }
  return -1;
}

/**
 * The FLV recorder: a stream-level PacketOutput whose sink is a file. Its metadata always carries
 * `duration` and `filesize` (placeholders 0) so the clean-close fix-up can patch them in place.
 */
export class FlvRecorder {
  readonly sub: PacketOutput;
  private readonly sink: FileSink;
  private metaOffset = -1;
  private metaBody: Uint8Array | undefined;
  private firstMs = -1;
  private lastMs = 0;

  private constructor(readonly file: string, fd: number, private readonly log: Logger) {
    this.sink = new FileSink(fd, (m) => log.error(`record ${file}: write failed, recording stopped: ${m}`));
    this.sink.write(FLV_HEADER);
    const self = this;
    const framer: Framer = {
      key: 'flv-record',
      headers(h: StreamHeaders, full: boolean) {
        const tags = headerTags(h, full).map((t) => {
          if (t.type !== 18) return encodeFlvTag(t.type, t.ts, t.body);
          const body = self.withPlaceholders(t.body);
          if (self.metaOffset < 0) {
            self.metaOffset = self.sink.bytesWritten + 11;
            self.metaBody = body;
          }
          return encodeFlvTag(t.type, t.ts, body);
        });
        return concat(tags);
      },
      packet(fp: FanoutPacket) {
        const ms = packetMs(fp.pkt);
        if (self.firstMs < 0) self.firstMs = ms;
        self.lastMs = Math.max(self.lastMs, ms);
        return flvFramer.packet(fp);
      },
    };
    this.sub = new PacketOutput(this.sink, framer, { gopNum: 0, singleGopMaxFrameNum: 0 }, log);
  }

  static open(dir: string, streamName: string, unixSec: number, log: Logger): FlvRecorder | undefined {
    const file = recordFileName(dir, streamName, unixSec, 'flv');
    try {
      return new FlvRecorder(file, openRecordFile(dir, file), log);
    } catch (e) {
      log.error(`record: cannot open ${file}, FLV recording skipped: ${errorText(e)}`);
      return undefined;
    }
  }

  private withPlaceholders(meta: Uint8Array): Uint8Array {
    const obj = metadataObject(meta);
    if (!obj) return meta;
    if (typeof obj.duration === 'number' && typeof obj.filesize === 'number') return meta;
    return encodeAmf0('onMetaData', new Amf0EcmaArray({ ...obj, duration: 0, filesize: 0 }));
  }

  close(): void {
    if (!this.sink.closed && this.metaBody && this.metaOffset >= 0) {
      try {
        const patch = (key: string, v: number) => {
          const at = findNumberField(this.metaBody!, key);
          if (at < 0) return;
          const b = new Uint8Array(8);
          new DataView(b.buffer).setFloat64(0, v);
          this.sink.pwrite(b, this.metaOffset + at);
        };
        patch('duration', this.firstMs < 0 ? 0 : (this.lastMs - this.firstMs) / 1000);
        patch('filesize', this.sink.bytesWritten);
      } catch (e) {
        this.log.warn(`record ${this.file}: metadata fix-up failed: ${errorText(e)}`);
      }
    }
    this.sub.close('publisher stopped');
  }
}

/** The MPEG-TS recorder: PAT+PMT, then every TS frame (same bytes as HTTP-TS players get). */
export class TsRecorder implements TsConsumer {
  private readonly sink: FileSink;
  get closed(): boolean {
    return this.sink.closed;
  }

  private constructor(readonly file: string, fd: number, log: Logger) {
    this.sink = new FileSink(fd, (m) => log.error(`record ${file}: write failed, recording stopped: ${m}`));
  }

  static open(dir: string, streamName: string, unixSec: number, log: Logger): TsRecorder | undefined {
    const file = recordFileName(dir, streamName, unixSec, 'ts');
    try {
      return new TsRecorder(file, openRecordFile(dir, file), log);
    } catch (e) {
      log.error(`record: cannot open ${file}, TS recording skipped: ${errorText(e)}`);
      return undefined;
    }
  }

  onPatPmt(bytes: Uint8Array): void {
    this.sink.write(bytes);
  }
  onTsFrame(f: TsFrame): void {
    this.sink.write(f.bytes);
  }
  close(_reason?: string): void {
    this.sink.close();
  }
}
