// Unit tests for src/spec/env.ts: docker's -e and --env-file forms, layering, size limits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { usageMessage } from '../helpers/usage-error.js';
import {
  DEFAULT_PATH,
  ENV_ENTRY_MAX_BYTES,
  ENV_MAX_BYTES,
  checkEnvSize,
  containerEnv,
  defaultEnv,
  mergeEnv,
  parseEnvFile,
  parseEnvFlag,
  splitEnvEntry,
} from '../../src/spec/env.js';


const caller = { HOME: '/home/me', EMPTY: '', LANG: 'C.UTF-8', UNSET: undefined };

const flagCases: Array<[string, [string, string] | null]> = [
  ['A=1', ['A', '1']],
  ['A=', ['A', '']],
  ['A==b', ['A', '=b']],
  ['URL=http://x/?a=1&b=2', ['URL', 'http://x/?a=1&b=2']],
  ['A= spaced value ', ['A', ' spaced value ']],
  ['lower_case.dots-ok=1', ['lower_case.dots-ok', '1']],
  ['LANG', ['LANG', 'C.UTF-8']],
  ['EMPTY', ['EMPTY', '']],
  ['NOT_THERE', null],
  ['UNSET', null],
  ['ÜNICODE=ü', ['ÜNICODE', 'ü']],
];
for (const [input, want] of flagCases) {
  test(`parseEnvFlag ${JSON.stringify(input)}`, () => {
    assert.equal(parseEnvFlag(input, caller), want);
  });
}

const badFlags: Array<[string, string]> = [
  ['', 'invalid environment variable "": empty name'],
  ['=v', 'invalid environment variable "=v": empty name'],
  ['=', 'invalid environment variable "=": empty name'],
  ['a b=1', `invalid environment variable "a b=1": variable 'a b' contains whitespaces`],
  [' A=1', `invalid environment variable " A=1": variable ' A' contains whitespaces`],
  ['A\t=1', `invalid environment variable "A\\t=1": variable 'A\t' contains whitespaces`],
  ['a b', `invalid environment variable "a b": variable 'a b' contains whitespaces`],
  ['A=x\0y', 'invalid environment variable "A=x\\u0000y": contains a NUL byte'],
  ['A\0=1', 'invalid environment variable "A\\u0000=1": contains a NUL byte'],
];
for (const [input, want] of badFlags) {
  test(`parseEnvFlag rejects ${JSON.stringify(input)}`, () => {
    assert.is(usageMessage(() => parseEnvFlag(input, caller)), want);
  });
}

test('parseEnvFlag never reads process.env', () => {
  assert.is(parseEnvFlag('PATH', {}), null);
});

test('parseEnvFile: the docker forms', () => {
  const text = [
    '# a comment',
    '',
    '   ',
    'A=1',
    '  B=two words  ',
    '\tC=',
    'D==x',
    'LANG',
    'MISSING',
    '  # indented comment',
    'E="quoted"',
    "F='single'",
    'G=#not a comment',
  ].join('\n');
  assert.equal(parseEnvFile(text, 'x.env', caller), [
    ['A', '1'],
    ['B', 'two words  '],
    ['C', ''],
    ['D', '=x'],
    ['LANG', 'C.UTF-8'],
    ['E', '"quoted"'],
    ['F', "'single'"],
    ['G', '#not a comment'],
  ]);
});

test('parseEnvFile: CRLF line endings are stripped', () => {
  assert.equal(parseEnvFile('A=1\r\nB=2\r\n', 'f', {}), [
    ['A', '1'],
    ['B', '2'],
  ]);
});

test('parseEnvFile: a lone CR inside a value is kept', () => {
  assert.equal(parseEnvFile('A=x\ry\n', 'f', {}), [['A', 'x\ry']]);
});

test('parseEnvFile: a UTF-8 BOM before the first name is dropped', () => {
  assert.equal(parseEnvFile('\uFEFFA=1\n', 'f', {}), [['A', '1']]);
});

test('parseEnvFile: empty text and comment-only text give nothing', () => {
  assert.equal(parseEnvFile('', 'f', {}), []);
  assert.equal(parseEnvFile('# only\n\n', 'f', {}), []);
});

test('parseEnvFile: later duplicates are kept in order (mergeEnv resolves them)', () => {
  assert.equal(parseEnvFile('A=1\nA=2', 'f', {}), [
    ['A', '1'],
    ['A', '2'],
  ]);
});

const badFiles: Array<[string, string]> = [
  ['A=1\nB=2\nexport C=3\n', `invalid line 3 in env file x.env: variable 'export C' contains whitespaces`],
  ['=v', 'invalid line 1 in env file x.env: empty name'],
  ['# c\n\n=v', 'invalid line 3 in env file x.env: empty name'],
  ['A=1\nB=x\0y', 'invalid line 2 in env file x.env: contains a NUL byte'],
  ['A=1\r\nB C=2\r\n', `invalid line 2 in env file x.env: variable 'B C' contains whitespaces`],
  ['NAME   ', `invalid line 1 in env file x.env: variable 'NAME   ' contains whitespaces`],
];
for (const [text, want] of badFiles) {
  test(`parseEnvFile rejects ${JSON.stringify(text)}`, () => {
    assert.is(usageMessage(() => parseEnvFile(text, 'x.env', {})), want);
  });
}

test('splitEnvEntry', () => {
  assert.equal(splitEnvEntry('A=1'), ['A', '1']);
  assert.equal(splitEnvEntry('A=b=c'), ['A', 'b=c']);
  assert.equal(splitEnvEntry('A='), ['A', '']);
  assert.equal(splitEnvEntry('A'), ['A', '']);
});

test('mergeEnv: later layers override in place, new names append', () => {
  const defaults: Array<[string, string]> = [
    ['PATH', '/bin'],
    ['HOSTNAME', 'h'],
  ];
  const image: Array<[string, string]> = [
    ['LANG', 'C'],
    ['PATH', '/opt/bin'],
  ];
  const cli: Array<[string, string]> = [
    ['HOSTNAME', 'mine'],
    ['X', '1'],
  ];
  assert.equal(mergeEnv(defaults, image, cli), ['PATH=/opt/bin', 'HOSTNAME=mine', 'LANG=C', 'X=1']);
});

test('mergeEnv: duplicates inside one layer keep the last value at the first position', () => {
  assert.equal(
    mergeEnv([
      ['A', '1'],
      ['B', '2'],
      ['A', '3'],
    ]),
    ['A=3', 'B=2'],
  );
});

test('mergeEnv: no layers and empty layers', () => {
  assert.equal(mergeEnv(), []);
  assert.equal(mergeEnv([], []), []);
});

test('mergeEnv: empty values survive', () => {
  assert.equal(mergeEnv([['A', 'x']], [['A', '']]), ['A=']);
});

test('defaultEnv without a tty', () => {
  assert.equal(defaultEnv({ hostname: 'abc123', home: '/root', tty: false }), [
    ['PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    ['HOSTNAME', 'abc123'],
    ['HOME', '/root'],
  ]);
});

test('defaultEnv with a tty adds TERM=xterm', () => {
  const env = defaultEnv({ hostname: 'h', home: '/', tty: true });
  assert.equal(env, [
    ['PATH', DEFAULT_PATH],
    ['HOSTNAME', 'h'],
    ['TERM', 'xterm'],
    ['HOME', '/'],
  ]);
});

test("containerEnv: docker's order, image PATH wins, HOME appended last", () => {
  const env = containerEnv({
    hostname: 'h',
    home: '/root',
    tty: true,
    imageEnv: ['PATH=/custom', 'LANG=C.UTF-8'],
    cliEnv: [['FOO', 'bar']],
  });
  assert.equal(env, ['PATH=/custom', 'HOSTNAME=h', 'TERM=xterm', 'LANG=C.UTF-8', 'FOO=bar', 'HOME=/root']);
});

test('containerEnv: -e overrides image and defaults; an explicit HOME is not duplicated', () => {
  const env = containerEnv({
    hostname: 'h',
    home: '/root',
    tty: false,
    imageEnv: ['HOME=/img', 'A=image'],
    cliEnv: [
      ['A', 'cli'],
      ['TERM', 'dumb'],
      ['HOSTNAME', 'x'],
    ],
  });
  assert.equal(env, [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=x', 'HOME=/img', 'A=cli', 'TERM=dumb']);
});

/** Entries of 1000 bytes (+ NUL) filling `total` bytes but for a remainder of at least 4. */
function fill(total: number): string[] {
  const entry = `A=${'x'.repeat(998)}`;
  const n = Math.floor((total - 4) / 1001);
  return Array.from({ length: n }, () => entry);
}
const filled = (env: string[]): number => env.reduce((sum, e) => sum + Buffer.byteLength(e) + 1, 0);

test('checkEnvSize accepts an environment of exactly ENV_MAX_BYTES', () => {
  const env = fill(ENV_MAX_BYTES);
  env.push(`B=${'y'.repeat(ENV_MAX_BYTES - filled(env) - 3)}`); // "B=" + value + NUL
  assert.is(filled(env), ENV_MAX_BYTES);
  checkEnvSize(env);
  checkEnvSize([]);
});

test('checkEnvSize rejects one byte over the total', () => {
  const env = fill(ENV_MAX_BYTES);
  env.push(`B=${'y'.repeat(ENV_MAX_BYTES - filled(env) - 2)}`);
  assert.is(
    usageMessage(() => checkEnvSize(env)),
    `environment too large (${ENV_MAX_BYTES + 1} bytes, max ${ENV_MAX_BYTES})`,
  );
});

test('checkEnvSize counts UTF-8 bytes, not characters', () => {
  const value = 'é'.repeat(ENV_ENTRY_MAX_BYTES / 2); // 2 bytes each: over the per-entry cap
  assert.is(
    usageMessage(() => checkEnvSize([`E=${value}`])),
    `environment variable "E" too large (${ENV_ENTRY_MAX_BYTES + 3} bytes, max ${ENV_ENTRY_MAX_BYTES})`,
  );
  checkEnvSize([`E=${'e'.repeat(ENV_ENTRY_MAX_BYTES / 2)}`]);
});

test('ENV_MAX_BYTES is 1 MiB', () => {
  assert.is(ENV_MAX_BYTES, 1048576);
});

test.run();
