// Unit tests for src/runtime/host-devices.ts: dev_t splitting, and the walk over this host's
// /dev (no root needed: only stat).
import { statSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hostDevices, splitDev } from '../../src/runtime/host-devices.js';

test('splitDev: glibc\'s major/minor split, small and large numbers', () => {
  assert.equal(splitDev(0x0103), { major: 1, minor: 3 }); // /dev/null
  assert.equal(splitDev(0x8801), { major: 136, minor: 1 });
  // major 259 minor 65536: minor's high bits live above bit 20, major's above bit 8.
  const rdev = (259 & 0xfff) << 8 | (65536 & 0xff) | ((65536 & ~0xff) << 12);
  assert.equal(splitDev(rdev >>> 0), { major: 259, minor: 65536 });
});

test('hostDevices: /dev/null is listed as 1:3 with its mode; no pts, shm or console entries', () => {
  const all = hostDevices();
  const nul = all.find((d) => d.path === '/dev/null');
  assert.ok(nul, 'this host has /dev/null');
  assert.equal({ type: nul!.type, major: nul!.major, minor: nul!.minor, fileMode: nul!.fileMode }, { type: 'c', major: 1, minor: 3, fileMode: statSync('/dev/null').mode & 0o777 });
  assert.not.ok(all.some((d) => d.path.startsWith('/dev/pts/') || d.path.startsWith('/dev/shm/') || d.path === '/dev/console'));
  assert.ok(all.every((d) => d.type === 'c' || d.type === 'b'));
});

test.run();
