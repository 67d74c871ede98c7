// Unit tests for src/network/store.ts: networks, address leases and host-port leases on a
// temporary directory (no flock function, so no root and no native addon needed).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectUsageError } from '../helpers/usage-error.js';
import { MinidockError } from '../../src/core/errors.js';
import { cidrOverlaps, ipToInt } from '../../src/network/ipv4.js';
import type { NetworkConfig } from '../../src/network/plan.js';
import { NetworkStore } from '../../src/network/store.js';
import type { PortBinding, Proto } from '../../src/spec/ports.js';

const tmpRoots: string[] = [];
const newStore = (): NetworkStore => {
  const root = mkdtempSync(join(tmpdir(), 'minidock-net-'));
  tmpRoots.push(root);
  return new NetworkStore(root);
};

const net = (name: string, bridge: string, subnet: string, gateway: string, first: string, last: string): NetworkConfig => ({
  name,
  id: name.padEnd(64, '0').replace(/[^0-9a-f]/g, 'a'),
  bridge,
  subnet,
  prefix: Number(subnet.split('/')[1]),
  gateway,
  first: ipToInt(first),
  last: ipToInt(last),
  createdAt: 1700000000000,
});

/** A /29: gateway .1, containers .2 to .6. */
const SMALL = net('small', 'mdkbr1', '10.9.0.0/29', '10.9.0.1', '10.9.0.1', '10.9.0.6');
/** A /30: one container address, .2. */
const TINY = net('tiny', 'mdkbr2', '10.9.1.0/30', '10.9.1.1', '10.9.1.1', '10.9.1.2');

const id = (c: string): string => c.repeat(64);
const [A, B, C] = [id('a'), id('b'), id('c')];

const live = (...ids: string[]) => (x: string): boolean => ids.includes(x);
const noReclaim = (x: string): void => assert.unreachable(`reclaim(${x}) was not expected`);

function thrown(fn: () => unknown): MinidockError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, MinidockError);
    return err as MinidockError;
  }
  assert.unreachable('expected a MinidockError');
  throw new Error('unreachable');
}

const leaseFile = (s: NetworkStore, n: string, ip: string): string => join(s.dir, n, 'leases', ip);

/** A network as the store records and reads it back: with its state root's scope (which tags
 *  its rules: plan.ts netOwner). */
const scoped = (s: NetworkStore, n: NetworkConfig): NetworkConfig => ({ ...n, scope: s.scope });

// ---------------------------------------------------------------- networks

test('add records the network; get and list read it back', () => {
  const s = newStore();
  assert.equal(s.list(), []);
  assert.is(s.get('small'), undefined);
  s.add(SMALL, cidrOverlaps);
  s.add(TINY, cidrOverlaps);
  assert.equal(s.get('small'), scoped(s, SMALL));
  assert.equal(JSON.parse(readFileSync(join(s.dir, 'small', 'network.json'), 'utf8')), scoped(s, SMALL));
  assert.ok(existsSync(join(s.dir, 'small', 'leases')));
  assert.equal(s.list().sort((x, y) => x.name.localeCompare(y.name)), [scoped(s, SMALL), scoped(s, TINY)]);
  assert.match(s.scope, /^[0-9a-f]{8}$/);
  assert.equal(s.leases('small'), new Map());
});

test('list skips the lock file and entries that are not network names', () => {
  const s = newStore();
  s.add(SMALL, cidrOverlaps);
  s.withLock(() => undefined); // creates networks/.lock
  assert.ok(existsSync(join(s.dir, '.lock')));
  mkdirSync(join(s.dir, '-bad'));
  assert.equal(s.list(), [scoped(s, SMALL)]);
});

test('get: unreadable network.json is an error naming the network', () => {
  const s = newStore();
  s.add(SMALL, cidrOverlaps);
  writeFileSync(join(s.dir, 'small', 'network.json'), '{');
  const e = thrown(() => s.get('small'));
  assert.is(e.message, 'network small: its configuration is unreadable');
  assert.is(e.step, 'net.config');
});

const addRefusals: Array<[string, NetworkConfig, string, string | undefined]> = [
  ['a taken name', { ...TINY, name: 'small' }, 'network with name small already exists', undefined],
  ['a taken bridge', { ...TINY, bridge: 'mdkbr1' }, 'bridge mdkbr1 is already used by network small', undefined],
  [
    'an overlapping subnet',
    net('wide', 'mdkbr9', '10.9.0.0/16', '10.9.0.1', '10.9.0.1', '10.9.255.254'),
    'subnet 10.9.0.0/16 overlaps network small (10.9.0.0/29)',
    'choose another --subnet',
  ],
  [
    'a subnet inside another',
    net('inner', 'mdkbr9', '10.9.0.4/30', '10.9.0.5', '10.9.0.5', '10.9.0.6'),
    'subnet 10.9.0.4/30 overlaps network small (10.9.0.0/29)',
    'choose another --subnet',
  ],
  ['an invalid name', { ...TINY, name: '-x' }, 'invalid network name "-x"', 'use letters, digits, "_", "." and "-"'],
  ['a name with a slash', { ...TINY, name: 'a/b' }, 'invalid network name "a/b"', 'use letters, digits, "_", "." and "-"'],
];
for (const [name, n, message, hint] of addRefusals) {
  test(`add refuses ${name}`, () => {
    const s = newStore();
    s.add(SMALL, cidrOverlaps);
    const e = expectUsageError(() => s.add(n, cidrOverlaps));
    assert.is(e.message, message);
    assert.is(e.hint, hint);
    assert.equal(s.list(), [scoped(s, SMALL)]);
  });
}

test('add: an adjacent subnet is not an overlap', () => {
  const s = newStore();
  s.add(SMALL, cidrOverlaps);
  const next = net('next', 'mdkbr3', '10.9.0.8/29', '10.9.0.9', '10.9.0.9', '10.9.0.14');
  s.add(next, cidrOverlaps);
  assert.equal(s.get('next'), scoped(s, next));
});

test('delete removes the network and its leases', () => {
  const s = newStore();
  s.add(SMALL, cidrOverlaps);
  s.lease(SMALL, A, live(), noReclaim);
  s.delete('small');
  assert.is(s.get('small'), undefined);
  assert.not.ok(existsSync(join(s.dir, 'small')));
});

// ---------------------------------------------------------------- address leases

test('lease hands out the lowest free address, skipping the gateway, and records the owner', () => {
  const s = newStore();
  s.add(SMALL, cidrOverlaps);
  assert.is(s.lease(SMALL, A, live(), noReclaim), '10.9.0.2');
  assert.is(s.lease(SMALL, B, live(A), noReclaim), '10.9.0.3');
  assert.is(readFileSync(leaseFile(s, 'small', '10.9.0.2'), 'utf8'), A);
  assert.is(readFileSync(leaseFile(s, 'small', '10.9.0.3'), 'utf8'), B);
  assert.equal(s.leases('small'), new Map([['10.9.0.2', A], ['10.9.0.3', B]]));
  s.release('small', '10.9.0.2', A);
  assert.is(s.lease(SMALL, C, live(B), noReclaim), '10.9.0.2');
});

test('lease: the gateway is skipped wherever it is', () => {
  const s = newStore();
  const n = net('gwmid', 'mdkbr4', '10.9.2.0/29', '10.9.2.2', '10.9.2.1', '10.9.2.6');
  s.add(n, cidrOverlaps);
  const got = [A, B, C].map((o, i) => s.lease(n, o, live(A, B, C), noReclaim) + `#${i}`);
  assert.equal(got, ['10.9.2.1#0', '10.9.2.3#1', '10.9.2.4#2']);
});

test('lease: the owner’s own lease is never asked about or reclaimed', () => {
  const s = newStore();
  s.add(SMALL, cidrOverlaps);
  s.lease(SMALL, A, live(), noReclaim);
  const asked: string[] = [];
  const ip = s.lease(SMALL, A, (x) => (asked.push(x), false), noReclaim);
  assert.is(ip, '10.9.0.3');
  assert.equal(asked, []);
});

test('lease reclaims a stale lease: reclaim(owner) runs first, then the address is reused', () => {
  const s = newStore();
  s.add(SMALL, cidrOverlaps);
  s.lease(SMALL, A, live(), noReclaim); // .2
  s.lease(SMALL, B, live(A), noReclaim); // .3
  const events: string[] = [];
  const ip = s.lease(
    SMALL,
    C,
    (x) => (events.push(`isLive ${x.slice(0, 1)}`), x === B),
    (x) => events.push(`reclaim ${x.slice(0, 1)} file=${existsSync(leaseFile(s, 'small', '10.9.0.2'))}`),
  );
  assert.is(ip, '10.9.0.2');
  assert.equal(events.sort(), ['isLive a', 'isLive b', 'reclaim a file=true']);
  assert.equal(s.leases('small'), new Map([['10.9.0.2', C], ['10.9.0.3', B]]));
});

test('lease: no free address is an error with the counts', () => {
  const s = newStore();
  s.add(TINY, cidrOverlaps);
  assert.is(s.lease(TINY, A, live(), noReclaim), '10.9.1.2');
  const e = thrown(() => s.lease(TINY, B, live(A), noReclaim));
  assert.is(e.message, 'no free address in 10.9.1.0/30 (1 of 1 in use) on network tiny');
  assert.is(e.step, 'net.ipam');
  assert.is(e.hint, 'remove containers, or create a network with a larger --subnet');
  assert.equal(s.leases('tiny'), new Map([['10.9.1.2', A]]));
});

test('lease: a full /29 reports 5 of 5', () => {
  const s = newStore();
  s.add(SMALL, cidrOverlaps);
  const owners = ['1', '2', '3', '4', '5'].map(id);
  for (const o of owners) s.lease(SMALL, o, live(...owners), noReclaim);
  assert.is(thrown(() => s.lease(SMALL, A, live(...owners), noReclaim)).message, 'no free address in 10.9.0.0/29 (5 of 5 in use) on network small');
});

test('lease: a full network with a stale lease succeeds by reclaiming it', () => {
  const s = newStore();
  s.add(TINY, cidrOverlaps);
  s.lease(TINY, A, live(), noReclaim);
  const reclaimed: string[] = [];
  assert.is(s.lease(TINY, B, live(), (x) => reclaimed.push(x)), '10.9.1.2');
  assert.equal(reclaimed, [A]);
  assert.is(readFileSync(leaseFile(s, 'tiny', '10.9.1.2'), 'utf8'), B);
});

test('release only releases the owner’s lease, and is idempotent', () => {
  const s = newStore();
  s.add(SMALL, cidrOverlaps);
  s.lease(SMALL, A, live(), noReclaim);
  s.release('small', '10.9.0.2', B);
  assert.is(readFileSync(leaseFile(s, 'small', '10.9.0.2'), 'utf8'), A);
  s.release('small', '10.9.0.2', A);
  assert.not.ok(existsSync(leaseFile(s, 'small', '10.9.0.2')));
  s.release('small', '10.9.0.2', A);
  s.release('small', '10.9.0.5', A);
  s.release('nonet', '10.9.0.2', A);
  assert.equal(s.leases('small'), new Map());
});

// ---------------------------------------------------------------- port leases

const b = (hostIp: string, hostPort: number, proto: Proto = 'tcp', containerPort = 80): PortBinding => ({
  hostIp, hostPort, containerPort, proto,
});
const portFiles = (s: NetworkStore): string[] => readdirSync(s.portsDir).sort();

test('leasePort writes <proto>-<port>-<hostip> holding the owner; portLeases reads it', () => {
  const s = newStore();
  s.leasePort(b('0.0.0.0', 8080), A, live(), noReclaim);
  s.leasePort(b('127.0.0.1', 53, 'udp'), A, live(), noReclaim);
  assert.equal(portFiles(s), ['tcp-8080-0.0.0.0', 'udp-53-127.0.0.1']);
  assert.is(readFileSync(join(s.portsDir, 'tcp-8080-0.0.0.0'), 'utf8'), A);
  assert.equal(
    s.portLeases().sort((x, y) => x.file.localeCompare(y.file)),
    [
      { proto: 'tcp', port: 8080, hostIp: '0.0.0.0', owner: A, file: 'tcp-8080-0.0.0.0' },
      { proto: 'udp', port: 53, hostIp: '127.0.0.1', owner: A, file: 'udp-53-127.0.0.1' },
    ],
  );
});

test('portLeases: none without the directory; junk file names ignored', () => {
  const s = newStore();
  assert.equal(s.portLeases(), []);
  s.leasePort(b('0.0.0.0', 1), A, live(), noReclaim);
  for (const f of ['sctp-80-0.0.0.0', 'tcp-x-0.0.0.0', 'tcp-80', '.tmp', 'tcp-80-::']) writeFileSync(join(s.portsDir, f), B);
  assert.equal(s.portLeases().map((l) => l.file), ['tcp-1-0.0.0.0']);
});

const conflicts: Array<[string, PortBinding, PortBinding]> = [
  ['same port, both 0.0.0.0', b('0.0.0.0', 8080), b('0.0.0.0', 8080)],
  ['held on 0.0.0.0, asked on 127.0.0.1', b('0.0.0.0', 8080), b('127.0.0.1', 8080)],
  ['held on 10.0.0.1, asked on 0.0.0.0', b('10.0.0.1', 8080), b('0.0.0.0', 8080)],
  ['same specific address', b('10.0.0.1', 8080), b('10.0.0.1', 8080)],
  ['udp on udp', b('0.0.0.0', 53, 'udp'), b('127.0.0.1', 53, 'udp')],
];
for (const [name, held, asked] of conflicts) {
  test(`leasePort conflict: ${name}`, () => {
    const s = newStore();
    s.leasePort(held, A, live(), noReclaim);
    const e = thrown(() => s.leasePort(asked, B, live(A), noReclaim));
    assert.is(e.message, `host port ${asked.hostPort}/${asked.proto} is already published by container aaaaaaaaaaaa`);
    assert.is(e.step, 'net.ports');
    assert.is(e.hint, 'choose another host port, or remove that container');
    assert.equal(s.portLeases().map((l) => l.owner), [A]);
  });
}

const noConflicts: Array<[string, PortBinding, PortBinding]> = [
  ['different proto', b('0.0.0.0', 8080, 'tcp'), b('0.0.0.0', 8080, 'udp')],
  ['different specific addresses', b('10.0.0.1', 8080), b('10.0.0.2', 8080)],
  ['loopback vs another address', b('127.0.0.1', 8080), b('192.168.1.5', 8080)],
  ['different port', b('0.0.0.0', 8080), b('0.0.0.0', 8081)],
  ['port number prefix', b('0.0.0.0', 80), b('0.0.0.0', 8080)],
];
for (const [name, held, asked] of noConflicts) {
  test(`leasePort no conflict: ${name}`, () => {
    const s = newStore();
    s.leasePort(held, A, live(), noReclaim);
    s.leasePort(asked, B, live(A), noReclaim);
    assert.equal(
      s.portLeases().map((l) => [l.file, l.owner]).sort(),
      [[`${held.proto}-${held.hostPort}-${held.hostIp}`, A], [`${asked.proto}-${asked.hostPort}-${asked.hostIp}`, B]].sort(),
    );
  });
}

test('leasePort: a stale owner is reclaimed, all its ports released, the port taken', () => {
  const s = newStore();
  s.leasePort(b('0.0.0.0', 8080), A, live(), noReclaim);
  s.leasePort(b('0.0.0.0', 9090), A, live(), noReclaim);
  s.leasePort(b('0.0.0.0', 7070), C, live(), noReclaim);
  const events: string[] = [];
  s.leasePort(
    b('127.0.0.1', 8080),
    B,
    (x) => (events.push(`isLive ${x.slice(0, 1)}`), x === C),
    (x) => events.push(`reclaim ${x.slice(0, 1)} held=${existsSync(join(s.portsDir, 'tcp-8080-0.0.0.0'))}`),
  );
  assert.equal(events, ['isLive a', 'reclaim a held=true']);
  assert.equal(portFiles(s), ['tcp-7070-0.0.0.0', 'tcp-8080-127.0.0.1']);
  assert.equal(s.portLeases().map((l) => l.owner).sort(), [B, C].sort());
});

test('leasePort: a live owner is not reclaimed', () => {
  const s = newStore();
  s.leasePort(b('0.0.0.0', 8080), A, live(), noReclaim);
  thrown(() => s.leasePort(b('0.0.0.0', 8080), B, live(A), noReclaim));
  assert.equal(portFiles(s), ['tcp-8080-0.0.0.0']);
});

test('leasePort: one container publishing the same host port twice is refused, not reclaimed', () => {
  const s = newStore();
  s.leasePort(b('0.0.0.0', 8080, 'tcp', 80), A, live(), noReclaim);
  const asked: string[] = [];
  const e = thrown(() => s.leasePort(b('127.0.0.1', 8080, 'tcp', 81), A, (x) => (asked.push(x), false), noReclaim));
  assert.is(e.message, 'host port 8080/tcp is already published by container aaaaaaaaaaaa');
  assert.equal(asked, []);
  assert.equal(portFiles(s), ['tcp-8080-0.0.0.0']);
});

test('releasePorts releases only that owner’s ports', () => {
  const s = newStore();
  s.leasePort(b('0.0.0.0', 8080), A, live(), noReclaim);
  s.leasePort(b('0.0.0.0', 53, 'udp'), A, live(), noReclaim);
  s.leasePort(b('0.0.0.0', 9090), B, live(A), noReclaim);
  s.releasePorts(A);
  assert.equal(portFiles(s), ['tcp-9090-0.0.0.0']);
  s.releasePorts(A);
  s.releasePorts(C);
  assert.equal(portFiles(s), ['tcp-9090-0.0.0.0']);
  s.releasePorts(B);
  assert.equal(portFiles(s), []);
});

test('releasePorts without any port lease is a no-op', () => {
  newStore().releasePorts(A);
});

// ---------------------------------------------------------------- owners that cannot be read

test('a lease naming no readable owner is in use: never reclaimed or reissued, never asked about', () => {
  const s = newStore();
  s.add(SMALL, cidrOverlaps);
  const ip = s.lease(SMALL, A, live(), noReclaim);
  for (const junk of ['garbage\n', '', 'a'.repeat(63), `${A} ${B}`]) {
    writeFileSync(leaseFile(s, 'small', ip), junk);
    assert.equal(s.leases('small'), new Map([[ip, null]]), JSON.stringify(junk));
    const asked: string[] = [];
    const next = s.lease(SMALL, B, (x) => (asked.push(x), false), noReclaim);
    assert.is.not(next, ip, 'another address');
    assert.equal(asked, [], 'isLive is never asked about an owner that cannot be read');
    s.release('small', next, B);
  }
  // A full network says why.
  for (const x of ['10.9.0.3', '10.9.0.4', '10.9.0.5', '10.9.0.6']) writeFileSync(leaseFile(s, 'small', x), 'junk');
  const e = thrown(() => s.lease(SMALL, C, live(), noReclaim));
  assert.match(e.hint ?? '', /5 lease file\(s\) in .* name no readable owner and stay in use/);
});

test('release frees a garbled lease for the container that recorded the address, and nothing of another owner', () => {
  const s = newStore();
  s.add(SMALL, cidrOverlaps);
  const ip = s.lease(SMALL, A, live(), noReclaim);
  writeFileSync(leaseFile(s, 'small', ip), '\0\0');
  s.release('small', ip, A);
  assert.not.ok(existsSync(leaseFile(s, 'small', ip)));
  const ip2 = s.lease(SMALL, B, live(), noReclaim);
  s.release('small', ip2, A);
  assert.ok(existsSync(leaseFile(s, 'small', ip2)), 'B\'s lease is not A\'s to release');
});

test('a port lease naming no readable owner is in use; releasePorts with the recorded bindings frees it', () => {
  const s = newStore();
  s.leasePort(b('0.0.0.0', 8080), A, live(), noReclaim);
  writeFileSync(join(s.portsDir, 'tcp-8080-0.0.0.0'), 'garbage');
  assert.equal(s.portLeases().map((l) => l.owner), [null]);
  const e = thrown(() => s.leasePort(b('0.0.0.0', 8080), B, live(), noReclaim));
  assert.match(e.message, /^host port 8080\/tcp is leased, and its lease file .*tcp-8080-0\.0\.0\.0 names no readable owner$/);
  s.releasePorts(B);
  s.releasePorts(A);
  assert.equal(portFiles(s), ['tcp-8080-0.0.0.0'], 'not by owner alone: the file names no one');
  s.releasePorts(B, [b('0.0.0.0', 9999)]);
  assert.equal(portFiles(s), ['tcp-8080-0.0.0.0'], 'nor by a container that did not record that port');
  s.releasePorts(A, [b('0.0.0.0', 8080)]);
  assert.equal(portFiles(s), []);
});

test('scan: the readable networks and apart the unreadable ones; list refuses', () => {
  const s = newStore();
  s.add(SMALL, cidrOverlaps);
  s.add(TINY, cidrOverlaps);
  writeFileSync(join(s.dir, 'tiny', 'network.json'), '{"name": "ti');
  const { nets, broken } = s.scan();
  assert.equal(nets, [scoped(s, SMALL)]);
  assert.equal(broken.map((x) => [x.name, x.error.message]), [['tiny', 'network tiny: its configuration is unreadable']]);
  assert.throws(() => s.list(), /network tiny: its configuration is unreadable/);
  writeFileSync(join(s.dir, 'tiny', 'network.json'), '[]');
  assert.is(s.scan().broken.length, 1, 'valid JSON that is no network configuration');
});

test('markRemoving / isRemoving; a network recorded before scopes gets its root\'s', () => {
  const s = newStore();
  s.add(SMALL, cidrOverlaps);
  assert.not.ok(s.isRemoving('small'));
  s.markRemoving('small');
  assert.ok(s.isRemoving('small'));
  assert.equal(s.get('small'), scoped(s, SMALL), 'still readable: gc finishes the removal with it');
  writeFileSync(join(s.dir, 'small', 'network.json'), JSON.stringify(SMALL));
  assert.is(s.get('small')!.scope, s.scope);
});

test.after(() => {
  for (const r of tmpRoots) rmSync(r, { recursive: true, force: true });
});

test.run();
