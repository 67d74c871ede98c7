// Unit tests for src/spec/workdir.ts: -w must be absolute and is normalised under /.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { usageMessage } from '../helpers/usage-error.js';
import { normaliseAbsolute, parseWorkdir } from '../../src/spec/workdir.js';


const good: Array<[string, string]> = [
  ['/', '/'],
  ['/app', '/app'],
  ['/app/', '/app'],
  ['/a/../b', '/b'],
  ['/a/./b/.', '/a/b'],
  ['/..', '/'],
  ['/../../etc', '/etc'],
  ['/a/b/../../..', '/'],
  ['//srv///www//', '/srv/www'],
  ['/with space/dir', '/with space/dir'],
  ['/unicodé/目录', '/unicodé/目录'],
  ['/.hidden', '/.hidden'],
  ['/a/...', '/a/...'],
];
for (const [input, want] of good) {
  test(`parseWorkdir ${JSON.stringify(input)} → ${want}`, () => {
    assert.is(parseWorkdir(input), want);
  });
}

const relative = ['', 'app', './app', '../app', '~/app', ' /app', '.', 'C:\\dir'];
for (const input of relative) {
  test(`parseWorkdir rejects relative ${JSON.stringify(input)}`, () => {
    assert.is(
      usageMessage(() => parseWorkdir(input)),
      `the working directory '${input}' is invalid, it needs to be an absolute path`,
    );
  });
}

test('parseWorkdir rejects a NUL byte', () => {
  assert.is(usageMessage(() => parseWorkdir('/a\0b')), 'invalid working directory "/a\\u0000b": contains a NUL byte');
  assert.throws(() => parseWorkdir('rel\0'), /NUL byte/);
});

test('normaliseAbsolute', () => {
  assert.is(normaliseAbsolute('/x/y/'), '/x/y');
  assert.is(normaliseAbsolute('/'), '/');
  assert.is(normaliseAbsolute('///'), '/');
});

test.run();
