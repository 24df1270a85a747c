import { describe, expect, test } from 'bun:test';
import type { AvPacket, TrackInfo } from '../core/packet.ts';
import { MAX_ALIGN_PACKETS, StartAligner } from './align.ts';

const pkt = (kind: 'video' | 'audio', dts: number, cts = 0): AvPacket => ({ kind, codec: kind === 'video' ? 'h264' : 'aac', dts, pts: dts + cts, key: true, units: [] });

function collect(expected = { video: true, audio: true }) {
  const out: (string | [string, number, number])[] = [];
  const tracks: TrackInfo[] = [];
  const a = new StartAligner(
    {
      tracks: (t) => {
        tracks.push(t);
        out.push('tracks');
      },
      packet: (p) => out.push([p.kind, p.dts, p.pts]),
    },
    () => expected,
  );
  return { a, out, tracks };
}

describe('StartAligner', () => {
  test('holds events until every declared track has sent a packet, then shifts all by the earliest DTS', () => {
    const { a, out, tracks } = collect();
    const video = { codec: 'h264' as const, width: 1, height: 1, profile: '', level: 0, sps: [], pps: [] };
    const audio = { codec: 'aac' as const, sampleRate: 48000, channels: 2 };
    a.tracks({ video });
    a.packet(pkt('video', 127920, 3003));
    a.tracks({ video, audio });
    expect(out).toEqual([]);
    a.packet(pkt('audio', 126000));
    a.packet(pkt('video', 130923));
    expect(out).toEqual(['tracks', ['video', 1920, 4923], 'tracks', ['audio', 0, 0], ['video', 4923, 4923]]);
    // the first TrackInfo already knows the audio track found later in the window
    expect(tracks[0].audio).toBe(audio);
    expect(tracks[0].video).toBe(video);
  });

  test('a declared track that never comes: released after MAX_ALIGN_PACKETS, or at the end', () => {
    const { a, out } = collect();
    for (let i = 0; i < MAX_ALIGN_PACKETS - 1; i++) a.packet(pkt('video', 9000 + i * 3000));
    expect(out).toEqual([]);
    a.packet(pkt('video', 9000 + (MAX_ALIGN_PACKETS - 1) * 3000));
    expect(out.length).toBe(MAX_ALIGN_PACKETS);
    expect(out[0]).toEqual(['video', 0, 0]);
    // a late track that starts before the base is clamped at 0 until it passes it
    a.packet(pkt('audio', 0));
    expect(out.at(-1)).toEqual(['audio', 0, 0]);
    const end = collect();
    end.a.packet(pkt('audio', 500));
    end.a.end();
    expect(end.out).toEqual([['audio', 0, 0]]);
  });

  test('only the declared tracks are waited for', () => {
    const { a, out } = collect({ video: false, audio: true });
    a.packet(pkt('audio', 1000));
    expect(out).toEqual([['audio', 0, 0]]);
  });
});
