/**
 * Locate ffmpeg/ffprobe: $FFMPEG/$FFPROBE, else the PATH, else the binaries shipped by the npm
 * packages @ffmpeg-installer/ffmpeg and @ffprobe-installer/ffprobe (devDependencies).
 * A missing binary throws — tests that need it fail loudly, they never pass silently.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function locate(envVar: string, name: string, pkg: string): string {
  const env = process.env[envVar];
  if (env) {
    if (!existsSync(env)) throw new Error(`$${envVar}=${env} does not exist`);
    return env;
  }
  const onPath = Bun.which(name);
  if (onPath) return onPath;
  try {
    const p = (require(pkg) as { path: string }).path;
    if (p && existsSync(p)) return p;
  } catch {
    /* fall through */
  }
  throw new Error(`${name} not found: set $${envVar}, put ${name} on PATH, or run npm install (devDependency ${pkg})`);
}

export const ffmpegPath = (): string => locate('FFMPEG', 'ffmpeg', '@ffmpeg-installer/ffmpeg');
export const ffprobePath = (): string => locate('FFPROBE', 'ffprobe', '@ffprobe-installer/ffprobe');
