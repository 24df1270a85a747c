/**
 * FLV audio tag header (Adobe FLV spec v10.1 annex E.4.2.1; Opus = sound format 13 as LAL uses
 * it, non-standard). Pure: returns where the payload starts; never copies.
 *
 *   byte 0: SoundFormat(4) SoundRate(2) SoundSize(1) SoundType(1)
 *           e.g. AF = AAC 44 kHz 16-bit stereo, 72 = A-law 5.5 kHz 16-bit mono, DF = Opus
 *   AAC only: byte 1 AACPacketType (0 AudioSpecificConfig, 1 raw frame); payload at 2
 *   others: payload at 1. SoundFormat 9 is the enhanced-RTMP v2 ExAudioTagHeader
 *   (packet type in the low nibble, FourCC at 1..4): reported as `other` with its FourCC.
 */
import { need } from '../../core/bytes.ts';

/** SoundFormat (E.4.2.1) values lal distinguishes. */
export const FlvSoundFormat = { Mp3: 2, G711A: 7, G711U: 8, ExHeader: 9, Aac: 10, Opus: 13 } as const;
/** AACPacketType (E.4.2.1). */
export const FlvAacPacketType = { SequenceHeader: 0, Raw: 1 } as const;

export interface FlvAudioTagInfo {
  soundFormat: number;
  codec: 'aac' | 'g711a' | 'g711u' | 'opus' | 'mp3' | 'other';
  /** AAC only: 0 sequence header (AudioSpecificConfig), 1 raw frame. */
  aacPacketType?: 0 | 1;
  /** Enhanced audio (sound format 9) only. */
  fourcc?: string;
  /** Where the payload (ASC or raw frame) starts. */
  dataOffset: number;
  /** SoundRate bits: 0 5.5 kHz, 1 11 kHz, 2 22 kHz, 3 44 kHz (AAC always 3). */
  soundRate: number;
  /** SoundSize bit: 0 8-bit, 1 16-bit samples. */
  soundSize: number;
  /** SoundType bit: 0 mono, 1 stereo. */
  soundType: number;
}

const CODEC_OF_FORMAT: Record<number, FlvAudioTagInfo['codec']> = {
  [FlvSoundFormat.Mp3]: 'mp3',
  [FlvSoundFormat.G711A]: 'g711a',
  [FlvSoundFormat.G711U]: 'g711u',
  [FlvSoundFormat.Aac]: 'aac',
  [FlvSoundFormat.Opus]: 'opus',
};

/** Parse the audio tag header of `body`. Throws ParseError (code `truncated`) when it is cut short. */
export function parseFlvAudioTag(body: Uint8Array): FlvAudioTagInfo {
  need(body, 0, 1, 'flv: audio tag');
  const b0 = body[0];
  const soundFormat = b0 >> 4;
  const info: FlvAudioTagInfo = {
    soundFormat,
    codec: CODEC_OF_FORMAT[soundFormat] ?? 'other',
    dataOffset: 1,
    soundRate: (b0 >> 2) & 0x03,
    soundSize: (b0 >> 1) & 0x01,
    soundType: b0 & 0x01,
  };
  if (soundFormat === FlvSoundFormat.Aac) {
    need(body, 1, 1, 'flv: AAC audio tag header');
    info.aacPacketType = body[1] === FlvAacPacketType.SequenceHeader ? 0 : 1;
    info.dataOffset = 2;
  } else if (soundFormat === FlvSoundFormat.ExHeader && body.length >= 5) {
    info.fourcc = String.fromCharCode(body[1], body[2], body[3], body[4]);
    info.dataOffset = 5;
  }
  return info;
}
