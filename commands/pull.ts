/** `lal pull -i URL -o FILE.flv`: play rtmp:// or http://….flv and save it as FLV. */
import { defineCommand } from 'citty';
import { pullToFlv } from '../lib/client/pull.ts';
import { CLIError, fail, shutdownSignal } from './_cli.ts';

export default defineCommand({
  meta: { name: 'pull', description: 'Pull a live stream (RTMP or HTTP-FLV) into an FLV file' },
  args: {
    input: { type: 'string', alias: 'i', required: true, description: 'rtmp://host/app/stream or http://host:8080/app/stream.flv' },
    output: { type: 'string', alias: 'o', description: 'FLV file to write (omit to only count)' },
    duration: { type: 'string', alias: 'd', description: 'stop after this many seconds' },
  },
  async run({ args }) {
    try {
      const d = args.duration === undefined ? undefined : Number(args.duration);
      if (d !== undefined && !(d > 0)) throw new CLIError(`pull: --duration must be a positive number, got ${args.duration}`);
      const signal = shutdownSignal();
      const r = await pullToFlv({ url: args.input, output: args.output, durationMs: d ? d * 1000 : undefined, signal });
      console.log(`pull: ${args.input}${args.output ? ` → ${args.output}` : ''}: ${r.videoTags} video / ${r.audioTags} audio tags, ${(r.bytes / 1e6).toFixed(2)} MB`);
      process.exit(0);
    } catch (e) {
      fail(e);
    }
  },
});
