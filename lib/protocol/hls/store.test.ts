import { test, expect, describe, afterAll } from 'bun:test';
import { mkdtempSync, mkdirSync, rmSync, readFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LalError } from '../../core/errors.ts';
import { DiskStore, MemoryStore, OutputDirStore, type SegmentStore } from './store.ts';
import { LIVE_PLAYLIST_NAME, RECORD_PLAYLIST_NAME } from './path.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const tmpRoots: string[] = [];
afterAll(() => {
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

function tempRoot(): string {
  const d = mkdtempSync(join(tmpdir(), 'lal-hls-store-'));
  tmpRoots.push(d);
  return d;
}

/** One suite for every SegmentStore (docs/architecture.md §0, Hono's runTest). */
function storeSuite(name: string, make: () => { store: SegmentStore; root: string }): void {
  describe(`SegmentStore contract: ${name}`, () => {
    test('mkdirp, writeFile, readFile, exists', () => {
      const { store, root } = make();
      const dir = join(root, 'out', 's1');
      expect(store.exists(dir)).toBe(false);
      store.mkdirp(dir);
      store.mkdirp(dir); // idempotent
      expect(store.exists(dir)).toBe(true);
      expect(store.exists(join(root, 'out'))).toBe(true);
      const f = join(dir, 'playlist.m3u8');
      expect(store.readFile(f)).toBeUndefined();
      store.writeFile(f, enc.encode('one'));
      expect(dec.decode(store.readFile(f))).toBe('one');
      store.writeFile(f, enc.encode('two!'));
      expect(dec.decode(store.readFile(f))).toBe('two!');
      expect(store.exists(f)).toBe(true);
      // paths are normalised
      expect(dec.decode(store.readFile(join(root, 'out', '.', 's1', 'playlist.m3u8')))).toBe('two!');
      // a directory is not a file
      expect(store.readFile(dir)).toBeUndefined();
    });

    test('openAppend truncates and appends in order', () => {
      const { store, root } = make();
      store.mkdirp(root);
      const f = join(root, 'a.ts');
      store.writeFile(f, enc.encode('old content'));
      const h = store.openAppend(f);
      expect(store.exists(f)).toBe(true);
      h.write(enc.encode('ab'));
      h.write(enc.encode(''));
      h.write(enc.encode('cde'));
      expect(dec.decode(store.readFile(f))).toBe('abcde'); // readable while open
      h.write(enc.encode('f'));
      h.close();
      h.close(); // idempotent
      expect(dec.decode(store.readFile(f))).toBe('abcdef');
      expect(() => h.write(enc.encode('x'))).toThrow(LalError);
    });

    test('rename replaces the target; missing source throws', () => {
      const { store, root } = make();
      store.mkdirp(root);
      const a = join(root, 'playlist.m3u8.bak');
      const b = join(root, 'playlist.m3u8');
      store.writeFile(b, enc.encode('old'));
      store.writeFile(a, enc.encode('new'));
      store.rename(a, b);
      expect(store.exists(a)).toBe(false);
      expect(dec.decode(store.readFile(b))).toBe('new');
      expect(() => store.rename(a, b)).toThrow(LalError);
    });

    test('remove and removeDir; both tolerate missing paths', () => {
      const { store, root } = make();
      const dir = join(root, 's');
      store.mkdirp(join(dir, 'sub'));
      store.writeFile(join(dir, 'x.ts'), enc.encode('x'));
      store.writeFile(join(dir, 'sub', 'y.ts'), enc.encode('y'));
      store.writeFile(join(root, 's2.ts'), enc.encode('keep')); // sibling with a common prefix
      store.remove(join(dir, 'x.ts'));
      store.remove(join(dir, 'x.ts'));
      expect(store.exists(join(dir, 'x.ts'))).toBe(false);
      store.removeDir(dir);
      expect(store.exists(dir)).toBe(false);
      expect(store.exists(join(dir, 'sub', 'y.ts'))).toBe(false);
      expect(store.readFile(join(dir, 'sub', 'y.ts'))).toBeUndefined();
      expect(dec.decode(store.readFile(join(root, 's2.ts')))).toBe('keep');
      store.removeDir(dir);
      store.removeDir(join(root, 'never'));
    });

    test('writing into a missing directory throws LalError hls-io', () => {
      const { store, root } = make();
      let err: unknown;
      try {
        store.writeFile(join(root, 'missing', 'x.m3u8'), enc.encode('x'));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LalError);
      expect((err as LalError).code).toBe('hls-io');
      expect(() => store.openAppend(join(root, 'missing', 'y.ts'))).toThrow(LalError);
    });
  });
}

storeSuite('DiskStore', () => ({ store: new DiskStore(), root: tempRoot() }));
storeSuite('MemoryStore', () => ({ store: new MemoryStore(), root: '/mem/root' }));

describe('DiskStore specifics', () => {
  test('files really are on disk, written incrementally', () => {
    const root = tempRoot();
    const store = new DiskStore();
    store.mkdirp(join(root, 'a', 'b'));
    const f = join(root, 'a', 'b', 'x.ts');
    const h = store.openAppend(f);
    h.write(new Uint8Array([1, 2, 3]));
    // visible before close: the bytes went to the file, not to a buffer
    expect([...readFileSync(f)]).toEqual([1, 2, 3]);
    h.write(new Uint8Array(188).fill(0x47));
    h.close();
    expect(readFileSync(f).length).toBe(191);
    expect(readdirSync(join(root, 'a', 'b'))).toEqual(['x.ts']);
    store.removeDir(join(root, 'a'));
    expect(existsSync(join(root, 'a'))).toBe(false);
  });
});

describe('MemoryStore bound (docs/architecture.md §2.9, lal#126)', () => {
  function frag(n: number, fill: number): Uint8Array {
    return new Uint8Array(n).fill(fill);
  }

  test('evicts the oldest closed fragments (across streams) to stay under the cap, with one throttled warning', () => {
    const warnings: string[] = [];
    const log = { warn: (m: string) => warnings.push(m), info() {}, debug() {}, error() {}, trace() {}, withTag() { return log; } };
    let clock = 0;
    const store = new MemoryStore({ maxBytes: 1000, log: log as never, now: () => clock });
    store.mkdirp('/o/a');
    store.mkdirp('/o/b');
    store.writeFile('/o/a/playlist.m3u8', frag(50, 1));
    for (let i = 0; i < 4; i++) {
      const h = store.openAppend(`/o/${i % 2 ? 'b' : 'a'}/f-0-${i}.ts`);
      h.write(frag(100, i));
      h.write(frag(100, i));
      h.close();
    }
    expect(store.totalBytes).toBe(850);
    expect(store.evictedFiles).toBe(0);
    // 300 more bytes: must evict the two oldest fragments (400 bytes) — not the playlist.
    const h = store.openAppend('/o/a/f-0-4.ts');
    h.write(frag(300, 9));
    h.close();
    expect(store.totalBytes).toBeLessThanOrEqual(1000);
    expect(store.exists('/o/a/f-0-0.ts')).toBe(false);
    expect(store.exists('/o/b/f-0-1.ts')).toBe(true);
    expect(store.exists('/o/a/playlist.m3u8')).toBe(true);
    expect(store.evictedFiles).toBe(1);
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toContain('evicted 1 oldest fragment');
    // More evictions within the throttle interval: no new warning; after it, one summary.
    for (let i = 5; i < 10; i++) {
      const w = store.openAppend(`/o/b/f-0-${i}.ts`);
      w.write(frag(300, i));
      w.close();
    }
    expect(store.totalBytes).toBeLessThanOrEqual(1000);
    expect(warnings.length).toBe(1);
    clock = 20_000;
    const w = store.openAppend('/o/b/f-0-10.ts');
    w.write(frag(300, 10));
    w.close();
    expect(warnings.length).toBe(2);
    expect(store.totalBytes).toBeLessThanOrEqual(1000);
    // contents of survivors are intact
    expect([...store.readFile('/o/b/f-0-10.ts')!].every((x) => x === 10)).toBe(true);
  });

  test('never evicts the fragment being written; an append that cannot fit is dropped and counted', () => {
    const store = new MemoryStore({ maxBytes: 500 });
    store.mkdirp('/o/s');
    const h = store.openAppend('/o/s/s-0-0.ts');
    h.write(frag(400, 1));
    h.write(frag(200, 2)); // would exceed: nothing closed to evict → dropped
    expect(store.droppedBytes).toBe(200);
    expect(store.readFile('/o/s/s-0-0.ts')!.length).toBe(400);
    h.close();
    // now it is closed and evictable
    const h2 = store.openAppend('/o/s/s-0-1.ts');
    h2.write(frag(200, 3));
    expect(store.exists('/o/s/s-0-0.ts')).toBe(false);
    expect(store.totalBytes).toBe(200);
  });

  test('a closed fragment is consolidated into one buffer owned by the store', () => {
    const store = new MemoryStore();
    store.mkdirp('/o');
    const src = new Uint8Array([1, 2, 3, 4]);
    const h = store.openAppend('/o/x.ts');
    h.write(src.subarray(0, 2));
    h.write(src.subarray(2));
    h.close();
    src.fill(0); // the caller's buffer may be reused after close
    expect([...store.readFile('/o/x.ts')!]).toEqual([1, 2, 3, 4]);
  });

  test('bookkeeping stays exact through replace, rename and removal', () => {
    const store = new MemoryStore();
    store.mkdirp('/o');
    store.writeFile('/o/a', frag(10, 1));
    store.writeFile('/o/a', frag(20, 1));
    store.writeFile('/o/b', frag(5, 1));
    store.rename('/o/b', '/o/a');
    store.rename('/o/a', '/o/a');
    expect(store.totalBytes).toBe(5);
    const h = store.openAppend('/o/c.ts');
    h.write(frag(7, 1));
    store.remove('/o/c.ts');
    h.write(frag(7, 1)); // writes to a removed file go nowhere
    h.close();
    expect(store.totalBytes).toBe(5);
    expect(store.fileCount).toBe(1);
    store.removeDir('/o');
    expect(store.totalBytes).toBe(0);
    expect(store.listFiles()).toEqual([]);
  });
});

describe('OutputDirStore: one stream\'s HLS in a chosen directory', () => {
  test('the stream directory maps onto outDir, playlists renamed or dropped, cleanup removes what it created', () => {
    const root = tempRoot();
    const outDir = join(root, 'new1', 'new2');
    const muxerDir = join(outDir, 'v');
    const live = new OutputDirStore({ muxerDir, outDir, livePlaylist: 'v.m3u8', recordPlaylist: 'v-record.m3u8', writeBufferSize: 16 });
    live.mkdirp(muxerDir);
    expect(existsSync(outDir)).toBe(true);
    expect(existsSync(muxerDir)).toBe(false);
    const h = live.openAppend(join(muxerDir, 'v-1-0.ts'));
    h.write(enc.encode('x'.repeat(40)));
    h.close();
    live.writeFile(join(muxerDir, `${LIVE_PLAYLIST_NAME}.bak`), enc.encode('#EXTM3U\n'));
    live.rename(join(muxerDir, `${LIVE_PLAYLIST_NAME}.bak`), join(muxerDir, LIVE_PLAYLIST_NAME));
    live.writeFile(join(muxerDir, RECORD_PLAYLIST_NAME), enc.encode('#EXTM3U\n'));
    expect(readdirSync(outDir).sort()).toEqual(['v-1-0.ts', 'v-record.m3u8', 'v.m3u8']);
    expect(dec.decode(live.readFile(join(muxerDir, 'v-1-0.ts')))).toBe('x'.repeat(40));
    live.cleanup();
    expect(existsSync(join(root, 'new1'))).toBe(false);
    expect(existsSync(root)).toBe(true);

    // VOD: no live or record playlist; an existing directory and someone else's file stay
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'keep.txt'), 'k');
    const vod = new OutputDirStore({ muxerDir, outDir });
    vod.mkdirp(muxerDir);
    vod.writeFile(join(muxerDir, LIVE_PLAYLIST_NAME), enc.encode('#EXTM3U\n'));
    expect(vod.readFile(join(muxerDir, LIVE_PLAYLIST_NAME))).toBeUndefined();
    vod.writeFile(join(muxerDir, 'v-1-0.ts'), enc.encode('ts'));
    vod.cleanup();
    expect(readdirSync(outDir)).toEqual(['keep.txt']);
  });

  test('the first I/O error is kept', () => {
    const root = tempRoot();
    const store = new OutputDirStore({ muxerDir: join(root, 'd', 'v'), outDir: join(root, 'd') });
    expect(() => store.openAppend(join(root, 'd', 'v', 'x.ts'))).toThrow(LalError);
    expect(store.firstError).toMatch(/no such directory/);
  });
});
