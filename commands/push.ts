/** `lal push -i FILE.flv -o rtmp://…`: publish an FLV file to an RTMP server. */
import { defineCommand } from 'citty';
import { readFlvFile } from '../lib/format/flv/file.ts';
import { pushFlvTags } from '../lib/client/push.ts';
import { CLIError, fail, shutdownSignal } from './_cli.ts';

export default defineCommand({
  meta: { name: 'push', description: 'Publish an FLV file to rtmp://host:port/app/stream' },
  args: {
    input: { type: 'string', alias: 'i', required: true, description: 'FLV file' },
    output: { type: 'string', alias: 'o', required: true, description: 'rtmp://host[:port]/app/stream[?query]' },
    realtime: { type: 'boolean', default: true, description: 'pace tags at their timestamps (--no-realtime: as fast as possible)' },
    loop: { type: 'string', default: '0', description: 'extra times to repeat the file (-1: until interrupted)' },
  },
  async run({ args }) {
    try {
      if (!/^rtmps?:\/\//.test(args.output)) throw new CLIError(`push: -o must be an rtmp:// or rtmps:// URL, got ${args.output}`);
      const loops = Number(args.loop);
      if (!Number.isInteger(loops) || loops < -1) throw new CLIError(`push: --loop must be an integer ≥ -1, got ${args.loop}`);
      const file = await readFlvFile(args.input).catch((e: Error) => {
        throw new CLIError(`push: cannot read ${args.input}: ${e.message}`);
      });
      const signal = shutdownSignal();
      const t0 = performance.now();
      const r = await pushFlvTags({ url: args.output, tags: file.tags, realtime: args.realtime, loops: loops < 0 ? 1e9 : loops, signal });
      console.log(`push: ${args.input} → ${args.output}: ${r.sentTags} tags, ${(r.sentBytes / 1e6).toFixed(2)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      process.exit(0);
    } catch (e) {
      fail(e);
    }
  },
});
