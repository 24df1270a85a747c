/**
 * Tracked HLS players (docs/hls.md §7, `hls.sub_session_hash_key`): each session is a presence on
 * its stream (stats, kick, keeps the stream alive) with no media consumer — players fetch files.
 * The 1 s sweep expires sessions after `sub_session_timeout_ms` without a request.
 */
import type { Logger } from '../../core/log.ts';
import { HlsSessions, type HlsSubSession } from '../../protocol/hls/sessions.ts';
import { SessionStat } from '../stat.ts';
import type { HlsPlayerTracker, ServerContext } from '../context.ts';
import type { Presence, Stream } from '../stream.ts';

export class HlsPresence implements Presence {
  closed = false;
  readonly stat: SessionStat;
  stream: Stream | undefined;
  constructor(readonly session: HlsSubSession, private readonly onKick: (s: HlsPresence) => void) {
    this.stat = new SessionStat(session.id, 'HLS', 'SUB', session.remoteAddr);
    this.stat.source = { read: () => 0, wrote: () => session.wroteBytes };
  }
  close(_reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.onKick(this);
  }
}

/** Server-wide HLS session table plus its sweeper (registered as a LiveSession for the tick). */
export class HlsSessionTracker implements HlsPlayerTracker {
  readonly stat = new SessionStat('HLSSWEEPER', 'HLS', 'SUB', '');
  readonly table: HlsSessions;
  private readonly subs = new Map<string, HlsPresence>();

  constructor(private readonly ctx: ServerContext, private readonly log: Logger) {
    const c = ctx.config.hls;
    this.table = new HlsSessions({ hashKey: c.sub_session_hash_key, timeoutMs: c.sub_session_timeout_ms, nextId: () => ctx.ids.next('HLSSUB') });
  }

  get enabled(): boolean {
    return this.table.enabled;
  }

  /** New session for a playlist request without session_id; joins (or creates) its stream. */
  create(info: { streamName: string; appName: string; url: string; urlParam: string; remoteAddr: string }): HlsSubSession | undefined {
    const s = this.table.create(info);
    if (!s) return undefined;
    const sub = new HlsPresence(s, () => this.table.kick(s));
    sub.stream = this.ctx.hub.join(info.streamName, info.appName, sub);
    this.subs.set(s.id, sub);
    this.log.info(`[${s.id}] hls player ${info.remoteAddr} plays ${info.streamName}`);
    return s;
  }

  tick(): void {
    for (const s of this.table.sweep()) {
      const sub = this.subs.get(s.id);
      this.subs.delete(s.id);
      if (!sub) continue;
      sub.closed = true;
      sub.stream?.leave(sub);
      this.log.info(`[${s.id}] hls player gone (${s.kicked ? 'kicked' : 'expired'})`);
    }
  }

  /** Tracked HLS players are not in the server's session registry: their rates are refreshed here. */
  updateBitrate(intervalSec: number): void {
    for (const sub of this.subs.values()) sub.stat.updateBitrate(intervalSec);
  }

  close(): void {
    for (const sub of this.subs.values()) sub.stream?.leave(sub);
    this.subs.clear();
  }
}
