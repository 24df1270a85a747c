import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../core/log.ts';
import type { AvPacket, TrackInfo } from '../core/packet.ts';
import { FlvReader } from '../format/flv/reader.ts';
import { decodeRtpPacket, encodeRtpPacket } from '../protocol/rtp/packet.ts';
import { RtmpToAv } from '../remux/rtmp.ts';
import { StreamHub } from './hub.ts';
import { SessionIdGen, SessionStat } from './stat.ts';
import type { Subscriber } from './subscriber.ts';
import { MAX_BATCHED_PACKETS, RtpDelivery, RtspStreams, interleavedPackets, type RtspPlayer } from './rtsp-out.ts';

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

class FakePlayer implements RtspPlayer {
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

/** A passive player subscriber (stats only), as the RTSP session adds to the stream. */
function passiveSub(id: string): Subscriber {
  return { stat: new SessionStat(id, 'RTSP', 'SUB', ''), closed: false, onHeaders() {}, onPacket() {}, tick() {}, close() {} };
}

function setup() {
  const hub = new StreamHub({ gopNum: 1, log: silentLogger });
  const streams = new RtspStreams(new SessionIdGen(), silentLogger);
  return { hub, streams };
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

describe('RtspStreamState', () => {
  test('DESCRIBE waits for the RTSP publisher SDP; raw RTP goes to players only from the current source', () => {
    const { hub, streams } = setup();
    const stream = hub.subscribe('s', 'live', passiveSub('RTSPSUB1'));
    const st = streams.of(stream);
    expect(streams.of(stream)).toBe(st);
    const seen: string[] = [];
    const cancel = st.whenSdp((s) => seen.push(s.text));
    const cancelled = st.whenSdp((s) => seen.push(`never ${s.text}`));
    cancelled();
    const owner = {};
    st.setSource(owner, { text: 'v=0 pub', tracks: [] });
    expect(seen).toEqual(['v=0 pub']);
    cancel();
    // now immediate
    st.whenSdp((s) => seen.push(`now ${s.text}`));
    expect(seen[1]).toBe('now v=0 pub');

    const p = new FakePlayer();
    st.addPlayer(p);
    const pkt = Uint8Array.of(0x80, 0x80 | 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x65, 0x88); // marker set
    st.forward(owner, 0, pkt, decodeRtpPacket(pkt), 'h264');
    st.forward({}, 0, pkt, decodeRtpPacket(pkt), 'h264'); // not the source
    expect(p.got.length).toBe(1);
    expect(p.got[0].video).toBe(true);
    expect(p.got[0].accessPoint).toBe(true); // IDR
    expect(p.got[0].packets[0]).toBe(pkt); // unchanged, not copied
    st.clearSource({}); // someone else: ignored
    expect(st.sdp?.text).toBe('v=0 pub');
    st.clearSource(owner);
    expect(st.sdp).toBeUndefined();
    expect(st.hasRtspSource).toBe(false);
  });

  test('a throwing player is closed, the others keep receiving; removal during dispatch is deferred', () => {
    const { hub, streams } = setup();
    const st = streams.of(hub.subscribe('s', 'live', passiveSub('x')));
    const owner = {};
    st.setSource(owner, { text: 'sdp', tracks: [] });
    const bad = new FakePlayer(() => {
      throw new Error('boom');
    });
    const leaver: FakePlayer = new FakePlayer(() => st.removePlayer(leaver));
    const good = new FakePlayer();
    st.addPlayer(bad);
    st.addPlayer(leaver);
    st.addPlayer(good);
    const pkt = Uint8Array.of(0x80, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xd5);
    st.forward(owner, 0, pkt, decodeRtpPacket(pkt), 'g711a');
    expect(bad.closed).toBe(true);
    expect(good.got.length).toBe(1);
    expect(good.got[0].accessPoint).toBe(false); // audio never starts an access point
    expect(st.playerCount).toBe(2); // bad stays until its session removes it; leaver is gone
    st.removePlayer(bad);
    st.forward(owner, 0, pkt, decodeRtpPacket(pkt), 'g711a');
    expect(good.got.length).toBe(2);
    expect(leaver.got.length).toBe(1);
  });
});

describe('raw RTP forwarding batches one picture per delivery', () => {
  const rtp = (seq: number, ts: number, marker: boolean, payload: number[]) =>
    encodeRtpPacket({ marker, payloadType: 96, sequenceNumber: seq, timestamp: ts, ssrc: 7 }, Uint8Array.from(payload));

  test('video packets are held until the marker bit or a new timestamp; audio goes at once; the source leaving flushes', () => {
    const { hub, streams } = setup();
    const st = streams.of(hub.subscribe('b', 'live', passiveSub('x')));
    const owner = {};
    st.setSource(owner, { text: 'sdp', tracks: [] });
    const p = new FakePlayer();
    st.addPlayer(p);
    const send = (track: number, b: Uint8Array, codec = 'h264') => st.forward(owner, track, b, decodeRtpPacket(b), codec);
    // SEI, then an IDR in FU-A (start, middle, end with marker)
    const pkts = [rtp(1, 100, false, [0x06, 5, 1]), rtp(2, 100, false, [0x7c, 0x85, 1]), rtp(3, 100, false, [0x7c, 0x05, 2]), rtp(4, 100, true, [0x7c, 0x45, 3])];
    for (const b of pkts.slice(0, 3)) send(0, b);
    send(1, rtp(50, 8000, false, [0xd5]), 'g711a'); // audio is not held
    expect(p.got.map((d) => d.track)).toEqual([1]);
    send(0, pkts[3]);
    expect(p.got.length).toBe(2);
    const pic = p.got[1];
    expect(pic.packets).toEqual(pkts); // unchanged, in order
    expect(pic.packets[0]).toBe(pkts[0]);
    expect(pic.accessPoint).toBe(true); // the FU-A start of an IDR is in it
    expect(interleavedPackets(pic.framed())).toEqual(pkts);
    // no marker: the next timestamp closes the picture
    send(0, rtp(5, 200, false, [0x41, 1]));
    send(0, rtp(6, 300, false, [0x41, 2]));
    expect(p.got.length).toBe(3);
    expect(p.got[2].accessPoint).toBe(false);
    // a sender that never sets the marker on one timestamp is flushed every MAX_BATCHED_PACKETS
    for (let i = 0; i < MAX_BATCHED_PACKETS; i++) send(0, rtp(7 + i, 400, false, [0x41, i & 0xff]));
    expect(p.got.length).toBe(5);
    expect(p.got[3].packets.length).toBe(1); // ts 300
    expect(p.got[4].packets.length).toBe(MAX_BATCHED_PACKETS);
    // the publisher leaves: nothing stays behind
    send(0, rtp(1000, 500, false, [0x41]));
    st.clearSource(owner);
    expect(p.got[p.got.length - 1].packets.length).toBe(1);
  });
});

describe('RTMP → RTSP branch', () => {
  test('generated SDP at the first packet, each packet packetised once and shared, branch detached on leave', () => {
    const { hub, streams } = setup();
    const { tracks, packets } = loadFlv('h264-aac.flv');
    const sub = passiveSub('RTSPSUB1');
    const stream = hub.subscribe('s', 'live', sub);
    const st = streams.of(stream);
    st.join();
    expect(stream.subs.size).toBe(2); // the player and the hidden branch
    expect([...stream.subs].filter((s) => s.hidden).length).toBe(1);
    const sdps: string[] = [];
    st.whenSdp((s) => sdps.push(s.text));
    const pub = { stat: new SessionStat('RTMPPUBSUB1', 'RTMP', 'PUB', ''), kick() {} };
    hub.publish('s', 'live', pub);
    stream.setTracks(tracks);
    expect(sdps.length).toBe(0); // not ready before the first packet
    const a = new FakePlayer();
    const b = new FakePlayer();
    st.addPlayer(a);
    st.addPlayer(b);
    for (const p of packets) stream.write(p);
    expect(sdps.length).toBe(1);
    expect(sdps[0]).toContain('m=video 0 RTP/AVP 96\r\n');
    expect(st.hasVideo).toBe(true);
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
    expect(st.sdp).toBeUndefined();
    // the last interested player leaves: the branch is detached
    st.leave();
    expect([...stream.subs].some((s) => s.hidden)).toBe(false);
    stream.removeSubscriber(sub);
    expect(hub.get('s')).toBeUndefined();
  });

  test('video-only input: the SDP waits for 16 packets (media.md §5.1)', () => {
    const { hub, streams } = setup();
    const { tracks, packets } = loadFlv('h264-only.flv');
    const stream = hub.subscribe('v', 'live', passiveSub('RTSPSUB1'));
    const st = streams.of(stream);
    st.join();
    hub.publish('v', 'live', { stat: new SessionStat('P', 'RTMP', 'PUB', ''), kick() {} });
    stream.setTracks(tracks);
    for (let i = 0; i < 15; i++) stream.write(packets[i]);
    expect(st.sdp).toBeUndefined();
    stream.write(packets[15]);
    expect(st.sdp?.text).toContain('H264/90000');
    expect(st.sdp?.text).not.toContain('m=audio');
  });
});
