/**
 * FileWriter: one output file written synchronously through a file descriptor (node:fs
 * openSync/writeSync), optionally through a write buffer.
 *
 * - Unbuffered (`bufferSize` 0, the default): every `write` reaches the kernel before it returns,
 *   so a process killed right after still leaves every byte in the file (recordings).
 * - Buffered: output goes to the kernel in writes of about `bufferSize` bytes, reusing the same
 *   buffer pages every time (fresh memory costs a page fault per 4 KiB), and a producer can
 *   `reserve` room and encode straight into the buffer (file conversions).
 * - Atomic: the bytes go to a hidden temporary file beside `path` (created exclusively) that
 *   `close()` renames over `path`, so an existing file is only ever replaced by a complete one;
 *   `discard()` removes it.
 *
 * Errors: every I/O failure throws a LalError (`<tag>: cannot write <path>: no space left on
 * device`); callers that must not throw from a hot path catch it (FlvFileWriter does).
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { LalError, errorText, type LalErrorCode } from './errors.ts';

export interface FileWriterOptions {
  /** Write buffer in bytes; 0 (default): unbuffered. */
  bufferSize?: number;
  /** Write to a temporary file beside `path`, renamed over it by `close()`. */
  atomic?: boolean;
  /** Prefix of error messages (`remux`, `flv` …); default `file`. */
  tag?: string;
  /** LalError code of I/O errors; default `io`. */
  code?: LalErrorCode;
}

/** A hidden temporary name beside `p`. */
function tempPathBeside(p: string): string {
  return join(dirname(p), `.${basename(p)}.${process.pid}-${Math.random().toString(36).slice(2, 8)}.tmp`);
}

export class FileWriter {
  readonly path: string;
  /** The file actually written: `path`, or the temporary file of an atomic writer. */
  readonly writePath: string;
  private readonly fd: number;
  private readonly bufferSize: number;
  private readonly atomic: boolean;
  private readonly tag: string;
  private readonly code: LalErrorCode;
  private buf: Uint8Array | undefined;
  private used = 0;
  /** A `reserve`d region larger than the buffer, written on the next call. */
  private large: Uint8Array | undefined;
  /** Bytes already handed to the kernel. */
  private flushed = 0;
  private state: 'open' | 'closed' | 'discarded' = 'open';

  /** Create (truncate) the file; throws a LalError when it cannot be created. */
  constructor(path: string, opts: FileWriterOptions = {}) {
    this.path = path;
    this.bufferSize = opts.bufferSize ?? 0;
    this.atomic = opts.atomic ?? false;
    this.tag = opts.tag ?? 'file';
    this.code = opts.code ?? 'io';
    this.writePath = this.atomic ? tempPathBeside(path) : path;
    try {
      this.fd = openSync(this.writePath, this.atomic ? 'wx' : 'w');
    } catch (e) {
      throw this.ioError('create', e);
    }
  }

  /** Bytes written so far (buffered ones included). */
  get size(): number {
    return this.flushed + this.used + (this.large?.length ?? 0);
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  private ioError(op: string, e: unknown): LalError {
    const code = (e as { code?: unknown } | null)?.code;
    const why = code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'permission denied' : code === 'ENOSPC' ? 'no space left on device' : errorText(e);
    return new LalError(this.code, `${this.tag}: cannot ${op} ${this.path}: ${why}`, { cause: e });
  }

  private checkOpen(): void {
    if (this.state !== 'open') throw new LalError('closed', `${this.tag}: write to closed file ${this.path}`);
  }

  private buffer(): Uint8Array {
    return (this.buf ??= new Uint8Array(this.bufferSize));
  }

  /** Append `b` (copied into the buffer, or written at once when unbuffered or too large). */
  write(b: Uint8Array): void {
    this.checkOpen();
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
   * that goes out on the next call (so an unbuffered writer writes it on the next call or flush).
   */
  reserve(n: number): Uint8Array {
    this.checkOpen();
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

  /** Overwrite bytes already written at file offset `at` (flushes first). */
  patch(at: number, b: Uint8Array): void {
    this.checkOpen();
    this.flush();
    this.pwrite(b, at);
  }

  /** Hand everything buffered to the kernel. */
  flush(): void {
    if (this.used > 0 && this.buf) {
      const n = this.used;
      this.used = 0;
      this.put(this.buf.subarray(0, n));
    }
    this.flushLarge();
  }

  private flushLarge(): void {
    const b = this.large;
    if (!b) return;
    this.large = undefined;
    this.put(b);
  }

  private put(b: Uint8Array): void {
    this.pwrite(b, this.flushed);
    this.flushed += b.length;
  }

  private pwrite(b: Uint8Array, at: number): void {
    try {
      for (let off = 0; off < b.length; ) off += writeSync(this.fd, b, off, b.length - off, at + off);
    } catch (e) {
      throw this.ioError('write', e);
    }
  }

  /** Flush and close; an atomic writer then moves its temporary file over `path`. */
  close(): void {
    if (this.state !== 'open') return;
    try {
      this.flush();
    } finally {
      this.state = 'closed';
      this.buf = undefined;
      this.large = undefined;
      try {
        closeSync(this.fd);
      } catch {
        /* reported by the flush, or nothing left to lose */
      }
    }
    if (!this.atomic) return;
    try {
      // Unlink first: ext4 flushes the new file's data when a rename replaces an existing file
      // (auto_da_alloc), which costs more than the whole conversion of a small file.
      rmSync(this.path, { force: true });
      renameSync(this.writePath, this.path);
    } catch (e) {
      throw this.ioError('rename to', e);
    }
  }

  /** Close (ignoring errors) and delete what was written: the temporary file, or `path` itself. */
  discard(): void {
    if (this.state === 'discarded') return;
    const wasOpen = this.state === 'open';
    this.state = 'discarded';
    this.buf = undefined;
    this.large = undefined;
    if (wasOpen) {
      try {
        closeSync(this.fd);
      } catch {
        /* already failing */
      }
    }
    // An atomic writer's temporary file is gone once renamed over `path` (then nothing is removed).
    rmSync(this.writePath, { force: true });
  }
}
