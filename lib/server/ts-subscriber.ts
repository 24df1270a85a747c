/**
 * HTTP-TS / WebSocket-TS player (behaviour.md §5.4): PAT+PMT, then the TS GOP cache, then live
 * frames; with nothing cached it waits for the next boundary. When a publisher restarts it gets the
 * new PAT+PMT and waits for a boundary again (quirks.md Q-SUB-2, FIXed).
 */
import type { ByteSink } from '../core/sink.ts';
import type { Logger } from '../core/log.ts';
import type { TsFrame } from '../format/mpegts/types.ts';
import { encodeWsFrame, WsOpcode } from '../protocol/http/ws.ts';
import type { SessionStat } from './stat.ts';
import { GuardedSubscriber, type OutputOptions, type Subscriber } from './subscriber.ts';
import type { TsConsumer, TsPipeline } from './ts-pipeline.ts';

/** WS-TS frames are shared too: one memo per TsFrame (server frames are unmasked). */
const wsMemo = new WeakMap<Uint8Array, Uint8Array>();
function wsBytes(b: Uint8Array): Uint8Array {
  let f = wsMemo.get(b);
  if (!f) {
    f = encodeWsFrame(WsOpcode.Binary, b);
    wsMemo.set(b, f);
  }
  return f;
}

export class TsSubscriber extends GuardedSubscriber implements Subscriber, TsConsumer {
  private waiting = true;

  constructor(
    stat: SessionStat,
    sink: ByteSink,
    private readonly ws: boolean,
    private readonly opts: OutputOptions,
    log: Logger,
  ) {
    super(stat, sink, opts, log);
  }

  private out(b: Uint8Array): void {
    this.sink.write(this.ws ? wsBytes(b) : b);
  }

  /** Join: PAT/PMT and the cached GOPs now if the stream is running. */
  attach(p: TsPipeline): void {
    p.consumers.add(this);
    if (!p.patPmt) return;
    this.out(p.patPmt);
    const replay = p.gop.replay(this.opts.gopNum, this.opts.singleGopMaxFrameNum);
    for (const f of replay) this.out(f.bytes);
    this.waiting = replay.length === 0;
    this.guard.checkPending();
  }

  onPatPmt(bytes: Uint8Array): void {
    if (this.closed) return;
    this.out(bytes);
    this.waiting = true;
  }

  onTsFrame(f: TsFrame): void {
    if (this.closed) return;
    if (this.waiting) {
      if (!f.boundary) return;
      this.waiting = false;
    }
    if (!this.guard.admit(f.boundary)) return;
    this.out(f.bytes);
  }

  // The packet path is not ours: TS comes through the pipeline.
  onHeaders(): void {}
  onPacket(): void {}
}
