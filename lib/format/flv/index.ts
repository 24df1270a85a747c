/** FLV container (Adobe FLV spec v10.1 annex E, enhanced RTMP): re-exports only. */
export * from './header.ts';
export * from './tag.ts';
export * from './reader.ts';
export * from './file.ts';
export * from './video-header.ts';
export * from './audio-header.ts';
export * from './metadata.ts';
