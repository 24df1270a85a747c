/**
 * Seeded fuzz test of the RTMP client connection's input side (issue #9): 100,000 random and
 * mutated server replies (a real RtmpServerConn's answers, recorded in memory; most after a
 * valid S0S1S2) fed whole and in random pieces to a publishing or playing client. Nothing may escape `feed()`; a broken reply
 * ends in one `onError` with a ParseError/ProtocolError; both feeds give the same events and
 * replies (acknowledgements aside: they follow feed() boundaries).
 */
import { describe, expect, test } from 'bun:test';
import { concat } from '../../core/bytes.ts';
import { ParseError, ProtocolError } from '../../core/errors.ts';
import { silentLogger } from '../../core/log.ts';
import { MemorySink } from '../../core/sink.ts';
import { fromHex, fuzz, fuzzCheck, fuzzPieces, FUZZ_TIMEOUT, PipeSink } from '../../core/testing.ts';
import { encodeAmf0 } from '../../format/amf0/encode.ts';
import { RtmpChunkReader } from './chunk-reader.ts';
import { encodeRtmpMessage } from './chunk-writer.ts';
import { RtmpMsgType } from './constants.ts';
import { HANDSHAKE_BLOCK_SIZE } from './handshake.ts';
import { RtmpClientConn } from './client-conn.ts';
import { command, pingRequest, windowAckSize } from './messages.ts';
import { RtmpServerConn } from './server-conn.ts';

const URL = 'rtmp://127.0.0.1:1935/live/test?k=v';

/** Everything a server sends a client of `mode` through the start (plus, for play, some media). */
function serverReplies(mode: 'publish' | 'play'): Uint8Array {
  const cSink = new PipeSink();
  const sSink = new PipeSink();
  let playing = false;
  const srv = new RtmpServerConn({
    sink: sSink,
    log: silentLogger,
    handshakeTime: 0,
    handler: { onConnect: () => {}, onPublish: () => true, onPlay: () => true, onPlayStarted: () => void (playing = true), onMedia: () => {} },
  });
  const cli = new RtmpClientConn({ sink: cSink, log: silentLogger, url: URL, mode, handshakeTime: 0, handler: { onStarted: () => {}, onMedia: () => {}, onError: (e) => { throw e; } } });
  cli.start();
  const seen: Uint8Array[] = [];
  for (let i = 0; i < 10; i++) {
    const up = cSink.drain();
    if (up.length > 0) srv.feed(up);
    const down = sSink.drain();
    if (down.length > 0) {
      seen.push(down);
      cli.feed(down);
    }
  }
  if (playing) {
    seen.push(
      encodeRtmpMessage({ csid: 5, type: 18, timestamp: 0, streamId: 1, body: encodeAmf0('|RtmpSampleAccess', true, true) }, 4096),
      encodeRtmpMessage({ csid: 5, type: 18, timestamp: 0, streamId: 1, body: encodeAmf0('onMetaData', { width: 320 }) }, 4096),
      encodeRtmpMessage({ csid: 6, type: 9, timestamp: 0, streamId: 1, body: fromHex('1700000000 0164000dffe1'.replace(/ /g, '')) }, 4096),
      encodeRtmpMessage({ csid: 4, type: 8, timestamp: 23, streamId: 1, body: fromHex('af0121') }, 4096),
    );
  }
  seen.push(windowAckSize(1000), pingRequest(77), command(3, 0, 'onStatus', 0, null, { level: 'error', code: 'NetStream.Play.StreamNotFound' }));
  return concat(seen);
}

/** S0S1S2 (the same for both modes, simple handshake), fed before most inputs. */
const S0S1S2 = serverReplies('publish').subarray(0, 2 * HANDSHAKE_BLOCK_SIZE + 1);
/** The replies after the handshake: what most mutations work on. */
const CORPUS = [serverReplies('publish').subarray(S0S1S2.length), serverReplies('play').subarray(S0S1S2.length)];
const DICT = [encodeAmf0('_result'), encodeAmf0('_error'), encodeAmf0('onStatus'), encodeAmf0('NetStream.Play.Start'), fromHex('000009')];

interface Run {
  out: Uint8Array;
  events: unknown[];
}

function run(pieces: Uint8Array[], mode: 'publish' | 'play'): Run {
  const sink = new MemorySink();
  const events: unknown[] = [];
  const cli = new RtmpClientConn({
    sink,
    log: silentLogger,
    url: URL,
    mode,
    handshakeTime: 0,
    maxMessageLength: 1 << 16,
    handler: {
      onStarted: () => void events.push('started'),
      onMedia: (m) => void events.push(m),
      onError: (e) => {
        fuzzCheck(e instanceof ParseError || e instanceof ProtocolError, () => `onError got ${String(e)}`);
        events.push(`error ${e.constructor.name}`);
      },
    },
  });
  cli.start();
  for (const p of pieces) cli.feed(p); // must not throw
  fuzzCheck(events.filter((e) => typeof e === 'string' && e.startsWith('error')).length <= 1, 'at most one error');
  return { out: concat(sink.chunks), events };
}

/**
 * What the client wrote: the handshake bytes, then its messages without Acknowledgements (sent
 * per feed() once half a window has been read, so where they fall depends on the split).
 */
function replies(out: Uint8Array): unknown[] {
  const hs = 2 * HANDSHAKE_BLOCK_SIZE + 1;
  if (out.length <= hs) return [out];
  const msgs = new RtmpChunkReader().feed(out.subarray(hs));
  return [out.subarray(0, hs), msgs.filter((m) => m.type !== RtmpMsgType.Ack)];
}

describe('RtmpClientConn fuzz', () => {
  test('100,000 server replies, whole and in pieces: nothing escapes, one error at most, same behaviour', () => {
    const r = fuzz('rtmp client conn', { seed: 0xc11e, corpus: CORPUS, dictionary: DICT, maxRandomLength: 300, allowed: [] }, ({ input, rnd }) => {
      const mode = rnd() < 0.5 ? 'publish' : 'play';
      const head = rnd() < 0.9 ? [S0S1S2] : [];
      const whole = run([...head, input], mode);
      const split = run([...head, ...fuzzPieces(input, rnd)], mode);
      const failed = (x: Run) => x.events.some((e) => typeof e === 'string' && e.startsWith('error'));
      fuzzCheck(failed(whole) === failed(split), 'both feeds fail or neither');
      if (failed(whole)) return;
      fuzzCheck(Bun.deepEquals(whole.events, split.events), 'whole and pieces give the same events');
      fuzzCheck(Bun.deepEquals(replies(whole.out), replies(split.out)), 'and the same replies');
    });
    expect(r.ok).toBe(r.runs);
  }, FUZZ_TIMEOUT);
});
