// Unit tests for src/cli/system.ts's pure parts: GOARCH names and system df's RECLAIMABLE cell.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { goArch, reclaimableText } from '../../src/cli/system.js';

test('goArch: Node\'s names as Go\'s', () => {
  assert.is(goArch('x64'), 'amd64');
  assert.is(goArch('arm64'), 'arm64');
  assert.is(goArch('riscv64'), 'riscv64');
});

test('reclaimableText: bytes and the rounded share of the total, as docker prints them', () => {
  assert.is(reclaimableText(0, 1_240_000, true), '0B (0%)');
  assert.is(reclaimableText(1_240_000, 1_240_000, true), '1.24MB (100%)');
  assert.is(reclaimableText(620_000, 1_240_000, true), '620kB (50%)');
  assert.is(reclaimableText(0, 0, false), '0B', 'no total: no share (docker\'s Containers row)');
});

test.run();
