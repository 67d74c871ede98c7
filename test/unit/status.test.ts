// The lifecycle rules of src/runtime/status.ts: what each state allows, and docker's refusals.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinidockError } from '../../src/core/errors.js';
import { canExec, canRemove, canStart, canStop, check, refusal } from '../../src/runtime/status.js';
import type { ContainerRecord } from '../../src/runtime/state.js';

const rec = (status: 'created' | 'running' | 'exited' | undefined, broken?: string): ContainerRecord => ({
  id: 'a'.repeat(64),
  broken,
  spec: broken ? undefined : ({ name: 'web' } as ContainerRecord['spec']),
  state: status ? { status } : undefined,
});

const table: Array<[string, ContainerRecord, { start: boolean; stop: boolean; exec: boolean; rm: boolean; rmf: boolean }]> = [
  ['created', rec('created'), { start: true, stop: false, exec: false, rm: true, rmf: true }],
  ['running', rec('running'), { start: false, stop: true, exec: true, rm: false, rmf: true }],
  ['exited', rec('exited'), { start: true, stop: false, exec: false, rm: true, rmf: true }],
  ['broken', rec(undefined, 'EACCES'), { start: false, stop: false, exec: false, rm: false, rmf: true }],
];
for (const [name, r, want] of table) {
  test(`${name}: start ${want.start}, stop ${want.stop}, exec ${want.exec}, rm ${want.rm}, rm -f ${want.rmf}`, () => {
    assert.is(canStart(r), want.start);
    assert.is(canStop(r), want.stop);
    assert.is(canExec(r), want.exec);
    assert.is(canRemove(r, false), want.rm);
    assert.is(canRemove(r, true), want.rmf);
  });
}

test("docker's refusals, word for word", () => {
  assert.is(refusal('exec', rec('exited')), 'container web is not running');
  assert.is(refusal('kill', rec('created')), 'cannot kill container: web: container is not running');
  assert.is(refusal('remove', rec('running')), 'cannot remove container "/web": container is running: stop the container before removing or force remove');
  assert.match(refusal('exec', rec(undefined, 'EACCES'))!, /^container a{12} is broken \(EACCES\): remove it with rm -f$/);
  assert.is(refusal('stop', rec('exited')), undefined, 'stopping a stopped container is a no-op');
  assert.is(refusal('start', rec('running')), undefined, 'starting a running one too');
});

test('check throws the refusal with exit code 1 and the step', () => {
  try {
    check('exec', rec('exited'), 'start it first');
    assert.unreachable();
  } catch (err) {
    assert.instance(err, MinidockError);
    assert.is((err as MinidockError).exitCode, 1);
    assert.is((err as MinidockError).step, 'exec');
    assert.is((err as MinidockError).hint, 'start it first');
  }
  check('exec', rec('running'));
});

test.run();
