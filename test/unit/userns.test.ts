import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinidockError } from '../../src/core/errors.js';
import { IDENTITY_MAP } from '../../src/spec/container-spec.js';
import {
  chooseMapping, DEFAULT_REMAP, hostId, isIdentity, kernelHasIdmappedOverlay, mappedRoot, parseIdMap,
  parseRemapSetting, parseUsernsFlag, remapMapping, shiftedDirName,
} from '../../src/spec/userns.js';
import { idmapSupported } from '../../src/image/shift.js';

const REMAP = remapMapping(100000, 65536);

test('parseIdMap reads /proc/PID/uid_map text, padded as the kernel prints it', () => {
  assert.equal(parseIdMap('         0     100000      65536\n'), [{ inside: 0, outside: 100000, count: 65536 }]);
  assert.equal(parseIdMap('0 0 1\n1 100001 99\n'), [{ inside: 0, outside: 0, count: 1 }, { inside: 1, outside: 100001, count: 99 }]);
  assert.equal(parseIdMap(''), []);
});

test('hostId maps through the ranges, undefined outside them', () => {
  assert.is(hostId(REMAP.uidMap, 0), 100000);
  assert.is(hostId(REMAP.uidMap, 1000), 101000);
  assert.is(hostId(REMAP.uidMap, 65535), 165535);
  assert.is(hostId(REMAP.uidMap, 65536), undefined);
  assert.is(hostId(IDENTITY_MAP.uidMap, 4294967294), 4294967294);
});

test('mappedRoot: the host ids of container root, none for the identity map', () => {
  assert.equal(mappedRoot(REMAP), { uid: 100000, gid: 100000 });
  assert.equal(mappedRoot({ uidMap: '0 100000 65536', gidMap: '0 300000 65536' }), { uid: 100000, gid: 300000 });
  assert.is(mappedRoot(IDENTITY_MAP), undefined);
  assert.ok(isIdentity(IDENTITY_MAP));
  assert.not.ok(isIdentity(REMAP));
});

test('MINIDOCK_USERNS_REMAP: default 100000:65536, BASE:COUNT, host', () => {
  assert.equal(parseRemapSetting(undefined), DEFAULT_REMAP);
  assert.equal(parseRemapSetting(''), DEFAULT_REMAP);
  assert.equal(parseRemapSetting('200000:70000'), { base: 200000, count: 70000 });
  assert.is(parseRemapSetting('host'), 'host');
});

for (const bad of ['0:65536', '100000', '100000:100', 'abc:65536', '-1:65536', '4294967000:65536', '100000:65536:1']) {
  test(`MINIDOCK_USERNS_REMAP refuses ${JSON.stringify(bad)} with a hint`, () => {
    try {
      parseRemapSetting(bad);
      assert.unreachable();
    } catch (err) {
      assert.instance(err, MinidockError);
      assert.match((err as Error).message, bad);
      assert.is((err as MinidockError).exitCode, 125);
    }
  });
}

test('--userns: empty or host; anything else is an error naming the flag', () => {
  assert.is(parseUsernsFlag(undefined), 'default');
  assert.is(parseUsernsFlag('host'), 'host');
  assert.throws(() => parseUsernsFlag('private'), /invalid --userns "private"/);
});

test('chooseMapping: remapped by default; host for --userns=host, --privileged, --network host, or the setting', () => {
  const d = { userns: 'default' as const, privileged: false, hostNetwork: false };
  assert.equal(chooseMapping(d, DEFAULT_REMAP), REMAP);
  assert.equal(chooseMapping({ ...d, userns: 'host' }, DEFAULT_REMAP), IDENTITY_MAP);
  assert.equal(chooseMapping({ ...d, privileged: true }, DEFAULT_REMAP), IDENTITY_MAP);
  assert.equal(chooseMapping({ ...d, hostNetwork: true }, DEFAULT_REMAP), IDENTITY_MAP);
  assert.equal(chooseMapping(d, 'host'), IDENTITY_MAP);
  assert.equal(chooseMapping(d, { base: 500000, count: 65536 }), { uidMap: '0 500000 65536', gidMap: '0 500000 65536' });
});

test('idmapped overlay layers need Linux 5.19 and a filesystem that allows idmapping', () => {
  assert.ok(kernelHasIdmappedOverlay('6.18.0-1-amd64'));
  assert.ok(kernelHasIdmappedOverlay('5.19.0'));
  assert.not.ok(kernelHasIdmappedOverlay('5.15.0-91-generic'));
  assert.not.ok(kernelHasIdmappedOverlay('garbage'));
  assert.ok(idmapSupported(0xef53, '6.1.0')); // ext4
  assert.not.ok(idmapSupported(0xef53, '5.15.0')); // ext4, but overlay cannot take it yet
  assert.not.ok(idmapSupported(0x01021994, '6.1.0')); // tmpfs before 6.3
  assert.ok(idmapSupported(0x01021994, '6.3.0'));
  assert.not.ok(idmapSupported(0x6969, '6.18.0')); // NFS
});

test('shiftedDirName names the mapping, so two mappings never share a copy', () => {
  assert.is(shiftedDirName(REMAP), 'rootfs-100000-65536-100000-65536');
  assert.is.not(shiftedDirName(remapMapping(200000, 65536)), shiftedDirName(REMAP));
});

test.run();
