import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { criLine, criTime, cutLines, MAX_LINE } from '../../src/runtime/cri-log.js';

const b = (s: string) => Buffer.from(s);

test('cutLines: full lines out, the unended rest kept for the next chunk', () => {
  const a = cutLines(Buffer.alloc(0), b('one\ntw'), false);
  assert.equal(a.lines, [['one', 'F']]);
  assert.is(a.rest.toString(), 'tw');
  const c = cutLines(a.rest, b('o\nthree\n'), false);
  assert.equal(c.lines, [['two', 'F'], ['three', 'F']]);
  assert.is(c.rest.length, 0);
});

test('cutLines: a pty\'s \\r\\n is one line end; an empty line is a line', () => {
  assert.equal(cutLines(Buffer.alloc(0), b('a\r\n\nb\r\n'), false).lines, [['a', 'F'], ['', 'F'], ['b', 'F']]);
  // A \r that does not end a line stays.
  assert.equal(cutLines(Buffer.alloc(0), b('50%\r100%\n'), false).lines, [['50%\r100%', 'F']]);
});

test('cutLines: end of file sends a partial line as P, nothing when there is none', () => {
  assert.equal(cutLines(b('last'), Buffer.alloc(0), true).lines, [['last', 'P']]);
  assert.equal(cutLines(Buffer.alloc(0), Buffer.alloc(0), true).lines, []);
});

test('cutLines: a line longer than the buffer goes out in P pieces, then its end as F', () => {
  const long = 'x'.repeat(MAX_LINE * 2 + 5);
  const r = cutLines(Buffer.alloc(0), b(`${long}\nnext`), false);
  assert.equal(r.lines.map(([l, t]) => [l.length, t]), [[MAX_LINE, 'P'], [MAX_LINE, 'P'], [5, 'F']]);
  assert.is(r.rest.toString(), 'next');
});

test('criTime and criLine: the shim\'s format (RFC 3339, nine digits, UTC)', () => {
  const t = criTime(Date.UTC(2026, 11, 3, 23, 6, 7, 123));
  assert.is(t, '2026-12-03T23:06:07.123000000Z');
  assert.is(criLine(t, 'stderr', 'boom', 'F'), '2026-12-03T23:06:07.123000000Z stderr F boom\n');
});

test.run();
