/**
 * MPEG-TS push demuxer (ISO/IEC 13818-1 §2.4): bytes in, PMT and PES events out, for `lal remux`
 * (TS → FLV) and TS inputs. Resynchronises on the sync byte, follows PAT → PMT, reassembles PES
 * packets per PID by payload_unit_start_indicator (or PES_packet_length when known), counts
 * continuity errors instead of failing. Output does not depend on how the input was split.
 *
 * `TsPesToAv` then turns PES events into AvPackets and a TrackInfo (docs/architecture.md §1.3): Annex-B
 * video split into NAL units (AUD dropped, parameter sets moved into the TrackInfo), ADTS audio
 * split into raw AAC frames timed 1024 samples apart, Opus access units.
 *
 * Ownership: like FlvReader, packet payloads are views of the fed chunks until a PES is
 * assembled (one copy per PES spanning packets), so callers must not reuse a chunk after
 * feeding it.
 */
import { bytesEqual, ByteStash, concat } from '../../core/bytes.ts';
import { ParseError } from '../../core/errors.ts';
import type { AudioTrack, AvPacket, TrackInfo, VideoTrack } from '../../core/packet.ts';
import { decodeAdtsHeader, encodeAsc } from '../../codec/aac/index.ts';
import { h264NaluType, isH264KeyFrame, NaluTypeH264, parseH264Sps, splitAnnexB } from '../../codec/h264/index.ts';
import { h265NaluType, isH265KeyFrame, NaluTypeH265, parseH265Sps } from '../../codec/h265/index.ts';
import { decodeTsPacket, TS_SYNC_BYTE, type TsPacket } from './packet.ts';
import { decodePesHeader, PES_START_SIZE, TIMESTAMP_MODULO } from './pes.ts';
import { decodePat, decodePmt, MAX_SECTION_LENGTH, SECTION_HEADER_SIZE, TableId, TsPid, type TsCodec } from './psi.ts';
import { TS_PACKET_SIZE } from './types.ts';

/**
 * Largest PES we reassemble. A 4K intra frame at broadcast bitrates stays well under 8 MiB;
 * 16 MiB bounds the memory one PID can hold (the same ceiling as an FLV tag). Larger PES are
 * dropped and counted.
 */
export const MAX_PES_SIZE = 16 * 1024 * 1024;
/**
 * Junk skipped in one stretch while looking for sync before the input is declared not to be
 * MPEG-TS. A real stream resyncs within two packets; 1 MiB of bytes without a 0x47 pair 188
 * apart (random data has one every 64 KiB on average) is something else.
 */
export const MAX_RESYNC_BYTES = 1024 * 1024;
/** A PSI section: at most 1021 bytes after section_length, plus its 3-byte head. */
const MAX_SECTION_SIZE = SECTION_HEADER_SIZE + MAX_SECTION_LENGTH;

export interface TsStreamInfo {
  pid: number;
  streamType: number;
  codec: TsCodec;
}

export interface TsPmtEvent {
  type: 'pmt';
  programNumber: number;
  pcrPid: number;
  streams: TsStreamInfo[];
}

export interface TsPesEvent {
  type: 'pes';
  pid: number;
  streamId: number;
  codec: TsCodec;
  /** 90 kHz, 33 bits as coded; absent when the PES carried none. */
  pts?: number;
  /** As coded when present; otherwise equal to `pts` (absent when `pts` is). */
  dts?: number;
  /** The PES payload (after the PES header). */
  data: Uint8Array;
  /** random_access_indicator of the PES's first packet. */
  randomAccess: boolean;
}

export type TsDemuxEvent = TsPmtEvent | TsPesEvent;

/** What went wrong without stopping the demuxer (all counters only grow). */
export interface TsDemuxStats {
  packets: number;
  /** Times the sync byte was not where the previous packet said it would be. */
  syncLosses: number;
  /** Bytes discarded while resynchronising (and a partial packet at flush). */
  skippedBytes: number;
  continuityErrors: number;
  /** Packets repeated with the same continuity counter (dropped, §2.4.3.3). */
  duplicates: number;
  /** Packets with transport_error_indicator set (dropped). */
  transportErrors: number;
  /** Packets whose header or adaptation field is malformed (dropped). */
  invalidPackets: number;
  /** PSI sections that failed to parse or had a bad CRC. */
  psiErrors: number;
  /** PES packets whose header failed to parse. */
  pesErrors: number;
  /** PES packets cut short (a new PES started, or the input ended, before PES_packet_length). */
  truncatedPes: number;
  /** PES packets beyond MAX_PES_SIZE (dropped). */
  oversizedPes: number;
}

interface PsiState {
  buf: Uint8Array;
  len: number;
  active: boolean;
}

interface PesState {
  streamType: number;
  codec: TsCodec;
  parts: Uint8Array[];
  size: number;
  /** Total PES bytes from the start code: 6 + PES_packet_length; 0 unbounded; -1 not known yet. */
  expected: number;
  active: boolean;
  randomAccess: boolean;
}

export interface TsDemuxerOptions {
  /** Largest PES reassembled (default MAX_PES_SIZE). */
  maxPesSize?: number;
}

export class TsDemuxer {
  readonly stats: TsDemuxStats = {
    packets: 0, syncLosses: 0, skippedBytes: 0, continuityErrors: 0, duplicates: 0, transportErrors: 0,
    invalidPackets: 0, psiErrors: 0, pesErrors: 0, truncatedPes: 0, oversizedPes: 0,
  };
  // Between feeds the stash holds less than two packets (or a resync window bounded by
  // MAX_RESYNC_BYTES); the chunk itself is the caller's memory, so the stash is not limited.
  private readonly stash = new ByteStash(Number.MAX_SAFE_INTEGER, 'mpegts');
  private readonly maxPesSize: number;
  private synced = true;
  private junk = 0;
  private pmtPid = -1;
  private readonly psi = new Map<number, PsiState>();
  private readonly pes = new Map<number, PesState>();
  private readonly lastCc = new Map<number, number>();
  private streams: TsStreamInfo[] = [];
  private out: TsDemuxEvent[] = [];

  constructor(opts: TsDemuxerOptions = {}) {
    this.maxPesSize = opts.maxPesSize ?? MAX_PES_SIZE;
  }

  /** The elementary streams of the current PMT (empty before one was seen). */
  get pmtStreams(): readonly TsStreamInfo[] {
    return this.streams;
  }

  /** Consume `chunk`; returns the events it completes. Throws ParseError only for non-TS input. */
  feed(chunk: Uint8Array): TsDemuxEvent[] {
    this.stash.push(chunk);
    this.drain(false);
    return this.take();
  }

  /**
   * End of input: parse a last packet found while resynchronising, drop a partial packet,
   * emit PES packets that were waiting for the next payload_unit_start (unbounded video PES).
   */
  flush(): TsDemuxEvent[] {
    this.drain(true);
    if (this.stash.length > 0) {
      this.stats.skippedBytes += this.stash.length;
      this.stash.clear();
    }
    for (const [pid, st] of this.pes) this.finishPes(pid, st, true);
    this.synced = true;
    this.junk = 0;
    return this.take();
  }

  private take(): TsDemuxEvent[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private drain(atEnd: boolean): void {
    const s = this.stash;
    for (;;) {
      if (this.synced) {
        if (s.length === 0) return;
        if (s.at(0) !== TS_SYNC_BYTE) {
          this.synced = false;
          this.stats.syncLosses++;
          continue;
        }
        if (s.length < TS_PACKET_SIZE) return;
        this.onPacket(s.take(TS_PACKET_SIZE));
        continue;
      }
      // Resynchronising: a 0x47 counts when another follows one packet later (or the input ends).
      while (s.length > 0 && s.at(0) !== TS_SYNC_BYTE) this.skipJunk(1);
      if (s.length === 0) return;
      if (s.length > TS_PACKET_SIZE) {
        if (s.at(TS_PACKET_SIZE) === TS_SYNC_BYTE) {
          this.synced = true;
          this.junk = 0;
        } else {
          this.skipJunk(1);
        }
        continue;
      }
      if (atEnd && s.length === TS_PACKET_SIZE) {
        this.synced = true;
        this.junk = 0;
        continue;
      }
      return;
    }
  }

  private skipJunk(n: number): void {
    this.stash.skip(n);
    this.stats.skippedBytes += n;
    this.junk += n;
    if (this.junk > MAX_RESYNC_BYTES) {
      throw new ParseError(`mpegts: no sync byte pair in ${MAX_RESYNC_BYTES} bytes: not an MPEG-TS stream`, 'no-sync');
    }
  }

  private onPacket(bytes: Uint8Array): void {
    this.stats.packets++;
    let pkt: TsPacket;
    try {
      pkt = decodeTsPacket(bytes);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.stats.invalidPackets++;
      return;
    }
    const h = pkt.header;
    if (h.transportError) {
      this.stats.transportErrors++;
      return;
    }
    const pid = h.pid;
    const isPsi = pid === TsPid.Pat || pid === this.pmtPid;
    const es = isPsi ? undefined : this.pes.get(pid);
    if (!isPsi && !es) return;
    if (h.adaptationFieldControl & 1) {
      // continuity_counter counts payload-carrying packets (§2.4.3.3)
      const last = this.lastCc.get(pid);
      if (last !== undefined && !pkt.adaptation?.discontinuity) {
        // A repeated CC on a PES PID is a duplicate packet. PSI is not deduplicated: LAL writes
        // every PAT/PMT with CC 0 (docs/media.md §4.1) and re-reading one is harmless.
        if (es && h.continuityCounter === last) {
          this.stats.duplicates++;
          return;
        }
        if (es && h.continuityCounter !== ((last + 1) & 0x0f)) this.stats.continuityErrors++;
      }
      this.lastCc.set(pid, h.continuityCounter);
    }
    if (pkt.payload.length === 0) return;
    if (h.scrambling !== 0) return; // scrambled payloads are opaque
    if (es) this.onPesPayload(pid, es, pkt);
    else this.onPsiPayload(pid, pkt.payload, h.payloadUnitStart);
  }

  // ---- PSI --------------------------------------------------------------------------------

  private onPsiPayload(pid: number, payload: Uint8Array, start: boolean): void {
    let st = this.psi.get(pid);
    if (!st) {
      st = { buf: new Uint8Array(MAX_SECTION_SIZE), len: 0, active: false };
      this.psi.set(pid, st);
    }
    if (start) {
      const pointer = payload[0];
      if (1 + pointer > payload.length) {
        this.stats.psiErrors++;
        st.active = false;
        st.len = 0;
        return;
      }
      if (st.active && pointer > 0) this.appendSection(pid, st, payload.subarray(1, 1 + pointer));
      st.active = true;
      st.len = 0;
      this.appendSection(pid, st, payload.subarray(1 + pointer));
    } else if (st.active) {
      this.appendSection(pid, st, payload);
    }
  }

  private appendSection(pid: number, st: PsiState, bytes: Uint8Array): void {
    if (!st.active) return;
    let src = bytes;
    while (src.length > 0 && st.active) {
      const n = Math.min(src.length, st.buf.length - st.len);
      st.buf.set(src.subarray(0, n), st.len);
      st.len += n;
      src = src.subarray(n);
      this.parseSections(pid, st);
      if (st.active && n === 0) {
        // a section never fits: cannot happen after parseSections, but never spin
        this.stats.psiErrors++;
        st.active = false;
        st.len = 0;
      }
    }
  }

  private parseSections(pid: number, st: PsiState): void {
    while (st.active && st.len >= SECTION_HEADER_SIZE) {
      if (st.buf[0] === 0xff) {
        // stuffing: the rest of the packet carries no section
        st.active = false;
        st.len = 0;
        return;
      }
      const size = SECTION_HEADER_SIZE + (((st.buf[1] & 0x0f) << 8) | st.buf[2]);
      if (size > MAX_SECTION_SIZE) {
        this.stats.psiErrors++;
        st.active = false;
        st.len = 0;
        return;
      }
      if (st.len < size) return;
      // PSI is rare: copy the section so decoded descriptor views stay valid (ownership change).
      this.onSection(pid, st.buf.slice(0, size));
      st.buf.copyWithin(0, size, st.len);
      st.len -= size;
    }
  }

  private onSection(pid: number, section: Uint8Array): void {
    try {
      if (pid === TsPid.Pat) {
        if (section[0] !== TableId.Pat) return;
        const pat = decodePat(section);
        const program = pat.programs.find((p) => p.programNumber !== 0);
        if (program && program.pid !== this.pmtPid) {
          if (this.pmtPid >= 0) this.psi.delete(this.pmtPid);
          this.pmtPid = program.pid;
        }
        return;
      }
      if (section[0] !== TableId.Pmt) return;
      const pmt = decodePmt(section);
      const streams = pmt.streams.map((s) => ({ pid: s.pid, streamType: s.streamType, codec: s.codec }));
      if (sameStreams(streams, this.streams)) return;
      this.streams = streams;
      const keep = new Set<number>();
      for (const s of streams) {
        if (s.pid === TsPid.Pat || s.pid === this.pmtPid) continue;
        keep.add(s.pid);
        const old = this.pes.get(s.pid);
        if (old && old.streamType === s.streamType) continue;
        this.pes.set(s.pid, { streamType: s.streamType, codec: s.codec, parts: [], size: 0, expected: -1, active: false, randomAccess: false });
      }
      for (const pid of [...this.pes.keys()]) if (!keep.has(pid)) this.pes.delete(pid);
      this.out.push({ type: 'pmt', programNumber: pmt.programNumber, pcrPid: pmt.pcrPid, streams });
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.stats.psiErrors++;
    }
  }

  // ---- PES --------------------------------------------------------------------------------

  private onPesPayload(pid: number, st: PesState, pkt: TsPacket): void {
    if (pkt.header.payloadUnitStart) {
      if (st.active) this.finishPes(pid, st, true);
      st.active = true;
      st.parts = [];
      st.size = 0;
      st.expected = -1;
      st.randomAccess = pkt.adaptation?.randomAccess ?? false;
    } else if (!st.active) {
      return; // joined in the middle of a PES, or dropping an oversized one
    }
    st.parts.push(pkt.payload);
    st.size += pkt.payload.length;
    if (st.expected < 0 && st.size >= PES_START_SIZE) {
      const head = st.parts.length === 1 ? st.parts[0] : concat(st.parts).subarray(0, PES_START_SIZE);
      const len = (head[4] << 8) | head[5];
      st.expected = len === 0 ? 0 : PES_START_SIZE + len;
    }
    if (st.expected > 0 && st.size >= st.expected) {
      this.finishPes(pid, st, false);
    } else if (st.size > this.maxPesSize) {
      this.stats.oversizedPes++;
      this.resetPes(st);
    }
  }

  private resetPes(st: PesState): void {
    st.active = false;
    st.parts = [];
    st.size = 0;
    st.expected = -1;
  }

  /** Emit the PES being assembled. `cut`: it ends because a new one starts or input ended. */
  private finishPes(pid: number, st: PesState, cut: boolean): void {
    if (!st.active) return;
    const parts = st.parts;
    const size = st.size;
    const expected = st.expected;
    const randomAccess = st.randomAccess;
    this.resetPes(st);
    if (size === 0) return;
    if (cut && expected !== 0) {
      // bounded PES must be complete (when complete it was emitted already)
      if (expected < 0 || size < expected) {
        this.stats.truncatedPes++;
        return;
      }
    }
    let data = parts.length === 1 ? parts[0] : concat(parts);
    if (expected > 0) data = data.subarray(0, expected);
    try {
      const h = decodePesHeader(data);
      const ev: TsPesEvent = { type: 'pes', pid, streamId: h.streamId, codec: st.codec, data: data.subarray(h.payloadOffset), randomAccess };
      if (h.pts !== undefined) {
        ev.pts = h.pts;
        ev.dts = h.dts ?? h.pts;
      }
      this.out.push(ev);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.stats.pesErrors++;
    }
  }
}

function sameStreams(a: readonly TsStreamInfo[], b: readonly TsStreamInfo[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i].pid !== b[i].pid || a[i].streamType !== b[i].streamType || a[i].codec !== b[i].codec) return false;
  }
  return true;
}

// ---- PES → AvPacket -------------------------------------------------------------------------

/** AAC frames carry 1024 samples (960-sample framing is not signalled in ADTS). */
export const AAC_SAMPLES_PER_FRAME = 1024;
const OPUS_SAMPLE_RATE = 48000;
const TICKS_PER_SECOND = 90000;
/** Opus access units in one PES; a PES of 16 × 120 ms is already far more than muxers write. */
const MAX_OPUS_AUS_PER_PES = 64;

/** What `TsPesToAv.push` found in one PES. */
export interface TsAvResult {
  packets: AvPacket[];
  /** Set when this PES changed the TrackInfo (new parameter sets or audio config): deliver first. */
  tracksChanged?: TrackInfo;
}

/** Counters of PES that could not (all) be converted. */
export interface TsPesToAvStats {
  /** PES without a PTS (cannot be timed). */
  noTimestamp: number;
  /** Broken ADTS or Opus framing (the frames before the break are kept). */
  badFraming: number;
  /** Parameter sets or configurations lal could not parse (kept without size/profile). */
  badConfig: number;
}

interface Unwrap {
  offset: number;
  last: number;
}

function arraysEqual(a: readonly Uint8Array[] | undefined, b: readonly Uint8Array[] | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!bytesEqual(a[i], b[i])) return false;
  return true;
}

/** H.264/H.265 Annex-B access unit → NAL units without AUD, and the parameter sets it carried. */
export function splitAnnexBAccessUnit(
  codec: 'h264' | 'h265',
  data: Uint8Array,
): { units: Uint8Array[]; vps: Uint8Array[]; sps: Uint8Array[]; pps: Uint8Array[]; key: boolean } {
  const all = splitAnnexB(data);
  const units: Uint8Array[] = [];
  const vps: Uint8Array[] = [];
  const sps: Uint8Array[] = [];
  const pps: Uint8Array[] = [];
  for (const n of all) {
    if (codec === 'h264') {
      const t = h264NaluType(n);
      if (t === NaluTypeH264.Aud) continue;
      if (t === NaluTypeH264.Sps) sps.push(n);
      else if (t === NaluTypeH264.Pps) pps.push(n);
      else units.push(n);
    } else {
      const t = h265NaluType(n);
      if (t === NaluTypeH265.Aud) continue;
      if (t === NaluTypeH265.Vps) vps.push(n);
      else if (t === NaluTypeH265.Sps) sps.push(n);
      else if (t === NaluTypeH265.Pps) pps.push(n);
      else units.push(n);
    }
  }
  const key = codec === 'h264' ? isH264KeyFrame(units) : isH265KeyFrame(units);
  return { units, vps, sps, pps, key };
}

/** Frames in one Opus packet (RFC 6716 §3.1) × their duration, in 48 kHz samples; 0 when unreadable. */
function opusPacketSamples(p: Uint8Array): number {
  if (p.length === 0) return 0;
  const config = p[0] >> 3;
  let frame: number;
  if (config < 12) frame = [480, 960, 1920, 2880][config & 3]; // SILK 10/20/40/60 ms
  else if (config < 16) frame = [480, 960][config & 1]; // hybrid 10/20 ms
  else frame = [120, 240, 480, 960][config & 3]; // CELT 2.5/5/10/20 ms
  const c = p[0] & 3;
  const frames = c === 0 ? 1 : c < 3 ? 2 : p.length > 1 ? p[1] & 0x3f : 0;
  return frame * frames;
}

/**
 * Split an Opus PES payload into access units: each behind an opus_control_header (prefix
 * 0x7FE0 11 bits, trim/extension flags, au_size as a run of FF bytes plus one), or the whole
 * payload when it has none (as LAL writes it, docs/media.md §4.2).
 */
export function splitOpusPes(data: Uint8Array): Uint8Array[] {
  if (data.length < 2 || data[0] !== 0x7f || (data[1] & 0xe0) !== 0xe0) return data.length > 0 ? [data] : [];
  const out: Uint8Array[] = [];
  let p = 0;
  while (p < data.length) {
    if (p + 2 > data.length || data[p] !== 0x7f || (data[p + 1] & 0xe0) !== 0xe0) {
      throw new ParseError(`mpegts: Opus control header missing at offset ${p}`);
    }
    const flags = data[p + 1];
    p += 2;
    let size = 0;
    for (;;) {
      if (p >= data.length) throw new ParseError('mpegts: Opus au_size runs past the PES', 'truncated');
      const b = data[p++];
      size += b;
      if (b !== 0xff) break;
    }
    if (flags & 0x10) p += 2; // start_trim
    if (flags & 0x08) p += 2; // end_trim
    if (flags & 0x04) {
      if (p >= data.length) throw new ParseError('mpegts: Opus control extension runs past the PES', 'truncated');
      p += 1 + data[p];
    }
    if (p + size > data.length) throw new ParseError(`mpegts: Opus access unit of ${size} bytes runs past the PES`, 'truncated');
    if (out.length >= MAX_OPUS_AUS_PER_PES) throw new ParseError(`mpegts: more than ${MAX_OPUS_AUS_PER_PES} Opus access units in one PES`, 'too-many');
    if (size > 0) out.push(data.subarray(p, p + size));
    p += size;
  }
  return out;
}

/**
 * PES events → AvPackets and TrackInfo, per stream. Timestamps are the PES values (90 kHz),
 * unwrapped past 2^33 per PID; AAC frames after the first in a PES are timed by their sample
 * count. Only h264/h265/aac/opus produce packets.
 */
export class TsPesToAv {
  readonly stats: TsPesToAvStats = { noTimestamp: 0, badFraming: 0, badConfig: 0 };
  private current: TrackInfo = {};
  private readonly clocks = new Map<number, Unwrap>();
  /** The audio track changed while converting the current PES. */
  private trackChanged = false;

  get tracks(): TrackInfo {
    return this.current;
  }

  push(ev: TsPesEvent): TsAvResult {
    if (ev.codec === 'other') return { packets: [] };
    if (ev.pts === undefined) {
      this.stats.noTimestamp++;
      return { packets: [] };
    }
    const dts = this.unwrap(ev.pid, ev.dts ?? ev.pts);
    const pts = dts + signedDelta(ev.pts - (ev.dts ?? ev.pts));
    switch (ev.codec) {
      case 'h264':
      case 'h265': return this.video(ev.codec, ev.data, dts, pts);
      case 'aac': return this.aac(ev.data, pts);
      case 'opus': return this.opus(ev.data, pts);
    }
  }

  private unwrap(pid: number, ts: number): number {
    let c = this.clocks.get(pid);
    if (!c) {
      c = { offset: 0, last: ts };
      this.clocks.set(pid, c);
    }
    let v = ts + c.offset;
    if (v < c.last - TIMESTAMP_MODULO / 2) {
      c.offset += TIMESTAMP_MODULO;
      v += TIMESTAMP_MODULO;
    } else if (v > c.last + TIMESTAMP_MODULO / 2 && c.offset >= TIMESTAMP_MODULO) {
      // a late packet from before the wrap
      v -= TIMESTAMP_MODULO;
    }
    c.last = v;
    return v;
  }

  private video(codec: 'h264' | 'h265', data: Uint8Array, dts: number, pts: number): TsAvResult {
    const au = splitAnnexBAccessUnit(codec, data);
    const res: TsAvResult = { packets: [] };
    if (au.sps.length > 0 || au.pps.length > 0 || au.vps.length > 0) {
      const prev = this.current.video?.codec === codec ? this.current.video : undefined;
      const sps = au.sps.length > 0 ? au.sps : prev?.sps ?? [];
      const pps = au.pps.length > 0 ? au.pps : prev?.pps ?? [];
      const vps = codec === 'h265' ? (au.vps.length > 0 ? au.vps : prev?.vps ?? []) : undefined;
      if (!prev || !arraysEqual(prev.sps, sps) || !arraysEqual(prev.pps, pps) || !arraysEqual(prev.vps, vps)) {
        const video: VideoTrack = { codec, width: 0, height: 0, profile: '', level: 0, sps, pps };
        if (vps) video.vps = vps;
        if (sps.length > 0) {
          try {
            const info = codec === 'h264' ? parseH264Sps(sps[0]) : parseH265Sps(sps[0]);
            video.width = info.width;
            video.height = info.height;
            video.profile = info.profile;
            video.level = info.levelIdc;
          } catch (e) {
            if (!(e instanceof ParseError)) throw e;
            this.stats.badConfig++;
          }
        }
        this.current = { ...this.current, video };
        res.tracksChanged = this.current;
      }
    }
    if (au.units.length > 0) res.packets.push({ kind: 'video', codec, dts, pts, key: au.key, units: au.units });
    return res;
  }

  private aac(data: Uint8Array, pts: number): TsAvResult {
    const res: TsAvResult = { packets: [] };
    let off = 0;
    let samples = 0;
    try {
      while (off < data.length) {
        const h = decodeAdtsHeader(data, off);
        if (off + h.frameLength > data.length) {
          throw new ParseError(`mpegts: ADTS frame of ${h.frameLength} bytes at ${off} runs past the PES`, 'truncated');
        }
        if (off === 0) this.aacTrack(h.info);
        const raw = data.subarray(off + h.headerLength, off + h.frameLength);
        const sampleRate = h.info.sampleRate;
        const t = pts + Math.round((samples * TICKS_PER_SECOND) / sampleRate);
        if (raw.length > 0) res.packets.push({ kind: 'audio', codec: 'aac', dts: t, pts: t, key: true, units: [raw] });
        samples += AAC_SAMPLES_PER_FRAME * h.rawBlocks;
        off += h.frameLength;
      }
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.stats.badFraming++;
    }
    if (this.trackChanged) {
      res.tracksChanged = this.current;
      this.trackChanged = false;
    }
    return res;
  }

  private aacTrack(info: { objectType: number; sampleRate: number; channels: number; samplingIndex: number }): void {
    const prev = this.current.audio;
    let asc: Uint8Array;
    try {
      asc = encodeAsc({ objectType: info.objectType, sampleRate: info.sampleRate, channels: info.channels });
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      // channel configuration 0 (a PCE in the stream): no ASC we can write
      if (prev?.codec !== 'aac' || prev.asc) {
        this.stats.badConfig++;
        this.setAudio({ codec: 'aac', sampleRate: info.sampleRate, channels: info.channels });
      }
      return;
    }
    if (prev?.codec === 'aac' && prev.asc && bytesEqual(prev.asc, asc)) return;
    this.setAudio({ codec: 'aac', sampleRate: info.sampleRate, channels: info.channels, asc });
  }

  private setAudio(audio: AudioTrack): void {
    this.current = { ...this.current, audio };
    this.trackChanged = true;
  }

  private opus(data: Uint8Array, pts: number): TsAvResult {
    const res: TsAvResult = { packets: [] };
    if (this.current.audio?.codec !== 'opus') {
      this.setAudio({ codec: 'opus', sampleRate: OPUS_SAMPLE_RATE, channels: 2 });
    }
    let aus: Uint8Array[] = [];
    try {
      aus = splitOpusPes(data);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.stats.badFraming++;
    }
    let samples = 0;
    for (const au of aus) {
      const t = pts + Math.round((samples * TICKS_PER_SECOND) / OPUS_SAMPLE_RATE);
      res.packets.push({ kind: 'audio', codec: 'opus', dts: t, pts: t, key: true, units: [au] });
      samples += opusPacketSamples(au);
    }
    if (this.trackChanged) {
      res.tracksChanged = this.current;
      this.trackChanged = false;
    }
    return res;
  }
}

/** A 33-bit difference read as signed (PTS may sit just across the wrap from DTS). */
function signedDelta(d: number): number {
  let v = d % TIMESTAMP_MODULO;
  if (v < -TIMESTAMP_MODULO / 2) v += TIMESTAMP_MODULO;
  else if (v >= TIMESTAMP_MODULO / 2) v -= TIMESTAMP_MODULO;
  return v;
}
