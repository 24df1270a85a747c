/** `lal serve [-c FILE] [-p DIR]`: the full server on a LAL config (docs/config.md §1). */
import { defineCommand } from 'citty';
import { createConsola } from 'consola';
import { consolaLevelFromLal } from '../lib/core/log.ts';
import { LogFile, logFileReporter } from '../lib/core/log-file.ts';
import { findConfigFile, loadConfigFile } from '../lib/server/config.ts';
import { startServer } from '../lib/server/server.ts';
import { LAL_VERSION } from '../lib/core/version.ts';
import { configArg } from './_args.ts';
import { CLIError, fail, shutdownSignal, waitAbort } from './_cli.ts';

export default defineCommand({
  meta: { name: 'serve', description: 'Run the streaming server (RTMP, HTTP-FLV, WebSocket-FLV, HTTP API …)' },
  args: {
    config: configArg,
    dir: { type: 'string', alias: 'p', description: 'change to this working directory before anything else' },
  },
  async run({ args }) {
    try {
      // citty reads a flag given without its value (`lal serve -c`) as an empty string.
      if (args.config === '') throw new CLIError('serve: -c/--config needs a file name; usage: lal serve -c ./conf/lalserver.conf.json');
      if (args.dir === '') throw new CLIError('serve: -p/--dir needs a directory; usage: lal serve -p DIR -c lalserver.conf.json');
      if (args.dir) {
        try {
          process.chdir(args.dir);
        } catch (e) {
          throw new CLIError(`serve: cannot change directory to ${args.dir}: ${(e as Error).message}`);
        }
      }
      let file = args.config;
      if (!file) {
        file = findConfigFile(process.cwd(), (w) => console.warn(w));
        if (!file) throw new CLIError('serve: no config file found in LAL\'s search paths; usage: lal serve -c ./conf/lalserver.conf.json');
      }
      const { config, warnings } = loadConfigFile(file);
      const logCfg = config.log;
      const log = createConsola({ level: consolaLevelFromLal(logCfg.level) });
      if (!logCfg.is_to_stdout) log.setReporters([]);
      let logFile: LogFile | undefined;
      if (logCfg.filename) {
        try {
          logFile = LogFile.open({ path: logCfg.filename, rotateDaily: logCfg.is_rotate_daily, rotateHourly: logCfg.is_rotate_hourly });
          log.addReporter(logFileReporter(logFile));
          const file = logFile;
          process.once('exit', () => file.close());
        } catch (e) {
          log.warn(`log file ${logCfg.filename} disabled: ${(e as Error).message}`);
        }
      }
      for (const w of warnings) log.warn(w);
      log.info(`lal v${LAL_VERSION} starting with ${file} (cwd ${process.cwd()})`);
      const signal = shutdownSignal();
      // Last line of defence: a bug in one session's async path is logged, never fatal to the
      // other streams (sessions catch their own errors; this only catches what slipped through).
      process.on('unhandledRejection', (e) => log.error(`unhandled rejection (server keeps running): ${e instanceof Error ? e.stack ?? e.message : String(e)}`));
      process.on('uncaughtException', (e) => log.error(`uncaught exception (server keeps running): ${e.stack ?? e.message}`));
      const server = await startServer(config, { log });
      log.info('server started');
      await waitAbort(signal);
      log.info(`${String(signal.reason)} received, shutting down`);
      const done = server.close();
      await Promise.race([done, new Promise((r) => setTimeout(r, 1500))]);
      logFile?.close();
      process.exit(0);
    } catch (e) {
      fail(e);
    }
  },
});
