// --cap-add / --cap-drop / --privileged: docker's default set and its arithmetic.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { usageMessage } from '../helpers/usage-error.js';
import { CAP_NAMES, capabilityMask, capabilityNames } from '../../src/spec/caps.js';

const none = { add: [], drop: [], privileged: false };

test("docker's default set is CapEff 00000000a80425fb", () => {
  assert.is(capabilityMask(none), 'a80425fb');
  assert.equal(capabilityNames('a80425fb'), [
    'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP',
    'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_SYS_CHROOT', 'CAP_MKNOD', 'CAP_AUDIT_WRITE', 'CAP_SETFCAP',
  ]);
});

test('add and drop, any spelling; drop ALL then add', () => {
  assert.is(capabilityMask({ ...none, add: ['NET_ADMIN'] }), (0xa80425fbn | (1n << 12n)).toString(16));
  assert.is(capabilityMask({ ...none, add: ['cap_sys_time'] }), (0xa80425fbn | (1n << 25n)).toString(16));
  assert.is(capabilityMask({ ...none, drop: ['CAP_NET_RAW', 'chown'] }), (0xa80425fbn & ~(1n << 13n) & ~1n).toString(16));
  assert.is(capabilityMask({ ...none, drop: ['ALL'] }), '0');
  assert.is(capabilityMask({ ...none, drop: ['ALL'], add: ['NET_BIND_SERVICE'] }), (1n << 10n).toString(16));
  assert.is(capabilityMask({ ...none, add: ['ALL'] }), ((1n << BigInt(CAP_NAMES.length)) - 1n).toString(16));
  // docker: with --cap-add ALL the drops still apply (the order on the command line does not matter).
  const all = (1n << BigInt(CAP_NAMES.length)) - 1n;
  const sysAdmin = 1n << BigInt(CAP_NAMES.indexOf('SYS_ADMIN'));
  assert.is(capabilityMask({ ...none, add: ['ALL'], drop: ['SYS_ADMIN'] }), (all & ~sysAdmin).toString(16), '--cap-add ALL --cap-drop SYS_ADMIN');
  const netAdmin = 1n << BigInt(CAP_NAMES.indexOf('NET_ADMIN'));
  assert.ok((BigInt(`0x${capabilityMask({ ...none, add: ['NET_ADMIN'], drop: ['NET_ADMIN'] })}`) & netAdmin) !== 0n, 'one both dropped and added is kept, as docker keeps it');
});

test('--privileged keeps every capability', () => {
  assert.is(capabilityMask({ add: [], drop: ['ALL'], privileged: true }), ((1n << BigInt(CAP_NAMES.length)) - 1n).toString(16));
});

test('unknown names are refused with the name', () => {
  assert.match(usageMessage(() => capabilityMask({ ...none, add: ['BOGUS'] })), /^unknown capability "BOGUS"$/);
  assert.match(usageMessage(() => capabilityMask({ ...none, drop: [''] })), /^unknown capability ""$/);
});

test.run();
