/**
 * The subcommand loaders (design.md §1.6), the one list shared by the root command (index.ts,
 * citty's path) and bin/lal.ts's direct path (`runSimple` in _args.ts). Free of citty imports.
 */
import type { CommandLoaders } from './_args.ts';

export const SUBCOMMANDS: CommandLoaders = {
  serve: () => import('./serve.ts').then((m) => m.default),
  bench: () => import('./bench.ts').then((m) => m.default),
  push: () => import('./push.ts').then((m) => m.default),
  pull: () => import('./pull.ts').then((m) => m.default),
  remux: () => import('./remux.ts').then((m) => m.default),
};
