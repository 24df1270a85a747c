#!/usr/bin/env bun
/**
 * A fast HTTP-FLV player in its own process (so it never shares an event loop with the server
 * under test): reads URL, counts media tags, and prints `{"audio":N,"video":N,"bytes":N}` once
 * the stream has been idle for IDLE_MS (default 1500) after the first tag.
 *   bun test/helpers/flv-count.ts URL [IDLE_MS]
 */
import { FlvReader } from '../../lib/format/flv/reader.ts';

const [url, idleArg] = process.argv.slice(2);
const idleMs = Number(idleArg ?? 1500);
const reader = new FlvReader();
let audio = 0;
let video = 0;
let bytes = 0;
let lastAt = 0;
const ac = new AbortController();
const res = await fetch(url, { signal: ac.signal });
const timer = setInterval(() => {
  if (lastAt && performance.now() - lastAt > idleMs) {
    clearInterval(timer);
    console.log(JSON.stringify({ audio, video, bytes }));
    ac.abort();
    process.exit(0);
  }
}, 100);
try {
  for await (const c of res.body!) {
    bytes += c.length;
    lastAt = performance.now();
    for (const t of reader.feed(c)) {
      if (t.type === 8 && !(t.body[0] >> 4 === 10 && t.body[1] === 0)) audio++;
      if (t.type === 9 && t.body[1] !== 0) video++;
    }
  }
} catch {
  /* aborted */
}
