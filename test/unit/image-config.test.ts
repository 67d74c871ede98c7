// Unit tests for src/image/image-config.ts: a config as docker and buildah write it, and each
// field of the wrong shape refused with its name.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinidockError } from '../../src/core/errors.js';
import { parseImageConfig } from '../../src/image/image-config.js';

const D = (c: string): string => `sha256:${c.repeat(64)}`;
const base = (): Record<string, any> => ({
  architecture: 'amd64', os: 'linux', created: '2026-11-30T10:00:00Z', author: 'me',
  config: {
    Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'LANG=C.UTF-8'], Entrypoint: ['/docker-entrypoint.sh'], Cmd: ['nginx', '-g', 'daemon off;'],
    WorkingDir: '/srv', User: '101:101', ExposedPorts: { '80/tcp': {} }, StopSignal: 'SIGQUIT', Labels: { maintainer: 'x' }, Volumes: { '/var/cache/nginx': {} },
  },
  rootfs: { type: 'layers', diff_ids: [D('a'), D('b')] },
  history: [
    { created: '2026-11-30T09:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:abc in / ' },
    { created: '2026-11-30T09:00:01Z', created_by: '/bin/sh -c #(nop)  ENV LANG=C.UTF-8', empty_layer: true },
    { created: '2026-11-30T09:00:02Z', created_by: 'RUN apt-get install nginx', comment: 'buildkit.dockerfile.v0' },
  ],
});

test('a full config: run defaults in docker\'s names, the layers, the history', () => {
  const c = parseImageConfig(JSON.stringify(base()));
  assert.equal(c.config, {
    Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'LANG=C.UTF-8'], Entrypoint: ['/docker-entrypoint.sh'], Cmd: ['nginx', '-g', 'daemon off;'],
    WorkingDir: '/srv', User: '101:101', ExposedPorts: { '80/tcp': {} }, StopSignal: 'SIGQUIT', Labels: { maintainer: 'x' }, Volumes: ['/var/cache/nginx'],
  });
  assert.equal(c.diffIds, [D('a'), D('b')]);
  assert.equal(c.history.map((h) => h.emptyLayer), [false, true, false]);
  assert.is(c.history[2]!.comment, 'buildkit.dockerfile.v0');
  assert.is(c.architecture, 'amd64');
  assert.is(c.author, 'me');
});

test('a minimal config (umoci, a scratch image): nulls and absent fields are fine', () => {
  const c = parseImageConfig(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Env: null, Cmd: null, Volumes: null }, rootfs: { type: 'layers', diff_ids: [] } }));
  assert.equal(c.config, {});
  assert.equal(c.diffIds, []);
  assert.equal(c.history, []);
});

test('fields of the wrong shape are refused, one line naming the field', () => {
  const cases: Array<[(c: Record<string, any>) => void, RegExp]> = [
    [(c) => { c.config.Env = 'PATH=/bin'; }, /config.Env is not a list of strings/],
    [(c) => { c.config.Env = ['NOEQUALS']; }, /config.Env\[0\] "NOEQUALS" is not KEY=VALUE/],
    [(c) => { c.config.Cmd = [1]; }, /config.Cmd is not a list of strings/],
    [(c) => { c.config.User = 0; }, /config.User is not a string/],
    [(c) => { c.config.ExposedPorts = ['80/tcp']; }, /config.ExposedPorts is not an object/],
    [(c) => { c.config.Labels = { a: 1 }; }, /config.Labels is not an object of strings/],
    [(c) => { c.config.Volumes = { data: {} }; }, /config.Volumes "data" is not an absolute path/],
    [(c) => { c.rootfs = { type: 'other' }; }, /rootfs is not/],
    [(c) => { c.rootfs.diff_ids = ['sha256:../x']; }, /rootfs.diff_ids\[0\] .* is not a sha256 digest/],
    [(c) => { delete c.os; }, /architecture\/os are missing/],
    [(c) => { c.history = {}; }, /history is not a list/],
    [(c) => { c.history.push({ created_by: 'RUN x' }, { created_by: 'RUN y' }); }, /history names 4 layers, but rootfs.diff_ids has 2/],
  ];
  for (const [edit, re] of cases) {
    const c = base();
    edit(c);
    assert.throws(() => parseImageConfig(JSON.stringify(c)), (e: unknown) => e instanceof MinidockError && re.test(e.message) && e.exitCode === 1 && !e.message.includes('\n'), String(re));
  }
  assert.throws(() => parseImageConfig('{'), /is not JSON/);
  assert.throws(() => parseImageConfig('[]'), /is not a JSON object/);
});

test.run();
