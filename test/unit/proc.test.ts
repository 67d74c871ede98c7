// Unit tests for src/runtime/proc.ts: the start time in /proc/PID/stat, which tells a live
// process from a recycled pid.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isSameProcess, parseStartTime, processStartTime } from '../../src/runtime/proc.js';

/** A stat line with `comm` and field N (from 3 on) holding N * 10, field 22 holding `start`. */
const statLine = (pid: number, comm: string, start: number | string): string => {
  const fields: string[] = [];
  for (let n = 3; n <= 52; n++) fields.push(n === 3 ? 'S' : n === 22 ? String(start) : String(n * 10));
  return `${pid} (${comm}) ${fields.join(' ')}\n`;
};

const cases: Array<[string, string, number]> = [
  ['plain', 'node', 123456],
  ['spaces', 'my prog name', 77],
  ['one )', 'a)b', 5],
  ['") " inside, as if more fields followed', 'x) R 1 2 3', 999999999],
  ['parentheses and spaces', '(sd-pam) (x)', 42],
  ['only )', ')))', 1],
  ['empty', '', 31337],
];
for (const [name, comm, start] of cases) {
  test(`parseStartTime: comm ${name} ${JSON.stringify(comm)}`, () => {
    assert.is(parseStartTime(statLine(4321, comm, start)), start);
  });
}

test('parseStartTime: field 21 and 23 are not mistaken for 22', () => {
  const line = statLine(1, 'x', 555);
  assert.match(line, / 210 555 230 /);
  assert.is(parseStartTime(line), 555);
});

test('parseStartTime: a real line from the kernel (comm "(sd-pam)")', () => {
  const line = '1617 ((sd-pam)) S 1616 1616 1616 0 -1 1077936448 47 0 0 0 0 0 0 0 20 0 1 0 1873 26480640 1233 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 2 0 0 0 0 0 0 0 0 0 0 0 0 0';
  assert.is(parseStartTime(line), 1873);
});

const bad: Array<[string, string]> = [
  ['empty', ''],
  ['truncated before field 22', '12 (x) S 1 2 3 4 5'],
  ['not a number in field 22', statLine(1, 'x', 'abc')],
];
for (const [name, line] of bad) {
  test(`parseStartTime: ${name} → undefined`, () => {
    assert.is(parseStartTime(line), undefined);
  });
}

test('processStartTime reads this process, matching /proc/self/stat', () => {
  const start = processStartTime(process.pid);
  assert.type(start, 'number');
  assert.is(start, parseStartTime(readFileSync('/proc/self/stat', 'latin1')));
});

test('processStartTime of a pid that cannot exist is undefined', () => {
  assert.is(processStartTime(2 ** 22 + 12345), undefined);
});

test('isSameProcess', () => {
  const start = processStartTime(process.pid)!;
  assert.ok(isSameProcess(process.pid, start));
  assert.not.ok(isSameProcess(process.pid, start + 1));
  assert.not.ok(isSameProcess(2 ** 22 + 12345, start));
  assert.not.ok(isSameProcess(0, start));
  assert.not.ok(isSameProcess(-1, start));
});

test.run();
