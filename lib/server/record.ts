/**
 * Recording (docs/behaviour.md §9): one FLV and/or one MPEG-TS file per publish session, named
 * `<path>/<stream>-<unix_sec>.<ext>`, written synchronously as data arrives so a killed server
 * leaves a playable file. On a clean close the FLV's onMetaData `duration`/`filesize` are patched
 * (FlvFileWriter). File names go through fileInside: a name can never leave its folder.
 */
import { mkdirSync } from 'node:fs';
import type { Logger } from '../core/log.ts';
import { errorDetail, errorText } from '../core/errors.ts';
import { concat } from '../core/bytes.ts';
import { FileWriter } from '../core/file-writer.ts';
import { fileInside } from '../core/safe-path.ts';
import { FlvFileWriter, FlvTagType, encodeFlvTag } from '../format/flv/index.ts';
import type { TsFrame } from '../format/mpegts/types.ts';
import { fileMetadata } from '../remux/flv.ts';
import type { FanoutPacket, StreamHeaders } from './fanout.ts';
import { flvFramer, headerTags } from './framers.ts';
import { PacketOutput, type Framer } from './output.ts';
import type { TsConsumer } from './ts-branch.ts';

/**
 * `<dir>/<stream>-<unix_sec>.<ext>`; throws a LalError when the name would not be a plain file
 * name inside `dir` (`../x`, a separator, too long): see fileInside.
 */
export function recordFileName(dir: string, streamName: string, unixSec: number, ext: 'flv' | 'ts'): string {
  return fileInside(dir, `${streamName}-${unixSec}.${ext}`);
}

/**
 * The FLV recorder: a stream-level PacketOutput whose sink is an FlvFileWriter (unbuffered: every
 * tag is on disk when written). Its onMetaData always carries `duration` and `filesize`
 * (`fileMetadata`), which the writer patches in place when the recording closes.
 */
export class FlvRecorder {
  readonly sub: PacketOutput;

  private constructor(readonly file: string, private readonly writer: FlvFileWriter, log: Logger) {
    const framer: Framer = {
      key: 'flv-record',
      headers: (h: StreamHeaders, full: boolean) =>
        concat(headerTags(h, full).map((t) => encodeFlvTag(t.type, t.ts, t.type === FlvTagType.Script ? fileMetadata({ metadata: t.body }) : t.body))),
      packet: (fp: FanoutPacket) => flvFramer.packet(fp),
    };
    this.sub = new PacketOutput(writer, framer, { gopNum: 0, singleGopMaxFrameNum: 0 }, log);
  }

  static open(dir: string, streamName: string, unixSec: number, log: Logger): FlvRecorder | undefined {
    let file = `${dir}/${streamName}-${unixSec}.flv`;
    try {
      file = recordFileName(dir, streamName, unixSec, 'flv');
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
    this.writer.close(); // patches duration/filesize (a no-op when the output closed it already)
  }
}

/** The MPEG-TS recorder: PAT+PMT, then every TS frame (the same bytes HTTP-TS players get). */
export class TsRecorder implements TsConsumer {
  closed = false;

  private constructor(readonly file: string, private readonly writer: FileWriter, private readonly log: Logger) {}

  static open(dir: string, streamName: string, unixSec: number, log: Logger): TsRecorder | undefined {
    let file = `${dir}/${streamName}-${unixSec}.ts`;
    try {
      file = recordFileName(dir, streamName, unixSec, 'ts');
      mkdirSync(dir, { recursive: true });
      return new TsRecorder(file, new FileWriter(file, { tag: 'record' }), log);
    } catch (e) {
      log.error(`record: cannot open ${file}, TS recording skipped: ${errorText(e)}`);
      return undefined;
    }
  }

  private write(b: Uint8Array): void {
    if (this.closed) return;
    try {
      this.writer.write(b);
    } catch (e) {
      // A write error (disk full) stops this recording only; the stream goes on.
      this.log.error(`${errorDetail(e)}; recording stopped`);
      this.close();
    }
  }

  onPatPmt(bytes: Uint8Array): void {
    this.write(bytes);
  }
  onTsFrame(f: TsFrame): void {
    this.write(f.bytes);
  }
  close(_reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.writer.close();
    } catch (e) {
      this.log.error(`record ${this.file}: close failed: ${errorText(e)}`);
    }
  }
}
