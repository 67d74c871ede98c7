// Unit tests for src/network/ipv4.ts (32-bit IPv4 arithmetic), src/network/subnet.ts (a
// network's subnet and gateway) and hostRoutes() of src/network/host.ts (/proc/net/route text).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectUsageError } from '../helpers/usage-error.js';
import { hostRoutes } from '../../src/network/host.js';
import { cidrOverlaps, cidrRange, intToIp, ipToInt, isIpv4, macFor } from '../../src/network/ipv4.js';
import { DEFAULT_SUBNETS, loadSubnetLib, parseSubnet, pickDefaultSubnet, type SubnetInfo } from '../../src/network/subnet.js';

await loadSubnetLib();

// ---------------------------------------------------------------- ipToInt / intToIp

const ints: Array<[string, number]> = [
  ['0.0.0.0', 0],
  ['0.0.0.1', 1],
  ['0.0.1.0', 256],
  ['10.88.0.1', 10 * 2 ** 24 + 88 * 2 ** 16 + 1],
  ['127.0.0.1', 2130706433],
  ['192.168.242.255', 3232297727],
  ['255.255.255.255', 4294967295],
];
for (const [ip, n] of ints) {
  test(`ipToInt ${ip} = ${n}, and back`, () => {
    assert.is(ipToInt(ip), n);
    assert.is(intToIp(n), ip);
    assert.ok(isIpv4(ip));
  });
}

const notIps = ['', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.00', '1.2.3.256', '256.0.0.0', '1.2.3.-1', '1..2.3', ' 1.2.3.4', '1.2.3.4 ', '0x1.2.3.4', '1.2.3.4/24', 'a.b.c.d', '1.2.3.1e2', '::1'];
for (const s of notIps) {
  test(`ipToInt rejects ${JSON.stringify(s)}`, () => {
    assert.throws(() => ipToInt(s), (e: Error) => e.message === `not an IPv4 address: ${s}`);
    assert.not.ok(isIpv4(s));
  });
}

test('intToIp/ipToInt round trip over a spread of values', () => {
  for (let n = 0; n < 2 ** 32; n += 16777259) assert.is(ipToInt(intToIp(n)), n);
});

// ---------------------------------------------------------------- cidrRange / cidrOverlaps

const ranges: Array<[string, string, string]> = [
  ['10.88.0.0/16', '10.88.0.0', '10.88.255.255'],
  ['10.88.3.7/16', '10.88.0.0', '10.88.255.255'],
  ['192.168.1.128/25', '192.168.1.128', '192.168.1.255'],
  ['1.2.3.4/32', '1.2.3.4', '1.2.3.4'],
  ['0.0.0.0/0', '0.0.0.0', '255.255.255.255'],
  ['172.16.0.0/12', '172.16.0.0', '172.31.255.255'],
];
for (const [cidr, lo, hi] of ranges) {
  test(`cidrRange ${cidr} = ${lo} - ${hi}`, () => {
    assert.equal(cidrRange(cidr), [ipToInt(lo), ipToInt(hi)]);
  });
}

const overlaps: Array<[string, string, boolean]> = [
  ['10.0.0.0/8', '10.88.0.0/16', true],
  ['10.88.0.0/16', '10.88.0.0/16', true],
  ['10.88.0.0/16', '10.88.200.0/24', true],
  ['10.88.0.0/16', '10.89.0.0/16', false],
  ['10.0.0.0/25', '10.0.0.128/25', false],
  ['10.0.0.0/25', '10.0.0.127/32', true],
  ['192.168.0.0/16', '192.169.0.0/16', false],
  ['0.0.0.0/0', '1.2.3.4/32', true],
];
for (const [a, b, want] of overlaps) {
  test(`cidrOverlaps ${a} ${b} = ${want} (both ways)`, () => {
    assert.is(cidrOverlaps(a, b), want);
    assert.is(cidrOverlaps(b, a), want);
  });
}

// ---------------------------------------------------------------- macFor

const macs: Array<[string, string]> = [
  ['10.88.0.2', '02:42:0a:58:00:02'],
  ['172.17.0.2', '02:42:ac:11:00:02'],
  ['192.168.242.254', '02:42:c0:a8:f2:fe'],
  ['0.0.0.0', '02:42:00:00:00:00'],
  ['255.255.255.255', '02:42:ff:ff:ff:ff'],
];
for (const [ip, mac] of macs) {
  test(`macFor ${ip} = ${mac}`, () => {
    assert.is(macFor(ip), mac);
  });
}

// ---------------------------------------------------------------- parseSubnet

const info = (subnet: string, gateway: string, first: string, last: string): SubnetInfo => ({
  subnet,
  prefix: Number(subnet.split('/')[1]),
  gateway,
  first: ipToInt(first),
  last: ipToInt(last),
});

const goodSubnets: Array<[string, string | undefined, SubnetInfo]> = [
  ['10.89.0.0/24', undefined, info('10.89.0.0/24', '10.89.0.1', '10.89.0.1', '10.89.0.254')],
  ['10.89.0.8/29', undefined, info('10.89.0.8/29', '10.89.0.9', '10.89.0.9', '10.89.0.14')],
  ['172.30.0.0/16', undefined, info('172.30.0.0/16', '172.30.0.1', '172.30.0.1', '172.30.255.254')],
  ['10.0.0.0/8', undefined, info('10.0.0.0/8', '10.0.0.1', '10.0.0.1', '10.255.255.254')],
  ['10.9.0.0/30', undefined, info('10.9.0.0/30', '10.9.0.1', '10.9.0.1', '10.9.0.2')],
  ['10.89.0.0/24', '10.89.0.254', info('10.89.0.0/24', '10.89.0.254', '10.89.0.1', '10.89.0.254')],
  ['10.89.0.0/24', '10.89.0.100', info('10.89.0.0/24', '10.89.0.100', '10.89.0.1', '10.89.0.254')],
  ['10.89.0.0/24', '10.89.0.1', info('10.89.0.0/24', '10.89.0.1', '10.89.0.1', '10.89.0.254')],
];
for (const [cidr, gw, want] of goodSubnets) {
  test(`parseSubnet ${cidr}${gw ? ` gateway ${gw}` : ''}`, () => {
    assert.equal(parseSubnet(cidr, gw), want);
  });
}

const badSubnets: Array<[string, string | undefined, string[], string, string | undefined]> = [
  ['10.89.0.5/24', undefined, [], 'invalid subnet "10.89.0.5/24": host bits are set', 'did you mean 10.89.0.0/24?'],
  ['172.30.1.0/16', undefined, [], 'invalid subnet "172.30.1.0/16": host bits are set', 'did you mean 172.30.0.0/16?'],
  ['10.0.0.0/31', undefined, [], 'subnet 10.0.0.0/31 must have a prefix from /8 to /30', undefined],
  ['10.0.0.0/32', undefined, [], 'subnet 10.0.0.0/32 must have a prefix from /8 to /30', undefined],
  ['10.0.0.0/7', undefined, [], 'subnet 10.0.0.0/7 must have a prefix from /8 to /30', undefined],
  ['0.0.0.0/0', undefined, [], 'subnet 0.0.0.0/0 must have a prefix from /8 to /30', undefined],
  ['10.89.0.0', undefined, [], 'invalid subnet "10.89.0.0"', 'give an IPv4 CIDR such as 10.89.0.0/24'],
  ['10.89.0.0/33', undefined, [], 'invalid subnet "10.89.0.0/33"', 'give an IPv4 CIDR such as 10.89.0.0/24'],
  ['10.89.0.256/24', undefined, [], 'invalid subnet "10.89.0.256/24"', 'give an IPv4 CIDR such as 10.89.0.0/24'],
  ['010.89.0.0/24', undefined, [], 'invalid subnet "010.89.0.0/24"', 'give an IPv4 CIDR such as 10.89.0.0/24'],
  ['10.89.0/24', undefined, [], 'invalid subnet "10.89.0/24"', 'give an IPv4 CIDR such as 10.89.0.0/24'],
  ['fd00::/64', undefined, [], 'invalid subnet "fd00::/64"', 'give an IPv4 CIDR such as 10.89.0.0/24'],
  [' 10.89.0.0/24', undefined, [], 'invalid subnet " 10.89.0.0/24"', 'give an IPv4 CIDR such as 10.89.0.0/24'],
  ['10.89.0.0/24', '10.89.1.1', [], 'gateway 10.89.1.1 is not a host address of 10.89.0.0/24', undefined],
  ['10.89.0.0/24', '10.89.0.0', [], 'gateway 10.89.0.0 is not a host address of 10.89.0.0/24', undefined],
  ['10.89.0.0/24', '10.89.0.255', [], 'gateway 10.89.0.255 is not a host address of 10.89.0.0/24', undefined],
  ['10.89.0.0/24', 'gw', [], 'invalid gateway "gw"', undefined],
  ['10.89.0.0/24', '10.89.0.01', [], 'invalid gateway "10.89.0.01"', undefined],
  ['192.168.1.0/24', undefined, ['10.0.0.0/8', '192.168.0.0/16'], "subnet 192.168.1.0/24 overlaps the host's route to 192.168.0.0/16", 'choose another --subnet'],
  ['10.0.0.0/8', undefined, ['10.200.3.0/24'], "subnet 10.0.0.0/8 overlaps the host's route to 10.200.3.0/24", 'choose another --subnet'],
  ['10.89.0.0/24', undefined, ['10.89.0.77/32'], "subnet 10.89.0.0/24 overlaps the host's route to 10.89.0.77/32", 'choose another --subnet'],
];
for (const [cidr, gw, routes, message, hint] of badSubnets) {
  test(`parseSubnet rejects ${cidr}${gw ? ` gateway ${gw}` : ''}${routes.length ? ` routes ${routes}` : ''}`, () => {
    const e = expectUsageError(() => parseSubnet(cidr, gw, routes));
    assert.is(e.message, message);
    assert.is(e.hint, hint);
  });
}

test('parseSubnet: routes that do not overlap are fine', () => {
  assert.equal(
    parseSubnet('10.89.0.0/24', undefined, ['10.88.0.0/16', '10.89.1.0/24', '192.168.0.0/16']),
    info('10.89.0.0/24', '10.89.0.1', '10.89.0.1', '10.89.0.254'),
  );
});

// ---------------------------------------------------------------- pickDefaultSubnet

test('DEFAULT_SUBNETS', () => {
  assert.equal(DEFAULT_SUBNETS, ['10.88.0.0/16', '10.89.0.0/16', '172.30.0.0/16', '172.31.0.0/16', '192.168.242.0/24']);
});

const picks: Array<[string[], string]> = [
  [[], '10.88.0.0/16'],
  [['192.168.1.0/24', '172.17.0.0/16'], '10.88.0.0/16'],
  [['10.88.5.0/24'], '10.89.0.0/16'],
  [['10.88.0.0/16', '10.89.255.255/32'], '172.30.0.0/16'],
  [['10.0.0.0/8'], '172.30.0.0/16'],
  [['10.0.0.0/8', '172.30.0.0/15'], '192.168.242.0/24'],
];
for (const [routes, want] of picks) {
  test(`pickDefaultSubnet ${JSON.stringify(routes)} → ${want}`, () => {
    assert.is(pickDefaultSubnet(routes), want);
  });
}

test('pickDefaultSubnet: every candidate overlapped', () => {
  const e = expectUsageError(() => pickDefaultSubnet(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']));
  assert.is(e.message, 'every default subnet overlaps a host route');
  assert.is(e.hint, 'create a network with --subnet');
});

// ---------------------------------------------------------------- hostRoutes

const ROUTE_TABLE =
  'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       \n' +
  'eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0                                                                               \n' +
  'eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0                                                                               \n' +
  'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0                                                                             \n' +
  'wg0\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0\n' +
  'tun0\t0A0B0C0D\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0\n' +
  'br1\t80F2A8C0\t00000000\t0001\t0\t0\t0\t80FFFFFF\t0\t0\t0\n';

test('hostRoutes parses /proc/net/route (little-endian hex) into CIDRs', () => {
  assert.equal(hostRoutes(ROUTE_TABLE), [
    { dev: 'eth0', cidr: '0.0.0.0/0' },
    { dev: 'eth0', cidr: '192.168.1.0/24' },
    { dev: 'docker0', cidr: '172.17.0.0/16' },
    { dev: 'wg0', cidr: '10.0.0.0/8' },
    { dev: 'tun0', cidr: '13.12.11.10/32' },
    { dev: 'br1', cidr: '192.168.242.128/25' },
  ]);
});

test('hostRoutes: header only', () => {
  assert.equal(hostRoutes(ROUTE_TABLE.split('\n')[0]! + '\n'), []);
});

test('hostRoutes feeds pickDefaultSubnet (without the default route)', () => {
  const routes = hostRoutes(ROUTE_TABLE).map((r) => r.cidr).filter((c) => c !== '0.0.0.0/0');
  // wg0 has 10/8: both 10.x defaults are taken.
  assert.is(pickDefaultSubnet(routes), '172.30.0.0/16');
  const e = expectUsageError(() => parseSubnet('192.168.242.0/24', undefined, routes));
  assert.is(e.message, "subnet 192.168.242.0/24 overlaps the host's route to 192.168.242.128/25");
});

test.run();
