#!/usr/bin/env bun
import { runMain } from 'citty';
import { main } from '../commands/index.ts';

runMain(main);
