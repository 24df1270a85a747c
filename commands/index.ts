/**
 * The root `lal` command (docs/architecture.md §1.6). Subcommands load on first use; each import
 * path is a literal, so `bun build --compile` (npm run compile) bundles every one of them.
 */
import { defineCommand, runMain } from 'citty';
import { LAL_VERSION } from '../lib/core/version.ts';

export { runMain };

export const main = defineCommand({
  meta: { name: 'lal', version: LAL_VERSION, description: 'Live audio/video streaming server and toolkit (LAL-compatible)' },
  subCommands: {
    serve: () => import('./serve.ts').then((m) => m.default),
    bench: () => import('./bench.ts').then((m) => m.default),
    push: () => import('./push.ts').then((m) => m.default),
    pull: () => import('./pull.ts').then((m) => m.default),
    remux: () => import('./remux.ts').then((m) => m.default),
  },
});
