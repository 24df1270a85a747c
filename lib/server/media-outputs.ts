/**
 * What a stream starts and stops with its input (behaviour.md §3.2–§3.3): the HLS muxer (and its
 * cleanup timer), the FLV and MPEG-TS recorders. Implements the Stream hooks.
 */
import type { Logger } from '../core/log.ts';
import { errorText } from '../core/errors.ts';
import type { LalConfig } from './config.ts';
import type { Stream, StreamHooks } from './stream.ts';
import type { StreamHub } from './hub.ts';
import { HlsMuxer, hlsCleanupDelayMs, type HlsCleanup } from '../protocol/hls/muxer.ts';
import { isSafeHlsName } from '../protocol/hls/path.ts';
import type { SegmentStore } from '../protocol/hls/store.ts';
import { FlvRecorder, TsRecorder } from './record.ts';

interface PerStream {
  flv?: FlvRecorder;
  ts?: TsRecorder;
}

export class MediaOutputs implements StreamHooks {
  hub: StreamHub | undefined;
  private readonly active = new WeakMap<Stream, PerStream>();

  constructor(
    private readonly config: LalConfig,
    private readonly log: Logger,
    private readonly hlsStore: SegmentStore | undefined,
    private readonly hlsCleanup: HlsCleanup | undefined,
  ) {}

  onPublishStart(s: Stream): void {
    const cfg = this.config;
    const log = this.log.withTag(s.name);
    let hls: HlsMuxer | undefined;
    if (this.hlsStore && s.ts) {
      if (!isSafeHlsName(s.name)) {
        log.warn(`hls: stream name ${JSON.stringify(s.name)} cannot be a directory name, no HLS for it`);
      } else {
        try {
          this.hlsCleanup?.cancel(s.name);
          hls = new HlsMuxer({
            streamName: s.name,
            outPath: cfg.hls.out_path,
            fragmentDurationMs: cfg.hls.fragment_duration_ms,
            fragmentNum: cfg.hls.fragment_num,
            deleteThreshold: cfg.hls.delete_threshold,
            cleanupMode: cfg.hls.cleanup_mode as 0 | 1 | 2,
            store: this.hlsStore,
            log,
          });
          hls.start();
        } catch (e) {
          log.error(`hls: cannot start for ${s.name}: ${errorText(e)}`);
          hls = undefined;
        }
      }
    }
    s.ts?.start(hls);
    const now = Math.floor(Date.now() / 1000);
    const per: PerStream = {};
    if (cfg.record.enable_flv) {
      per.flv = FlvRecorder.open(cfg.record.flv_out_path, s.name, now, log);
      if (per.flv) s.addSubscriber(per.flv.sub);
    }
    if (cfg.record.enable_mpegts && s.ts) {
      per.ts = TsRecorder.open(cfg.record.mpegts_out_path, s.name, now, log);
      if (per.ts) s.ts.consumers.add(per.ts);
    }
    this.active.set(s, per);
  }

  onPublishStop(s: Stream): void {
    const hls = s.ts?.end();
    if (hls && this.hlsCleanup && this.config.hls.cleanup_mode !== 0) {
      const c = this.config.hls;
      try {
        this.hlsCleanup.schedule(s.name, hlsCleanupDelayMs(c.fragment_duration_ms, c.fragment_num, c.delete_threshold), () => {
          const cur = this.hub?.get(s.name);
          return !!cur?.publisher && !!cur.ts?.running;
        });
      } catch (e) {
        this.log.error(`hls cleanup for ${s.name} not scheduled: ${errorText(e)}`);
      }
    }
    const per = this.active.get(s);
    if (!per) return;
    this.active.delete(s);
    if (per.flv) {
      per.flv.close();
      s.removeSubscriber(per.flv.sub);
    }
    if (per.ts) {
      per.ts.close();
      s.ts?.consumers.delete(per.ts);
    }
  }
}
