/**
 * The one way lal turns names from the wire into file paths (docs/architecture.md §1.5): HLS
 * folders and fragments, FLV/TS recordings, and whatever writes files next. `fileInside(dir,
 * ...parts)` joins and then proves that the result lies strictly inside `dir`, so a name that
 * slipped past admission (`..`, `../../x`, an absolute path, a separator) can never reach the
 * file system outside the configured folder.
 */
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { LalError } from './errors.ts';
import { utf8Length } from './bytes.ts';
import { quoteName } from './stream-name.ts';

/**
 * Longest single path component, in UTF-8 bytes: NAME_MAX of the common file systems (ext4, XFS,
 * Btrfs, APFS). A longer component fails with ENAMETOOLONG; refusing it here gives a clear message.
 */
export const MAX_FILE_NAME_BYTES = 255;

/** Why `part` cannot be one path component, or undefined when it can. */
export function checkPathComponent(part: string): string | undefined {
  if (part === '') return 'is empty';
  if (part === '.' || part === '..') return `is ${quoteName(part)}`;
  for (let i = 0; i < part.length; i++) {
    const c = part.charCodeAt(i);
    if (c === 0x2f || c === 0x5c) return 'contains a path separator (/ or \\)';
    if (c === 0) return 'contains NUL';
  }
  if (utf8Length(part) > MAX_FILE_NAME_BYTES) return `is longer than ${MAX_FILE_NAME_BYTES} bytes`;
  return undefined;
}

/**
 * `dir/part1/part2/…` (joined and path-cleaned, relative when `dir` is). Each part must be a
 * single path component (checkPathComponent), and the resolved result must lie strictly inside
 * the resolved `dir`. Throws LalError (code `unsafe-path`) otherwise; never touches the disk.
 */
export function fileInside(dir: string, ...parts: string[]): string {
  if (parts.length === 0) throw new LalError('unsafe-path', 'path: no file name given');
  for (const p of parts) {
    const why = checkPathComponent(p);
    if (why !== undefined) throw new LalError('unsafe-path', `path: file name ${quoteName(p)} ${why}`);
  }
  const out = join(dir, ...parts);
  const rel = relative(resolve(dir), resolve(out));
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new LalError('unsafe-path', `path: ${quoteName(out)} is outside ${quoteName(dir)}`);
  }
  return out;
}
