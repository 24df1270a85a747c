/** lal as a library: the public entry points (re-exports only, docs/architecture.md §1.1). */
export { startServer, type RunningServer } from './server/server.ts';
export { parseConfig, loadConfigFile, findConfigFile, defaultConfig, type LalConfig } from './server/config.ts';
export { createApiApp } from './api/app.ts';
export type { ServerControl } from './api/control.ts';
export type { LalInfo, StatGroup, StatSession } from './api/types.ts';
export { runBench, type BenchOptions, type BenchResult } from './client/bench.ts';
export { pushFlvTags, type PushOptions } from './client/push.ts';
export { pullToFlv, type PullOptions } from './client/pull.ts';
export { remux } from './client/remux.ts';
export type { AvPacket, TrackInfo, VideoTrack, AudioTrack, Codec } from './core/packet.ts';
export { LalError, ParseError, ProtocolError, ConfigError } from './core/errors.ts';
export { LAL_VERSION } from './core/version.ts';
