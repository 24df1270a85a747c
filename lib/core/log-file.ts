/**
 * The server's log file (docs/config.md §3.16 `log.filename`, `is_rotate_daily`,
 * `is_rotate_hourly`). Opened once, not per line: a server out of file descriptors still logs.
 *
 * - Lines go into a bounded in-memory batch that is written with one synchronous append per
 *   batch: when the batch fills (FLUSH_AT_BYTES), on a short timer, and on close(). Past
 *   `maxBufferBytes` a line is dropped and counted (the batch never grows without bound), and the
 *   next write notes how many were lost. A failed write is counted the same way and the file is
 *   reopened on the next batch.
 * - Rotation follows LAL: when a line arrives in a new local day (or hour), the current file is
 *   renamed to `<filename>.<YYYYMMDD>` (hourly: `<filename>.<YYYYMMDDHH>`), named after the
 *   period it holds, and a fresh `<filename>` is opened. If the rename fails, logging goes on in
 *   the same file.
 */
import { closeSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { errorText } from './errors.ts';

/** Bytes held at most while waiting for a write: about 10,000 ordinary lines. */
export const DEFAULT_LOG_BUFFER_BYTES = 1024 * 1024;

/** A batch this large is written at once instead of waiting for the timer. */
const FLUSH_AT_BYTES = 64 * 1024;

/** Lines wait at most this long before they reach the file. */
const FLUSH_INTERVAL_MS = 100;

export interface LogFileOptions {
  /** The file (its directory is created). */
  path: string;
  /** Rotate at local midnight (LAL `is_rotate_daily`). */
  rotateDaily?: boolean;
  /** Rotate every local hour (LAL `is_rotate_hourly`); wins over daily. */
  rotateHourly?: boolean;
  /** Most bytes buffered before lines are dropped (default DEFAULT_LOG_BUFFER_BYTES). */
  maxBufferBytes?: number;
  /** Clock in ms since the epoch (tests inject one); default Date.now. */
  now?: () => number;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `YYYYMMDD` (or `YYYYMMDDHH`) of a local time. */
function periodStamp(ms: number, hourly: boolean): string {
  const d = new Date(ms);
  const day = `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}`;
  return hourly ? `${day}${pad(d.getHours())}` : day;
}

/** Start of the next local day (or hour) after `ms`. */
function nextPeriodStart(ms: number, hourly: boolean): number {
  const d = new Date(ms);
  return hourly
    ? new Date(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours() + 1).getTime()
    : new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime();
}

export class LogFile {
  private fd: number;
  private parts: string[] = [];
  private bytes = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly rotate: boolean;
  private readonly hourly: boolean;
  private readonly maxBytes: number;
  private readonly now: () => number;
  /** When the current file's period began, and when the next one begins. */
  private periodAt: number;
  private nextAt: number;
  private lostSinceNote = 0;
  private _dropped = 0;
  private _closed = false;
  /** The last write or reopen error (for diagnostics). */
  lastError: string | undefined;

  private constructor(readonly path: string, opts: LogFileOptions) {
    this.rotate = !!(opts.rotateDaily || opts.rotateHourly);
    this.hourly = !!opts.rotateHourly;
    this.maxBytes = opts.maxBufferBytes ?? DEFAULT_LOG_BUFFER_BYTES;
    this.now = opts.now ?? Date.now;
    this.periodAt = this.now();
    this.nextAt = this.rotate ? nextPeriodStart(this.periodAt, this.hourly) : Infinity;
    this.fd = openSync(path, 'a');
  }

  /** Create the directory and open (append) the file. Throws when it cannot be opened. */
  static open(opts: LogFileOptions): LogFile {
    mkdirSync(dirname(opts.path), { recursive: true });
    return new LogFile(opts.path, opts);
  }

  /** Lines lost so far (buffer full or a failed write). */
  get dropped(): number {
    return this._dropped;
  }

  get closed(): boolean {
    return this._closed;
  }

  /** Queue one line (a newline is added). Never throws, never blocks on more than one append. */
  write(line: string): void {
    if (this._closed) return;
    if (this.now() >= this.nextAt) this.rollOver();
    const text = line.endsWith('\n') ? line : `${line}\n`;
    // UTF-16 length ≤ UTF-8 length ≤ 3 × UTF-16 length: a cheap, safe over-estimate.
    const cost = text.length * 3;
    if (this.bytes + cost > this.maxBytes) {
      this._dropped++;
      this.lostSinceNote++;
      return;
    }
    this.parts.push(text);
    this.bytes += cost;
    if (this.bytes >= FLUSH_AT_BYTES) this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, FLUSH_INTERVAL_MS);
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  /** Write everything queued now. */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.parts.length === 0 && this.lostSinceNote === 0) return;
    if (this.fd < 0 && !this.reopen()) {
      this.lose(this.parts.length);
      return;
    }
    let text = this.parts.join('');
    const lines = this.parts.length;
    this.parts = [];
    this.bytes = 0;
    if (this.lostSinceNote > 0) {
      text = `${new Date(this.now()).toISOString()} WARN log: ${this.lostSinceNote} lines were not written to this file (buffer full or write failed)\n${text}`;
    }
    const buf = Buffer.from(text, 'utf8');
    try {
      let off = 0;
      while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
      this.lostSinceNote = 0;
    } catch (e) {
      this.lastError = errorText(e);
      this.lose(lines);
      this.closeFd();
    }
  }

  /** Flush and close the file; later writes are ignored. */
  close(): void {
    if (this._closed) return;
    this.flush();
    this._closed = true;
    this.closeFd();
  }

  private lose(lines: number): void {
    this.parts = [];
    this.bytes = 0;
    this._dropped += lines;
    this.lostSinceNote += lines;
  }

  /** The period changed: write what belongs to the old file, rename it, open a new one. */
  private rollOver(): void {
    this.flush();
    const backup = `${this.path}.${periodStamp(this.periodAt, this.hourly)}`;
    const now = this.now();
    this.periodAt = now;
    this.nextAt = nextPeriodStart(now, this.hourly);
    try {
      renameSync(this.path, backup);
    } catch (e) {
      this.lastError = errorText(e); // keep writing the current file (as LAL does)
      return;
    }
    this.closeFd();
    this.reopen();
  }

  private reopen(): boolean {
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      this.fd = openSync(this.path, 'a');
      return true;
    } catch (e) {
      this.lastError = errorText(e);
      this.fd = -1;
      return false;
    }
  }

  private closeFd(): void {
    if (this.fd < 0) return;
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
    this.fd = -1;
  }
}

/** The consola log object fields a file line is made of. */
export interface LogRecord {
  date: Date;
  type: string;
  tag?: string;
  args: unknown[];
}

/** One file line: ISO time, level, `[tag]`, the message (an Error with its stack). */
export function formatLogLine(o: LogRecord): string {
  const tag = o.tag ? `[${o.tag}] ` : '';
  const text = o.args
    .map((a) => {
      if (typeof a === 'string') return a;
      if (a instanceof Error) return a.stack ?? a.message;
      try {
        return JSON.stringify(a);
      } catch {
        return String(a);
      }
    })
    .join(' ');
  return `${o.date.toISOString()} ${o.type.toUpperCase()} ${tag}${text}`;
}

/** A consola reporter that writes every record to `file`. */
export function logFileReporter(file: LogFile): { log: (o: LogRecord) => void } {
  return { log: (o) => file.write(formatLogLine(o)) };
}
