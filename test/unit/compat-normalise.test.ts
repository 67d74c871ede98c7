// Unit tests for test/compat/normalise.ts: each rule rewrites what legitimately differs between
// docker and minidock, and leaves alone what does not (a rule that hid real differences would
// make the compat harness say "same" for a wrong answer).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { judge, normalise, RULES, type Rule } from '../compat/normalise.js';

const rule = (name: string): Rule => RULES.find((r) => r.name === name)!;
const ctx = { program: 'minidock' };
const ID64 = 'a'.repeat(40) + '0123456789abcdef01234567';

test('every rule says why', () => {
  for (const r of RULES) assert.ok(r.why.length > 20, r.name);
});

test('ids: 64 and 12 hex characters, with or without sha256:; shorter or longer runs kept', () => {
  const r = rule('ids');
  assert.is(r.apply(`${ID64}\nsha256:${ID64}\n${ID64.slice(0, 12)} x`, ctx), '<ID64>\nsha256:<ID64>\n<ID12> x');
  assert.is(r.apply('abcdef0123 deadbeefdeadbeef0 1234567890123', ctx), 'abcdef0123 deadbeefdeadbeef0 1234567890123', '10, 17 hex and 13 digits are not ids');
  assert.is(r.apply(`${ID64}0`, ctx), `${ID64}0`, '65 characters are not an id');
});

test('times: RFC 3339 and Go\'s time.String, nothing else', () => {
  const r = rule('times');
  assert.is(r.apply('2026-12-04T02:40:12.123456789Z 2026-12-04T02:40:12+01:00', ctx), '<TIME> <TIME>');
  assert.is(r.apply('2026-12-04 02:40:12 +0000 UTC', ctx), '<TIME>');
  assert.is(r.apply('0001-01-01T00:00:00Z', ctx), '<TIME>');
  assert.is(r.apply('2026-12-04 and 02:40', ctx), '2026-12-04 and 02:40', 'a date alone is kept');
});

test('ago: docker\'s human durations, the words around them kept', () => {
  const r = rule('ago');
  assert.is(r.apply('Up 3 seconds', ctx), 'Up <DURATION>');
  assert.is(r.apply('Exited (2) 5 minutes ago', ctx), 'Exited (2) <DURATION> ago');
  assert.is(r.apply('Up About a minute', ctx), 'Up <DURATION>');
  assert.is(r.apply('Up Less than a second', ctx), 'Up <DURATION>');
  assert.is(r.apply('Exited (2) ago', ctx), 'Exited (2) ago', 'the exit code is never touched');
  assert.is(r.apply('3 containers', ctx), '3 containers');
});

test('ephemeral-ports: only Linux\'s ephemeral range, only as a host port', () => {
  const r = rule('ephemeral-ports');
  assert.is(r.apply('0.0.0.0:32768->80/tcp, 127.0.0.1:60999->81/tcp', ctx), '0.0.0.0:<EPHEMERAL>->80/tcp, 127.0.0.1:<EPHEMERAL>->81/tcp');
  assert.is(r.apply('0.0.0.0:18080->80/tcp 0.0.0.0:61000->1/tcp', ctx), '0.0.0.0:18080->80/tcp 0.0.0.0:61000->1/tcp', 'a chosen port is compared');
  assert.is(r.apply('{"HostIp":"0.0.0.0","HostPort":"40969"}', ctx), '{"HostIp":"0.0.0.0","HostPort":"<EPHEMERAL>"}');
  assert.is(r.apply('{"HostPort":"18080"}', ctx), '{"HostPort":"18080"}');
  assert.is(r.apply('80/tcp -> 0.0.0.0:32768', ctx), '80/tcp -> 0.0.0.0:<EPHEMERAL>');
});

test('program: the name at the start of a line only', () => {
  const r = rule('program');
  assert.is(r.apply('minidock: no such container: x\nrun minidock: y', ctx), '<CLI>: no such container: x\nrun minidock: y');
  assert.is(r.apply('docker: Error', { program: 'docker' }), '<CLI>: Error');
  assert.is(r.apply('docker: Error', ctx), 'docker: Error', 'the other program\'s name is not ours');
});

test('trailing-space and column-widths: padding only, cells and their order kept', () => {
  assert.is(rule('trailing-space').apply('NAMES   \nx\t\n', ctx), 'NAMES\nx\n');
  const cw = rule('column-widths');
  assert.is(cw.apply('CONTAINER ID   IMAGE     COMMAND', ctx), 'CONTAINER ID  IMAGE  COMMAND');
  assert.is(cw.apply('a  b', ctx), 'a  b', 'a line without a wide gap is not a table row');
  assert.is.not(cw.apply('IMAGE   NAMES', ctx), cw.apply('NAMES   IMAGE', ctx), 'the order of columns counts');
  assert.is.not(cw.apply('x   y', ctx), cw.apply('x y', ctx), 'one space is not a column gap');
});

test('normalise: a real difference survives every rule', () => {
  const docker = 'Error: No such container: web\n';
  const ours = 'Error: no such container: web\n';
  assert.is.not(normalise(docker, { program: 'docker' }), normalise(ours, ctx));
  assert.is.not(normalise('exit 1', ctx), normalise('exit 2', ctx));
  assert.is.not(normalise('Exited (1) 2 seconds ago', ctx), normalise('Exited (0) 2 seconds ago', ctx));
});

test('judge: exit codes always count, stdout by default, stderr only with compare all; accepted needs a reason', () => {
  const a = { code: 0, stdout: 'x\n', stderr: 'docker: e\n' };
  assert.equal(judge(a, { code: 0, stdout: 'x\n', stderr: 'minidock: other\n' }, {}), { verdict: 'same', diff: [] });
  assert.equal(judge(a, { code: 0, stdout: 'x\n', stderr: 'minidock: other\n' }, { compare: 'all' }).diff, ['stderr']);
  assert.equal(judge(a, { code: 0, stdout: 'x\n', stderr: 'minidock: e\n' }, { compare: 'all' }).verdict, 'same');
  assert.equal(judge(a, { code: 1, stdout: 'y\n', stderr: '' }, {}), { verdict: 'wrong', diff: ['exit 0 vs 1', 'stdout'] });
  assert.equal(judge(a, { code: 1, stdout: 'y\n', stderr: '' }, { compare: 'code' }).diff, ['exit 0 vs 1']);
  assert.is(judge(a, { code: 0, stdout: 'y\n', stderr: '' }, { accepted: 'documented' }).verdict, 'accepted');
});

test.run();
