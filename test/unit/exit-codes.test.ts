// Unit tests for docker's exit statuses outside `run` (src/core/errors.ts exitStatusFor) and the
// freezer file a container is paused with (src/runtime/freezer.ts freezeFile).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinidockError, exitStatusFor, flagError, usageError } from '../../src/core/errors.js';
import { freezeFile } from '../../src/runtime/freezer.js';

test('exitStatusFor: run and create keep 125; elsewhere 125 only for flag errors, 1 otherwise', () => {
  const usage = usageError('bad filter');
  assert.is(exitStatusFor('run', usage), 125);
  assert.is(exitStatusFor('create', usage), 125);
  assert.is(exitStatusFor('ps', usage), 1);
  assert.is(exitStatusFor('exec', new MinidockError('no such container: x', { step: 'state.not-found' })), 1);
  assert.is(exitStatusFor('ps', flagError('invalid argument "x" for "-n, --last" flag')), 125);
  assert.is(exitStatusFor('stop', new MinidockError('gone', { exitCode: 1 })), 1);
  assert.is(exitStatusFor('exec', new MinidockError('not found', { exitCode: 127 })), 127, 'the command\'s own codes pass through');
  assert.is(exitStatusFor('logs', new Error('plain')), 1);
  assert.is(exitStatusFor('run', new Error('plain')), 125);
});

test('freezeFile: v1\'s freezer.state, else v2\'s cgroup.freeze on a v2-only host, else none', () => {
  const v1 = { version: 1 as const, path: '/sys/fs/cgroup/freezer/m/x', controllers: ['freezer' as never] };
  const v2 = { version: 2 as const, path: '/sys/fs/cgroup/m/x', controllers: [] };
  assert.equal(freezeFile({ cgroup: [v1, v2] }), { file: '/sys/fs/cgroup/freezer/m/x/freezer.state', frozen: 'FROZEN', thawed: 'THAWED' });
  assert.equal(freezeFile({ cgroup: [v2] }), { file: '/sys/fs/cgroup/m/x/cgroup.freeze', frozen: '1', thawed: '0' });
  const memoryOnly = { version: 1 as const, path: '/sys/fs/cgroup/memory/m/x', controllers: ['memory' as never] };
  assert.is(freezeFile({ cgroup: [memoryOnly, v2] }), undefined, 'a hybrid host without a v1 freezer: its v2 tree is not the container\'s freezer');
  assert.is(freezeFile(undefined), undefined);
});

test.run();
