/** MPEG-TS (ISO/IEC 13818-1; docs/media.md §4): CRC, PSI, PES, packets, demuxer. Re-exports only. */
export * from './types.ts';
export { crc32Mpeg2 } from './crc32.ts';
export * from './psi.ts';
export * from './pes.ts';
export * from './packet.ts';
export * from './demuxer.ts';
