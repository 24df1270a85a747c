/** parseSimpleArgs agrees with citty's parseArgs on what it accepts, refuses the rest; runSimple. */
import { describe, expect, test } from 'bun:test';
import { parseArgs, type ArgsDef, type CommandDef } from 'citty';
import { parseSimpleArgs, runSimple, type CommandLoaders } from './_args.ts';
import { SUBCOMMANDS } from './_subcommands.ts';

const commands: Record<string, CommandDef<ArgsDef>> = {};
for (const [name, load] of Object.entries(SUBCOMMANDS)) commands[name] = await load();
const argsOf = (name: string) => commands[name].args as ArgsDef;

/** citty's result as a plain object (it returns a Proxy), or 'throws'. */
function citty(argv: string[], def: ArgsDef): Record<string, unknown> | 'throws' {
  try {
    return { ...parseArgs(argv, def) };
  } catch {
    return 'throws';
  }
}

/** parseSimpleArgs's answer as a plain record, for assertions. */
function simple(def: ArgsDef, argv: string[]): Record<string, unknown> | undefined {
  const r = parseSimpleArgs(def, argv);
  return r === undefined ? undefined : { ...r };
}

/** When parseSimpleArgs accepts argv, its result must be exactly citty's. */
function expectAgrees(def: ArgsDef, argv: string[]): boolean {
  const mine = parseSimpleArgs(def, argv);
  if (mine === undefined) return false;
  expect({ argv, out: citty(argv, def) }).toStrictEqual({ argv, out: { ...mine } });
  return true;
}

// Real commands: argv vectors the fast path must accept (and match citty on).
const accepted: [string, string[]][] = [
  ['remux', ['-i', 'in.flv', '-o', 'out.ts']],
  ['remux', ['--input', 'in.flv', '--output', 'out.ts']],
  ['remux', ['-o', 'out/x.m3u8', '-i', 'rtmp://h/app/s', '-d', '2000', '-n', '3']],
  ['remux', ['-i', 'in.flv', '-o', 'out.ts', '--duration', '500', '--num', '4']],
  ['remux', ['-i', '', '-o', 'out.ts']],
  ['remux', ['-i', 'a b', '-o', 'c=d']],
  ['serve', []],
  ['serve', ['-c', 'conf/lalserver.conf.json']],
  ['serve', ['--config', 'x.json', '-p', '/tmp']],
  ['serve', ['--dir', '/tmp']],
  ['bench', ['-i', 'rtmp://h/a/s']],
  ['bench', ['-i', 'rtmp://h/a/s', '-n', '10', '--n', '11'].slice(0, 4)],
  ['bench', ['--input', 'rtsp://h/a/s', '--n', '5', '-d', '3', '--ramp', '50', '--bitrate', '800', '--json']],
  ['push', ['-i', 'f.flv', '-o', 'rtmp://h/a/s']],
  ['push', ['-i', 'f.flv', '-o', 'rtmp://h/a/s', '--realtime', '--loop', '2']],
  ['pull', ['-i', 'rtmp://h/a/s']],
  ['pull', ['-i', 'http://h/a/s.flv', '-o', 'x.flv', '-d', '5']],
];

// Real commands: argv vectors left to citty (usage, errors or citty's own reading of them).
const refused: [string, string[]][] = [
  ['remux', []],
  ['remux', ['-i', 'in.flv']],
  ['remux', ['-i', 'in.flv', '-o']],
  ['remux', ['-i', '-o', 'out.ts']],
  ['remux', ['-i', 'in.flv', '-o', 'out.ts', '--help']],
  ['remux', ['-h', '-i', 'in.flv', '-o', 'out.ts']],
  ['remux', ['-i', 'in.flv', '-o', 'out.ts', '--version']],
  ['remux', ['-i', 'in.flv', '-o', 'out.ts', '-x']],
  ['remux', ['-i', 'in.flv', '-o', 'out.ts', '--bogus', '1']],
  ['remux', ['-i', 'in.flv', '-o', 'out.ts', 'extra']],
  ['remux', ['-i', 'in.flv', '-o', 'out.ts', '--']],
  ['remux', ['--', '-i', 'in.flv', '-o', 'out.ts']],
  ['remux', ['-i', 'in.flv', '-o', 'out.ts', '-i', 'again.flv']],
  ['remux', ['-i', 'in.flv', '--input', 'again.flv', '-o', 'out.ts']],
  ['remux', ['--input=in.flv', '-o', 'out.ts']],
  ['remux', ['-iin.flv', '-o', 'out.ts']],
  ['remux', ['-i=in.flv', '-o', 'out.ts']],
  ['remux', ['--i', 'in.flv', '-o', 'out.ts']],
  ['remux', ['-i', 'in.flv', '-o', 'out.ts', '-d', '-5']],
  ['remux', ['-i', 'in.flv', '-o', 'out.ts', '-']],
  ['remux', ['-io', 'in.flv', 'out.ts']],
  ['push', ['-i', 'f.flv', '-o', 'rtmp://h/a/s', '--no-realtime']],
  ['push', ['-i', 'f.flv', '-o', 'rtmp://h/a/s', '--realtime=false']],
  ['push', ['-i', 'f.flv', '-o', 'rtmp://h/a/s', '--loop', '-1']],
  ['push', ['-i', 'f.flv', '-o', 'rtmp://h/a/s', '--realtime', '--realtime']],
  ['serve', ['-c']],
  ['serve', ['x.json']],
  ['serve', ['--help']],
  ['bench', ['-i', 'rtmp://h/a/s', '--json', 'extra']],
  ['bench', ['--n']],
];

describe('parseSimpleArgs on the real commands', () => {
  test.each(accepted)('%s %p: accepted, equal to citty', (name, argv) => {
    expect(expectAgrees(argsOf(name), argv)).toBe(true);
  });

  test.each(refused)('%s %p: left to citty', (name, argv) => {
    expect(parseSimpleArgs(argsOf(name), argv)).toBeUndefined();
  });

  test('aliases and defaults are set under every name, as citty does', () => {
    expect(simple(argsOf('remux'), ['-i', 'a.flv', '-o', 'b.ts'])).toStrictEqual({
      _: [],
      input: 'a.flv',
      i: 'a.flv',
      output: 'b.ts',
      o: 'b.ts',
      duration: '3000',
      d: '3000',
      num: '6',
      n: '6',
    });
    expect(parseSimpleArgs(argsOf('push'), ['-i', 'f', '-o', 'rtmp://h/a/s'])).toMatchObject({ realtime: true, loop: '0' });
    expect(parseSimpleArgs(argsOf('bench'), ['-i', 'u'])).toMatchObject({ json: false, n: '100' });
  });
});

// Synthetic definitions for the cases no command uses yet (kebab names, positionals, …).
const synthetic: Record<string, ArgsDef> = {
  kebab: {
    'log-level': { type: 'string', alias: 'l', default: 'info' },
    'dry-run': { type: 'boolean' },
    'max-2x': { type: 'string' },
  },
  positional: {
    src: { type: 'positional', description: 'source' },
    dst: { type: 'positional', required: false },
    fmt: { type: 'positional', default: 'flv' },
    verbose: { type: 'boolean', alias: 'v' },
  },
  twoShorts: { x: { type: 'string', alias: ['long', 'a', 'b'], default: 'd' }, y: { type: 'boolean', alias: ['y'] } },
  selfAlias: { n: { type: 'string', alias: 'n', default: '1' }, q: { type: 'boolean', default: true } },
  required: { must: { type: 'boolean', required: true }, s: { type: 'string', required: true, default: 'z' } },
};
const unsupported: Record<string, ArgsDef> = {
  enum: { mode: { type: 'enum', options: ['a', 'b'] } },
  untyped: { thing: { description: 'no type' } },
  camelName: { logLevel: { type: 'string' } },
  underscore: { _: { type: 'string' } },
  clash: { a: { type: 'string', alias: 'b' }, b: { type: 'string' } },
  camelClash: { 'log-level': { type: 'string' }, other: { type: 'string', alias: 'logLevel' } },
  badDefault: { s: { type: 'string', default: true as unknown as string } },
  oddAlias: { s: { type: 'string', alias: 's=' } },
};

describe('parseSimpleArgs on synthetic definitions', () => {
  test('kebab-case names are also set in camelCase, like citty', () => {
    const def = synthetic.kebab;
    expect(simple(def, [])).toStrictEqual({ _: [], 'log-level': 'info', l: 'info', logLevel: 'info' });
    expect(expectAgrees(def, ['--log-level', 'debug', '--dry-run', '--max-2x', '3'])).toBe(true);
    expect(parseSimpleArgs(def, ['--logLevel', 'debug'])).toBeUndefined();
    expect(parseSimpleArgs(def, ['--log_level', 'debug'])).toBeUndefined();
  });

  test('positionals fill declared positional args in order; extra or missing required ones refuse', () => {
    const def = synthetic.positional;
    expect(expectAgrees(def, ['a'])).toBe(true);
    expect(expectAgrees(def, ['a', 'b', 'c', '-v'])).toBe(true);
    expect(simple(def, ['a', '-v', 'b'])).toStrictEqual({ _: ['a', 'b'], src: 'a', dst: 'b', fmt: 'flv', verbose: true, v: true });
    expect(parseSimpleArgs(def, [])).toBeUndefined();
    expect(parseSimpleArgs(def, ['a', 'b', 'c', 'd'])).toBeUndefined();
  });

  test('only the first one-letter alias is a short flag', () => {
    const def = synthetic.twoShorts;
    expect(expectAgrees(def, ['-a', '1'])).toBe(true);
    expect(parseSimpleArgs(def, ['-b', '1'])).toBeUndefined();
    expect(parseSimpleArgs(def, ['--long', '1'])).toBeUndefined();
    expect(expectAgrees(def, ['-y'])).toBe(true);
  });

  test('required args', () => {
    expect(parseSimpleArgs(synthetic.required, [])).toBeUndefined();
    expect(expectAgrees(synthetic.required, ['--must'])).toBe(true);
    expect(citty([], synthetic.required)).toBe('throws');
  });

  test.each(Object.entries(unsupported))('%s: left to citty', (_, def) => {
    expect(parseSimpleArgs(def, [])).toBeUndefined();
  });
});

/** mulberry32: a tiny seeded PRNG so the random argv vectors are the same on every run. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('random argv vectors: whenever parseSimpleArgs answers, citty answers the same', () => {
  const rand = mulberry32(0x1a1);
  const defs: [string, ArgsDef][] = [...Object.keys(commands).map((n) => [n, argsOf(n)] as [string, ArgsDef]), ...Object.entries(synthetic)];
  let accepted = 0;
  let total = 0;
  for (const [, def] of defs) {
    const pool = ['x', '', '-', '--', '-h', '--help', '--version', '--no-x', '-1', 'a=b', '--bogus', '-z'];
    for (const [name, arg] of Object.entries(def)) {
      pool.push(`--${name}`, `--${name}=v`, `--no-${name}`);
      const aliases = 'alias' in arg && arg.alias !== undefined ? [arg.alias].flat() : [];
      for (const a of aliases) pool.push(`-${a}`, `--${a}`);
    }
    for (let k = 0; k < 400; k++) {
      const argv = Array.from({ length: Math.floor(rand() * 7) }, () => pool[Math.floor(rand() * pool.length)]);
      total++;
      if (expectAgrees(def, argv)) accepted++;
    }
  }
  expect(total).toBe(defs.length * 400);
  expect(accepted).toBeGreaterThan(50); // the property was exercised, not vacuous
});

describe('runSimple', () => {
  const calls: unknown[] = [];
  const cmd: CommandDef<ArgsDef> = {
    meta: { name: 'demo' },
    args: { input: { type: 'string', alias: 'i', required: true } },
    run: (ctx) => {
      calls.push(ctx);
    },
  };
  const loaders: CommandLoaders = {
    demo: async () => cmd,
    broken: () => Promise.reject(new Error('no module')),
    withSetup: async () => ({ ...cmd, setup: () => {} }),
    noRun: async () => ({ meta: { name: 'x' } }),
    lazyArgs: async () => ({ ...cmd, args: () => ({}) }),
  };

  test('runs a plain invocation with citty\'s context', async () => {
    calls.length = 0;
    expect(await runSimple(['demo', '-i', 'a'], loaders)).toBe(true);
    expect(calls).toEqual([{ rawArgs: ['-i', 'a'], args: { _: [], input: 'a', i: 'a' }, data: undefined, cmd }]);
  });

  test.each([
    [[]],
    [['--help']],
    [['toString']],
    [['nope', '-i', 'a']],
    [['demo']],
    [['demo', '-i', 'a', '-h']],
    [['demo', '-i', 'a', '--no-color']],
    [['broken', '-i', 'a']],
    [['withSetup', '-i', 'a']],
    [['noRun']],
    [['lazyArgs', '-i', 'a']],
  ] as string[][][])('%p is left to citty, nothing run', async (argv) => {
    calls.length = 0;
    expect(await runSimple(argv, loaders)).toBe(false);
    expect(calls).toEqual([]);
  });
});
