import { describe, expect, test } from 'bun:test';
import type { AvPacket, TrackInfo } from '../core/packet.ts';
import type { ByteSink } from '../core/sink.ts';
import { silentLogger } from '../core/log.ts';
import { LalError } from '../core/errors.ts';
import { StreamHub } from './hub.ts';
import { GopCache } from './gop-cache.ts';
import { FanoutPacket, StreamHeaders } from './fanout.ts';
import { OutputSubscriber, type Framer } from './subscriber.ts';
import { SessionStat } from './stat.ts';
import type { Publisher } from './stream.ts';

/** A sink whose "socket" accepts at most `window` bytes until drained by the test. */
class FakeSink implements ByteSink {
  written: Uint8Array[] = [];
  pendingBytes = 0;
  bytesWritten = 0;
  lastProgressAt = 0;
  closed = false;
  constructor(public window = Infinity) {}
  write(buf: Uint8Array): boolean {
    if (this.closed) return false;
    if (this.pendingBytes + buf.length > this.window || this.pendingBytes > 0) {
      this.pendingBytes += buf.length;
      return false;
    }
    this.written.push(buf);
    this.bytesWritten += buf.length;
    return true;
  }
  close(): void {
    this.closed = true;
  }
}

let seq = 0;
function vid(key: boolean, size = 10): AvPacket {
  const b = new Uint8Array(size).fill(seq++ & 0xff);
  return { kind: 'video', codec: 'h264', dts: seq * 3600, pts: seq * 3600, key, units: [b], flvBody: b };
}
function aud(size = 4): AvPacket {
  const b = new Uint8Array(size).fill(seq++ & 0xff);
  return { kind: 'audio', codec: 'aac', dts: seq * 1000, pts: seq * 1000, key: true, units: [b], flvBody: b };
}
const tracks: TrackInfo = {
  video: { codec: 'h264', width: 320, height: 240, profile: 'High', level: 30, sps: [], pps: [] },
  audio: { codec: 'aac', sampleRate: 44100, channels: 2 },
};
const HEAD = new Uint8Array([0xee]);
/** Framer that writes the packet body itself (shared), and one marker byte for headers. */
const idFramer: Framer = {
  key: 'id',
  headers: () => HEAD,
  packet: (fp) => fp.pkt.flvBody!,
};
const pub = (id = 'P1'): Publisher & { kicked?: string } => ({ stat: new SessionStat(id, 'RTMP', 'PUB', ''), kick(r) { (this as { kicked?: string }).kicked = r; } });
function sub(sink: FakeSink, gopNum = 1, extra: Partial<ConstructorParameters<typeof OutputSubscriber>[3]> = {}) {
  return new OutputSubscriber(new SessionStat(`S${seq++}`, 'FLV', 'SUB', ''), sink, idFramer, { gopNum, singleGopMaxFrameNum: 0, ...extra }, silentLogger);
}

describe('GopCache', () => {
  test('opens on a key frame, keeps the last N GOPs, truncates per output', () => {
    const g = new GopCache(3);
    g.feed(new FanoutPacket(aud()));
    g.feed(new FanoutPacket(vid(false)));
    expect(g.gopCount).toBe(0);
    for (let i = 0; i < 4; i++) {
      g.feed(new FanoutPacket(vid(true)));
      g.feed(new FanoutPacket(vid(false)));
      g.feed(new FanoutPacket(aud()));
    }
    expect(g.gopCount).toBe(3);
    expect(g.replay(1, 0).length).toBe(3);
    expect(g.replay(2, 0).length).toBe(6);
    expect(g.replay(5, 0).length).toBe(9);
    expect(g.replay(2, 1).length).toBe(4); // key frame + 1 per GOP
    expect(g.replay(1, 0)[0].isVideoKey).toBe(true);
    expect(new GopCache(0).replay(1, 0)).toEqual([]);
  });
  test('is bounded by bytes', () => {
    const g = new GopCache(10, 1000);
    for (let i = 0; i < 20; i++) {
      g.feed(new FanoutPacket(vid(true, 300)));
      g.feed(new FanoutPacket(vid(false, 300)));
    }
    expect(g.byteSize).toBeLessThanOrEqual(1000);
    const one = new GopCache(1, 1000);
    one.feed(new FanoutPacket(vid(true, 300)));
    for (let i = 0; i < 10; i++) one.feed(new FanoutPacket(vid(false, 300)));
    expect(one.byteSize).toBeLessThanOrEqual(1200);
  });
});

describe('StreamHub and Stream', () => {
  test('a second publisher is refused and the first goes on; empty streams are freed', () => {
    const hub = new StreamHub({ gopNum: 1, log: silentLogger });
    const p1 = pub('P1');
    const s = hub.publish('a', 'live', p1);
    expect(() => hub.publish('a', 'live', pub('P2'))).toThrow(LalError);
    expect(s.publisher).toBe(p1);
    s.removePublisher(p1);
    expect(hub.get('a')).toBeUndefined();
  });

  test('late joiner: headers, then GOP replay from the key frame, then live packets, no duplicates', () => {
    const hub = new StreamHub({ gopNum: 1, log: silentLogger });
    const p = pub();
    const s = hub.publish('b', 'live', p);
    s.setTracks(tracks);
    const a0 = aud();
    s.write(a0);
    const k = vid(true);
    const i1 = vid(false);
    s.write(k);
    s.write(i1);
    const sink = new FakeSink();
    const x = sub(sink);
    hub.subscribe('b', 'live', x);
    expect(sink.written[0]).toBe(HEAD);
    expect(sink.written[1]).toBe(k.flvBody!); // shared buffer, not a copy
    expect(sink.written[2]).toBe(i1.flvBody!);
    const live = aud();
    s.write(live);
    expect(sink.written.length).toBe(4);
    expect(sink.written[3]).toBe(live.flvBody!);
  });

  test('a player that arrived before the publisher gets every packet from the first one', () => {
    const hub = new StreamHub({ gopNum: 1, log: silentLogger });
    const sink = new FakeSink();
    hub.subscribe('c', 'live', sub(sink));
    const s = hub.publish('c', 'live', pub());
    s.setTracks(tracks);
    const a = aud();
    const k = vid(true);
    s.write(a);
    s.write(k);
    expect(sink.written).toEqual([HEAD, a.flvBody!, k.flvBody!]);
  });

  test('without a cache a joiner waits for a key frame (audio included)', () => {
    const hub = new StreamHub({ gopNum: 0, log: silentLogger });
    const s = hub.publish('d', 'live', pub());
    s.setTracks(tracks);
    s.write(vid(true));
    const sink = new FakeSink();
    hub.subscribe('d', 'live', sub(sink, 0));
    s.write(aud());
    s.write(vid(false));
    expect(sink.written).toEqual([HEAD]);
    const k = vid(true);
    s.write(k);
    expect(sink.written[1]).toBe(k.flvBody!);
  });

  test('players stay when the publisher leaves and continue with the next publisher', () => {
    const hub = new StreamHub({ gopNum: 1, log: silentLogger });
    const p1 = pub('P1');
    const s = hub.publish('e', 'live', p1);
    s.setTracks(tracks);
    s.write(vid(true));
    const sink = new FakeSink();
    const x = sub(sink);
    hub.subscribe('e', 'live', x);
    s.removePublisher(p1);
    expect(hub.get('e')).toBe(s);
    expect(x.closed).toBe(false);
    const s2 = hub.publish('e', 'live', pub('P2'));
    expect(s2).toBe(s);
    s2.setTracks({ ...tracks });
    s2.write(vid(false)); // not a key frame: skipped
    const k = vid(true);
    s2.write(k);
    expect(sink.written[sink.written.length - 1]).toBe(k.flvBody!);
  });

  test('a throwing subscriber is closed and the others go on; closing inside fan-out is safe', () => {
    const hub = new StreamHub({ gopNum: 1, log: silentLogger });
    const s = hub.publish('f', 'live', pub());
    s.setTracks(tracks);
    s.write(vid(true));
    const good = new FakeSink();
    const bad = sub(new FakeSink());
    bad.onPacket = () => {
      throw new Error('boom');
    };
    let selfCloser: OutputSubscriber;
    const sc = new FakeSink();
    selfCloser = sub(sc);
    const orig = selfCloser.onPacket.bind(selfCloser);
    selfCloser.onPacket = (fp) => {
      orig(fp);
      selfCloser.close('done');
      s.removeSubscriber(selfCloser);
    };
    hub.subscribe('f', 'live', bad);
    hub.subscribe('f', 'live', selfCloser);
    const g = sub(good);
    hub.subscribe('f', 'live', g);
    const p = vid(false);
    s.write(p);
    expect(bad.closed).toBe(true);
    expect(good.written[good.written.length - 1]).toBe(p.flvBody!);
    expect(s.subs.has(selfCloser)).toBe(false);
  });
});

describe('slow-subscriber policy', () => {
  test('above the soft bound skip to the next key frame; above the hard bound close', () => {
    const hub = new StreamHub({ gopNum: 1, log: silentLogger });
    const s = hub.publish('g', 'live', pub());
    s.setTracks(tracks);
    s.write(vid(true));
    const sink = new FakeSink(0); // nothing drains
    const x = sub(sink, 1, { softPendingBytes: 100, hardPendingBytes: 1000 });
    hub.subscribe('g', 'live', x);
    const before = sink.pendingBytes;
    for (let i = 0; i < 10; i++) s.write(vid(false, 50));
    // Past 100 pending bytes the inter frames are dropped, not queued.
    expect(sink.pendingBytes).toBeLessThan(before + 200);
    expect(x.totalDroppedFrames).toBeGreaterThan(5);
    expect(x.closed).toBe(false);
    for (let i = 0; i < 30 && !x.closed; i++) s.write(vid(true, 100));
    expect(x.closed).toBe(false); // still over soft: key frames are dropped too while pending > soft
    sink.pendingBytes = 2000;
    s.write(vid(false));
    expect(x.closed).toBe(true);
    expect(s.subs.has(x)).toBe(true); // the session removes it (here: nobody), stream keeps going
  });

  test('no drain progress for 10 s closes the player', () => {
    const sink = new FakeSink(0);
    const x = sub(sink);
    x.onHeaders(new StreamHeaders(tracks, { metadata: true, video: true, audio: true }), new GopCache(1));
    sink.pendingBytes = 10;
    sink.lastProgressAt = 0;
    x.tick(5_000);
    expect(x.closed).toBe(false);
    x.tick(10_001);
    expect(x.closed).toBe(true);
  });
});
