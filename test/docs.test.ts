/**
 * The code's citations of docs/ resolve. Scans every .ts (and .html) file under lib/ commands/ bin/ test/
 * bench/ fixtures/ for
 *   - `docs/<file>.md §<n>` (also lists and ranges: `§4, §5.5`, `§3.3–§3.4`, `§1/§6.3`, and a `§`
 *     at the start of the next comment line when the previous line ended with the file name):
 *     the file must exist and hold a heading `#… <n> …` (fenced code blocks are skipped);
 *   - quirk and decision ids (`Q-SUB-2`, `Q-RTSP-1/2`, `Q-API-1..4`, and `D-3` on a line naming
 *     docs/quirks.md): each must be a heading `#… <id> …` of docs/quirks.md;
 *   - citations that must not appear: a spec file name not under docs/ (`media.md §4`), the
 *     design page (`design.md`) and anything under `../shared` or `shared/spec`.
 * A `§` after a foreign document (`RFC 3550 §5.1`, `ISO/IEC 14496-10 §7.3`, `RTMP spec §5.4`) or
 * after a closing parenthesis on the same line is not attributed to docs/ and not checked.
 *
 * Root: $LAL_ROOT, else the folder above this file (the repository root when it lives in test/).
 * Files carrying the marker `@sweep-citations-skip` (this one, the sweep script) are skipped by
 * both tools: they name the very forms they forbid or rewrite.
 */
import { describe, expect, test } from 'bun:test';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(process.env.LAL_ROOT ?? join(import.meta.dir, '..'));
const docsDir = join(root, 'docs');
const FOLDERS = ['lib', 'commands', 'bin', 'test', 'bench', 'fixtures'];
/** The quirks page, spelled so that no citation rewrite can touch it. */
const QUIRKS_PAGE = ['quirks', 'md'].join('.');
/** Files carrying this marker are skipped by the sweep and by this check. */
const SKIP_MARKER = ['@sweep', 'citations', 'skip'].join('-');
const SPEC_FILES = [
  'behaviour', 'protocols', 'media', 'hls', 'http-api', 'config', 'urls', 'quirks', 'tests',
  'clients-and-demos', 'http-notify', 'gb28181', 'architecture',
];

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir)) {
    if (e === 'node_modules' || e.startsWith('.')) continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (p.endsWith('.ts') || p.endsWith('.html')) out.push(p);
  }
  return out;
}

/** Heading keys of one docs file: the first word after the #'s (`5.4`, `Q-SUB-2`, `D-1`). */
function headingKeys(file: string): Set<string> {
  const keys = new Set<string>();
  let fenced = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const m = /^#{1,6} +(\S+?)[.:]?(?: |$)/.exec(line);
    if (m) keys.add(m[1]);
  }
  return keys;
}

const headings = new Map<string, Set<string>>();
function keysOf(doc: string): Set<string> | undefined {
  if (!headings.has(doc)) {
    const f = join(docsDir, doc);
    if (!existsSync(f)) return undefined;
    headings.set(doc, headingKeys(f));
  }
  return headings.get(doc);
}

type Cite = { where: string; doc: string; key: string; text: string };

/**
 * One token stream per line: a docs file name, a foreign document (RFC, ISO, "spec"), a `)` (ends
 * the parenthesis a citation usually sits in), or a `§` reference. A `§` belongs to the nearest
 * docs file before it on the line unless a foreign document or a `)` came in between.
 */
const TOKEN =
  /docs\/([a-z0-9-]+\.md)|\b(RFC|ISO|IEC|ITU|spec|draft|Annex)\b|(\))|§\s?(\d+(?:\.\d+)*)|§\s?(\S{0,12})/g;
const QUIRK = /(?<![\w/.-])(Q-[A-Z]+)-(\d+)((?:(?:\.\.|…|–|-|\/)\d+)*)/g;
const DECISION = /(?<![\w/.-])(D-\d+)\b/g;

function scan(): { cites: Cite[]; malformed: string[]; forbidden: string[] } {
  const cites: Cite[] = [];
  const malformed: string[] = [];
  const forbidden: string[] = [];
  const bare = new RegExp(`(?<![\\w/.-])(?:${SPEC_FILES.join('|')}|design)\\.md\\b`);
  for (const folder of FOLDERS) {
    for (const f of tsFiles(join(root, folder))) {
      const text = readFileSync(f, 'utf8');
      // this file and the sweep script name the very forms they forbid or rewrite
      if (resolve(f) === resolve(import.meta.path) || text.includes(SKIP_MARKER)) continue;
      const rel = relative(root, f);
      const lines = text.split('\n');
      let carry: string | undefined; // a docs file that ended the previous line
      lines.forEach((line, i) => {
        const where = `${rel}:${i + 1}`;
        if (bare.test(line)) forbidden.push(`${where}: bare spec/design file: ${line.trim().slice(0, 140)}`);
        if (/\.\.\/shared|shared\/spec|\/work\/shared/.test(line)) forbidden.push(`${where}: cites outside the repo: ${line.trim().slice(0, 140)}`);
        let doc: string | undefined = /^\s*(\*|\/\/)?\s*§/.test(line) ? carry : undefined;
        let lastWasDoc = false;
        for (const m of line.matchAll(TOKEN)) {
          if (m[1] !== undefined) {
            doc = m[1];
            lastWasDoc = true;
            if (keysOf(doc) === undefined) cites.push({ where, doc, key: '', text: m[0] });
            continue;
          }
          lastWasDoc = false;
          if (m[2] !== undefined || m[3] !== undefined) doc = undefined;
          else if (doc !== undefined && m[4] !== undefined) cites.push({ where, doc, key: m[4], text: `docs/${doc} §${m[4]}` });
          else if (doc !== undefined && m[5] !== undefined) malformed.push(`${where}: docs/${doc} §${m[5]} (not a section number)`);
        }
        carry = lastWasDoc ? doc : undefined;
        const namesQuirks = line.includes(`docs/${QUIRKS_PAGE}`);
        for (const m of line.matchAll(QUIRK)) {
          const nums = [Number(m[2])];
          // Q-API-1..4 / Q-RTSP-1…5 / Q-RTSP-1/2
          const tail = m[3];
          const range = /^(?:\.\.|…|–|-)(\d+)$/.exec(tail);
          if (range) for (let n = nums[0] + 1; n <= Number(range[1]); n++) nums.push(n);
          else for (const t of tail.matchAll(/\/(\d+)/g)) nums.push(Number(t[1]));
          for (const n of nums) cites.push({ where, doc: QUIRKS_PAGE, key: `${m[1]}-${n}`, text: `${m[1]}-${n}` });
        }
        if (namesQuirks) for (const m of line.matchAll(DECISION)) cites.push({ where, doc: QUIRKS_PAGE, key: m[1], text: m[1] });
      });
    }
  }
  return { cites, malformed, forbidden };
}

const { cites, malformed, forbidden } = scan();

describe('docs/ citations', () => {
  test('the scan found the citations (sanity)', () => {
    expect(existsSync(docsDir)).toBe(true);
    expect(cites.length).toBeGreaterThan(100);
  });

  test('every cited docs file and section exists', () => {
    const missing: string[] = [];
    for (const c of cites) {
      const keys = keysOf(c.doc);
      if (keys === undefined) missing.push(`${c.where}: docs/${c.doc} does not exist (${c.text})`);
      else if (c.key !== '' && !keys.has(c.key)) missing.push(`${c.where}: no heading "${c.key}" in docs/${c.doc}`);
    }
    expect([...new Set(missing)]).toEqual([]);
  });

  test('section references are numbers', () => {
    expect(malformed).toEqual([]);
  });

  test('no citation of files outside docs/ (bare spec names, design.md, ../shared)', () => {
    expect(forbidden).toEqual([]);
  });

  test('docs/README.md links only to files that exist', () => {
    const readme = join(docsDir, 'README.md');
    expect(existsSync(readme)).toBe(true);
    const broken: string[] = [];
    for (const m of readFileSync(readme, 'utf8').matchAll(/\]\(([^)#]+\.md)(#[^)]*)?\)/g)) {
      if (!existsSync(join(docsDir, m[1]))) broken.push(m[1]);
    }
    expect(broken).toEqual([]);
  });
});
