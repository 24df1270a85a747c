/**
 * Seeded fuzz test of the configuration parser (issue #9): 100,000 random and mutated
 * `lalserver.conf.json` texts (bytes read as UTF-8 or Latin-1). Only ConfigError may escape,
 * with a `config: ` message; an accepted config has every section and typed values.
 */
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../core/errors.ts';
import { fuzz, fuzzCheck, FUZZ_TIMEOUT, latin1, utf8Decode, utf8Encode } from '../core/testing.ts';
import { defaultConfig, parseConfig } from './config.ts';

const shipped = readFileSync(new URL('../../conf/lalserver.conf.json', import.meta.url), 'utf8');
const CORPUS = [
  shipped,
  '{"rtmp":{"enable":true,"addr":":1935"},"hls":{"enable":true,"fragment_duration_ms":3000,"fragment_num":6},"httpflv":{"enable":true,"url_pattern":"live"}}',
  '\ufeff{"conf_version":"v0.4.1","log":{"level":1},"default_http":{"http_listen_addr":":8080"},"unknown":[1,2.5e3,-0,null,"\\u00e9\\n"]}',
].map(utf8Encode);
const DICT = ['{', '}', '[', ']', ':', ',', '"', '\\', '\\u', 'true', 'false', 'null', '-', '0', '1e999', '9007199254740993', '1.5', ' ', '\n',
  '"rtmp"', '"enable"', '"hls"', '"gb28181"', '"log"', '"url_pattern"'].map(utf8Encode);

describe('parseConfig fuzz', () => {
  test('100,000 inputs: only ConfigError, accepted configs complete and typed', () => {
    const sections = Object.keys(defaultConfig()).filter((k) => typeof (defaultConfig() as unknown as Record<string, unknown>)[k] === 'object');
    const r = fuzz('config parse', { seed: 0xc0f, corpus: CORPUS, dictionary: DICT, maxRandomLength: 120, allowed: [ConfigError] }, ({ input, rnd }) => {
      const text = rnd() < 0.8 ? utf8Decode(input) : latin1(input);
      try {
        const { config, warnings } = parseConfig(text);
        const c = config as unknown as Record<string, Record<string, unknown>>;
        for (const s of sections) fuzzCheck(typeof c[s] === 'object' && c[s] !== null, () => `section ${s} missing`);
        fuzzCheck(typeof config.rtmp.enable === 'boolean' && Number.isSafeInteger(config.hls.fragment_num), 'typed values');
        fuzzCheck(warnings.every((w) => w.startsWith('config: ')), 'warnings say where they come from');
      } catch (e) {
        if (e instanceof ConfigError) fuzzCheck(e.message.startsWith('config: '), () => `message ${e.message}`);
        throw e;
      }
    });
    expect(r.ok).toBeGreaterThan(r.runs * 0.05);
    expect(r.rejected).toBeGreaterThan(r.runs * 0.3);
  }, FUZZ_TIMEOUT);
});
