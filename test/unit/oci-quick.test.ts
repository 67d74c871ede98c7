// src/oci/cli.ts quickParse: the commander-free parse of start, state, kill and delete, and
// everything it must leave to commander (which then gives runc's messages and exit codes).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resolve } from 'node:path';
import { quickParse } from '../../src/oci/cli.js';

const DEFAULTS = { root: '/run/minidock-runc', logFormat: 'text', debug: false, systemdCgroup: false };

test('what conmon and containerd\'s shim send: globals, then the command', () => {
  assert.equal(quickParse(['start', 'abc']), { g: DEFAULTS, q: { cmd: 'start', id: 'abc' } });
  assert.equal(quickParse(['--root', '/r', 'state', 'abc'])?.q, { cmd: 'state', id: 'abc' });
  assert.is(quickParse(['--root=/r', 'state', 'abc'])?.g.root, '/r');
  assert.is(quickParse(['--root', 'rel', 'state', 'abc'])?.g.root, resolve('rel'));
  assert.equal(quickParse(['--root', '/r', '--log', '/r/log.json', '--log-format', 'json', 'delete', '--force', 'abc']), {
    g: { root: '/r', log: '/r/log.json', logFormat: 'json', debug: false, systemdCgroup: false },
    q: { cmd: 'delete', id: 'abc', force: true },
  });
  assert.equal(quickParse(['--debug', '--systemd-cgroup', 'delete', 'abc'])?.g, { ...DEFAULTS, debug: true, systemdCgroup: true });
  assert.equal(quickParse(['delete', '-f', 'abc'])?.q, { cmd: 'delete', id: 'abc', force: true });
  assert.equal(quickParse(['kill', 'abc'])?.q, { cmd: 'kill', id: 'abc', all: false, signal: 'SIGTERM' });
  assert.equal(quickParse(['kill', 'abc', '9'])?.q, { cmd: 'kill', id: 'abc', all: false, signal: '9' });
  assert.equal(quickParse(['kill', '--all', 'abc', 'KILL'])?.q, { cmd: 'kill', id: 'abc', all: true, signal: 'KILL' });
  assert.equal(quickParse(['kill', 'abc', '-a', 'TERM'])?.q, { cmd: 'kill', id: 'abc', all: true, signal: 'TERM' });
});

test('anything else is commander\'s: help, other commands, unknown flags, missing or extra operands, bad values', () => {
  for (const argv of [
    [], ['--help'], ['-v'], ['--version'], ['start'], ['start', '--help'], ['start', 'a', 'b'], ['state', '-x', 'a'],
    ['delete'], ['delete', '--force=true', 'a'], ['delete', 'a', 'b'], ['kill'], ['kill', 'a', 'b', 'c'], ['kill', 'a', '-9'],
    ['--root'], ['--root=', 'state', 'a'], ['--log-format', 'xml', 'state', 'a'], ['--log-format=yaml', 'state', 'a'],
    ['--debug=1', 'state', 'a'], ['--rootless', 'true', 'state', 'a'], ['--bogus', 'state', 'a'],
    ['create', 'a'], ['run', 'a'], ['exec', 'a', 'sh'], ['list'], ['spec'], ['features'], ['ps', 'a'], ['update', 'a'], ['pause', 'a'],
  ]) assert.is(quickParse(argv), undefined, argv.join(' '));
});

test.run();
