import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../core/log.ts';
import type { AvPacket, TrackInfo } from '../core/packet.ts';
import { FlvReader } from '../format/flv/reader.ts';
import { decodeRtpPacket, encodeRtpPacket } from '../protocol/rtp/packet.ts';
import { RtmpToAv } from '../remux/rtmp.ts';
import { StreamHub } from './hub.ts';
import { SessionStat } from './stat.ts';
import type { Presence, RtpSource, Stream } from './stream.ts';
import { MAX_BATCHED_PACKETS, RtpDelivery, interleavedPackets, rtpBranchDef, type RtpBranch, type RtpConsumer } from './rtp-branch.ts';

function loadFlv(name: string): { tracks: TrackInfo; packets: AvPacket[] } {
  const ingest = new RtmpToAv();
  const packets: AvPacket[] = [];
  let tracks: TrackInfo = {};
  for (const tag of new FlvReader().feed(readFileSync(join(import.meta.dir, '../../fixtures', name)))) {
    const r = ingest.push({ type: tag.type, timestamp: tag.timestamp, body: tag.body });
    if (r.kind === 'tracks') tracks = r.tracks;
    else if (r.kind === 'packet' && r.packet.units.length > 0) packets.push(r.packet);
  }
  return { tracks, packets };
}

class FakePlayer implements RtpConsumer {
  closed = false;
  got: RtpDelivery[] = [];
  constructor(private readonly onDeliver?: (d: RtpDelivery) => void) {}
  deliver(d: RtpDelivery): void {
    this.got.push(d);
    this.onDeliver?.(d);
  }
  close(): void {
    this.closed = true;
  }
}

/** A player session's presence (stats only), as the RTSP session joins the stream with. */
function presence(id: string): Presence {
  return { stat: new SessionStat(id, 'RTSP', 'SUB', ''), closed: false, close() {} };
}

const def = rtpBranchDef({ log: silentLogger });

/** A stream with one player presence and its RTP branch. */
function setup(name = 's'): { hub: StreamHub; stream: Stream; br: RtpBranch; who: Presence } {
  const hub = new StreamHub({ gopNum: 1, log: silentLogger });
  const who = presence('RTSPSUB1');
  const stream = hub.join(name, 'live', who);
  return { hub, stream, br: stream.branch(def), who };
}

const src = (text: string): RtpSource => ({ text, tracks: [] });
function send(stream: Stream, track: number, b: Uint8Array, codec: string): void {
  stream.writeRtp({ track, packet: b, rtp: decodeRtpPacket(b), codec });
}

describe('interleaved framing helpers', () => {
  test('RtpDelivery.framed: `$ 2k len` + packet for each packet, built once', () => {
    const a = Uint8Array.of(0x80, 1, 2, 3);
    const b = new Uint8Array(300).fill(7);
    const d = new RtpDelivery(1, [a, b], true, false);
    const f = d.framed();
    expect(d.bytes).toBe(304);
    expect(d.channel).toBe(2);
    expect(Array.from(f.subarray(0, 8))).toEqual([0x24, 2, 0, 4, 0x80, 1, 2, 3]);
    expect(Array.from(f.subarray(8, 12))).toEqual([0x24, 2, 1, 44]);
    expect(f.length).toBe(8 + 4 + 300);
    expect(d.framed()).toBe(f);
    const views = interleavedPackets(f);
    expect(views.map((v) => v.length)).toEqual([4, 300]);
    expect(views[0].buffer).toBe(f.buffer); // views, not copies
    expect(interleavedPackets(f.subarray(0, 10)).length).toBe(1); // a truncated tail is ignored
  });
});

describe('RTP branch, pass-through of an RTSP publisher', () => {
  test('DESCRIBE waits for the publisher SDP; its RTP goes to the players unchanged; the SDP goes with the publisher', () => {
    const { hub, stream, br } = setup();
    expect(stream.branch(def)).toBe(br);
    const seen: string[] = [];
    const cancel = br.whenSdp((s) => seen.push(s.text));
    const cancelled = br.whenSdp((s) => seen.push(`never ${s.text}`));
    cancelled();
    const p = new FakePlayer();
    br.add(p);
    const pkt = Uint8Array.of(0x80, 0x80 | 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x65, 0x88); // marker set
    send(stream, 0, pkt, 'h264'); // not an RTSP input yet: ignored
    expect(p.got.length).toBe(0);
    const pub = { stat: new SessionStat('RTSPPUB1', 'RTSP', 'PUB', ''), kick() {} };
    hub.publish('s', 'live', pub);
    stream.setRtpSource(src('v=0 pub'));
    expect(seen).toEqual(['v=0 pub']);
    cancel();
    br.whenSdp((s) => seen.push(`now ${s.text}`));
    expect(seen[1]).toBe('now v=0 pub');
    expect(br.passThrough).toBe(true);
    send(stream, 0, pkt, 'h264');
    expect(p.got.length).toBe(1);
    expect(p.got[0].video).toBe(true);
    expect(p.got[0].accessPoint).toBe(true); // IDR
    expect(p.got[0].packets[0]).toBe(pkt); // unchanged, not copied
    stream.removePublisher(pub);
    expect(br.sdp).toBeUndefined();
    expect(br.passThrough).toBe(false);
  });

  test('a branch created after ANNOUNCE starts from the stream SDP', () => {
    const hub = new StreamHub({ gopNum: 1, log: silentLogger });
    const stream = hub.publish('late', 'live', { stat: new SessionStat('P', 'RTSP', 'PUB', ''), kick() {} });
    stream.setRtpSource(src('v=0 early'));
    const br = hub.join('late', 'live', presence('x')).branch(def);
    expect(br.sdp?.text).toBe('v=0 early');
  });

  test('a throwing player is closed, the others keep receiving; removal during dispatch is deferred', () => {
    const { stream, br } = setup();
    stream.setRtpSource(src('sdp'));
    const bad = new FakePlayer(() => {
      throw new Error('boom');
    });
    const leaver: FakePlayer = new FakePlayer(() => br.remove(leaver));
    const good = new FakePlayer();
    br.add(bad);
    br.add(leaver);
    br.add(good);
    const pkt = Uint8Array.of(0x80, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xd5);
    send(stream, 0, pkt, 'g711a');
    expect(bad.closed).toBe(true);
    expect(good.got.length).toBe(1);
    expect(good.got[0].accessPoint).toBe(false); // audio never starts an access point
    expect(br.consumers.size).toBe(1); // bad closed and removed; leaver removed after the loop
    send(stream, 0, pkt, 'g711a');
    expect(good.got.length).toBe(2);
    expect(leaver.got.length).toBe(1);
  });
});

describe('raw RTP forwarding batches one picture per delivery', () => {
  const rtp = (seq: number, ts: number, marker: boolean, payload: number[]) =>
    encodeRtpPacket({ marker, payloadType: 96, sequenceNumber: seq, timestamp: ts, ssrc: 7 }, Uint8Array.from(payload));

  test('video packets are held until the marker bit or a new timestamp; audio goes at once; the publisher leaving flushes', () => {
    const { hub, stream, br } = setup('b');
    const pub = { stat: new SessionStat('P', 'RTSP', 'PUB', ''), kick() {} };
    hub.publish('b', 'live', pub);
    stream.setRtpSource(src('sdp'));
    const p = new FakePlayer();
    br.add(p);
    const put = (track: number, b: Uint8Array, codec = 'h264') => send(stream, track, b, codec);
    // SEI, then an IDR in FU-A (start, middle, end with marker)
    const pkts = [rtp(1, 100, false, [0x06, 5, 1]), rtp(2, 100, false, [0x7c, 0x85, 1]), rtp(3, 100, false, [0x7c, 0x05, 2]), rtp(4, 100, true, [0x7c, 0x45, 3])];
    for (const b of pkts.slice(0, 3)) put(0, b);
    put(1, rtp(50, 8000, false, [0xd5]), 'g711a'); // audio is not held
    expect(p.got.map((d) => d.track)).toEqual([1]);
    put(0, pkts[3]);
    expect(p.got.length).toBe(2);
    const pic = p.got[1];
    expect(pic.packets).toEqual(pkts); // unchanged, in order
    expect(pic.packets[0]).toBe(pkts[0]);
    expect(pic.accessPoint).toBe(true); // the FU-A start of an IDR is in it
    expect(interleavedPackets(pic.framed())).toEqual(pkts);
    // no marker: the next timestamp closes the picture
    put(0, rtp(5, 200, false, [0x41, 1]));
    put(0, rtp(6, 300, false, [0x41, 2]));
    expect(p.got.length).toBe(3);
    expect(p.got[2].accessPoint).toBe(false);
    // a sender that never sets the marker on one timestamp is flushed every MAX_BATCHED_PACKETS
    for (let i = 0; i < MAX_BATCHED_PACKETS; i++) put(0, rtp(7 + i, 400, false, [0x41, i & 0xff]));
    expect(p.got.length).toBe(5);
    expect(p.got[3].packets.length).toBe(1); // ts 300
    expect(p.got[4].packets.length).toBe(MAX_BATCHED_PACKETS);
    // the publisher leaves: nothing stays behind
    put(0, rtp(1000, 500, false, [0x41]));
    stream.removePublisher(pub);
    expect(p.got[p.got.length - 1].packets.length).toBe(1);
  });
});

describe('RTP branch, packetising (RTMP → RTSP)', () => {
  test('SDP once both tracks are known, each packet packetised once and shared, branch dropped with its last player', () => {
    const { hub, stream, br, who } = setup();
    const { tracks, packets } = loadFlv('h264-aac.flv');
    expect(stream.sessions()).toEqual([who]); // branches are not sessions
    const sdps: string[] = [];
    br.whenSdp((s) => sdps.push(s.text));
    const pub = { stat: new SessionStat('RTMPPUBSUB1', 'RTMP', 'PUB', ''), kick() {} };
    hub.publish('s', 'live', pub);
    stream.setTracks(tracks);
    expect(sdps.length).toBe(1); // H.264 and AAC are both described: no need to wait for packets
    const a = new FakePlayer();
    const b = new FakePlayer();
    br.add(a);
    br.add(b);
    for (const p of packets) stream.write(p);
    expect(sdps[0]).toContain('m=video 0 RTP/AVP 96\r\n');
    expect(br.hasVideo).toBe(true);
    const vid = packets.filter((p) => p.kind === 'video').length;
    const aud = packets.filter((p) => p.kind === 'audio').length;
    expect(a.got.filter((d) => d.track === 0).length).toBe(vid);
    expect(a.got.filter((d) => d.track === 1).length).toBe(aud);
    // both players got the same bytes: one packetisation per packet, the memoised batch
    for (let i = 0; i < a.got.length; i++) {
      expect(b.got[i]).toBe(a.got[i]);
      expect(a.got[i].framed()[1]).toBe(a.got[i].track * 2);
    }
    // key frames start an access point, the rest not; sequence numbers continuous per track
    const video = a.got.filter((d) => d.track === 0);
    const keys = packets.filter((p) => p.kind === 'video').map((p) => p.key);
    expect(video.map((d) => d.accessPoint)).toEqual(keys);
    let seq = -1;
    for (const d of video) {
      for (const raw of d.packets) {
        const h = decodeRtpPacket(raw).header;
        if (seq >= 0) expect(h.sequenceNumber).toBe((seq + 1) & 0xffff);
        seq = h.sequenceNumber;
        expect(h.payloadType).toBe(96);
      }
    }
    // the publisher leaves: the generated SDP is forgotten
    stream.removePublisher(pub);
    expect(br.sdp).toBeUndefined();
    // the last player leaves: the branch is dropped
    br.remove(a);
    br.remove(b);
    expect(br.closed).toBe(true);
    expect(stream.existingBranch('rtp')).toBeUndefined();
    stream.leave(who);
    expect(hub.get('s')).toBeUndefined();
  });

  test('video-only input: the SDP waits for 16 packets (docs/media.md §5.1)', () => {
    const { hub, stream, br } = setup('v');
    br.add(new FakePlayer());
    const { tracks, packets } = loadFlv('h264-only.flv');
    hub.publish('v', 'live', { stat: new SessionStat('P', 'RTMP', 'PUB', ''), kick() {} });
    stream.setTracks(tracks);
    for (let i = 0; i < 15; i++) stream.write(packets[i]);
    expect(br.sdp).toBeUndefined();
    stream.write(packets[15]);
    expect(br.sdp?.text).toContain('H264/90000');
    expect(br.sdp?.text).not.toContain('m=audio');
  });
});
