/** Arguments shared by subcommands (docs/architecture.md §1.6). */

/** `-c FILE`: a LAL lalserver.conf.json (docs/config.md §1). */
export const configArg = {
  type: 'string',
  alias: 'c',
  description: 'config file (LAL lalserver.conf.json format); default: search LAL\'s paths',
} as const;
