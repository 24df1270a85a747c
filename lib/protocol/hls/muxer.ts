/**
 * HLS muxer: cuts one input session's TS frames into fragments and keeps the playlists
 * (docs/hls.md §2 fragmenting, §3 live playlist, §4 record playlist, §5 cleanup modes), plus the
 * end-of-stream cleanup timer (§5). Sans-I/O: files go through a SegmentStore, the wall clock and
 * the timers are injected, `on_hls_make_ts` (docs/http-notify.md §3.10) is one typed callback.
 *
 * One HlsMuxer per input session: fragment ids restart at 0 and the first fragment is marked
 * discontinuous; names stay unique across republishes through the wall-clock part
 * (`<stream>-<unix_ms>-<id>.ts`).
 */
import { LalError, ParseError, errorText } from '../../core/errors.ts';
import { silentLogger, type Logger } from '../../core/log.ts';
import type { TsFrame } from '../../format/mpegts/types.ts';
import {
  appendToRecordPlaylist,
  createRecordPlaylist,
  updateRecordMax,
  writeLivePlaylist,
  type PlaylistFragment,
} from '../../format/m3u8/playlist.ts';
import { hlsFilePath, hlsFragmentName, hlsStreamDir, LIVE_PLAYLIST_NAME, RECORD_PLAYLIST_NAME } from './path.ts';
import type { SegmentStore } from './store.ts';

/** docs/config.md §3.7 `hls.cleanup_mode`, docs/hls.md §5. */
export const HlsCleanupMode = {
  /** Never delete; record playlist maintained. */
  Never: 0,
  /** Delete the stream directory some time after the input stops; record playlist maintained. */
  InTheEnd: 1,
  /** Delete expired fragments while streaming, and the directory after the end; no record playlist. */
  Asap: 2,
} as const;
export type HlsCleanupMode = (typeof HlsCleanupMode)[keyof typeof HlsCleanupMode];

/** 90 kHz ticks per second. */
const TICKS_PER_SEC = 90_000;
/** docs/hls.md §2 forced split: a frame more than 1 s before the fragment start. */
const MAX_BACKWARD_TICKS = 90_000;
/** docs/hls.md §2 forced split: a frame more than 10× the target after the fragment start. */
const FORCED_SPLIT_FACTOR = 10;
/** Repeated warnings (forced splits, dropped frames) are summarised at most this often. */
const WARN_INTERVAL_MS = 10_000;

/** docs/http-notify.md §3.10 `on_hls_make_ts`, without `server_id` and `cwd` (the notifier adds them). */
export interface HlsMakeTsEvent {
  event: 'open' | 'close';
  streamName: string;
  /** `<out_path>/<stream>/<fragment>`, path-cleaned. */
  tsFile: string;
  liveM3u8File: string;
  /** Reported in every mode, even mode 2 where it is not written. */
  recordM3u8File: string;
  /** Fragment sequence number (0 for the first fragment of the input session). */
  id: number;
  /** Seconds: 0 on `open`, the unrounded measured duration on `close`. */
  duration: number;
}

/** A fragment as the muxer knows it. */
export interface HlsFragmentInfo extends PlaylistFragment {
  id: number;
  /** Wall-clock ms when it was opened (the `<unix_ms>` of its name). */
  openedAtMs: number;
  /** 90 kHz timestamp of the frame that opened it. */
  startTs: number;
}

export interface HlsMuxerOptions {
  streamName: string;
  /** `hls.out_path`; files go to `<outPath>/<streamName>/`. */
  outPath: string;
  /** `hls.fragment_duration_ms` (> 0). */
  fragmentDurationMs: number;
  /** `hls.fragment_num` (≥ 1): fragments in the live playlist. */
  fragmentNum: number;
  /** `hls.delete_threshold` (≥ 0): extra fragments kept in mode 2. */
  deleteThreshold: number;
  cleanupMode: HlsCleanupMode;
  store: SegmentStore;
  /** Wall clock in ms for fragment names (default Date.now); fixed in golden tests. */
  now?: () => number;
  log?: Logger;
  /**
   * `on_hls_make_ts` data. Called synchronously from feed()/end(): queue it, do not do I/O or
   * call back into the stream from here (docs/architecture.md §2.5).
   */
  onMakeTs?: (ev: HlsMakeTsEvent) => void;
}

interface OpenFragment extends HlsFragmentInfo {
  path: string;
  writer?: { write(bytes: Uint8Array): void; close(): void };
}

export interface HlsMuxerStats {
  fragmentsClosed: number;
  forcedSplits: number;
  /** Frames dropped because no fragment was open yet (stream starting without a boundary). */
  droppedFrames: number;
  ioErrors: number;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

export class HlsMuxer {
  readonly streamName: string;
  /** `<out_path>/<stream>`. */
  readonly dir: string;
  readonly liveM3u8Path: string;
  readonly recordM3u8Path: string;
  readonly stats: HlsMuxerStats = { fragmentsClosed: 0, forcedSplits: 0, droppedFrames: 0, ioErrors: 0 };

  private readonly opts: HlsMuxerOptions;
  private readonly store: SegmentStore;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly targetSec: number;
  private readonly forcedSplitTicks: number;
  /** Closed fragments still needed: the live window plus, for mode 2, those awaiting deletion. */
  private readonly recent: HlsFragmentInfo[] = [];
  private readonly recentCap: number;
  private frag: OpenFragment | undefined;
  private nextId = 0;
  private recordMax = 0;
  private patPmt: Uint8Array | undefined;
  private started = false;
  private done = false;
  private ioErrorLogged = false;
  private lastWarnAt = -Infinity;
  private warnedForced = 0;
  private warnedDropped = 0;

  constructor(opts: HlsMuxerOptions) {
    const bad = (what: string) => new LalError('hls-config', `hls: ${what}`);
    if (!(Number.isInteger(opts.fragmentDurationMs) && opts.fragmentDurationMs > 0)) throw bad(`fragment_duration_ms ${opts.fragmentDurationMs} must be a positive integer`);
    if (!(Number.isInteger(opts.fragmentNum) && opts.fragmentNum >= 1)) throw bad(`fragment_num ${opts.fragmentNum} must be an integer ≥ 1`);
    if (!(Number.isInteger(opts.deleteThreshold) && opts.deleteThreshold >= 0)) throw bad(`delete_threshold ${opts.deleteThreshold} must be an integer ≥ 0`);
    if (opts.cleanupMode !== 0 && opts.cleanupMode !== 1 && opts.cleanupMode !== 2) throw bad(`cleanup_mode ${String(opts.cleanupMode)} must be 0, 1 or 2`);
    this.opts = opts;
    this.streamName = opts.streamName;
    // Throws LalError for names that cannot be one directory under out_path (checkStreamName,
    // fileInside), and for a name so long that its fragment names would not fit a file name.
    this.dir = hlsStreamDir(opts.outPath, opts.streamName);
    this.liveM3u8Path = hlsFilePath(opts.outPath, opts.streamName, LIVE_PLAYLIST_NAME);
    this.recordM3u8Path = hlsFilePath(opts.outPath, opts.streamName, RECORD_PLAYLIST_NAME);
    hlsFilePath(opts.outPath, opts.streamName, hlsFragmentName(opts.streamName, 9_999_999_999_999, 2 ** 32));
    this.store = opts.store;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? silentLogger;
    this.targetSec = opts.fragmentDurationMs / 1000;
    this.forcedSplitTicks = opts.fragmentDurationMs * 90 * FORCED_SPLIT_FACTOR;
    this.recentCap = opts.fragmentNum + opts.deleteThreshold + 1;
  }

  /** Create `<out_path>/<stream>/` (recursively; existing files, e.g. record.m3u8, are kept). */
  start(): void {
    if (this.started) return;
    this.started = true;
    try {
      this.store.mkdirp(this.dir);
    } catch (e) {
      this.ioFail(e);
    }
    this.log.info(`hls muxer started: ${this.dir}`);
  }

  /** The remuxer's PAT+PMT (188+188 bytes), written at the head of every fragment. */
  setPatPmt(bytes: Uint8Array): void {
    this.patPmt = bytes;
  }

  /** The closed fragments listed in the live playlist, oldest first. */
  get window(): readonly HlsFragmentInfo[] {
    return this.recent.slice(-this.opts.fragmentNum);
  }

  /** The fragment being written, if any (never listed in a playlist). */
  get current(): HlsFragmentInfo | undefined {
    if (!this.frag) return undefined;
    const { path: _p, writer: _w, ...info } = this.frag;
    return info;
  }

  get ended(): boolean {
    return this.done;
  }

  /**
   * docs/hls.md §2 for one frame. When a fragment opens: its file is created, PAT+PMT written, then
   * the frames `flushAudio()` returns (the remuxer's pending audio; the caller forwards those to
   * its other TS consumers too), then `open` is emitted, then `frame` is written.
   */
  feed(frame: TsFrame, flushAudio: () => TsFrame[]): void {
    if (!this.started) throw new LalError('hls-state', `hls: feed before start (${this.streamName})`);
    if (this.done) return;
    const ts = frame.ts;
    let f = this.frag;
    if (f) {
      // 1a. forced split on a big jump forward or more than 1 s backwards.
      if (ts > f.startTs + this.forcedSplitTicks || ts < f.startTs - MAX_BACKWARD_TICKS) {
        this.stats.forcedSplits++;
        this.warn(`forced fragment split: fragment ${f.id} started at ${f.startTs}, frame at ${ts}`);
        this.closeFragment(false);
        f = this.openFragment(ts, true, flushAudio);
      }
      // 1b. the duration only grows, and only from frames after the start.
      if (ts > f.startTs) f.duration = Math.max(f.duration, (ts - f.startTs) / TICKS_PER_SEC);
      // 1c. not long enough yet.
      if (f.duration < this.targetSec) {
        this.write(f, frame.bytes);
        return;
      }
    }
    // 2. no fragment, or the open one reached the target: cut at a boundary.
    if (frame.boundary) {
      const firstOfSession = this.frag === undefined;
      if (this.frag) this.closeFragment(false);
      f = this.openFragment(ts, firstOfSession, flushAudio);
    }
    // 3. write, or drop when the stream has not reached its first boundary.
    if (!f) {
      this.stats.droppedFrames++;
      this.warn(`dropping ${frame.kind} frame at ${ts}: no fragment open before the first boundary`);
      return;
    }
    this.write(f, frame.bytes);
  }

  /**
   * End of input (docs/hls.md §2): close the open fragment and rewrite the live playlist with
   * `#EXT-X-ENDLIST`. Feed the remuxer's end-of-input audio flush through feed() first
   * (docs/behaviour.md §3.3). Without an open fragment nothing is written. Idempotent.
   */
  end(): void {
    if (this.done) return;
    this.done = true;
    if (this.frag) this.closeFragment(true);
    this.log.info(
      `hls muxer ended: ${this.stats.fragmentsClosed} fragments, ${this.stats.forcedSplits} forced splits, ` +
        `${this.stats.droppedFrames} frames before the first boundary, ${this.stats.ioErrors} I/O errors`,
    );
  }

  // -------------------------------------------------------------------------------------------

  private openFragment(ts: number, discontinuity: boolean, flushAudio: () => TsFrame[]): OpenFragment {
    const id = this.nextId++;
    const openedAtMs = this.now();
    const name = hlsFragmentName(this.streamName, openedAtMs, id);
    const f: OpenFragment = { id, name, duration: 0, discontinuity, openedAtMs, startTs: ts, path: hlsFilePath(this.opts.outPath, this.streamName, name) };
    this.ioErrorLogged = false;
    try {
      f.writer = this.store.openAppend(f.path);
    } catch (e) {
      this.ioFail(e);
    }
    this.frag = f;
    if (this.patPmt) this.write(f, this.patPmt);
    // "start fragment with audio to make iPhone happy" (LAL): the remuxer's pending audio.
    for (const a of flushAudio()) this.write(f, a.bytes);
    this.emit('open', f, 0);
    this.log.debug(`opened fragment ${name} at ${ts}${discontinuity ? ' (discontinuity)' : ''}`);
    return f;
  }

  private closeFragment(ended: boolean): void {
    const f = this.frag;
    if (!f) return;
    this.frag = undefined;
    try {
      f.writer?.close();
    } catch (e) {
      this.ioFail(e);
    }
    const closed: HlsFragmentInfo = {
      id: f.id,
      name: f.name,
      duration: f.duration,
      discontinuity: f.discontinuity,
      openedAtMs: f.openedAtMs,
      startTs: f.startTs,
    };
    this.recent.push(closed);
    if (this.recent.length > this.recentCap) this.recent.shift();
    this.stats.fragmentsClosed++;

    this.writeLive(ended);
    if (this.opts.cleanupMode === HlsCleanupMode.Asap) this.deleteExpired(closed.id);
    else this.updateRecord(closed);
    this.emit('close', f, f.duration);
    this.log.debug(`closed fragment ${f.name}, ${f.duration} s`);
  }

  private writeLive(ended: boolean): void {
    const window = this.window;
    const text = writeLivePlaylist({
      fragments: window,
      mediaSequence: this.stats.fragmentsClosed - window.length,
      targetDurationMs: this.opts.fragmentDurationMs,
      ended,
    });
    this.writePlaylist(this.liveM3u8Path, text);
  }

  /** docs/hls.md §4. */
  private updateRecord(closed: HlsFragmentInfo): void {
    this.recordMax = updateRecordMax(this.recordMax, closed.duration);
    const entry = { fragment: closed, recordMax: this.recordMax };
    let text: string;
    try {
      const existing = this.store.readFile(this.recordM3u8Path);
      text = existing ? appendToRecordPlaylist(utf8Decoder.decode(existing), entry) : createRecordPlaylist(entry);
    } catch (e) {
      if (e instanceof ParseError) {
        this.log.error(`record playlist ${this.recordM3u8Path} not updated: ${e.message}`);
        return;
      }
      this.ioFail(e);
      return;
    }
    this.writePlaylist(this.recordM3u8Path, text);
  }

  /** docs/hls.md §5 mode 2: after closing fragment k delete fragment k − fragment_num − delete_threshold. */
  private deleteExpired(k: number): void {
    const victim = k - this.opts.fragmentNum - this.opts.deleteThreshold;
    if (victim < 0) return;
    const v = this.recent.find((x) => x.id === victim);
    if (!v) return;
    try {
      this.store.remove(hlsFilePath(this.opts.outPath, this.streamName, v.name));
    } catch (e) {
      this.ioFail(e);
    }
  }

  /** docs/hls.md §1: write `<name>.bak`, then rename it over `<name>`. */
  private writePlaylist(path: string, text: string): void {
    const bak = `${path}.bak`;
    try {
      this.store.writeFile(bak, utf8.encode(text));
      this.store.rename(bak, path);
    } catch (e) {
      this.ioFail(e);
    }
  }

  private write(f: OpenFragment, bytes: Uint8Array): void {
    if (!f.writer) return;
    try {
      f.writer.write(bytes);
    } catch (e) {
      this.ioFail(e);
      // Stop writing this fragment; the next one tries again.
      f.writer = undefined;
    }
  }

  private emit(event: 'open' | 'close', f: OpenFragment, duration: number): void {
    const cb = this.opts.onMakeTs;
    if (!cb) return;
    try {
      cb({
        event,
        streamName: this.streamName,
        tsFile: f.path,
        liveM3u8File: this.liveM3u8Path,
        recordM3u8File: this.recordM3u8Path,
        id: f.id,
        duration,
      });
    } catch (e) {
      this.log.error(`on_hls_make_ts callback threw: ${errorText(e)}`);
    }
  }

  /** I/O failures are counted; one is logged per fragment (docs/architecture.md §1.7 rule 9). */
  private ioFail(e: unknown): void {
    this.stats.ioErrors++;
    if (this.ioErrorLogged) return;
    this.ioErrorLogged = true;
    this.log.error(`${errorText(e)} (${this.stats.ioErrors} I/O errors so far)`);
  }

  /** Throttled warning for per-frame conditions. */
  private warn(msg: string): void {
    const t = this.now();
    if (t - this.lastWarnAt < WARN_INTERVAL_MS) return;
    const forced = this.stats.forcedSplits - this.warnedForced;
    const dropped = this.stats.droppedFrames - this.warnedDropped;
    this.lastWarnAt = t;
    this.warnedForced = this.stats.forcedSplits;
    this.warnedDropped = this.stats.droppedFrames;
    this.log.warn(`${msg} (last period: ${forced} forced splits, ${dropped} dropped frames)`);
  }
}

// ---------------------------------------------------------------------------------------------
// Cleanup timer (docs/hls.md §5)

/** The two timer functions HlsCleanup needs; injectable for tests. */
export interface HlsTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const defaultTimers: HlsTimers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    // A pending cleanup must not keep the process alive.
    (t as { unref?: () => void }).unref?.();
    return t;
  },
  clearTimeout(h) {
    clearTimeout(h as ReturnType<typeof setTimeout>);
  },
};

/** docs/hls.md §5: `fragment_duration_ms × (fragment_num + delete_threshold)` (36 s shipped). */
export function hlsCleanupDelayMs(fragmentDurationMs: number, fragmentNum: number, deleteThreshold: number): number {
  return fragmentDurationMs * (fragmentNum + deleteThreshold);
}

export interface HlsCleanupOptions {
  store: SegmentStore;
  outPath: string;
  log?: Logger;
  timers?: HlsTimers;
}

/**
 * docs/hls.md §5 cleanup timer (modes 1 and 2; the server does not schedule in mode 0). When it
 * fires and the stream is not live again, `<out_path>/<stream>/` is removed recursively.
 * A new schedule for the same stream replaces the pending one, so a quick stop → republish →
 * stop never removes the second session's files early.
 */
export class HlsCleanup {
  private readonly pendingTimers = new Map<string, unknown>();
  private readonly timers: HlsTimers;
  private readonly log: Logger;

  constructor(private readonly opts: HlsCleanupOptions) {
    this.timers = opts.timers ?? defaultTimers;
    this.log = opts.log ?? silentLogger;
  }

  /** Streams with a pending cleanup. */
  get pending(): number {
    return this.pendingTimers.size;
  }

  /**
   * Remove the stream's directory after `delayMs` unless `stillLive()` says it has a running
   * HLS muxer again by then. Throws LalError('hls-path') for an unusable stream name.
   */
  schedule(streamName: string, delayMs: number, stillLive: () => boolean): void {
    const dir = hlsStreamDir(this.opts.outPath, streamName);
    this.cancel(streamName);
    const handle = this.timers.setTimeout(() => {
      if (this.pendingTimers.get(streamName) !== handle) return;
      this.pendingTimers.delete(streamName);
      let live: boolean;
      try {
        live = stillLive();
      } catch (e) {
        this.log.error(`hls cleanup of ${dir}: liveness check threw, keeping files: ${errorText(e)}`);
        return;
      }
      if (live) {
        this.log.debug(`hls cleanup of ${dir} skipped: ${streamName} is live again`);
        return;
      }
      try {
        this.opts.store.removeDir(dir);
        this.log.info(`hls cleanup: removed ${dir}`);
      } catch (e) {
        this.log.error(`hls cleanup of ${dir} failed: ${errorText(e)}`);
      }
    }, delayMs);
    this.pendingTimers.set(streamName, handle);
  }

  /** Forget a pending cleanup of `streamName` (no-op when none). */
  cancel(streamName: string): void {
    const h = this.pendingTimers.get(streamName);
    if (h === undefined) return;
    this.pendingTimers.delete(streamName);
    this.timers.clearTimeout(h);
  }

  /** Server shutdown: drop every pending cleanup (files stay). */
  close(): void {
    for (const h of this.pendingTimers.values()) this.timers.clearTimeout(h);
    this.pendingTimers.clear();
  }
}
