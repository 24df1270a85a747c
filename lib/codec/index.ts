/** Codecs (docs/architecture.md §1.1): pure parsers and builders for H.264, H.265 and AAC. Re-exports only. */
export { removeEmulationPrevention } from './rbsp.ts';
export * from './h264/index.ts';
export * from './h265/index.ts';
export * from './aac/index.ts';
