/**
 * Pull a live stream into an FLV file (library form of `lal pull`): RTMP play or HTTP-FLV GET,
 * every tag written as it arrives (a killed process leaves a playable file), until the source
 * ends, `durationMs` passes or the signal fires. The file's onMetaData gets `duration` and
 * `filesize` (`fileMetadata`), patched when the pull ends (FlvFileWriter).
 */
import type { Logger } from '../core/log.ts';
import { silentLogger } from '../core/log.ts';
import { LalError, errorText } from '../core/errors.ts';
import { concat } from '../core/bytes.ts';
import { LAL_VERSION } from '../core/version.ts';
import { connectTcp, type TcpConn } from '../net/tcp.ts';
import { openRtmpClient } from './rtmp-session.ts';
import { FlvFileWriter, FlvReader, FlvTagType, stripSetDataFrame, type FlvTag } from '../format/flv/index.ts';
import { fileMetadata } from '../remux/flv.ts';

export interface PullOptions {
  url: string;
  /** Output FLV path; omit to only count. */
  output?: string;
  durationMs?: number;
  timeoutMs?: number;
  log?: Logger;
  signal?: AbortSignal;
  onTag?: (t: FlvTag) => void;
}

export interface PullResult {
  tags: number;
  videoTags: number;
  audioTags: number;
  bytes: number;
}

export async function pullToFlv(opts: PullOptions): Promise<PullResult> {
  const log = opts.log ?? silentLogger;
  let conn: TcpConn | undefined;
  let finish!: (e?: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = (e) => (e ? reject(e) : resolve());
  });
  const file = opts.output ? FlvFileWriter.open(opts.output, { tag: 'pull', onError: (e) => finish(e) }) : undefined;
  const res: PullResult = { tags: 0, videoTags: 0, audioTags: 0, bytes: 0 };
  let sawMetadata = false;
  const onTag = (t: FlvTag) => {
    res.tags++;
    if (t.type === FlvTagType.Video) res.videoTags++;
    if (t.type === FlvTagType.Audio) res.audioTags++;
    let body = t.body;
    if (t.type === FlvTagType.Script && !sawMetadata) {
      sawMetadata = true;
      body = fileMetadata({ metadata: stripSetDataFrame(body) });
    }
    file?.writeTag(t.type, t.timestamp, body);
    opts.onTag?.(t);
  };
  let started = false;
  const isRtmp = /^rtmps?:\/\//i.test(opts.url);
  try {
    if (isRtmp) {
      const session = await openRtmpClient({
        url: opts.url,
        mode: 'play',
        log,
        timeoutMs: opts.timeoutMs,
        onBytes: (n) => (res.bytes += n),
        onMedia: (m) => onTag({ type: m.type, timestamp: m.timestamp, body: m.body }),
      });
      started = true;
      conn = session.conn;
      session.ended.then(() => finish());
    } else {
      const u = new URL(opts.url);
      if (u.protocol !== 'http:' || !u.pathname.endsWith('.flv')) throw new LalError('usage', `pull: unsupported url ${opts.url} (rtmp://… or http://….flv)`);
      let head: Uint8Array = new Uint8Array(0);
      let inBody = false;
      const reader = new FlvReader();
      conn = await connectTcp({
        host: u.hostname,
        port: Number(u.port || 80),
        handler: () => ({
          onData: (d) => {
            res.bytes += d.length;
            let body = d;
            if (!inBody) {
              head = concat([head, d]);
              let i = -1;
              for (let k = 3; k < head.length; k++) if (head[k] === 10 && head[k - 1] === 13 && head[k - 2] === 10 && head[k - 3] === 13) { i = k + 1; break; }
              if (i < 0) return;
              const status = new TextDecoder('latin1').decode(head.subarray(0, Math.min(i, 200))).split('\r\n')[0];
              if (!/^HTTP\/1\.[01] 200/.test(status)) return finish(new LalError('http', `pull: ${opts.url}: ${status}`));
              inBody = true;
              started = true;
              body = head.subarray(i);
            }
            for (const t of reader.feed(body)) if (t.type === 8 || t.type === 9 || t.type === 18) onTag(t);
          },
          onClose: (err) => finish(started ? undefined : err ?? new LalError('closed', `pull: ${opts.url}: closed before the response`)),
        }),
      });
      conn.sink.write(new TextEncoder().encode(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: lal/${LAL_VERSION}\r\nAccept: */*\r\n\r\n`));
    }
    const timers: ReturnType<typeof setTimeout>[] = [];
    const timeoutMs = opts.timeoutMs ?? 10_000;
    timers.push(setTimeout(() => { if (!started) finish(new LalError('timeout', `pull: ${opts.url}: not playing after ${timeoutMs} ms`)); }, timeoutMs));
    if (opts.durationMs) timers.push(setTimeout(() => finish(), opts.durationMs));
    opts.signal?.addEventListener('abort', () => finish(), { once: true });
    try {
      await done;
    } finally {
      for (const t of timers) clearTimeout(t);
    }
    return res;
  } catch (e) {
    throw e instanceof LalError ? e : new LalError('pull', `pull: ${opts.url}: ${errorText(e)}`);
  } finally {
    conn?.sink.close();
    file?.close();
  }
}
