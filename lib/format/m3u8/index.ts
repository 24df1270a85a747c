/** HLS media playlists (RFC 8216 §4.3, docs/hls.md §3–§4): re-exports only. */
export * from './playlist.ts';
