import { describe, expect, test } from 'bun:test';
import type { AvPacket, TrackInfo } from '../core/packet.ts';
import type { ByteSink } from '../core/sink.ts';
import { silentLogger } from '../core/log.ts';
import { LalError } from '../core/errors.ts';
import { StreamHub } from './hub.ts';
import { GopCache } from './gop-cache.ts';
import { Fanout, FanoutPacket, StreamHeaders, type Consumer } from './fanout.ts';
import { PacketOutput, type Framer, type OutputOptions } from './output.ts';
import { SessionStat } from './stat.ts';
import type { Branch, BranchDef, Presence, Publisher, Stream } from './stream.ts';

/** A sink whose "socket" accepts at most `window` bytes until drained by the test. */
class FakeSink implements ByteSink {
  written: Uint8Array[] = [];
  pendingBytes = 0;
  bytesWritten = 0;
  lastProgressAt = 0;
  backlogSince = 0;
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
/** A player session as the sessions build one: a presence whose media is a PacketOutput. */
class Player implements Presence {
  readonly stat = new SessionStat(`S${seq++}`, 'FLV', 'SUB', '');
  closed = false;
  readonly output: PacketOutput;
  stream: Stream | undefined;
  closeReason = '';
  constructor(readonly sink: FakeSink, gopNum = 1, extra: Partial<OutputOptions> = {}) {
    this.output = new PacketOutput(sink, idFramer, { gopNum, singleGopMaxFrameNum: 0, ...extra }, silentLogger, (r) => this.close(r));
  }
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.output.close(reason);
    this.stream?.leave(this);
  }
}
function join(hub: StreamHub, name: string, p: Player): Player {
  p.stream = hub.join(name, 'live', p, p.output);
  return p;
}
const sizeOf = (fp: FanoutPacket) => fp.byteLength;

describe('GopCache', () => {
  test('opens on a key frame, keeps the last N GOPs, truncates per output', () => {
    const g = new GopCache<FanoutPacket>(3, sizeOf);
    g.feed(new FanoutPacket(aud()), false);
    g.feed(new FanoutPacket(vid(false)), false);
    expect(g.gopCount).toBe(0);
    for (let i = 0; i < 4; i++) {
      g.feed(new FanoutPacket(vid(true)), true);
      g.feed(new FanoutPacket(vid(false)), false);
      g.feed(new FanoutPacket(aud()), false);
    }
    expect(g.gopCount).toBe(3);
    expect(g.replay(1, 0).length).toBe(3);
    expect(g.replay(2, 0).length).toBe(6);
    expect(g.replay(5, 0).length).toBe(9);
    expect(g.replay(2, 1).length).toBe(4); // key frame + 1 per GOP
    expect(g.replay(1, 0)[0].isVideoKey).toBe(true);
    expect(new GopCache<FanoutPacket>(0, sizeOf).replay(1, 0)).toEqual([]);
  });
  test('is bounded by bytes', () => {
    const g = new GopCache<FanoutPacket>(10, sizeOf, 1000);
    for (let i = 0; i < 20; i++) {
      g.feed(new FanoutPacket(vid(true, 300)), true);
      g.feed(new FanoutPacket(vid(false, 300)), false);
    }
    expect(g.byteSize).toBeLessThanOrEqual(1000);
    const one = new GopCache<FanoutPacket>(1, sizeOf, 1000);
    one.feed(new FanoutPacket(vid(true, 300)), true);
    for (let i = 0; i < 10; i++) one.feed(new FanoutPacket(vid(false, 300)), false);
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

  test('names checkStreamName refuses never become streams (docs/quirks.md D-2)', () => {
    const hub = new StreamHub({ gopNum: 1, log: silentLogger });
    for (const bad of ['../../out/x', 'a/b', '..', 'x\u0001', 'n'.repeat(1025), '']) {
      expect(() => hub.publish(bad, 'live', pub())).toThrow(expect.objectContaining({ code: 'bad-name' }));
      expect(() => hub.join(bad, 'live', new Player(new FakeSink()), undefined)).toThrow(expect.objectContaining({ code: 'bad-name' }));
    }
    expect(hub.streams.size).toBe(0);
    expect(hub.publish('a..b', 'live', pub()).name).toBe('a..b');
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
    join(hub, 'b', new Player(sink));
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
    join(hub, 'c', new Player(sink));
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
    join(hub, 'd', new Player(sink, 0));
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
    const x = join(hub, 'e', new Player(sink));
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

  test('a throwing output is closed and the others go on; closing inside fan-out is safe', () => {
    const hub = new StreamHub({ gopNum: 1, log: silentLogger });
    const s = hub.publish('f', 'live', pub());
    s.setTracks(tracks);
    s.write(vid(true));
    const bad = join(hub, 'f', new Player(new FakeSink()));
    bad.output.onPacket = () => {
      throw new Error('boom');
    };
    const selfCloser = new Player(new FakeSink());
    const orig = selfCloser.output.onPacket.bind(selfCloser.output);
    selfCloser.output.onPacket = (fp) => {
      orig(fp);
      selfCloser.close('done');
    };
    join(hub, 'f', selfCloser);
    const good = new FakeSink();
    join(hub, 'f', new Player(good));
    const p = vid(false);
    s.write(p);
    expect(bad.closed).toBe(true);
    expect(bad.closeReason).toBe('error: boom');
    expect(good.written[good.written.length - 1]).toBe(p.flvBody!);
    expect(s.outputs.has(selfCloser.output)).toBe(false);
    expect(s.outputs.has(bad.output)).toBe(false);
    expect(s.sessions().map((x) => x.stat.sessionId)).toHaveLength(1);
  });

  test('presence: sessions are listed, kicked and keep an idle stream alive; leave detaches the media too', () => {
    const hub = new StreamHub({ gopNum: 1, log: silentLogger });
    const a = join(hub, 'k', new Player(new FakeSink()));
    const b = join(hub, 'k', new Player(new FakeSink()));
    const s = hub.get('k')!;
    expect(s.sessions()).toEqual([a, b]);
    expect(s.outputs.size).toBe(2);
    expect(s.kick(a.stat.sessionId, 'kicked by api')).toBe(true);
    expect(a.closeReason).toBe('kicked by api');
    expect(s.sessions()).toEqual([b]);
    expect(s.outputs.size).toBe(1);
    expect(s.kick('nobody', 'x')).toBe(false);
    b.close('peer closed');
    expect(hub.get('k')).toBeUndefined();
  });
});

/** A consumer for Fanout tests. */
class C implements Consumer {
  closed = false;
  got: number[] = [];
  reason = '';
  constructor(readonly name: string) {}
  close(r: string): void {
    this.closed = true;
    this.reason = r;
  }
}

describe('Fanout (the one fan-out of streams and branches)', () => {
  const push = (c: C, v: number) => c.got.push(v);

  test('isolates a throwing consumer, defers removal while iterating, reports emptiness once', () => {
    let empty = 0;
    const f = new Fanout<C>(silentLogger, 'test', () => empty++);
    const a = new C('a');
    const b = new C('b');
    const c = new C('c');
    for (const x of [a, b, c]) f.add(x);
    f.each((x, v) => {
      if (x === b) throw new TypeError('bug');
      if (x === a) f.delete(c); // removed during the loop: c does not get this value
      push(x, v);
    }, 1);
    expect(a.got).toEqual([1]);
    expect(c.got).toEqual([]);
    expect(b.closed).toBe(true);
    expect(b.reason).toBe('error: bug');
    expect(f.size).toBe(1);
    expect(f.list()).toEqual([a]);
    f.delete(a);
    expect(empty).toBe(1);
  });

  test('nested loops (a consumer that makes the fan-out deliver again) skip `except` and keep order', () => {
    const f = new Fanout<C>(silentLogger, 'test');
    const first = new C('first');
    const other = new C('other');
    f.add(other);
    f.addFirst(first);
    const order: string[] = [];
    f.each((x, v: number) => {
      order.push(`${x.name}:${v}`);
      if (x === first && v === 1) f.each((y, w: number) => order.push(`${y.name}:${w}`), 0, first);
    }, 1);
    expect(order).toEqual(['first:1', 'other:0', 'other:1']);
  });

  test('tick and closeAll reach every consumer', () => {
    const f = new Fanout<C>(silentLogger, 'test');
    const a = new C('a');
    const b = new C('b');
    f.add(a);
    f.add(b);
    f.closeAll('server shutdown');
    expect([a.reason, b.reason]).toEqual(['server shutdown', 'server shutdown']);
  });
});

/** A branch that records what the stream hands it, with consumers of its own. */
class TestBranch implements Branch {
  readonly key = 'test';
  closed = false;
  seen: string[] = [];
  readonly consumers: Fanout<C>;
  constructor(drop: () => void) {
    this.consumers = new Fanout<C>(silentLogger, 'test branch', drop);
  }
  onTracks(): void {
    this.seen.push('tracks');
  }
  onPacket(fp: FanoutPacket): void {
    this.seen.push(fp.isVideoKey ? 'K' : fp.pkt.kind === 'video' ? 'v' : 'a');
    this.consumers.each((c, v) => c.got.push(v), fp.pkt.dts);
  }
  onJoin(_t: TrackInfo, gop: GopCache<FanoutPacket>): void {
    this.seen.push(`join:${gop.replay(1, 0).length}`);
  }
  onPublisherGone(): void {
    this.seen.push('gone');
  }
  close(r: string): void {
    this.closed = true;
    this.seen.push(`closed:${r}`);
  }
}
const testDef: BranchDef<TestBranch> = { key: 'test', create: (_s, drop) => new TestBranch(drop) };

describe('branches', () => {
  test('created on first use, catch up from the GOP cache when the stream is live, dropped with the last consumer', () => {
    const hub = new StreamHub({ gopNum: 1, log: silentLogger });
    const p = pub();
    const s = hub.publish('br', 'live', p);
    s.setTracks(tracks);
    s.write(vid(true));
    s.write(aud());
    const b = s.branch(testDef);
    expect(s.branch(testDef)).toBe(b); // one per stream
    expect(b.seen).toEqual(['join:2']);
    const c1 = new C('1');
    const c2 = new C('2');
    b.consumers.add(c1);
    b.consumers.add(c2);
    const k = vid(true);
    s.write(k);
    expect(c1.got).toEqual([k.dts]);
    s.setTracks({ ...tracks });
    expect(b.seen.slice(-2)).toEqual(['K', 'tracks']); // every change, as it happens
    b.consumers.delete(c1);
    expect(s.existingBranch('test')).toBe(b);
    b.consumers.delete(c2);
    expect(b.closed).toBe(true);
    expect(s.existingBranch('test')).toBeUndefined();
    expect(s.branch(testDef)).not.toBe(b); // a new one on next use
  });

  test('the publisher leaving reaches branches before the stop hook; a branch created before the publisher starts with it', () => {
    const order: string[] = [];
    let br: TestBranch | undefined;
    const hub = new StreamHub({
      gopNum: 1,
      log: silentLogger,
      hooks: { onPublishStop: () => order.push(`hook after ${br!.seen[br!.seen.length - 1]}`) },
    });
    const x = join(hub, 'pb', new Player(new FakeSink()));
    const s = x.stream!;
    br = s.branch(testDef);
    br.consumers.add(new C('c'));
    expect(br.seen).toEqual([]); // no publisher: nothing to catch up
    const p = pub();
    hub.publish('pb', 'live', p);
    s.setTracks(tracks);
    s.write(vid(true));
    expect(br.seen).toEqual(['tracks', 'K']);
    s.removePublisher(p);
    expect(order).toEqual(['hook after gone']);
  });
});

describe('slow-player policy', () => {
  test('above the soft bound skip to the next key frame; above the hard bound close', () => {
    const hub = new StreamHub({ gopNum: 1, log: silentLogger });
    const s = hub.publish('g', 'live', pub());
    s.setTracks(tracks);
    s.write(vid(true));
    const sink = new FakeSink(0); // nothing drains
    const x = join(hub, 'g', new Player(sink, 1, { softPendingBytes: 100, hardPendingBytes: 1000 }));
    const before = sink.pendingBytes;
    for (let i = 0; i < 10; i++) s.write(vid(false, 50));
    // Past 100 pending bytes the inter frames are dropped, not queued.
    expect(sink.pendingBytes).toBeLessThan(before + 200);
    expect(x.output.droppedFrames).toBeGreaterThan(5);
    expect(x.closed).toBe(false);
    for (let i = 0; i < 30 && !x.closed; i++) s.write(vid(true, 100));
    expect(x.closed).toBe(false); // still over soft: key frames are dropped too while pending > soft
    sink.pendingBytes = 2000;
    s.write(vid(false));
    expect(x.closed).toBe(true);
    expect(x.closeReason).toBe('slow-consumer');
    expect(s.outputs.has(x.output)).toBe(false);
  });

  test('the drain timeout counts from when the backlog began, not from connect or the last drain', () => {
    const sink = new FakeSink();
    const x = new Player(sink);
    x.output.onHeaders(new StreamHeaders(tracks, { metadata: true, video: true, audio: true }), new GopCache<FanoutPacket>(1, sizeOf), false);
    // Connected at 0, healthy (nothing pending) until 60 s, then a backlog begins.
    sink.lastProgressAt = 0;
    x.output.tick(59_000);
    sink.pendingBytes = 10;
    sink.backlogSince = 60_000;
    x.output.tick(61_000);
    expect(x.closed).toBe(false);
    x.output.tick(69_000);
    expect(x.closed).toBe(false);
    x.output.tick(70_001);
    expect(x.closed).toBe(true);
    expect(x.closeReason).toBe('slow-consumer');
  });
});
