/** The root `lal` command with lazily loaded subcommands (design.md §1.6); citty's path only. */
import { defineCommand } from './_args.ts';
import { SUBCOMMANDS } from './_subcommands.ts';
import { LAL_VERSION } from '../lib/core/version.ts';

export const main = defineCommand({
  meta: { name: 'lal', version: LAL_VERSION, description: 'Live audio/video streaming server and toolkit (LAL-compatible)' },
  subCommands: SUBCOMMANDS,
});
