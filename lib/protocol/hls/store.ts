/**
 * Where HLS files live (docs/hls.md §1, docs/config.md §3.7 `use_memory_as_disk_flag`): one small
 * file-system interface with a disk and an in-memory implementation, so the muxer, the cleanup
 * timer and the HTTP handler run unchanged on either.
 *
 * Synchronous on purpose. The muxer is called from the stream's fan-out and must keep the
 * order docs/hls.md §2 prescribes (create fragment → PAT/PMT → flushed audio → frame; close →
 * playlist → record playlist / deletion) without a queue of its own: an async writer would need
 * a per-stream backlog (another buffer to bound, docs/architecture.md §2.4/§2.9) and would report errors
 * long after the call that caused them. The writes are one frame's TS packets (tens of KB) or a
 * playlist (< 1 KB live, ~60 B per fragment for record) into the page cache, which is what LAL
 * does too. The cost is that a stalled disk stalls the event loop; a worker-thread store can
 * implement the same interface later if that shows up.
 *
 * Paths are plain strings as built by path.ts (`join(out_path, stream, file)`); both stores
 * normalise them, so `./a/b` and `a/b` are the same file.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, normalize, resolve } from 'node:path';
import { LalError, errorText } from '../../core/errors.ts';
import { concat } from '../../core/bytes.ts';
import { FileWriter } from '../../core/file-writer.ts';
import { silentLogger, type Logger } from '../../core/log.ts';
import { LIVE_PLAYLIST_NAME, RECORD_PLAYLIST_NAME } from './path.ts';

/** A file opened for writing by `openAppend`. */
export interface AppendHandle {
  /** Append `bytes` (the store may keep the view: do not mutate it afterwards). */
  write(bytes: Uint8Array): void;
  close(): void;
}

export interface SegmentStore {
  /** Create `dir` and its parents; no-op when it exists. */
  mkdirp(dir: string): void;
  /** Create or replace `path` with `bytes` (the parent directory must exist). */
  writeFile(path: string, bytes: Uint8Array): void;
  /** Create (truncating) `path` and return a handle whose writes append to it. */
  openAppend(path: string): AppendHandle;
  /** The whole file, or undefined when it does not exist (or is a directory). Do not mutate it. */
  readFile(path: string): Uint8Array | undefined;
  /** Move `from` over `to` (replacing it). Throws when `from` does not exist. */
  rename(from: string, to: string): void;
  /** Delete one file; no-op when it does not exist. */
  remove(path: string): void;
  /** Delete `dir` recursively; no-op when it does not exist. */
  removeDir(dir: string): void;
  /** True for an existing file or directory. */
  exists(path: string): boolean;
}

function ioError(op: string, path: string, e: unknown): LalError {
  return new LalError('hls-io', `hls: ${op} ${path} failed: ${errorText(e)}`, { cause: e });
}

function isMissing(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

// ---------------------------------------------------------------------------------------------
// Disk

/** node:fs, synchronous (see the file comment). Every failure is a LalError with code `hls-io`. */
export class DiskStore implements SegmentStore {
  mkdirp(dir: string): void {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw ioError('mkdir', dir, e);
    }
  }

  writeFile(path: string, bytes: Uint8Array): void {
    try {
      writeFileSync(path, bytes);
    } catch (e) {
      throw ioError('write', path, e);
    }
  }

  openAppend(path: string): AppendHandle {
    const f = new FileWriter(path, { tag: 'hls', code: 'hls-io' });
    return {
      write: (bytes: Uint8Array): void => f.write(bytes),
      close: (): void => f.close(),
    };
  }

  readFile(path: string): Uint8Array | undefined {
    try {
      return readFileSync(path);
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw ioError('read', path, e);
    }
  }

  rename(from: string, to: string): void {
    try {
      renameSync(from, to);
    } catch (e) {
      throw ioError(`rename to ${to}`, from, e);
    }
  }

  remove(path: string): void {
    try {
      rmSync(path, { force: true });
    } catch (e) {
      throw ioError('remove', path, e);
    }
  }

  removeDir(dir: string): void {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      throw ioError('remove dir', dir, e);
    }
  }

  exists(path: string): boolean {
    return existsSync(path);
  }
}

// ---------------------------------------------------------------------------------------------
// Memory

/**
 * Default byte cap of a MemoryStore. A safety net, not the normal bound (the cleanup rules are):
 * with shipped settings a stream keeps at most 13 fragments in mode 2, about 20 MB at 4 Mbit/s,
 * so 512 MiB holds ~25 such streams; modes 0/1 keep every fragment until the stream's cleanup,
 * which without a cap grows without end (lal#126, docs/architecture.md §2.9).
 */
export const MAX_MEMORY_STORE_BYTES = 512 * 1024 * 1024;

/** At most one eviction warning per this many ms (docs/architecture.md §1.7 rule 9). */
const EVICTION_LOG_INTERVAL_MS = 10_000;

interface MemFile {
  /** Appended views while open; one consolidated buffer once closed or written whole. */
  chunks: Uint8Array[];
  size: number;
  open: boolean;
}

export interface MemoryStoreOptions {
  /** Byte cap over all files (default MAX_MEMORY_STORE_BYTES). */
  maxBytes?: number;
  log?: Logger;
  /** Clock for throttling the eviction log (ms). */
  now?: () => number;
}

/**
 * In-process file system with the same paths as the disk (docs/hls.md §1). Holds exactly what the
 * muxer and the cleanup leave in it; above `maxBytes` it evicts the oldest closed `.ts`
 * fragments (creation order, across streams), logging a throttled warning. Playlists and files
 * being written are never evicted; an append that still does not fit is dropped and counted.
 */
export class MemoryStore implements SegmentStore {
  readonly maxBytes: number;
  private readonly files = new Map<string, MemFile>();
  private readonly dirs = new Set<string>();
  private total = 0;
  private readonly log: Logger;
  private readonly now: () => number;
  private lastEvictionLog = -Infinity;
  private evictedSinceLog = 0;
  /** Fragments evicted by the cap so far. */
  evictedFiles = 0;
  /** Appended bytes dropped because nothing more could be evicted. */
  droppedBytes = 0;

  constructor(opts: MemoryStoreOptions = {}) {
    this.maxBytes = opts.maxBytes ?? MAX_MEMORY_STORE_BYTES;
    this.log = opts.log ?? silentLogger;
    this.now = opts.now ?? Date.now;
  }

  /** Bytes currently held. */
  get totalBytes(): number {
    return this.total;
  }

  /** Number of files currently held. */
  get fileCount(): number {
    return this.files.size;
  }

  /** Normalised paths of all files (creation order). */
  listFiles(): string[] {
    return [...this.files.keys()];
  }

  private norm(p: string): string {
    const n = normalize(p);
    return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
  }

  private parentExists(p: string): boolean {
    const d = dirname(p);
    return d === '.' || d === '/' || this.dirs.has(d);
  }

  mkdirp(dir: string): void {
    let d = this.norm(dir);
    if (this.files.has(d)) throw new LalError('hls-io', `hls: mkdir ${dir} failed: a file has that name`);
    while (d !== '.' && d !== '/' && !this.dirs.has(d)) {
      this.dirs.add(d);
      d = dirname(d);
    }
  }

  private create(path: string, op: string): string {
    const p = this.norm(path);
    if (!this.parentExists(p)) throw new LalError('hls-io', `hls: ${op} ${path} failed: no such directory`);
    if (this.dirs.has(p)) throw new LalError('hls-io', `hls: ${op} ${path} failed: is a directory`);
    this.drop(p);
    return p;
  }

  private drop(p: string): void {
    const f = this.files.get(p);
    if (!f) return;
    this.total -= f.size;
    this.files.delete(p);
  }

  writeFile(path: string, bytes: Uint8Array): void {
    const p = this.create(path, 'write');
    this.files.set(p, { chunks: [bytes], size: bytes.length, open: false });
    this.total += bytes.length;
    this.enforceCap(0);
  }

  openAppend(path: string): AppendHandle {
    const p = this.create(path, 'open');
    const file: MemFile = { chunks: [], size: 0, open: true };
    this.files.set(p, file);
    return {
      write: (bytes: Uint8Array): void => {
        if (!file.open) throw new LalError('hls-io', `hls: write to closed file ${path}`);
        if (this.files.get(p) !== file) return; // removed or replaced meanwhile: nothing to append to
        if (!this.enforceCap(bytes.length)) {
          this.droppedBytes += bytes.length;
          this.noteEviction(0);
          return;
        }
        file.chunks.push(bytes);
        file.size += bytes.length;
        this.total += bytes.length;
      },
      close: (): void => {
        if (!file.open) return;
        file.open = false;
        // The store takes ownership here: one buffer per fragment, and the frames' shared
        // buffers are released (docs/architecture.md §1.7 rule 3: a copy where ownership changes).
        if (file.chunks.length > 1) file.chunks = [concat(file.chunks)];
      },
    };
  }

  /**
   * Evict the oldest closed fragments until `incoming` more bytes fit. Returns false when they
   * still do not fit (only playlists and open files are left).
   */
  private enforceCap(incoming: number): boolean {
    if (this.total + incoming <= this.maxBytes) return true;
    let evicted = 0;
    for (const [p, f] of this.files) {
      if (this.total + incoming <= this.maxBytes) break;
      if (f.open || !p.endsWith('.ts')) continue;
      this.drop(p);
      evicted++;
    }
    this.evictedFiles += evicted;
    this.noteEviction(evicted);
    return this.total + incoming <= this.maxBytes;
  }

  private noteEviction(n: number): void {
    this.evictedSinceLog += n;
    const t = this.now();
    if (t - this.lastEvictionLog < EVICTION_LOG_INTERVAL_MS) return;
    if (this.evictedSinceLog === 0 && this.droppedBytes === 0) return;
    this.lastEvictionLog = t;
    this.log.warn(
      `hls memory store over its ${this.maxBytes}-byte cap: evicted ${this.evictedSinceLog} oldest fragment(s)` +
        (this.droppedBytes ? `, ${this.droppedBytes} bytes dropped in total` : ''),
    );
    this.evictedSinceLog = 0;
  }

  readFile(path: string): Uint8Array | undefined {
    const f = this.files.get(this.norm(path));
    if (!f) return undefined;
    if (f.chunks.length === 1) return f.chunks[0];
    return concat(f.chunks);
  }

  rename(from: string, to: string): void {
    const src = this.norm(from);
    const f = this.files.get(src);
    if (!f) throw new LalError('hls-io', `hls: rename ${from} to ${to} failed: no such file`);
    if (this.norm(to) === src) return;
    const dst = this.create(to, 'rename to');
    this.files.delete(src);
    this.files.set(dst, f);
  }

  remove(path: string): void {
    const p = this.norm(path);
    if (this.dirs.has(p)) throw new LalError('hls-io', `hls: remove ${path} failed: is a directory`);
    this.drop(p);
  }

  removeDir(dir: string): void {
    const d = this.norm(dir);
    const prefix = d === '/' ? '/' : `${d}/`;
    for (const p of [...this.files.keys()]) if (p === d || p.startsWith(prefix)) this.drop(p);
    for (const x of [...this.dirs]) if (x === d || x.startsWith(prefix)) this.dirs.delete(x);
  }

  exists(path: string): boolean {
    const p = this.norm(path);
    return this.files.has(p) || this.dirs.has(p);
  }
}

// ---------------------------------------------------------------------------------------------
// One stream's HLS in a directory of the caller's choosing

export interface OutputDirStoreOptions {
  /** The muxer's stream directory, `<out_path>/<stream>` (docs/hls.md §1). */
  muxerDir: string;
  /** Where its files go instead. */
  outDir: string;
  /** File names in `outDir` of the muxer's live and record playlists; undefined: not written. */
  livePlaylist?: string;
  recordPlaylist?: string;
  /**
   * Write buffer of each fragment, in bytes (default 0). With one, a fragment is complete only
   * once closed (unlike DiskStore, whose open files can be read): for conversions, where nobody
   * reads a fragment before the muxer closes it.
   */
  writeBufferSize?: number;
}

/**
 * A disk SegmentStore that puts one muxer's stream directory into `outDir` (its fragments keep
 * their names, `<stream>-<unix_ms>-<id>.ts`, docs/hls.md §1), renames or drops its two playlists, and remembers
 * every file and directory it creates so a failed run can remove them (`cleanup`). For HLS
 * written to a path given on a command line (`lal remux … DIR/NAME.m3u8`). Fragments may go
 * through a write buffer (`writeBufferSize`). The first I/O error is kept in `firstError` (the
 * muxer counts I/O errors rather than throwing them on).
 */
export class OutputDirStore implements SegmentStore {
  readonly outDir: string;
  firstError: string | undefined;
  private readonly created = new Set<string>();
  private createdDir: string | undefined;
  private readonly disk: DiskStore;
  private readonly muxerDir: string;

  constructor(private readonly opts: OutputDirStoreOptions) {
    this.outDir = opts.outDir;
    this.muxerDir = normalize(opts.muxerDir);
    this.disk = new DiskStore();
  }

  /** Real path of a muxer path; undefined for a playlist that is not written. */
  private map(p: string): string | undefined {
    const n = normalize(p);
    if (n === this.muxerDir) return this.outDir;
    if (dirname(n) !== this.muxerDir) return p;
    const name = basename(n);
    const bak = name.endsWith('.bak') ? '.bak' : '';
    const bare = bak ? name.slice(0, -4) : name;
    if (bare === LIVE_PLAYLIST_NAME) return this.opts.livePlaylist && join(this.outDir, this.opts.livePlaylist + bak);
    if (bare === RECORD_PLAYLIST_NAME) return this.opts.recordPlaylist && join(this.outDir, this.opts.recordPlaylist + bak);
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
      // the topmost directory this creates, remembered for the cleanup
      let top: string | undefined;
      for (let x = resolve(d); !existsSync(x); x = dirname(x)) {
        top = x;
        if (dirname(x) === x) break;
      }
      this.disk.mkdirp(d);
      this.createdDir ??= top;
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
    const f = this.guard(() => new FileWriter(p, { bufferSize: this.opts.writeBufferSize, tag: 'hls', code: 'hls-io' }));
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

  /** Remove every file this store created, then the directories it created (when empty). */
  cleanup(): void {
    for (const p of this.created) rmSync(p, { force: true });
    this.created.clear();
    if (!this.createdDir) return;
    const top = this.createdDir;
    for (let d = resolve(this.outDir); ; d = dirname(d)) {
      try {
        rmdirSync(d);
      } catch {
        return; // not empty (someone else's files) or gone
      }
      if (d === top || dirname(d) === d) return;
    }
  }
}
