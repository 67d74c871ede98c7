// Unit tests for src/cli/inspect.ts's pure parts: --type and the not-found lines docker prints.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inspectKinds, notFoundLine } from '../../src/cli/inspect.js';
import { usageMessage } from '../helpers/usage-error.js';

test('inspectKinds: all four in docker\'s lookup order without --type, one with it', () => {
  assert.equal(inspectKinds(undefined), ['container', 'image', 'network', 'volume']);
  assert.equal(inspectKinds('image'), ['image']);
  assert.equal(inspectKinds('network'), ['network']);
  assert.equal(inspectKinds('volume'), ['volume']);
  assert.match(usageMessage(() => inspectKinds('plugin')), /"plugin" is not a valid value for --type/);
});

test('notFoundLine: "No such object" when looking everywhere, the kind with --type', () => {
  assert.is(notFoundLine(['container', 'image', 'network'], 'x'), 'Error: No such object: x');
  assert.is(notFoundLine(['container'], 'x'), 'Error: No such container: x');
  assert.is(notFoundLine(['image'], 'x'), 'Error: No such image: x');
});

test.run();
