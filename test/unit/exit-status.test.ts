// Unit tests for src/runtime/exit-status.ts: docker's exit codes (128+N for a signal, 125/126/127
// for failures before the command runs) and the messages that go with them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinidockError } from '../../src/core/errors.js';
import { childFailureError, exitCodeOf } from '../../src/runtime/exit-status.js';
import type { ChildFailure, WaitResult } from '../../src/native/binding.js';

const waits: Array<[WaitResult, number]> = [
  [{ exitCode: 0, signal: null }, 0],
  [{ exitCode: 1, signal: null }, 1],
  [{ exitCode: 42, signal: null }, 42],
  [{ exitCode: 255, signal: null }, 255],
  [{ exitCode: null, signal: 9 }, 137],
  [{ exitCode: null, signal: 15 }, 143],
  [{ exitCode: null, signal: 2 }, 130],
  [{ exitCode: null, signal: 6 }, 134],
];
for (const [r, want] of waits) {
  test(`exitCodeOf ${JSON.stringify(r)} → ${want}`, () => {
    assert.is(exitCodeOf(r), want);
  });
}

const failure = (step: string, code: string, message: string, detail = '', errno = 0): ChildFailure => ({
  step, errno, code, message, detail,
});

interface Want {
  message: string;
  exitCode: number;
  step: string;
  errno: string | undefined;
  hint: string | undefined;
}

const cases: Array<[string, ChildFailure, string, Want]> = [
  [
    'command not found in $PATH',
    failure('child.exec.path', 'ENOENT', 'No such file or directory', 'x', 2),
    'x',
    {
      message: 'exec: "x": executable file not found in $PATH',
      exitCode: 127, step: 'child.exec.path', errno: 'ENOENT', hint: 'check the command name, or give its full path',
    },
  ],
  [
    'absolute command missing',
    failure('child.exec', 'ENOENT', 'No such file or directory', '/bin/nope', 2),
    '/bin/nope',
    { message: 'exec: "/bin/nope": stat /bin/nope: no such file or directory', exitCode: 127, step: 'child.exec', errno: 'ENOENT', hint: undefined },
  ],
  [
    'a path component is not a directory',
    failure('child.exec', 'ENOTDIR', 'Not a directory', '/etc/passwd/x', 20),
    '/etc/passwd/x',
    { message: 'exec: "/etc/passwd/x": stat /etc/passwd/x: no such file or directory', exitCode: 127, step: 'child.exec', errno: 'ENOTDIR', hint: undefined },
  ],
  [
    'permission denied',
    failure('child.exec', 'EACCES', 'Permission denied', '/data/script.sh', 13),
    '/data/script.sh',
    {
      message: 'exec: "/data/script.sh": permission denied',
      exitCode: 126, step: 'child.exec', errno: 'EACCES',
      hint: 'the file exists but cannot be executed (mode, format or a missing interpreter)',
    },
  ],
  [
    'exec format error',
    failure('child.exec', 'ENOEXEC', 'Exec format error', '/bin/arm-binary', 8),
    '/bin/arm-binary',
    {
      message: 'exec: "/bin/arm-binary": exec format error',
      exitCode: 126, step: 'child.exec', errno: 'ENOEXEC',
      hint: 'the file exists but cannot be executed (mode, format or a missing interpreter)',
    },
  ],
  [
    'a directory',
    failure('child.exec', 'EISDIR', 'Is a directory', '/etc', 21),
    '/etc',
    {
      message: 'exec: "/etc": is a directory',
      exitCode: 126, step: 'child.exec', errno: 'EISDIR',
      hint: 'the file exists but cannot be executed (mode, format or a missing interpreter)',
    },
  ],
  [
    'working directory',
    failure('child.chdir.cwd', 'ENOENT', 'No such file or directory', '/nope', 2),
    'sh',
    {
      message: 'cannot enter the working directory "/nope": no such file or directory',
      exitCode: 126, step: 'child.chdir.cwd', errno: 'ENOENT', hint: 'give -w a directory of the image',
    },
  ],
  [
    'working directory not a directory',
    failure('child.chdir.cwd', 'ENOTDIR', 'Not a directory', '/etc/hosts', 20),
    'sh',
    {
      message: 'cannot enter the working directory "/etc/hosts": not a directory',
      exitCode: 126, step: 'child.chdir.cwd', errno: 'ENOTDIR', hint: 'give -w a directory of the image',
    },
  ],
  [
    'another step, with detail',
    failure('child.mount', 'EPERM', 'Operation not permitted', '/proc', 1),
    'sh',
    { message: 'container setup failed at child.mount /proc: Operation not permitted (EPERM)', exitCode: 125, step: 'child.mount', errno: 'EPERM', hint: undefined },
  ],
  [
    'another step, no detail',
    failure('child.pivot_root', 'EINVAL', 'Invalid argument', '', 22),
    'sh',
    { message: 'container setup failed at child.pivot_root: Invalid argument (EINVAL)', exitCode: 125, step: 'child.pivot_root', errno: 'EINVAL', hint: undefined },
  ],
  [
    'child.exec with an errno that is not about the file',
    failure('child.exec', 'E2BIG', 'Argument list too long', '/bin/sh', 7),
    '/bin/sh',
    { message: 'container setup failed at child.exec /bin/sh: Argument list too long (E2BIG)', exitCode: 125, step: 'child.exec', errno: 'E2BIG', hint: undefined },
  ],
  [
    'nothing known',
    failure('child.sync', '', '', ''),
    'sh',
    { message: 'container setup failed at child.sync: unknown error', exitCode: 125, step: 'child.sync', errno: '', hint: undefined },
  ],
];
for (const [name, f, argv0, want] of cases) {
  test(`childFailureError: ${name} → ${want.exitCode}`, () => {
    const e = childFailureError(f, argv0);
    assert.instance(e, MinidockError);
    assert.equal({ message: e.message, exitCode: e.exitCode, step: e.step, errno: e.errno, hint: e.hint }, want);
  });
}

test('childFailureError: the $PATH message names argv0, not the failure detail', () => {
  const e = childFailureError(failure('child.exec.path', 'ENOENT', 'No such file or directory', 'ignored'), 'python3');
  assert.is(e.message, 'exec: "python3": executable file not found in $PATH');
});

test.run();
