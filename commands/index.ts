/** The root `lal` command with lazily loaded subcommands (design.md §1.6). */
import { defineCommand } from 'citty';
import { LAL_VERSION } from '../lib/core/version.ts';

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
