/**
 * Recording (behaviour.md §9): one FLV and/or one MPEG-TS file per publish session, named
 * `<path>/<stream>-<unix_sec>.<ext>`, written synchronously as data arrives so a killed server
 * leaves a playable file. On a clean close the FLV's onMetaData `duration`/`filesize` are patched
 * (FlvFileWriter).
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join, normalize } from 'node:path';
import type { ByteSink } from '../core/sink.ts';
import type { Logger } from '../core/log.ts';
import { errorText } from '../core/errors.ts';
import { concat } from '../core/bytes.ts';
import { FlvFileWriter, FlvTagType, encodeFlvTag } from '../format/flv/index.ts';
import type { TsFrame } from '../format/mpegts/types.ts';
import { fileMetadata } from '../remux/flv.ts';
import type { StreamHeaders } from './fanout.ts';
import { flvFramer, headerTags } from './framers.ts';
import { OutputSubscriber, type Framer } from './subscriber.ts';
import { SessionStat } from './stat.ts';
import type { TsConsumer } from './ts-pipeline.ts';
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

export function recordFileName(dir: string, streamName: string, unixSec: number, ext: 'flv' | 'ts'): string {
  return normalize(join(dir, `${streamName}-${unixSec}.${ext}`));
}

function openRecordFile(dir: string, file: string): number {
  mkdirSync(dir, { recursive: true });
  return openSync(file, 'w');
}

/**
 * The FLV recorder: an OutputSubscriber whose sink is an FlvFileWriter (unbuffered: every tag is
 * on disk when written). Its onMetaData always carries `duration` and `filesize`
 * (`fileMetadata`), which the writer patches in place when the recording closes.
 */
export class FlvRecorder {
  readonly sub: OutputSubscriber;

  private constructor(readonly file: string, private readonly writer: FlvFileWriter, log: Logger) {
    const framer: Framer = {
      key: 'flv-record',
      headers: (h: StreamHeaders, full: boolean) =>
        concat(headerTags(h, full).map((t) => encodeFlvTag(t.type, t.ts, t.type === FlvTagType.Script ? fileMetadata({ metadata: t.body }) : t.body))),
      packet: (fp: FanoutPacket) => flvFramer.packet(fp),
    };
    this.sub = new OutputSubscriber(new SessionStat(`RECORD:${file}`, 'FLV', 'SUB', ''), writer, framer, { gopNum: 0, singleGopMaxFrameNum: 0 }, log);
    this.sub.hidden = true;
  }

  static open(dir: string, streamName: string, unixSec: number, log: Logger): FlvRecorder | undefined {
    const file = recordFileName(dir, streamName, unixSec, 'flv');
    try {
      mkdirSync(dir, { recursive: true });
      const writer = FlvFileWriter.open(file, { tag: 'record', onError: (e) => log.error(`${e.message}; recording stopped`) });
      return new FlvRecorder(file, writer, log);
    } catch (e) {
      log.error(`record: cannot open ${file}, FLV recording skipped: ${errorText(e)}`);
      return undefined;
    }
  }

  close(): void {
    this.sub.close('publisher stopped');
    this.writer.close(); // patches duration/filesize (a no-op when the subscriber closed it already)
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
  close(): void {
    this.sink.close();
  }
}
