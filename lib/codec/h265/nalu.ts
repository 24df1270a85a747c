/**
 * H.265 NAL unit header and key-frame detection (ISO/IEC 23008-2 §7.3.1.2, Table 7-1).
 * AVCC/Annex-B splitting is the same as for H.264 and lives in `../h264/nalu.ts`.
 *
 *  +---------------+---------------+
 *  |0|1|2|3|4|5|6|7|0|1|2|3|4|5|6|7|
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |F|   Type    |  LayerId  | TID |
 *  +-------------+-----------------+
 */
import { ParseError } from '../../core/errors.ts';

/** nal_unit_type values used by lal (ISO/IEC 23008-2 Table 7-1). */
export const NaluTypeH265 = {
  TrailN: 0,
  TrailR: 1,
  BlaWLp: 16,
  IdrWRadl: 19,
  IdrNLp: 20,
  Cra: 21,
  Vps: 32,
  Sps: 33,
  Pps: 34,
  Aud: 35,
  Eos: 36,
  SeiPrefix: 39,
  SeiSuffix: 40,
} as const;

export function h265NaluType(nalu: Uint8Array): number {
  if (nalu.length === 0) throw new ParseError('h265: empty NAL unit has no type', 'truncated');
  return (nalu[0] >> 1) & 0x3f;
}

/** IRAP pictures (BLA, IDR, CRA and the reserved IRAP types): nal_unit_type 16..23. */
export function isH265Irap(type: number): boolean {
  return type >= 16 && type <= 23;
}

/** True when any unit is an IRAP slice. Empty units are ignored. */
export function isH265KeyFrame(units: readonly Uint8Array[]): boolean {
  for (const u of units) {
    if (u.length > 0 && isH265Irap((u[0] >> 1) & 0x3f)) return true;
  }
  return false;
}
