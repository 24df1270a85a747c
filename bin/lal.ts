#!/usr/bin/env bun
/** `lal`: the citty root command with lazily loaded subcommands (docs/architecture.md §1.6). */
import { main, runMain } from '../commands/index.ts';

void runMain(main);
