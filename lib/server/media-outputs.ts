/**
 * What a stream starts and stops with its input (docs/behaviour.md §3.2–§3.3): the HLS muxer (and
 * its cleanup timer) and the MPEG-TS recorder as consumers of the stream's TS branch, the FLV
 * recorder as a stream-level output. Implements the Stream hooks.
 */
import type { Logger } from '../core/log.ts';
import { errorDetail } from '../core/errors.ts';
import type { LalConfig } from './config.ts';
import type { BranchDef, Stream, StreamHooks } from './stream.ts';
import type { StreamHub } from './hub.ts';
import { HlsMuxer, hlsCleanupDelayMs, type HlsCleanup } from '../protocol/hls/muxer.ts';
import type { SegmentStore } from '../protocol/hls/store.ts';
import { FlvRecorder, TsRecorder } from './record.ts';
import { HlsOutput, type TsBranch } from './ts-branch.ts';

interface PerStream {
  hls?: HlsOutput;
  flv?: FlvRecorder;
  ts?: TsRecorder;
}

export class MediaOutputs implements StreamHooks {
  hub: StreamHub | undefined;
  private readonly active = new WeakMap<Stream, PerStream>();

  constructor(
    private readonly config: LalConfig,
    private readonly log: Logger,
    private readonly tsDef: BranchDef<TsBranch> | undefined,
    private readonly hlsStore: SegmentStore | undefined,
    private readonly hlsCleanup: HlsCleanup | undefined,
  ) {}

  onPublishStart(s: Stream): void {
    const cfg = this.config;
    const log = this.log.withTag(s.name);
    const per: PerStream = {};
    if (this.hlsStore && this.tsDef) {
      // Names were checked at admission; the muxer's paths go through fileInside all the same.
      try {
        this.hlsCleanup?.cancel(s.name);
        const muxer = new HlsMuxer({
          streamName: s.name,
          outPath: cfg.hls.out_path,
          fragmentDurationMs: cfg.hls.fragment_duration_ms,
          fragmentNum: cfg.hls.fragment_num,
          deleteThreshold: cfg.hls.delete_threshold,
          cleanupMode: cfg.hls.cleanup_mode as 0 | 1 | 2,
          store: this.hlsStore,
          log,
        });
        muxer.start();
        per.hls = new HlsOutput(muxer, log);
        s.branch(this.tsDef).add(per.hls, true);
      } catch (e) {
        log.error(`hls: cannot start for ${s.name}: ${errorDetail(e)}`);
      }
    }
    const now = Math.floor(Date.now() / 1000);
    if (cfg.record.enable_flv) {
      per.flv = FlvRecorder.open(cfg.record.flv_out_path, s.name, now, log);
      if (per.flv) s.addOutput(per.flv.sub);
    }
    if (cfg.record.enable_mpegts && this.tsDef) {
      per.ts = TsRecorder.open(cfg.record.mpegts_out_path, s.name, now, log);
      if (per.ts) s.branch(this.tsDef).add(per.ts);
    }
    this.active.set(s, per);
  }

  /** Called after the stream's branches ended this publish session (HLS has its ENDLIST). */
  onPublishStop(s: Stream): void {
    const per = this.active.get(s);
    if (!per) return;
    this.active.delete(s);
    const ts = s.existingBranch('ts') as TsBranch | undefined;
    if (per.hls) {
      ts?.remove(per.hls);
      per.hls.close('publisher stopped');
      this.scheduleCleanup(s.name);
    }
    if (per.flv) {
      per.flv.close();
      s.removeOutput(per.flv.sub);
    }
    if (per.ts) {
      per.ts.close();
      ts?.remove(per.ts);
    }
  }

  private scheduleCleanup(name: string): void {
    const c = this.config.hls;
    if (!this.hlsCleanup || c.cleanup_mode === 0) return;
    try {
      this.hlsCleanup.schedule(name, hlsCleanupDelayMs(c.fragment_duration_ms, c.fragment_num, c.delete_threshold), () => {
        const cur = this.hub?.get(name);
        const tsb = cur?.existingBranch('ts') as TsBranch | undefined;
        return !!cur?.publisher && !!tsb?.running;
      });
    } catch (e) {
      this.log.error(`hls cleanup for ${name} not scheduled: ${errorDetail(e)}`);
    }
  }
}
