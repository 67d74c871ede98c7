// Unit tests for src/runtime/log-time.ts: docker's --since/--until forms.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinidockError } from '../../src/core/errors.js';
import { goDurationMs, parseLogTime } from '../../src/runtime/log-time.js';

const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);

test('goDurationMs: Go\'s duration grammar', () => {
  assert.is(goDurationMs('10m'), 600_000);
  assert.is(goDurationMs('1h30m'), 5_400_000);
  assert.is(goDurationMs('1.5h'), 5_400_000);
  assert.is(goDurationMs('300ms'), 300);
  assert.is(goDurationMs('0'), 0);
  assert.is(goDurationMs('10'), undefined, 'a bare number is not a duration');
  assert.is(goDurationMs('10x'), undefined);
});

test('parseLogTime: a duration before now, Unix seconds, RFC 3339 with nanoseconds and offsets', () => {
  assert.is(parseLogTime('10m', NOW, '--since'), NOW - 600_000);
  assert.is(parseLogTime('1700000000', NOW, '--since'), 1_700_000_000_000);
  assert.is(parseLogTime('1700000000.5', NOW, '--since'), 1_700_000_000_500);
  assert.is(parseLogTime('2026-12-04T10:20:30Z', NOW, '--since'), Date.UTC(2026, 11, 4, 10, 20, 30));
  assert.is(parseLogTime('2026-12-04T10:20:30.123456789Z', NOW, '--since'), Date.UTC(2026, 11, 4, 10, 20, 30, 123));
  assert.is(parseLogTime('2026-12-04T10:20:30+01:00', NOW, '--since'), Date.UTC(2026, 11, 4, 9, 20, 30));
  assert.is(parseLogTime('2026-12-04', NOW, '--since'), new Date(2026, 11, 4).getTime(), 'a date alone is local midnight, as docker reads it');
  assert.throws(() => parseLogTime('yesterday', NOW, '--since'), (e: unknown) => e instanceof MinidockError && /invalid value for "--since"/.test(e.message) && e.exitCode === 125);
});

test.run();
