/** HLS output (docs/hls.md, docs/urls.md §8): muxer, playlists on a SegmentStore, request routing, player sessions — re-exports only. */
export * from './store.ts';
export * from './muxer.ts';
export * from './path.ts';
export * from './sessions.ts';
