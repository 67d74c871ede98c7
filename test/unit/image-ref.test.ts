// Unit tests for src/spec/image-ref.ts: docker's NAME[:TAG] grammar and path detection.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectUsageError } from '../helpers/usage-error.js';
import { formatImageRef, looksLikePath, parseImageRef } from '../../src/spec/image-ref.js';


const good: Array<[string, string, string]> = [
  ['alpine', 'alpine', 'latest'],
  ['alpine:3.19', 'alpine', '3.19'],
  ['alpine:latest', 'alpine', 'latest'],
  ['my-app', 'my-app', 'latest'],
  ['my--app', 'my--app', 'latest'],
  ['my_app', 'my_app', 'latest'],
  ['my__app', 'my__app', 'latest'],
  ['my.app', 'my.app', 'latest'],
  ['a', 'a', 'latest'],
  ['0', '0', 'latest'],
  ['library/alpine', 'library/alpine', 'latest'],
  ['org/team/app:v1', 'org/team/app', 'v1'],
  ['app:V1_final-2.x', 'app', 'V1_final-2.x'],
  ['app:_tag', 'app', '_tag'],
  ['app:' + 't'.repeat(128), 'app', 't'.repeat(128)],
  ['localhost/app', 'localhost/app', 'latest'],
  ['localhost:5000/app', 'localhost:5000/app', 'latest'],
  ['localhost:5000/app:1.0', 'localhost:5000/app', '1.0'],
  ['registry.example.com/team/app:prod', 'registry.example.com/team/app', 'prod'],
  ['Registry.Example.com/app', 'Registry.Example.com/app', 'latest'],
  ['my-registry:443/app', 'my-registry:443/app', 'latest'],
  ['[::1]:5000/app:x', '[::1]:5000/app', 'x'],
  ['docker.io/library/alpine', 'docker.io/library/alpine', 'latest'],
  ['a'.repeat(255), 'a'.repeat(255), 'latest'],
  ['0123456789abcdef'.repeat(4) + 'a', '0123456789abcdef'.repeat(4) + 'a', 'latest'],
];
for (const [ref, name, tag] of good) {
  test(`parseImageRef ${JSON.stringify(ref.slice(0, 50))}`, () => {
    assert.equal(parseImageRef(ref), { name, tag });
  });
}

const plainBad = [
  '',
  'foo:',
  ':tag',
  ':',
  'foo:../../x',
  'foo:a/b',
  'app:' + 't'.repeat(129),
  'app:.tag',
  'app:-tag',
  'app:t@g',
  'app:t a',
  '-app',
  'app-',
  '_app',
  'app_',
  '.app',
  'app.',
  'a___b',
  'a._b',
  'a b',
  'app/',
  '/app',
  'a//b',
  'a/../b',
  './app',
  '../app',
  'localhost:port/app',
  '-bad.host/app',
  'bad-.host/app',
  'host:5000/',
  'app:tag:more',
  'app\n',
  'äpp',
];
for (const ref of plainBad) {
  test(`parseImageRef rejects ${JSON.stringify(ref.slice(0, 50))}`, () => {
    assert.is(expectUsageError(() => parseImageRef(ref)).message, `invalid reference format: ${JSON.stringify(ref)}`);
  });
}

test('parseImageRef rejects digests with a hint', () => {
  const ref = 'foo@sha256:' + 'a'.repeat(64);
  const err = expectUsageError(() => parseImageRef(ref));
  assert.is(err.message, `invalid reference format: ${JSON.stringify(ref)}`);
  assert.ok(err.hint?.includes('digest'));
  assert.is(expectUsageError(() => parseImageRef('foo:tag@sha256:abc')).message, 'invalid reference format: "foo:tag@sha256:abc"');
});

const upper: Array<[string, string]> = [
  ['Foo:bar', 'Foo'],
  ['Foo', 'Foo'],
  ['library/Alpine', 'library/Alpine'],
  ['localhost:5000/App:1', 'localhost:5000/App'],
  ['myApp', 'myApp'],
];
for (const [ref, name] of upper) {
  test(`parseImageRef says ${JSON.stringify(ref)} must be lowercase`, () => {
    assert.is(
      expectUsageError(() => parseImageRef(ref)).message,
      `invalid reference format: repository name ${JSON.stringify(name)} must be lowercase`,
    );
  });
}

test('parseImageRef rejects names over 255 characters', () => {
  const ref = 'a'.repeat(256) + ':v';
  assert.is(
    expectUsageError(() => parseImageRef(ref)).message,
    'invalid reference format: repository name must not be more than 255 characters',
  );
  assert.throws(() => parseImageRef(`${'a'.repeat(200)}/${'b'.repeat(55)}`), /more than 255/);
});

test('parseImageRef rejects a 64-hex name (it would read as an id)', () => {
  const hex = '0123456789abcdef'.repeat(4);
  assert.is(
    expectUsageError(() => parseImageRef(hex)).message,
    `invalid reference format: repository name "${hex}" cannot be a 64-byte hexadecimal string`,
  );
  assert.throws(() => parseImageRef(`${hex}:v1`), /64-byte hexadecimal/);
});

test('formatImageRef round-trips', () => {
  assert.is(formatImageRef({ name: 'alpine', tag: 'latest' }), 'alpine:latest');
  assert.is(formatImageRef({ name: 'localhost:5000/app', tag: '1.0' }), 'localhost:5000/app:1.0');
  for (const [ref] of good) {
    const parsed = parseImageRef(ref);
    assert.equal(parseImageRef(formatImageRef(parsed)), parsed);
  }
});

const paths: Array<[string, boolean]> = [
  ['./rootfs', true],
  ['../img.tar', true],
  ['.', true],
  ['..', true],
  ['.hidden', true],
  ['/abs/path', true],
  ['dir/', true],
  ['org/app', true],
  ['image.tar', true],
  ['image.tar.gz', true],
  ['image.tgz', true],
  ['image.tar.xz', true],
  ['IMAGE.TAR', true],
  ['alpine', false],
  ['alpine:3.19', false],
  ['my.app', false],
  ['tarball', false],
  ['image.targz', false],
  ['image.gz', false],
  ['app:tar', false],
  ['', false],
];
for (const [s, want] of paths) {
  test(`looksLikePath ${JSON.stringify(s)} → ${want}`, () => {
    assert.is(looksLikePath(s), want);
  });
}

test.run();
