// Unit tests for src/image/layer-ids.ts: chain ids as image-spec defines them (checked against
// coreutils' sha256sum, an implementation of its own), and overlay's one-page mount data.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { MinidockError } from '../../src/core/errors.js';
import { MOUNT_DATA_MAX, chainIds, overlayMountData } from '../../src/image/layer-ids.js';

const sha = (t: string): string => createHash('sha256').update(t).digest('hex');
const sha256sum = (t: string): string => spawnSync('sha256sum', { input: t }).stdout.toString().split(' ')[0]!;
const D = (c: string): string => `sha256:${c.repeat(64)}`;

test('chain ids: the first is its diff id, each next one hashes the one below, a space and its diff id', () => {
  const ids = chainIds([D('a'), D('b'), D('c')], sha);
  assert.is(ids[0], D('a'));
  assert.is(ids[1], `sha256:${sha256sum(`${D('a')} ${D('b')}`)}`);
  assert.is(ids[2], `sha256:${sha256sum(`${ids[1]} ${D('c')}`)}`);
  // The same top layer over another base is another chain: not shared.
  assert.is.not(chainIds([D('e'), D('b')], sha)[1], ids[1]);
  assert.equal(chainIds([], sha), []);
  assert.throws(() => chainIds([D('a'), 'md5:abc'], sha), (e: unknown) => e instanceof MinidockError && /diff_ids\[1\]/.test(e.message));
});

test('overlay mount data: top layer first; a page at most, with an error that says so; no separators in paths', () => {
  assert.is(overlayMountData(['/s/l/B', '/s/l/A'], '/c/upper', '/c/work'), 'lowerdir=/s/l/B:/s/l/A,upperdir=/c/upper,workdir=/c/work,userxattr');
  // 120 layers under short names fit (docker's l/<26 chars>); the same under full digests do not.
  const short = Array.from({ length: 120 }, (_, i) => `/var/lib/minidock/l/${String(i).padStart(12, '0')}`);
  assert.ok(overlayMountData(short, '/u', '/w').length <= MOUNT_DATA_MAX);
  const long = Array.from({ length: 120 }, (_, i) => `/var/lib/minidock/layers/sha256/${sha(String(i))}/diff`);
  assert.throws(() => overlayMountData(long, '/u', '/w'), (e: unknown) => e instanceof MinidockError && /120 layers do not fit overlayfs's mount options/.test(e.message) && e.exitCode === 1);
  assert.throws(() => overlayMountData(['/a:b'], '/u', '/w'), /cannot be used as an overlay layer/);
  assert.throws(() => overlayMountData([], '/u', '/w'), /no layer/);
});

test.run();
