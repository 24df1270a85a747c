/**
 * End-to-end RTSP server (docs/protocols.md §3, docs/behaviour.md §4–§5.5, docs/http-api.md §3.3–§3.4): real
 * peers over loopback. ffmpeg publishes over RTSP (interleaved TCP and UDP) and RTMP; ffprobe
 * plays back over RTSP (TCP, UDP), RTSPS, RTMP, HTTP-FLV and HTTP-TS and counts decoded frames;
 * a WebSocket client speaks RTSP over ws-rtsp; raw TCP clients check authentication, malformed
 * requests, RTCP receiver reports, kicks and the cleanup of clients that vanish.
 * The RTSP listeners are started on the test server's context with `startRtspListeners`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'bun';
import { ffmpegPath, ffmpegWith, ffprobePath, ffprobeWith } from './helpers/ffmpeg.ts';
import { atTestEnd, run, spawnTracked, stop, stopAll, waitFor } from './helpers/proc.ts';
import { startTestServer, type Patch } from './helpers/server.ts';
import { fixturePath } from './flv-tools.ts';
import { startRtspListeners, type RtspListeners } from '../lib/server/sessions/rtsp.ts';
import { RtspMessageReader, type RtspItem, type RtspResponse } from '../lib/protocol/rtsp/message.ts';
import { decodeRtpPacket, encodeRtpPacket } from '../lib/protocol/rtp/packet.ts';
import { decodeRtcpPackets, encodeRtcpPackets } from '../lib/protocol/rtp/rtcp.ts';
import { ntpFromUnixMs } from '../lib/protocol/rtp/ntp.ts';
import { md5Hex } from '../lib/protocol/rtsp/auth.ts';
import type { RunningServer } from '../lib/server/server.ts';
import type { RtpBranch } from '../lib/server/rtp-branch.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lal-rtsp-'));
afterAll(async () => {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
});

type Srv = RunningServer & AsyncDisposable & { rtsp: RtspListeners };

/** A test server with RTSP on, the RTSP listeners started on its context. */
async function rtspServer(patch: Patch = {}, opts: Parameters<typeof startRtspListeners>[1] = {}): Promise<Srv> {
  const srv = await startTestServer({
    ...patch,
    rtsp: { enable: true, addr: '127.0.0.1:0', out_wait_key_frame_flag: true, rtsps_enable: false, ws_rtsp_enable: false, ...patch.rtsp },
  });
  const rtsp = await startRtspListeners(srv.ctx, opts);
  const close = srv.close.bind(srv);
  const closeAll = async () => {
    rtsp.stop();
    await close();
  };
  return Object.assign(srv, { rtsp, close: closeAll, [Symbol.asyncDispose]: closeAll });
}

// ---- peers -----------------------------------------------------------------------------------

const quiet = ['-hide_banner', '-loglevel', 'error'];

function publishRtsp(fixture: string, url: string, transport: 'tcp' | 'udp') {
  const ffmpeg = fixture.endsWith('.mkv') ? ffmpegWith('rtsp-publish', 'matroska-read') : ffmpegWith('rtsp-publish');
  return spawnTracked([ffmpeg, ...quiet, '-re', '-i', fixturePath(fixture), '-c', 'copy', '-f', 'rtsp', '-rtsp_transport', transport, url]);
}

function publishRtmp(fixture: string, url: string) {
  return spawnTracked([ffmpegPath(), ...quiet, '-re', '-i', fixturePath(fixture), '-c', 'copy', '-f', 'flv', url]);
}

interface ProbeStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  nb_read_frames?: string;
}
interface Probe {
  code: number | null;
  stderr: string;
  video?: ProbeStream;
  audio?: ProbeStream;
}

const PROBE_ARGS = ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_type,codec_name,width,height,sample_rate,nb_read_frames', '-of', 'json'];

function parseProbe(code: number | null, stdout: string, stderr: string): Probe {
  let streams: ProbeStream[] = [];
  try {
    streams = (JSON.parse(stdout) as { streams?: ProbeStream[] }).streams ?? [];
  } catch {
    /* no output */
  }
  return { code, stderr, video: streams.find((s) => s.codec_type === 'video'), audio: streams.find((s) => s.codec_type === 'audio') };
}

/** ffprobe as a player: counts decoded frames until the server ends the stream (kick). */
function probePlayer(input: string[]) {
  const ffprobe = input.some((a) => a.startsWith('rtsps://')) ? ffprobeWith('tls') : ffprobePath();
  const p = spawnTracked([ffprobe, ...PROBE_ARGS, ...input]);
  const out = new Response(p.stdout).text();
  const err = new Response(p.stderr).text();
  const done = (async (): Promise<Probe> => {
    const t = setTimeout(() => stop(p), 25_000);
    const code = await p.exited;
    clearTimeout(t);
    return parseProbe(code, await out, await err);
  })();
  return { proc: p, done };
}

const srcCache = new Map<string, Promise<Probe>>();
function probeFixture(fixture: string): Promise<Probe> {
  let p = srcCache.get(fixture);
  if (!p) {
    p = run([ffprobePath(), ...PROBE_ARGS, fixturePath(fixture)], 20_000).then((r) => parseProbe(r.code, r.stdout, r.stderr));
    srcCache.set(fixture, p);
    // a probe cut short (its test ended or failed meanwhile) is not kept for the next test
    void p.then((r) => r.code !== 0 && srcCache.delete(fixture));
  }
  return p;
}

const frames = (s?: ProbeStream) => Number(s?.nb_read_frames ?? 0);

/** Wait until the stream's players stopped receiving bytes, then kick them all (their peers see the end). */
async function endPlayers(srv: Srv, name: string): Promise<void> {
  let last = '';
  let same = 0;
  await waitFor(() => {
    const g = srv.control.statGroup(name);
    const now = JSON.stringify((g?.subs ?? []).map((s) => s.wrote_bytes_sum));
    same = now === last ? same + 1 : 0;
    last = now;
    return same >= 12; // ~300 ms without progress
  }, 10_000, `${name}: player output settled`).catch(() => undefined);
  for (const s of srv.control.statGroup(name)?.subs ?? []) srv.control.kickSession(name, s.session_id);
}

// ---- raw RTSP client (protocol checks) -------------------------------------------------------

interface RawClient {
  items: RtspItem[];
  closed: Promise<void>;
  isClosed: () => boolean;
  bytes: () => number;
  send(data: string | Uint8Array): void;
  request(method: string, uri: string, headers?: Record<string, string>, body?: string): Promise<RtspResponse>;
  close(): void;
}

async function rawClient(port: number): Promise<RawClient> {
  const reader = new RtspMessageReader();
  const items: RtspItem[] = [];
  let bytes = 0;
  let cseq = 0;
  let closedFlag = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const sock: Socket = await Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: {
      data(_s, d) {
        bytes += d.length;
        try {
          items.push(...reader.feed(d));
        } catch {
          /* the test looks at what parsed */
        }
      },
      close() {
        closedFlag = true;
        resolveClosed();
      },
      error() {
        closedFlag = true;
        resolveClosed();
      },
    },
  });
  const c: RawClient = {
    items,
    closed,
    isClosed: () => closedFlag,
    bytes: () => bytes,
    send: (d) => {
      sock.write(typeof d === 'string' ? new TextEncoder().encode(d) : d);
    },
    async request(method, uri, headers = {}, body) {
      const n = ++cseq;
      let text = `${method} ${uri} RTSP/1.0\r\nCSeq: ${n}\r\n`;
      for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
      if (body) text += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
      text += `\r\n${body ?? ''}`;
      c.send(text);
      const found = () => items.find((i): i is RtspResponse => i.type === 'response' && i.headers.get('CSeq') === String(n));
      await waitFor(() => found() ?? closedFlag, 5_000, `${method} answer`);
      const r = found();
      if (!r) throw new Error(`${method}: connection closed without an answer`);
      return r;
    },
    close: () => sock.end(),
  };
  atTestEnd(() => sock.end());
  return c;
}

// ---- tests -----------------------------------------------------------------------------------

describe('RTSP in → RTSP (TCP/UDP), RTMP, HTTP-FLV, HTTP-TS out', () => {
  test('H.264+AAC published over RTSP/TCP and RTSP/UDP, H.265+AAC, H.264+G.711A, H.264+Opus: codecs, sizes, frame counts', async () => {
    await using srv = await rtspServer();
    const base = `127.0.0.1:${srv.rtsp.ports.rtsp}`;
    const cases = [
      { name: 'avc_tcp', fixture: 'h264-aac.flv', pub: 'tcp', outs: ['rtsp-tcp', 'rtsp-udp', 'rtmp', 'flv', 'ts'] },
      { name: 'avc_udp', fixture: 'h264-aac.flv', pub: 'udp', outs: ['rtsp-tcp', 'rtsp-udp', 'rtmp', 'flv', 'ts'] },
      // old ffprobe builds read neither H.265 nor Opus from FLV (LAL's codec ids 12/13): TS for those
      { name: 'hevc', fixture: 'h265-aac.mkv', pub: 'tcp', outs: ['rtsp-tcp', 'rtsp-udp', 'ts'] },
      // G.711 has no MPEG-TS mapping (docs/media.md §1)
      { name: 'alaw', fixture: 'h264-g711a.mkv', pub: 'udp', outs: ['rtsp-tcp', 'rtsp-udp', 'rtmp', 'flv'] },
      { name: 'opus', fixture: 'h264-opus.mkv', pub: 'tcp', outs: ['rtsp-udp', 'ts'] },
    ] as const;
    const input = (out: string, name: string): string[] => {
      switch (out) {
        case 'rtsp-tcp': return ['-rtsp_transport', 'tcp', '-i', `rtsp://${base}/live/${name}`];
        case 'rtsp-udp': return ['-rtsp_transport', 'udp', '-i', `rtsp://${base}/live/${name}`];
        case 'rtmp': return ['-i', `rtmp://127.0.0.1:${srv.ports.rtmp}/live/${name}`];
        case 'flv': return ['-i', `http://127.0.0.1:${srv.ports.http}/live/${name}.flv`];
        default: return ['-i', `http://127.0.0.1:${srv.ports.http}/live/${name}.ts`];
      }
    };
    // players first: RTSP DESCRIBEs are held until the publisher's ANNOUNCE (docs/behaviour.md §5.5)
    const players = cases.flatMap((c) => c.outs.map((out) => ({ c, out, p: probePlayer(input(out, c.name)) })));
    await waitFor(() => cases.every((c) => (srv.control.statGroup(c.name)?.subs?.length ?? 0) === c.outs.length), 10_000, 'players attached');
    expect(srv.control.statGroup('avc_tcp')!.subs!.filter((s) => /^RTSPSUB\d+$/.test(s.session_id)).length).toBe(2);

    const pubs = cases.map((c) => publishRtsp(c.fixture, `rtsp://${base}/live/${c.name}`, c.pub));
    await waitFor(() => cases.every((c) => srv.control.statGroup(c.name)?.video_codec), 10_000, 'RTSP publishers attached');
    const g = srv.control.statGroup('avc_udp')!;
    expect(g.pub.session_id).toMatch(/^RTSPPUB\d+$/);
    expect(g.pub.protocol).toBe('RTSP');
    expect(g.pub.base_type).toBe('PUB');
    expect(g.video_codec).toBe('H264');
    expect(g.video_width).toBe(320);
    expect(g.video_height).toBe(240);
    expect(g.audio_codec).toBe('AAC');
    expect(srv.control.statGroup('hevc')!.video_codec).toBe('H265');
    expect(srv.control.statGroup('alaw')!.audio_codec).toBe('PCMA');
    expect(srv.control.statGroup('opus')!.audio_codec).toBe('OPUS');

    for (const p of pubs) expect(await p.exited).toBe(0);
    // RTSP players count RTP bytes sent; the publisher counted RTP/RTCP bytes received
    const rtspSub = srv.control.statGroup('avc_tcp')!.subs!.find((s) => s.protocol === 'RTSP')!;
    expect(rtspSub.base_type).toBe('SUB');
    expect(rtspSub.wrote_bytes_sum).toBeGreaterThan(100_000);
    await Promise.all(cases.map((c) => endPlayers(srv, c.name)));

    const results = await Promise.all(players.map(async (x) => ({ ...x, r: await x.p.done })));
    for (const { c, out, r } of results) {
      const src = await probeFixture(c.fixture);
      const label = `${c.name} ${out}`;
      expect({ label, code: r.code }).toEqual({ label, code: 0 });
      expect({ label, v: r.video?.codec_name, w: r.video?.width, h: r.video?.height }).toEqual({ label, v: src.video!.codec_name, w: 320, h: 240 });
      // Players attached before the publisher. RTMP/FLV/TS players get every frame. An RTSP player
      // whose PLAY lands after the first key frame waits for the next one (no GOP cache for RTSP,
      // docs/behaviour.md §5.5): one GOP (1 s) may be missed. A loaded loopback may drop a UDP
      // datagram, which costs the GOP it hits: one more GOP of slack on UDP legs.
      const rtspOut = out === 'rtsp-tcp' || out === 'rtsp-udp';
      const udpLeg = out === 'rtsp-udp' || c.pub === 'udp';
      const gops = (rtspOut ? 1 : 0) + (udpLeg ? 1 : 0);
      const fv = frames(r.video);
      const sv = frames(src.video);
      expect({ label, video: fv >= sv - 25 * gops && fv <= sv ? 'ok' : fv }).toEqual({ label, video: 'ok' });
      expect({ label, a: r.audio?.codec_name, rate: r.audio?.sample_rate }).toEqual({ label, a: src.audio!.codec_name, rate: src.audio!.sample_rate });
      // ffmpeg's AAC RTP packetiser groups up to 5 frames and does not send the last group at exit
      const fa = frames(r.audio);
      const perGop = Math.ceil((frames(src.audio) * 25) / sv);
      expect({ label, audio: fa >= frames(src.audio) - 6 - perGop * gops && fa <= frames(src.audio) ? 'ok' : fa }).toEqual({ label, audio: 'ok' });
    }
  }, 60_000);

  test('an RTMP publisher played over RTSP (TCP and UDP): generated SDP, same codecs; the first GOP may be missed', async () => {
    await using srv = await rtspServer();
    const url = `rtsp://127.0.0.1:${srv.rtsp.ports.rtsp}/live/fromrtmp`;
    const tcp = probePlayer(['-rtsp_transport', 'tcp', '-i', url]);
    const udp = probePlayer(['-rtsp_transport', 'udp', '-i', url]);
    await waitFor(() => (srv.control.statGroup('fromrtmp')?.subs?.length ?? 0) === 2, 10_000, 'RTSP players waiting');
    const pub = publishRtmp('h264-aac.flv', `rtmp://127.0.0.1:${srv.ports.rtmp}/live/fromrtmp`);
    // a late joiner gets the generated SDP at once
    await waitFor(() => (srv.hub.get('fromrtmp')?.existingBranch('rtp') as RtpBranch | undefined)?.sdp, 10_000, 'generated SDP');
    const late = await rawClient(srv.rtsp.ports.rtsp!);
    const d = await late.request('DESCRIBE', url);
    expect(d.status).toBe(200);
    expect(d.headers.get('Content-Type')).toBe('application/sdp');
    const sdp = new TextDecoder().decode(d.body);
    expect(sdp).toContain('a=rtpmap:96 H264/90000\r\n');
    expect(sdp).toContain('a=rtpmap:97 MPEG4-GENERIC/44100/2\r\n');
    expect(sdp).toContain('a=control:streamid=1\r\n');
    late.close();
    expect(await pub.exited).toBe(0);
    await endPlayers(srv, 'fromrtmp');
    const src = await probeFixture('h264-aac.flv');
    for (const r of [await tcp.done, await udp.done]) {
      expect(r.code).toBe(0);
      expect(r.video?.codec_name).toBe('h264');
      expect(r.video?.width).toBe(320);
      expect(r.audio?.codec_name).toBe('aac');
      expect(r.audio?.sample_rate).toBe('44100');
      // DESCRIBE is answered when the stream starts; PLAY follows a round trip later and waits
      // for the next key frame (no GOP cache for RTSP, docs/behaviour.md §5.5): at most one GOP lost
      expect(frames(r.video)).toBeGreaterThanOrEqual(frames(src.video) - 25);
      expect(frames(r.video)).toBeLessThanOrEqual(frames(src.video));
      expect(frames(r.audio)).toBeGreaterThanOrEqual(frames(src.audio) - 45);
    }
  }, 30_000);
});

describe('RTSP authentication, RTSPS, RTSP over WebSocket', () => {
  beforeAll(async () => {
    const r = await run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', `${tmp}/key.pem`, '-out', `${tmp}/cert.pem`], 20_000);
    if (r.code !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  });

  test('digest auth on DESCRIBE: 401 challenge, right credentials play, wrong ones are closed; ANNOUNCE is never challenged', async () => {
    await using srv = await rtspServer({ rtsp: { auth_enable: true, auth_method: 1, username: 'admin', password: 's3cret' } });
    const base = `127.0.0.1:${srv.rtsp.ports.rtsp}/live/auth`;
    const right = probePlayer(['-rtsp_transport', 'tcp', '-i', `rtsp://admin:s3cret@${base}`]);
    await waitFor(() => srv.control.statGroup('auth')?.subs?.length === 1, 10_000, 'authorised player waiting');
    const pub = publishRtsp('h264-aac.flv', `rtsp://${base}`, 'tcp');
    await waitFor(() => srv.control.statGroup('auth')?.pub.session_id, 10_000, 'publisher (not challenged)');

    const c = await rawClient(srv.rtsp.ports.rtsp!);
    const r401 = await c.request('DESCRIBE', `rtsp://${base}`);
    expect(r401.status).toBe(401);
    const challenge = r401.headers.get('WWW-Authenticate')!;
    expect(challenge).toMatch(/^Digest realm="lal", nonce="[0-9a-f]{32}"$/);
    const nonce = /nonce="([0-9a-f]{32})"/.exec(challenge)![1];
    const ha1 = md5Hex('admin:lal:s3cret');
    const good = md5Hex(`${ha1}:${nonce}:${md5Hex(`DESCRIBE:rtsp://${base}`)}`);
    const ok = await c.request('DESCRIBE', `rtsp://${base}`, { Authorization: `Digest username="admin", realm="lal", nonce="${nonce}", uri="rtsp://${base}", response="${good}"` });
    expect(ok.status).toBe(200);
    c.close();
    const bad = await rawClient(srv.rtsp.ports.rtsp!);
    bad.send(`DESCRIBE rtsp://${base} RTSP/1.0\r\nCSeq: 1\r\nAuthorization: Digest username="admin", realm="lal", nonce="${nonce}", uri="rtsp://${base}", response="${good}"\r\n\r\n`);
    await bad.closed; // a nonce this connection never issued (docs/quirks.md Q-RTSP-2 FIX): closed, no answer
    expect(bad.items.length).toBe(0);

    const wrong = await run([ffprobePath(), '-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name', '-of', 'json', `rtsp://admin:nope@${base}`], 15_000);
    expect(wrong.code).not.toBe(0);
    const none = await run([ffprobePath(), '-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name', '-of', 'json', `rtsp://${base}`], 15_000);
    expect(none.code).not.toBe(0);
    expect(await pub.exited).toBe(0);
    await endPlayers(srv, 'auth');
    const r = await right.done;
    expect(r.code).toBe(0);
    expect(r.video?.codec_name).toBe('h264');
    expect(frames(r.video)).toBe(100);
  }, 30_000);

  test('Basic auth (auth_method 0) works with the right password (docs/quirks.md Q-RTSP-1 FIX) and refuses a wrong one', async () => {
    await using srv = await rtspServer({ rtsp: { auth_enable: true, auth_method: 0, username: 'u', password: 'p' } });
    const base = `127.0.0.1:${srv.rtsp.ports.rtsp}/live/basic`;
    const c = await rawClient(srv.rtsp.ports.rtsp!);
    const r401 = await c.request('DESCRIBE', `rtsp://${base}`);
    expect(r401.status).toBe(401);
    expect(r401.headers.get('WWW-Authenticate')).toBe('Basic realm="lal"');
    // right credentials: the DESCRIBE is accepted (and held: nothing publishes yet)
    c.send(`DESCRIBE rtsp://${base} RTSP/1.0\r\nCSeq: 9\r\nAuthorization: Basic ${btoa('u:p')}\r\n\r\n`);
    await waitFor(() => srv.control.statGroup('basic')?.subs?.length === 1, 5_000, 'authorised player waiting');
    expect(c.isClosed()).toBe(false);
    c.close();
    const bad = await rawClient(srv.rtsp.ports.rtsp!);
    bad.send(`DESCRIBE rtsp://${base} RTSP/1.0\r\nCSeq: 1\r\nAuthorization: Basic ${btoa('u:wrong')}\r\n\r\n`);
    await bad.closed;
    expect(bad.items.length).toBe(0);
    // ffmpeg answers a Basic challenge too
    const player = probePlayer(['-rtsp_transport', 'tcp', '-i', `rtsp://u:p@${base}`]);
    await waitFor(() => srv.control.statGroup('basic')?.subs?.length === 1, 10_000, 'ffprobe authorised');
    const pub = publishRtsp('h264-aac.flv', `rtsp://${base}`, 'tcp');
    expect(await pub.exited).toBe(0);
    await endPlayers(srv, 'basic');
    const r = await player.done;
    expect(r.video?.codec_name).toBe('h264');
    expect(frames(r.video)).toBe(100);
  }, 30_000);

  test('RTSPS (TLS) playback with ffprobe; RTSP over WebSocket with a WebSocket client', async () => {
    await using srv = await rtspServer({
      rtsp: { rtsps_enable: true, rtsps_addr: '127.0.0.1:0', rtsps_cert_file: `${tmp}/cert.pem`, rtsps_key_file: `${tmp}/key.pem`, ws_rtsp_enable: true, ws_rtsp_addr: '127.0.0.1:0' },
    });
    expect(srv.rtsp.ports.rtsps).toBeGreaterThan(0);
    expect(srv.rtsp.ports.wsRtsp).toBeGreaterThan(0);
    const tls = probePlayer(['-i', `rtsps://127.0.0.1:${srv.rtsp.ports.rtsps}/live/secure`]);

    // RTSP over WebSocket: one request per binary frame; RTP arrives as `$ ch len` + packet frames
    const ws = new WebSocket(`ws://127.0.0.1:${srv.rtsp.ports.wsRtsp}/live/secure`, 'rtsp');
    atTestEnd(() => ws.close());
    ws.binaryType = 'arraybuffer';
    const msgs: Uint8Array[] = [];
    ws.onmessage = (e) => msgs.push(new Uint8Array(e.data as ArrayBuffer));
    await new Promise<void>((res, rej) => {
      ws.onopen = () => res();
      ws.onerror = () => rej(new Error('ws-rtsp open failed'));
    });
    expect(ws.protocol).toBe('rtsp');
    const reader = new RtspMessageReader();
    const responses: RtspResponse[] = [];
    const rtp: { channel: number; payload: Uint8Array }[] = [];
    let seen = 0;
    const pump = () => {
      for (; seen < msgs.length; seen++) {
        for (const it of reader.feed(msgs[seen])) {
          if (it.type === 'response') responses.push(it);
          else if (it.type === 'interleaved') rtp.push({ channel: it.channel, payload: it.payload });
        }
      }
    };
    const wsUrl = `rtsp://127.0.0.1:${srv.rtsp.ports.wsRtsp}/live/secure`;
    let cseq = 0;
    const req = async (method: string, uri: string, extra = '') => {
      const n = ++cseq;
      ws.send(new TextEncoder().encode(`${method} ${uri} RTSP/1.0\r\nCSeq: ${n}\r\n${extra}\r\n`));
      return waitFor(() => (pump(), responses.find((r) => r.headers.get('CSeq') === String(n))), 10_000, `ws ${method}`);
    };
    expect((await req('OPTIONS', wsUrl)).headers.get('Public')).toContain('DESCRIBE');
    const described = req('DESCRIBE', wsUrl); // held until the publisher comes
    described.catch(() => undefined); // awaited below; a failure before that must not reject later
    await waitFor(() => srv.control.statGroup('secure')?.subs?.length === 2, 10_000, 'rtsps and ws players waiting');
    const pub = publishRtsp('h264-aac.flv', `rtsp://127.0.0.1:${srv.rtsp.ports.rtsp}/live/secure`, 'tcp');
    const d = await described;
    expect(d.status).toBe(200);
    expect(new TextDecoder().decode(d.body)).toContain('H264/90000');
    const s0 = await req('SETUP', `${wsUrl}/streamid=0`, 'Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n');
    expect(s0.headers.get('Transport')).toBe('RTP/AVP/TCP;unicast;interleaved=0-1');
    expect((await req('SETUP', `${wsUrl}/streamid=1`, 'Transport: RTP/AVP/TCP;unicast;interleaved=2-3\r\n')).status).toBe(200);
    expect((await req('PLAY', wsUrl)).status).toBe(200);
    await waitFor(() => (pump(), rtp.filter((f) => f.channel === 2).length > 5 && rtp.filter((f) => f.channel === 0).length > 20), 10_000, 'RTP over ws-rtsp');
    // the first video packet starts an access point (out_wait_key_frame_flag)
    const v = rtp.filter((f) => f.channel === 0).map((f) => decodeRtpPacket(f.payload));
    expect(v.every((p) => p.header.payloadType === 96)).toBe(true);
    const t0 = v[0].payload[0] & 0x1f;
    expect(t0 === 5 || t0 === 7 || t0 === 8 || (t0 === 28 && (v[0].payload[1] & 0x80) !== 0 && (v[0].payload[1] & 0x1f) === 5)).toBe(true);
    expect(rtp.filter((f) => f.channel === 2).every((f) => decodeRtpPacket(f.payload).header.payloadType === 97)).toBe(true);
    // each media message is exactly one interleaved frame
    for (const m of msgs.slice(-10)) if (m[0] === 0x24) expect(m.length).toBe(4 + ((m[2] << 8) | m[3]));
    expect((await req('TEARDOWN', wsUrl)).status).toBe(200);
    await waitFor(() => ws.readyState === WebSocket.CLOSED, 5_000, 'ws closed after TEARDOWN');

    expect(await pub.exited).toBe(0);
    await endPlayers(srv, 'secure');
    const r = await tls.done;
    expect(r.code).toBe(0);
    expect(r.video?.codec_name).toBe('h264');
    expect(frames(r.video)).toBe(100);
    expect(r.audio?.codec_name).toBe('aac');
  }, 30_000);
});

describe('RTSP robustness, RTCP, kick and cleanup', () => {
  test('malformed requests are answered 400 or closed without disturbing a playing session', async () => {
    await using srv = await rtspServer();
    const port = srv.rtsp.ports.rtsp!;
    const url = `rtsp://127.0.0.1:${port}/live/robust`;
    const pub = publishRtsp('h264-aac.flv', url, 'tcp');
    await waitFor(() => srv.control.statGroup('robust')?.pub.session_id, 10_000, 'publisher');
    // a raw interleaved player
    const player = await rawClient(port);
    expect((await player.request('DESCRIBE', url)).status).toBe(200);
    expect((await player.request('SETUP', `${url}/streamid=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' })).status).toBe(200);
    expect((await player.request('PLAY', url)).status).toBe(200);
    await waitFor(() => player.bytes() > 20_000, 5_000, 'player receiving');

    const sdp = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=audio 0 RTP/AVP 8\r\na=control:streamid=0\r\n';
    const cases: [string, string | Uint8Array][] = [
      ['missing CSeq', 'OPTIONS rtsp://127.0.0.1/live/x RTSP/1.0\r\n\r\n'],
      ['non-numeric Content-Length', 'ANNOUNCE rtsp://127.0.0.1/live/x RTSP/1.0\r\nCSeq: 1\r\nContent-Length: abc\r\n\r\n'],
      ['huge Content-Length', 'ANNOUNCE rtsp://127.0.0.1/live/x RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 99999999\r\n\r\n'],
      ['100 KB header', `OPTIONS rtsp://127.0.0.1/live/x RTSP/1.0\r\nCSeq: 1\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n\r\n`],
      ['garbage', Uint8Array.from({ length: 512 }, (_, i) => (i * 37 + 11) & 0xff)],
      ['bad SDP', 'ANNOUNCE rtsp://127.0.0.1/live/y RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 5\r\n\r\nhello'],
      ['SETUP before DESCRIBE', 'SETUP rtsp://127.0.0.1/live/x/streamid=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n'],
      ['second publisher (refused, docs/behaviour.md §3.1)', `ANNOUNCE ${url} RTSP/1.0\r\nCSeq: 1\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`],
    ];
    for (const [what, bytes] of cases) {
      const c = await rawClient(port);
      c.send(bytes);
      await Promise.race([c.closed, Bun.sleep(3000)]);
      expect({ what, closed: c.isClosed() }).toEqual({ what, closed: true });
      const answers = c.items.filter((i): i is RtspResponse => i.type === 'response').map((i) => i.status);
      expect({ what, answers: answers.filter((s) => s !== 400) }).toEqual({ what, answers: [] });
      if (what === 'missing CSeq') expect(answers).toEqual([400]);
    }
    // the player and the publisher did not notice
    const before = player.bytes();
    await waitFor(() => player.bytes() > before + 10_000, 5_000, 'player still receiving');
    expect(player.isClosed()).toBe(false);
    const g = srv.control.statGroup('robust')!;
    expect(g.pub.protocol).toBe('RTSP');
    expect(g.subs!.length).toBe(1);
    player.close();
    expect(await pub.exited).toBe(0);
  }, 30_000);

  test('raw publisher: RTP in, a Receiver Report answers a Sender Report (bytes counted), kick closes it', async () => {
    await using srv = await rtspServer();
    const port = srv.rtsp.ports.rtsp!;
    const url = `rtsp://127.0.0.1:${port}/live/rawpub`;
    const c = await rawClient(port);
    const sdp = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=control:streamid=0\r\n';
    expect((await c.request('ANNOUNCE', url, { 'Content-Type': 'application/sdp' }, sdp)).status).toBe(200);
    const setup = await c.request('SETUP', `${url}/streamid=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record' });
    expect(setup.headers.get('Transport')).toBe('RTP/AVP/TCP;unicast;interleaved=0-1;mode=record');
    expect(setup.headers.get('Session')).toBe('191201771');
    expect((await c.request('RECORD', url)).status).toBe(200);
    const frame = (ch: number, b: Uint8Array) => {
      const out = new Uint8Array(4 + b.length);
      out.set([0x24, ch, b.length >> 8, b.length & 0xff]);
      out.set(b, 4);
      return out;
    };
    let sent = 0;
    for (let i = 0; i < 20; i++) {
      const p = encodeRtpPacket({ marker: true, payloadType: 8, sequenceNumber: 100 + i, timestamp: 160 * i, ssrc: 0x1234 }, new Uint8Array(160).fill(0xd5));
      sent += p.length;
      c.send(frame(0, p));
    }
    const sr = encodeRtcpPackets([{ kind: 'sr', ssrc: 0x1234, ntp: ntpFromUnixMs(Date.now()), rtpTimestamp: 3040, packetCount: 20, octetCount: 3200, reports: [] }]);
    c.send(frame(1, sr));
    const rr = (await waitFor(() => c.items.find((i) => i.type === 'interleaved' && i.channel === 1), 5_000, 'receiver report')) as { payload: Uint8Array };
    const pkts = decodeRtcpPackets(rr.payload);
    expect(pkts[0].kind).toBe('rr');
    const block = (pkts[0] as { reports: { ssrc: number; highestSequence: number; packetsLost: number }[] }).reports[0];
    expect(block.ssrc).toBe(0x1234);
    expect(block.highestSequence).toBe(119);
    expect(block.packetsLost).toBe(0);
    const g = srv.control.statGroup('rawpub')!;
    expect(g.pub.session_id).toMatch(/^RTSPPUB\d+$/);
    expect(g.audio_codec).toBe('PCMA');
    expect(g.pub.read_bytes_sum).toBe(sent + sr.length);
    expect(g.pub.wrote_bytes_sum).toBe(rr.payload.length); // the RR we sent (docs/quirks.md Q-API-11 FIX)
    // kick the publisher through the API: its connection ends, the stream loses its input
    const kick = await fetch(`http://127.0.0.1:${srv.ports.api}/api/ctrl/kick_session`, { method: 'POST', body: JSON.stringify({ stream_name: 'rawpub', session_id: g.pub.session_id }) });
    expect(await kick.json()).toEqual({ error_code: 0, desp: 'succ' });
    await c.closed;
    expect(srv.control.statGroup('rawpub')).toBeUndefined();
  }, 20_000);

  test('a client that SETUPs (UDP) and goes silent is closed after the command timeout; one that vanishes after PLAY is cleaned up at once', async () => {
    await using srv = await rtspServer({}, { commandTimeoutMs: 1500 });
    const port = srv.rtsp.ports.rtsp!;
    const url = `rtsp://127.0.0.1:${port}/live/vanish`;
    const pub = publishRtsp('h264-aac.flv', url, 'tcp');
    await waitFor(() => srv.control.statGroup('vanish')?.pub.session_id, 10_000, 'publisher');
    const baseline = srv.rtsp.udpPorts.inUse;

    const silent = await rawClient(port);
    expect((await silent.request('DESCRIBE', url)).status).toBe(200);
    const s1 = await silent.request('SETUP', `${url}/streamid=0`, { Transport: 'RTP/AVP/UDP;unicast;client_port=41000-41001' });
    const transport = s1.headers.get('Transport')!;
    expect(transport).toMatch(/^RTP\/AVP\/UDP;unicast;client_port=41000-41001;server_port=\d+-\d+$/);
    const [sp0, sp1] = /server_port=(\d+)-(\d+)/.exec(transport)!.slice(1).map(Number);
    expect(sp1).toBe(sp0 + 1);
    expect(sp0 % 2).toBe(0);
    expect(sp0).toBeGreaterThanOrEqual(30000);
    expect(sp1).toBeLessThanOrEqual(60000);
    expect(srv.rtsp.udpPorts.inUse).toBe(baseline + 1);
    expect(srv.control.statGroup('vanish')!.subs!.length).toBe(1);
    await silent.closed; // closed by the server's tick
    expect(srv.rtsp.udpPorts.inUse).toBe(baseline);
    expect(srv.control.statGroup('vanish')!.subs).toBeNull();

    // PLAY over UDP, then the client disappears: the end of the control connection cleans up
    const gone = await rawClient(port);
    expect((await gone.request('DESCRIBE', url)).status).toBe(200);
    await gone.request('SETUP', `${url}/streamid=0`, { Transport: 'RTP/AVP/UDP;unicast;client_port=41002-41003' });
    await gone.request('SETUP', `${url}/streamid=1`, { Transport: 'RTP/AVP/UDP;unicast;client_port=41004-41005' });
    expect((await gone.request('PLAY', url)).status).toBe(200);
    expect(srv.rtsp.udpPorts.inUse).toBe(baseline + 2);
    await waitFor(() => (srv.control.statGroup('vanish')?.subs?.[0]?.wrote_bytes_sum ?? 0) > 10_000, 5_000, 'UDP player fed');
    gone.close();
    await waitFor(() => srv.control.statGroup('vanish')!.subs === null, 3_000, 'player removed');
    expect(srv.rtsp.udpPorts.inUse).toBe(baseline);
    stop(pub);
    await pub.exited;
  }, 30_000);
});
