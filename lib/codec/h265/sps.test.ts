import { describe, expect, test } from 'bun:test';
import { BitWriter } from '../../core/bit-writer.ts';
import { ParseError } from '../../core/errors.ts';
import { H265_VECTORS, addEmulationPrevention } from '../_testing.ts';
import { fromHex, hostileInputs, outcome } from '../../core/testing.ts';
import { h265ProfileName, parseH265Sps } from './sps.ts';

describe('parseH265Sps on libx265 SPS', () => {
  test.each(H265_VECTORS.map((v) => [v.name, v] as const))('%s', (_n, v) => {
    expect(parseH265Sps(fromHex(v.sps))).toMatchObject(v.expect);
  });

  test('854x480: width/height are pic_*_in_luma_samples, the window is kept', () => {
    const info = parseH265Sps(fromHex(H265_VECTORS[1].sps));
    expect(info.confWin).toEqual({ left: 0, right: 1, top: 0, bottom: 0 });
    expect([info.width, info.height, info.displayWidth]).toEqual([856, 480, 854]);
  });

  test('general profile fields (what hvcC copies)', () => {
    const info = parseH265Sps(fromHex(H265_VECTORS[0].sps));
    expect(info).toMatchObject({ profileSpace: 0, tierFlag: 0, compatFlags: 0x60000000, constraintFlags: 0x900000000000, chromaFormatIdc: 1 });
  });
});

interface SubLayer {
  profile?: boolean;
  level?: boolean;
}

function buildSps(f: {
  profileIdc?: number;
  tier?: number;
  subLayers?: SubLayer[];
  chromaFormatIdc?: number;
  separateColourPlane?: boolean;
  width: number;
  height: number;
  confWin?: [number, number, number, number];
  bitDepthLumaMinus8?: number;
  spsId?: number;
}): Uint8Array {
  const subs = f.subLayers ?? [];
  const w = new BitWriter();
  w.writeBits(0, 4); // vps id
  w.writeBits(subs.length, 3);
  w.writeBits(1, 1);
  // general profile_tier_level
  w.writeBits(0, 2);
  w.writeBits(f.tier ?? 0, 1);
  w.writeBits(f.profileIdc ?? 1, 5);
  w.writeBits(0x60000000, 32);
  w.writeBits(0xb000, 16); // progressive, interlaced 0, non-packed 1, frame-only 1 …
  w.writeBits(0, 32);
  w.writeBits(123, 8); // level 4.1
  for (const s of subs) {
    w.writeBits(s.profile ? 1 : 0, 1);
    w.writeBits(s.level ? 1 : 0, 1);
  }
  if (subs.length > 0) for (let i = subs.length; i < 8; i++) w.writeBits(0, 2);
  for (const s of subs) {
    if (s.profile) {
      w.writeBits(0x41, 8); // space, tier, idc 1
      w.writeBits(0xffffffff, 32);
      w.writeBits(0xffffffff, 32);
      w.writeBits(0xffff, 16);
    }
    if (s.level) w.writeBits(0xee, 8);
  }
  w.writeUE(f.spsId ?? 0);
  const chroma = f.chromaFormatIdc ?? 1;
  w.writeUE(chroma);
  if (chroma === 3) w.writeBits(f.separateColourPlane ? 1 : 0, 1);
  w.writeUE(f.width);
  w.writeUE(f.height);
  if (f.confWin) {
    w.writeBits(1, 1);
    for (const c of f.confWin) w.writeUE(c);
  } else {
    w.writeBits(0, 1);
  }
  w.writeUE(f.bitDepthLumaMinus8 ?? 0);
  w.writeUE(0);
  w.writeUE(4); // log2_max_pic_order_cnt_lsb_minus4 (parser stops before it)
  w.writeBits(1, 1);
  return Uint8Array.from([0x42, 0x01, ...addEmulationPrevention(w.finish())]);
}

describe('parseH265Sps on synthetic SPS', () => {
  test('sub-layers with profile and level present are skipped correctly (1080p, window bottom 4)', () => {
    const sps = buildSps({
      subLayers: [{ profile: true, level: true }, { level: true }, { profile: true }, {}],
      width: 1920,
      height: 1088,
      confWin: [0, 0, 0, 4],
    });
    expect(parseH265Sps(sps)).toMatchObject({ profile: 'Main', levelIdc: 123, maxSubLayers: 5, width: 1920, height: 1088, displayWidth: 1920, displayHeight: 1080 });
  });

  test('six sub-layers (the maximum) all present', () => {
    const subLayers = Array.from({ length: 6 }, () => ({ profile: true, level: true }));
    expect(parseH265Sps(buildSps({ subLayers, width: 64, height: 64 })).maxSubLayers).toBe(7);
  });

  test.each([
    [0, false, [1, 1, 1, 1], 62, 62], // monochrome: luma units
    [2, false, [1, 1, 1, 1], 60, 62], // 4:2:2: 2 wide, 1 high
    [3, false, [1, 1, 1, 1], 62, 62], // 4:4:4: 1x1
    [3, true, [2, 0, 0, 1], 62, 63], // separate planes: 1x1
  ] as const)('conformance window units, chroma_format_idc %d separate %p', (chroma, sep, win, dw, dh) => {
    const info = parseH265Sps(buildSps({ chromaFormatIdc: chroma, separateColourPlane: sep, width: 64, height: 64, confWin: [...win] }));
    expect([info.chromaFormatIdc, info.displayWidth, info.displayHeight]).toEqual([chroma, dw, dh]);
  });

  test('profile names', () => {
    expect(parseH265Sps(buildSps({ profileIdc: 3, width: 64, height: 64 })).profile).toBe('Main Still Picture');
    expect(parseH265Sps(buildSps({ profileIdc: 4, width: 64, height: 64, tier: 1 }))).toMatchObject({ profile: 'Rext', tierFlag: 1 });
    expect(h265ProfileName(9)).toBe('profile 9');
  });
});

describe('parseH265Sps rejects malformed SPS with ParseError', () => {
  test.each([
    ['not an SPS', fromHex(H265_VECTORS[0].vps), /not an SPS/],
    ['too short', fromHex('4201'), /too short/],
    ['seven sub-layers', (() => { const b = buildSps({ width: 64, height: 64 }); b[2] = 0x0f; return b; })(), /sps_max_sub_layers_minus1 7/],
    ['width 0', buildSps({ width: 0, height: 64 }), /picture size 0x64/],
    ['width 40000', buildSps({ width: 40000, height: 64 }), /outside 1..32768/],
    ['window eats the picture', buildSps({ width: 64, height: 64, confWin: [16, 16, 0, 0] }), /leaves nothing/],
    ['chroma_format_idc 5', buildSps({ chromaFormatIdc: 5, width: 64, height: 64 }), /chroma_format_idc 5/],
    ['SPS id 16', buildSps({ spsId: 16, width: 64, height: 64 }), /SPS id 16/],
    ['bit depth 17', buildSps({ bitDepthLumaMinus8: 9, width: 64, height: 64 }), /bit depth 17/],
  ])('%s', (_n, sps, msg) => {
    expect(() => parseH265Sps(sps)).toThrow(ParseError);
    expect(() => parseH265Sps(sps)).toThrow(msg);
  });

  test('hostile input (truncations, random, mutations) only ever throws ParseError', () => {
    const valid = [...H265_VECTORS.map((v) => fromHex(v.sps)), buildSps({ subLayers: [{ profile: true, level: true }], width: 64, height: 64 })];
    let ok = 0;
    let rejected = 0;
    for (const b of hostileInputs(valid, 41)) {
      expect(() => (outcome(() => parseH265Sps(b)) === 'ok' ? ok++ : rejected++)).not.toThrow();
    }
    expect(ok).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  });
});
