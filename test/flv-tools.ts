/** Test-side FLV helpers: read a fixture's tags, collect an HTTP-FLV/WS-FLV body into tags. */
import { FlvReader, type FlvTag } from '../lib/format/flv/index.ts';
import { readFileSync } from 'node:fs';
import { atTestEnd } from './helpers/proc.ts';

export function fixturePath(name: string): string {
  return new URL(`../fixtures/${name}`, import.meta.url).pathname;
}

export function fixtureTags(name: string): FlvTag[] {
  return new FlvReader().feed(readFileSync(fixturePath(name)));
}

export function mediaTags(tags: FlvTag[]): FlvTag[] {
  return tags.filter((t) => t.type === 8 || t.type === 9);
}

/** Is this FLV video tag a coded key frame (not a sequence header)? */
export function isKeyFrameTag(t: FlvTag): boolean {
  return t.type === 9 && (t.body[0] >> 4) === 1 && t.body[1] === 1;
}
export function isSeqHeaderTag(t: FlvTag): boolean {
  return (t.type === 9 && t.body[1] === 0) || (t.type === 8 && (t.body[0] >> 4) === 10 && t.body[1] === 0);
}

/**
 * Reads an HTTP-FLV response as it arrives; `tags` grows; `close()` aborts the request, as does
 * the end of the test (then `done` is waited for; its rejection is the test's, never the next one's).
 */
export function httpFlvClient(url: string) {
  const ac = new AbortController();
  const reader = new FlvReader();
  const tags: FlvTag[] = [];
  const chunks: Uint8Array[] = [];
  let status = 0;
  let headers: Headers | undefined;
  let firstByteAt = 0;
  const startedAt = performance.now();
  const done = (async () => {
    try {
      const res = await fetch(url, { signal: ac.signal });
      status = res.status;
      headers = res.headers;
      if (!res.body) return;
      for await (const c of res.body) {
        if (!firstByteAt) firstByteAt = performance.now();
        chunks.push(c);
        tags.push(...reader.feed(c));
      }
    } catch (e) {
      if (!ac.signal.aborted) throw e;
    }
  })();
  done.catch(() => undefined);
  atTestEnd(async () => {
    ac.abort();
    await done.catch(() => undefined);
  });
  return {
    tags,
    chunks,
    done,
    get status() { return status; },
    get headers() { return headers; },
    get firstByteMs() { return firstByteAt ? firstByteAt - startedAt : -1; },
    close: () => ac.abort(),
  };
}

/** WebSocket-FLV client: every binary message is one FLV header or tag; closed at the end of the test. */
export function wsFlvClient(url: string) {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const messages: Uint8Array[] = [];
  const reader = new FlvReader();
  const tags: FlvTag[] = [];
  let closed = false;
  const opened = new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`ws ${url} error`));
  });
  ws.onmessage = (ev) => {
    const b = new Uint8Array(ev.data as ArrayBuffer);
    messages.push(b);
    tags.push(...reader.feed(b));
  };
  opened.catch(() => undefined);
  ws.onclose = () => { closed = true; };
  atTestEnd(() => ws.close());
  return { ws, messages, tags, opened, get closed() { return closed; }, close: () => ws.close() };
}
