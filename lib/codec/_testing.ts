/**
 * Test support for lib/codec (not exported from the folder's index): real parameter-set
 * vectors and an emulation-prevention inserter. The generic helpers (PRNG, hex, hostile inputs
 * of docs/architecture.md §1.8) are in lib/core/testing.ts.
 *
 * Vectors were produced once, at authoring time, with the ffmpeg binary in
 * node_modules/@ffmpeg-installer (libx264/libx265, lavfi testsrc2, ffmpeg's AAC encoder), the
 * parameter sets cut out of the raw Annex-B streams and the avcC/hvcC boxes out of an MP4 made
 * with `-c copy`. Expected sizes and profiles are what ffprobe reported for the same streams
 * (the `displayWidth/Height` ones) and ffmpeg's `trace_headers` bitstream filter showed for the
 * coded fields. Tests never run ffmpeg.
 */

/** Insert emulation_prevention_three_byte where an RBSP needs it (inverse of removal). */
export function addEmulationPrevention(rbsp: Uint8Array): Uint8Array {
  const out: number[] = [];
  let zeros = 0;
  for (const b of rbsp) {
    if (zeros >= 2 && b <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Uint8Array.from(out);
}

// ---------------------------------------------------------------------------------------------
// H.264

/** docs/tests.md §1 fixture (wontcry30s.flv): High, level 2.2, 640x360 (trace_headers: 40x23 MBs, crop_bottom 4). */
export const FIXTURE_SPS_B64 = 'Z2QAFqyyAUBf8uAiAAADAAIAAAMAPB4sXJA=';
export const FIXTURE_PPS_B64 = 'aOvDyyLA';

export interface H264Vector {
  name: string;
  sps: string;
  pps: string;
  expect: {
    profile: string;
    profileIdc: number;
    levelIdc: number;
    width: number;
    height: number;
    displayWidth: number;
    displayHeight: number;
    chromaFormatIdc: number;
    bitDepthLuma: number;
  };
}

export const H264_VECTORS: readonly H264Vector[] = [
  {
    name: 'libx264 -profile:v high 640x360 (crop_bottom 4)',
    sps: '6764001eacd940a02ff97011000003000100000300320f162d96',
    pps: '68ebe3cb22c0',
    expect: { profile: 'High', profileIdc: 100, levelIdc: 30, width: 640, height: 360, displayWidth: 640, displayHeight: 360, chromaFormatIdc: 1, bitDepthLuma: 8 },
  },
  {
    name: 'libx264 -profile:v baseline 320x240',
    sps: '6742c00dd90141fb011000000300100000030320f142a480',
    pps: '68cb83cb20',
    expect: { profile: 'Baseline', profileIdc: 66, levelIdc: 13, width: 320, height: 240, displayWidth: 320, displayHeight: 240, chromaFormatIdc: 1, bitDepthLuma: 8 },
  },
  {
    name: 'libx264 -profile:v high10 yuv420p10le 352x288',
    sps: '676e000da6cd9416096c0440000003004000000c83c50a6580',
    pps: '68ebe3cb22c0',
    expect: { profile: 'High 10', profileIdc: 110, levelIdc: 13, width: 352, height: 288, displayWidth: 352, displayHeight: 288, chromaFormatIdc: 1, bitDepthLuma: 10 },
  },
  {
    // 4:2:2 crops in 2x1 units: crop_right 1, crop_bottom 10 → ffprobe 350x198; LAL's formula says 188.
    name: 'libx264 -profile:v high422 yuv422p 350x198',
    sps: '677a000dbcd94161bea2f011000003000100000300320f142996',
    pps: '68ebe3cb22c0',
    expect: { profile: 'High 4:2:2', profileIdc: 122, levelIdc: 13, width: 350, height: 188, displayWidth: 350, displayHeight: 198, chromaFormatIdc: 2, bitDepthLuma: 8 },
  },
  {
    name: 'libx264 -profile:v high444 yuv444p 352x288 (custom cqm, in the PPS)',
    sps: '67f4000d919b282c12d808800000030080000019078a14cb',
    pps: '68ebe3c44653048301309982412091826130c03f3129824180984cc1209048c13098601f9811',
    expect: { profile: 'High 4:4:4', profileIdc: 244, levelIdc: 13, width: 352, height: 288, displayWidth: 352, displayHeight: 288, chromaFormatIdc: 3, bitDepthLuma: 8 },
  },
  {
    // The 640x360 SPS re-written with seq_scaling_matrix_present_flag 1 and lists 0 (16 deltas),
    // 2 (useDefault), 6 (64 deltas); ffmpeg decodes the stream with it and ffprobe says High 640x360.
    name: 'High 640x360 with SPS scaling lists',
    sps: '6764001ead919a8a21643a5148444590a291c444998b21452388893316428a471112662c85148e2224cc590a291c444998b21452388896ca05017fcb80880000030008000003019078b16cb0',
    pps: '68ebe3cb22c0',
    expect: { profile: 'High', profileIdc: 100, levelIdc: 30, width: 640, height: 360, displayWidth: 640, displayHeight: 360, chromaFormatIdc: 1, bitDepthLuma: 8 },
  },
];

/** avcC boxes ffmpeg wrote into MP4 for the first two vectors (`-c copy -f mp4`). */
export const FFMPEG_AVCC_HIGH = '0164001effe1001a6764001eacd940a02ff97011000003000100000300320f162d9601000668ebe3cb22c0';
export const FFMPEG_AVCC_BASELINE = '0142c00dffe100186742c00dd90141fb011000000300100000030320f142a48001000568cb83cb20';

// ---------------------------------------------------------------------------------------------
// H.265

export interface H265Vector {
  name: string;
  vps: string;
  sps: string;
  pps: string;
  /** hvcC ffmpeg wrote into MP4 (array_completeness 0). */
  ffmpegHvcc: string;
  expect: {
    profile: string;
    profileIdc: number;
    levelIdc: number;
    width: number;
    height: number;
    displayWidth: number;
    displayHeight: number;
    maxSubLayers: number;
    temporalIdNesting: boolean;
    bitDepthLuma: number;
  };
}

export const H265_VECTORS: readonly H265Vector[] = [
  {
    name: 'libx265 Main 1280x720',
    vps: '40010c01ffff01600000030090000003000003005d959809',
    sps: '42010101600000030090000003000003005da00280802d165959a4932bc04040000003004000000642',
    pps: '4401c172b46240',
    ffmpegHvcc:
      '0101600000009000000000005df000fcfdf8f800000f03200001001840010c01ffff01600000030090000003000003005d959809210001002942010101600000030090000003000003005da00280802d165959a4932bc0404000000300400000064222000100074401c172b46240',
    expect: { profile: 'Main', profileIdc: 1, levelIdc: 93, width: 1280, height: 720, displayWidth: 1280, displayHeight: 720, maxSubLayers: 1, temporalIdNesting: true, bitDepthLuma: 8 },
  },
  {
    // Coded 856x480, conf_win_right_offset 1 (×2): ffprobe 854x480, coded_width 856.
    name: 'libx265 Main 854x480 (conformance window)',
    vps: '40010c01ffff01600000030090000003000003005a959809',
    sps: '42010101600000030090000003000003005aa006b201e1d796566924caf010100000030010000003019080',
    pps: '4401c172b46240',
    ffmpegHvcc:
      '0101600000009000000000005af000fcfdf8f800000f03200001001840010c01ffff01600000030090000003000003005a959809210001002b42010101600000030090000003000003005aa006b201e1d796566924caf01010000003001000000301908022000100074401c172b46240',
    expect: { profile: 'Main', profileIdc: 1, levelIdc: 90, width: 856, height: 480, displayWidth: 854, displayHeight: 480, maxSubLayers: 1, temporalIdNesting: true, bitDepthLuma: 8 },
  },
  {
    // temporal-layers=1: sps_max_sub_layers_minus1 1, so profile_tier_level has sub-layer flags.
    name: 'libx265 Main 10 426x240, two temporal sub-layers',
    vps: '40010c02ffff02200000030090000003000003003c00009598acc048',
    sps: '42010202200000030090000003000003003c0000a00d880f1c9b659598acd24995e0202000000300200000030321',
    pps: '4401c172b46240',
    ffmpegHvcc:
      '0102200000009000000000003cf000fcfdfafa00001303200001001c40010c02ffff02200000030090000003000003003c00009598acc048210001002e42010202200000030090000003000003003c0000a00d880f1c9b659598acd24995e020200000030020000003032122000100074401c172b46240',
    expect: { profile: 'Main 10', profileIdc: 2, levelIdc: 60, width: 432, height: 240, displayWidth: 426, displayHeight: 240, maxSubLayers: 2, temporalIdNesting: false, bitDepthLuma: 10 },
  },
];

// ---------------------------------------------------------------------------------------------
// AAC

/** docs/tests.md §1 fixture ASC (ffmpeg's AAC encoder writes the same): AAC-LC 44100 Hz stereo. */
export const FIXTURE_ASC = '121056e500';

/** ffmpeg `-c:a aac -f adts`, 44100 Hz stereo: the first frame and the 14-byte last frame. */
export const ADTS_44100_STEREO_FRAMES = [
  'fff150802a7ffcde02004c61766335382e34322e3130300042559fffffffc0012968a7331120026ae5c49689111104203676e1e2ee35ee2f61b481328ea2854450277b1945cfa8cf2f9396fc8f71cfabb5a8d927d64fac949a6afcc5fa45f9aaa52d9f593eb67d6d1afcd5f98bf3554a4d3eb252c94aa52a98ae32b9aaa52d9f59429a52a94ae32bb0d1dbe1db8eac7563ab1c3461a30d1868d58eac756324d868c3461a249a49b56324d24d24d24d24d24d24d24d24d24d24d25125124d24d54d54d24d250f44944934935535535534944943d125154d5354d551250f449449455355354d551550f43d0295254d52548340d0f40d152549525545540d1e8fa3d4f53d4f532cb2cb2cbd4cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb29932665468e53264c99468d199320606068d1ca0fbda0026ae5c496891100000000000000000000000000380',
  'fff1508001dffc2140da4608c1c0',
];

/** ffmpeg `-c:a aac -f adts`, 48000 Hz mono, the whole 4-frame file (189, 202, 183, 12 bytes). */
export const ADTS_48000_MONO_STREAM =
  'fff14c4017bffcde02004c61766335382e34322e313030000264a959a96c82408b4c66cd6b56bb484410201cf005cd84dcd8ad3d6ccf5947bc88299db3477d2e7be960b90e1b79c5626b55da6aed6a463ac33d4b254b24fad9abf357e917e6aa94b652cb563db8e1361a30d186326326326326384d84d5cd24d24d2348d233ccf33ccecec2c2d233b3a3a3b7cb2e5cbc78f1e3972e58a2e3c628a28a28a28a28a28a28a28a28a28a28a28a288a28a289114445121084028415a880a8e0fff14c40195ffc012898dad04dd68780769b91569ad2663875734271abe357febeda4d7b7518ffd3cf0e2fdbcd98274359ae581e7e45de890ad79b5d9ece5350afa5c9c4fe5b2ffcb63f96c7f26c1fca3b07f2d9b07f2220a84f663260a166f1c45da5cd2d5e42daa714fc98ea9afb646918c9d850c9d9d9d050c8c30c5d9d9d99ccb0c70c6499d99d9f0c70a6b6919d9d99d9cddd9d9d9d9d1d99cc0dff9fb7554170015116c781979a7cd84cf8bccecf8e18e13cd5b356cd5b3564671c31c31931926919d9cdd9d1f8fff14c4016fffc012099b2d120e6d26140acd72ce92760271ae3a3fb1c79bf8baca7f71a9edd5f0d8f83a0b153aca24b3dd30485c164b7873b2b256a89fe461c6dc1d4b8893a59101f06713c082ac799c33aa9665bba25591c55d0953dd709392b95c8242659424a84848f84dfcbf97f203f94d521c9547f2066ac4583c7a47c4eadd6d9a7caefb6c81cae0a712cf8d182e4d9be4d9bdc8a308a308a3b151e8a3b728ab459c55bf4437f443510dfd10dfd10d450a2b517fff14c40019ffc011881b470';
export const ADTS_48000_MONO_FRAME_SIZES = [189, 202, 183, 12];
