import { describe, expect, test } from 'bun:test';
import { BitWriter } from '../../core/bit-writer.ts';
import { ParseError } from '../../core/errors.ts';
import { FIXTURE_SPS_B64, H264_VECTORS, addEmulationPrevention } from '../_testing.ts';
import { fromBase64, fromHex, hostileInputs, outcome, toHex } from '../../core/testing.ts';
import { removeEmulationPrevention } from '../rbsp.ts';
import { h264ProfileName, parseH264Sps } from './sps.ts';

describe('parseH264Sps on real SPS', () => {
  test('docs/tests.md fixture SPS: High, level 2.2, 640x360', () => {
    const info = parseH264Sps(fromBase64(FIXTURE_SPS_B64));
    expect(info).toMatchObject({
      profile: 'High',
      profileIdc: 100,
      levelIdc: 22,
      width: 640,
      height: 360,
      displayWidth: 640,
      displayHeight: 360,
      frameMbsOnly: true,
      crop: { left: 0, right: 0, top: 0, bottom: 4 },
    });
  });

  test.each(H264_VECTORS.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    expect(parseH264Sps(fromHex(v.sps))).toMatchObject(v.expect);
  });

  test('Baseline reports its constraint flags (constrained baseline: set0+set1)', () => {
    expect(parseH264Sps(fromHex(H264_VECTORS[1].sps)).constraintFlags).toBe(0xc0);
  });
});

/** Field values for a synthetic SPS; the writer follows §7.3.2.1.1 exactly. */
interface SpsFields {
  profileIdc: number;
  levelIdc?: number;
  chromaFormatIdc?: number;
  separateColourPlane?: boolean;
  bitDepthLumaMinus8?: number;
  scalingLists?: (number[] | null)[]; // per list: delta_scale values, null = not present
  pocType?: number;
  pocCycle?: number[];
  widthMbs: number;
  heightMapUnits: number;
  frameMbsOnly?: boolean;
  crop?: [number, number, number, number];
}

function buildSps(f: SpsFields): Uint8Array {
  const w = new BitWriter();
  w.writeBits(f.profileIdc, 8);
  w.writeBits(0, 8);
  w.writeBits(f.levelIdc ?? 40, 8);
  w.writeUE(0); // sps id
  if ([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].includes(f.profileIdc)) {
    const chroma = f.chromaFormatIdc ?? 1;
    w.writeUE(chroma);
    if (chroma === 3) w.writeBits(f.separateColourPlane ? 1 : 0, 1);
    w.writeUE(f.bitDepthLumaMinus8 ?? 0);
    w.writeUE(0);
    w.writeBits(0, 1);
    if (f.scalingLists) {
      w.writeBits(1, 1);
      for (const l of f.scalingLists) {
        w.writeBits(l ? 1 : 0, 1);
        if (l) for (const d of l) w.writeSE(d);
      }
    } else {
      w.writeBits(0, 1);
    }
  }
  w.writeUE(0); // log2_max_frame_num_minus4
  const poc = f.pocType ?? 0;
  w.writeUE(poc);
  if (poc === 0) w.writeUE(2);
  if (poc === 1) {
    w.writeBits(0, 1);
    w.writeSE(-1);
    w.writeSE(2);
    w.writeUE(f.pocCycle?.length ?? 0);
    for (const o of f.pocCycle ?? []) w.writeSE(o);
  }
  w.writeUE(4); // max_num_ref_frames
  w.writeBits(0, 1);
  w.writeUE(f.widthMbs - 1);
  w.writeUE(f.heightMapUnits - 1);
  const frameMbsOnly = f.frameMbsOnly ?? true;
  w.writeBits(frameMbsOnly ? 1 : 0, 1);
  if (!frameMbsOnly) w.writeBits(1, 1);
  w.writeBits(1, 1);
  if (f.crop) {
    w.writeBits(1, 1);
    for (const c of f.crop) w.writeUE(c);
  } else {
    w.writeBits(0, 1);
  }
  w.writeBits(0, 1); // no VUI
  w.writeBits(1, 1); // rbsp_stop_one_bit
  return Uint8Array.from([0x67, ...addEmulationPrevention(w.finish())]);
}

describe('parseH264Sps on synthetic SPS (paths x264 does not take)', () => {
  test('1080i: field coding doubles map units; LAL crops 2 px per unit, ISO 4 px', () => {
    const info = parseH264Sps(buildSps({ profileIdc: 77, widthMbs: 120, heightMapUnits: 34, frameMbsOnly: false, crop: [0, 0, 0, 2], pocType: 1, pocCycle: [1, -2, 3] }));
    expect(info).toMatchObject({ profile: 'Main', frameMbsOnly: false, width: 1920, height: 1084, displayWidth: 1920, displayHeight: 1080 });
  });

  test('monochrome High crops in luma samples', () => {
    const info = parseH264Sps(buildSps({ profileIdc: 100, chromaFormatIdc: 0, widthMbs: 20, heightMapUnits: 15, crop: [0, 3, 0, 0] }));
    expect(info).toMatchObject({ chromaFormatIdc: 0, width: 314, displayWidth: 317, height: 240 });
  });

  test('4:4:4 with all 12 scaling lists (6 of 16, 6 of 64 entries), 4:4:4 crops 1x1', () => {
    const lists = [
      ...Array.from({ length: 6 }, (_, i) => Array.from({ length: 16 }, (_, j) => ((i + j) % 5) - 2)),
      ...Array.from({ length: 6 }, (_, i) => (i === 3 ? [-8] : Array.from({ length: 64 }, (_, j) => ((i * j) % 7) - 3))),
    ];
    const info = parseH264Sps(buildSps({ profileIdc: 244, chromaFormatIdc: 3, bitDepthLumaMinus8: 2, scalingLists: lists, widthMbs: 80, heightMapUnits: 45, crop: [1, 1, 2, 2] }));
    expect(info).toMatchObject({ profile: 'High 4:4:4', chromaFormatIdc: 3, bitDepthLuma: 10, width: 1276, height: 712, displayWidth: 1278, displayHeight: 716 });
  });

  test('separate colour planes crop like monochrome', () => {
    const info = parseH264Sps(buildSps({ profileIdc: 244, chromaFormatIdc: 3, separateColourPlane: true, widthMbs: 10, heightMapUnits: 10, crop: [0, 1, 0, 1] }));
    expect(info).toMatchObject({ displayWidth: 159, displayHeight: 159, width: 158, height: 158 });
  });

  test('emulation-prevention bytes are removed before parsing (the fixture has two)', () => {
    const sps = fromBase64(FIXTURE_SPS_B64);
    expect(toHex(sps)).toContain('0000030002000003');
    // ue(4095) ends and starts with 12 zero bits; with this alignment the run needs escaping.
    const escaped = buildSps({ profileIdc: 66, widthMbs: 1024, heightMapUnits: 4, crop: [4095, 4095, 1, 0] });
    expect(removeEmulationPrevention(escaped).length).toBeLessThan(escaped.length);
    expect(parseH264Sps(escaped)).toMatchObject({ width: 4, height: 62, crop: { left: 4095, right: 4095, top: 1, bottom: 0 } });
  });

  test('unknown profile ids are named `profile N`', () => {
    expect(parseH264Sps(buildSps({ profileIdc: 99, widthMbs: 2, heightMapUnits: 2 })).profile).toBe('profile 99');
    expect(h264ProfileName(88)).toBe('Extended');
  });
});

describe('parseH264Sps rejects malformed SPS with ParseError', () => {
  test.each([
    ['not an SPS', fromHex('68ebe3cb22c0'), /not an SPS/],
    ['too short', fromHex('6764'), /too short/],
    ['pic_order_cnt_type 3', buildSps({ profileIdc: 66, pocType: 3, widthMbs: 2, heightMapUnits: 2 }), /pic_order_cnt_type 3/],
    ['crop eats the picture', buildSps({ profileIdc: 66, widthMbs: 2, heightMapUnits: 2, crop: [8, 8, 0, 0] }), /leaves nothing/],
    ['absurd width', buildSps({ profileIdc: 66, widthMbs: 5000, heightMapUnits: 2 }), /exceeds 2048/],
    ['chroma_format_idc 4', buildSps({ profileIdc: 100, chromaFormatIdc: 4, widthMbs: 2, heightMapUnits: 2 }), /chroma_format_idc 4/],
    ['delta_scale 200', buildSps({ profileIdc: 100, scalingLists: [[200]], widthMbs: 2, heightMapUnits: 2 }), /delta_scale 200/],
    ['poc cycle of 300', buildSps({ profileIdc: 66, pocType: 1, pocCycle: Array(300).fill(0), widthMbs: 2, heightMapUnits: 2 }), /exceeds 255/],
  ])('%s', (_name, sps, msg) => {
    expect(() => parseH264Sps(sps)).toThrow(ParseError);
    expect(() => parseH264Sps(sps)).toThrow(msg);
  });

  test('hostile input (truncations, random, mutations) only ever throws ParseError', () => {
    const valid = [fromBase64(FIXTURE_SPS_B64), ...H264_VECTORS.map((v) => fromHex(v.sps))];
    let ok = 0;
    let rejected = 0;
    for (const b of hostileInputs(valid, 21)) {
      expect(() => (outcome(() => parseH264Sps(b)) === 'ok' ? ok++ : rejected++)).not.toThrow();
    }
    expect(rejected).toBeGreaterThan(0);
    expect(ok).toBeGreaterThan(0);
  });
});
