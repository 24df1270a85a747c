#!/usr/bin/env bun
/**
 * Publisher farm for benchmarks: pushes one FLV file to N stream names at real-time pace from a
 * single process (our RTMP push client), looping, until SIGTERM or DURATION seconds.
 *   bun bench/_publish-many.ts FILE rtmp://127.0.0.1:1935/live/prefix N DURATION_SEC
 */
import { readFileSync } from 'node:fs';
import { FlvReader } from '../lib/format/flv/reader.ts';
import { pushFlvTags } from '../lib/client/push.ts';

const [file, urlPrefix, nArg, durArg] = process.argv.slice(2);
const tags = new FlvReader().feed(readFileSync(file));
const n = Number(nArg);
const ac = new AbortController();
process.on('SIGTERM', () => ac.abort());
setTimeout(() => ac.abort(), Number(durArg) * 1000);
const durMs = tags[tags.length - 1].timestamp + 40;
const loops = Math.ceil((Number(durArg) * 1000) / durMs) + 1;
const runs = Array.from({ length: n }, (_, i) =>
  pushFlvTags({ url: `${urlPrefix}${i}`, tags, realtime: true, loops, signal: ac.signal }).catch((e) => console.error(`stream ${i}: ${e.message}`)),
);
console.log(`publishing ${n} streams`);
await Promise.all(runs);
console.log('done');
process.exit(0);
