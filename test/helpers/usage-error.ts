// Runs fn and asserts it threw a usage error (MinidockError, exit 125).
import * as assert from 'uvu/assert';
import { MinidockError } from '../../src/core/errors.js';

export function expectUsageError(fn: () => unknown): MinidockError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, MinidockError);
    assert.is((err as MinidockError).exitCode, 125);
    return err as MinidockError;
  }
  assert.unreachable('expected a usage error');
  throw new Error('unreachable');
}

export const usageMessage = (fn: () => unknown): string => expectUsageError(fn).message;
