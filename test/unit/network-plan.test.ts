// Unit tests for src/network/plan.ts: the bridge, veth, address and iptables rules a container
// needs, as data, compared as exact text (the same text is applied and later deleted).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { intToIp, ipToInt } from '../../src/network/ipv4.js';
import {
  CHAINS,
  batchScript,
  capacity,
  containerSysctlCommand,
  hostVethName,
  ownerTag,
  pickAddress,
  requestedAddressProblem,
  planAsCommands,
  planAttachIp,
  planChains,
  planContainerSysctls,
  planNetwork,
  planPortRules,
  netOwner,
  restoreScript,
  rootScope,
  type Attachment,
  type IptRule,
  type NetworkConfig,
} from '../../src/network/plan.js';
import type { PortBinding } from '../../src/spec/ports.js';

const net = (subnet: string, gateway: string, first: string, last: string, name = 'bridge', bridge = 'mdk0'): NetworkConfig => ({
  name,
  id: 'f'.repeat(64),
  bridge,
  subnet,
  prefix: Number(subnet.split('/')[1]),
  gateway,
  first: ipToInt(first),
  last: ipToInt(last),
  createdAt: 0,
});

const NET16 = net('10.88.0.0/16', '10.88.0.1', '10.88.0.1', '10.88.255.254');
const NET29 = net('10.9.0.0/29', '10.9.0.1', '10.9.0.1', '10.9.0.6', 'small', 'mdkbr0123456789');

const CID = '0123456789abcdef'.repeat(4);

// ---------------------------------------------------------------- planChains, planNetwork

test('ownerTag', () => {
  assert.is(ownerTag('abc'), '-m comment --comment minidock:abc');
  assert.is(ownerTag('net:bridge'), '-m comment --comment minidock:net:bridge');
});

test('planChains: minidock chains and the jumps into them, isolation first in MINIDOCK-FORWARD', () => {
  assert.equal(planChains(), {
    chains: [
      ['raw', 'MINIDOCK-PREROUTING'], ['nat', 'MINIDOCK-DNAT'], ['nat', 'MINIDOCK-POSTROUTING'],
      ['filter', 'MINIDOCK-FORWARD'], ['filter', 'MINIDOCK-ISOLATION-1'], ['filter', 'MINIDOCK-ISOLATION-2'],
    ],
    jumps: [
      { table: 'raw', chain: 'PREROUTING', spec: '-j MINIDOCK-PREROUTING' },
      { table: 'nat', chain: 'PREROUTING', spec: '-m addrtype --dst-type LOCAL -j MINIDOCK-DNAT' },
      { table: 'nat', chain: 'OUTPUT', spec: '-m addrtype --dst-type LOCAL -j MINIDOCK-DNAT' },
      { table: 'nat', chain: 'POSTROUTING', spec: '-j MINIDOCK-POSTROUTING' },
      { table: 'filter', chain: 'FORWARD', spec: '-j MINIDOCK-FORWARD' },
      { table: 'filter', chain: 'MINIDOCK-FORWARD', spec: '-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j MINIDOCK-ISOLATION-1' },
    ],
  });
});

test('rootScope: 8 hex digits, stable per path, different for different roots', () => {
  assert.is(rootScope('/var/lib/minidock'), rootScope('/var/lib/minidock'));
  assert.match(rootScope('/var/lib/minidock'), /^[0-9a-f]{8}$/);
  assert.is.not(rootScope('/var/lib/minidock'), rootScope('/tmp/other-root'));
  assert.is(netOwner({ name: 'bridge', scope: '0a1b2c3d' }), 'net:bridge:0a1b2c3d');
  assert.is(netOwner({ name: 'bridge' }), 'net:bridge', 'a network recorded before scopes');
});

const NET16_RULES: IptRule[] = [
  { table: 'raw', chain: 'MINIDOCK-PREROUTING', spec: '-d 127.0.0.0/8 -i mdk0 -m comment --comment minidock:net:bridge -j DROP' },
  { table: 'nat', chain: 'MINIDOCK-POSTROUTING', spec: '-s 10.88.0.0/16 ! -o mdk0 -m comment --comment minidock:net:bridge -j MASQUERADE' },
  { table: 'nat', chain: 'MINIDOCK-POSTROUTING', spec: '-o mdk0 -m addrtype --src-type LOCAL -m comment --comment minidock:net:bridge -j MASQUERADE' },
  { table: 'nat', chain: 'MINIDOCK-POSTROUTING', spec: '-s 10.88.0.0/16 -o mdk0 -m conntrack --ctstate DNAT -m comment --comment minidock:net:bridge -j MASQUERADE' },
  { table: 'filter', chain: 'MINIDOCK-FORWARD', spec: '-o mdk0 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment minidock:net:bridge -j ACCEPT' },
  { table: 'filter', chain: 'MINIDOCK-FORWARD', spec: '-o mdk0 -m conntrack --ctstate DNAT -m comment --comment minidock:net:bridge -j ACCEPT' },
  { table: 'filter', chain: 'MINIDOCK-FORWARD', spec: '-i mdk0 -m comment --comment minidock:net:bridge -j ACCEPT' },
  { table: 'filter', chain: 'MINIDOCK-ISOLATION-1', spec: '-i mdk0 ! -o mdk0 -m comment --comment minidock:net:bridge -j MINIDOCK-ISOLATION-2' },
  { table: 'filter', chain: 'MINIDOCK-ISOLATION-2', spec: '-o mdk0 -m comment --comment minidock:net:bridge -j DROP' },
];

test('planNetwork: the default network /16 on mdk0, exact', () => {
  assert.equal(planNetwork(NET16), {
    ip: ['link add name mdk0 type bridge', 'addr add 10.88.0.1/16 dev mdk0', 'link set mdk0 up'],
    sysctls: [
      ['/proc/sys/net/ipv4/ip_forward', '1'],
      ['/proc/sys/net/ipv6/conf/mdk0/disable_ipv6', '1', 'if-present'],
    ],
    rules: NET16_RULES,
    afterRules: [['/proc/sys/net/ipv4/conf/mdk0/route_localnet', '1']],
  });
});

test('planNetwork: a user network /29 with an explicit gateway and a scope, exact', () => {
  const n = { ...net('10.9.0.0/29', '10.9.0.6', '10.9.0.1', '10.9.0.6', 'mynet', 'mdkbr0123456789'), scope: '0a1b2c3d' };
  const tag = '-m comment --comment minidock:net:mynet:0a1b2c3d';
  assert.equal(planNetwork(n), {
    ip: ['link add name mdkbr0123456789 type bridge', 'addr add 10.9.0.6/29 dev mdkbr0123456789', 'link set mdkbr0123456789 up'],
    sysctls: [
      ['/proc/sys/net/ipv4/ip_forward', '1'],
      ['/proc/sys/net/ipv6/conf/mdkbr0123456789/disable_ipv6', '1', 'if-present'],
    ],
    rules: [
      { table: 'raw', chain: 'MINIDOCK-PREROUTING', spec: `-d 127.0.0.0/8 -i mdkbr0123456789 ${tag} -j DROP` },
      { table: 'nat', chain: 'MINIDOCK-POSTROUTING', spec: `-s 10.9.0.0/29 ! -o mdkbr0123456789 ${tag} -j MASQUERADE` },
      { table: 'nat', chain: 'MINIDOCK-POSTROUTING', spec: `-o mdkbr0123456789 -m addrtype --src-type LOCAL ${tag} -j MASQUERADE` },
      { table: 'nat', chain: 'MINIDOCK-POSTROUTING', spec: `-s 10.9.0.0/29 -o mdkbr0123456789 -m conntrack --ctstate DNAT ${tag} -j MASQUERADE` },
      { table: 'filter', chain: 'MINIDOCK-FORWARD', spec: `-o mdkbr0123456789 -m conntrack --ctstate RELATED,ESTABLISHED ${tag} -j ACCEPT` },
      { table: 'filter', chain: 'MINIDOCK-FORWARD', spec: `-o mdkbr0123456789 -m conntrack --ctstate DNAT ${tag} -j ACCEPT` },
      { table: 'filter', chain: 'MINIDOCK-FORWARD', spec: `-i mdkbr0123456789 ${tag} -j ACCEPT` },
      { table: 'filter', chain: 'MINIDOCK-ISOLATION-1', spec: `-i mdkbr0123456789 ! -o mdkbr0123456789 ${tag} -j MINIDOCK-ISOLATION-2` },
      { table: 'filter', chain: 'MINIDOCK-ISOLATION-2', spec: `-o mdkbr0123456789 ${tag} -j DROP` },
    ],
    afterRules: [['/proc/sys/net/ipv4/conf/mdkbr0123456789/route_localnet', '1']],
  });
});

test('planNetwork: route_localnet only on the bridge, never on "all" or "default", and only after the rules', () => {
  for (const n of [NET16, NET29]) {
    const p = planNetwork(n);
    assert.equal(p.afterRules, [[`/proc/sys/net/ipv4/conf/${n.bridge}/route_localnet`, '1']]);
    assert.not.ok(p.sysctls.some(([path]) => path.endsWith('/route_localnet')), 'not before the guard exists');
    assert.not.ok([...p.sysctls, ...p.afterRules].some(([path]) => path.includes('/conf/all/') || path.includes('/conf/default/')));
  }
});

test('planNetwork: the localhost guard is in the raw table, for the bridge, stateless', () => {
  const guard = planNetwork(NET29).rules.filter((r) => r.table === 'raw');
  assert.equal(guard, [{ table: 'raw', chain: 'MINIDOCK-PREROUTING', spec: '-d 127.0.0.0/8 -i mdkbr0123456789 -m comment --comment minidock:net:small -j DROP' }]);
  assert.not.match(guard[0]!.spec, /conntrack/, 'raw comes before conntrack: nothing stateful can be matched, or needed');
});

test('planContainerSysctls and containerSysctlCommand: IPv6 off in the container\'s namespace, before eth0 exists', () => {
  assert.equal(planContainerSysctls(), [['/proc/sys/net/ipv6/conf/default/disable_ipv6', '1', 'if-present']]);
  assert.equal(containerSysctlCommand(4242, planContainerSysctls()), [
    'nsenter', '--net=/proc/4242/ns/net', 'sh', '-c',
    '[ ! -e /proc/sys/net/ipv6/conf/default/disable_ipv6 ] || echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6',
  ]);
  assert.equal(containerSysctlCommand(7, [['/proc/sys/a', '0']]), ['nsenter', '--net=/proc/7/ns/net', 'sh', '-c', 'echo 0 > /proc/sys/a']);
});

test('planNetwork: every rule is tagged with the network and lives in a minidock chain', () => {
  const mine = new Set<string>(Object.values(CHAINS));
  for (const r of planNetwork(NET29).rules) {
    assert.ok(r.spec.includes(' -m comment --comment minidock:net:small -j '), r.spec);
    assert.ok(mine.has(r.chain), r.chain);
  }
});

// ---------------------------------------------------------------- port rules

const port = (hostIp: string, hostPort: number, containerPort: number, proto: 'tcp' | 'udp' = 'tcp'): PortBinding => ({
  hostIp, hostPort, containerPort, proto,
});

const att = (ports: PortBinding[]): Attachment => ({
  containerId: CID,
  network: 'bridge',
  bridge: 'mdk0',
  ip: '10.88.0.2',
  prefix: 16,
  gateway: '10.88.0.1',
  mac: '02:42:0a:58:00:02',
  hostVeth: hostVethName(CID),
  mtu: 1500,
  ports,
});

const TAG = `-m comment --comment minidock:${CID}`;
const portCases: Array<[string, PortBinding, string]> = [
  ['all addresses, tcp', port('0.0.0.0', 8080, 80), `-p tcp -m tcp --dport 8080 ${TAG} -j DNAT --to-destination 10.88.0.2:80`],
  ['a specific address', port('192.168.1.5', 8443, 443), `-d 192.168.1.5/32 -p tcp -m tcp --dport 8443 ${TAG} -j DNAT --to-destination 10.88.0.2:443`],
  ['127.0.0.1: local sources only', port('127.0.0.1', 8080, 80), `-d 127.0.0.1/32 -p tcp -m addrtype --src-type LOCAL -m tcp --dport 8080 ${TAG} -j DNAT --to-destination 10.88.0.2:80`],
  ['another loopback address', port('127.0.0.2', 5000, 5000), `-d 127.0.0.2/32 -p tcp -m addrtype --src-type LOCAL -m tcp --dport 5000 ${TAG} -j DNAT --to-destination 10.88.0.2:5000`],
  ['udp on all addresses', port('0.0.0.0', 5353, 53, 'udp'), `-p udp -m udp --dport 5353 ${TAG} -j DNAT --to-destination 10.88.0.2:53`],
  ['udp on loopback', port('127.0.0.1', 5353, 53, 'udp'), `-d 127.0.0.1/32 -p udp -m addrtype --src-type LOCAL -m udp --dport 5353 ${TAG} -j DNAT --to-destination 10.88.0.2:53`],
];
for (const [name, p, spec] of portCases) {
  test(`planPortRules: ${name}`, () => {
    assert.equal(planPortRules(att([p])), [{ table: 'nat', chain: 'MINIDOCK-DNAT', spec }]);
  });
}

test('planPortRules: one rule per binding, in order; none without ports', () => {
  assert.equal(planPortRules(att([])), []);
  assert.equal(
    planPortRules(att(portCases.map(([, p]) => p))).map((r) => r.spec),
    portCases.map(([, , s]) => s),
  );
});

test('planPortRules: "127." only as a prefix of the address means loopback', () => {
  const [r] = planPortRules(att([port('10.127.0.1', 80, 80)]));
  assert.is(r!.spec, `-d 10.127.0.1/32 -p tcp -m tcp --dport 80 ${TAG} -j DNAT --to-destination 10.88.0.2:80`);
});

// ---------------------------------------------------------------- veth

test('hostVethName: mdk + 12 id characters, within IFNAMSIZ', () => {
  assert.is(hostVethName(CID), 'mdk0123456789ab');
  assert.ok(hostVethName(CID).length <= 15);
  assert.ok(hostVethName('f'.repeat(64)).length <= 15);
});

test('planAttachIp: veth pair born with its peer in the container, host end on the bridge', () => {
  assert.equal(planAttachIp(att([]), 4242), [
    'link add name mdk0123456789ab mtu 1500 type veth peer name eth0 mtu 1500 address 02:42:0a:58:00:02 netns 4242',
    'link set mdk0123456789ab master mdk0 up',
    'link set mdk0123456789ab type bridge_slave hairpin on',
  ]);
  assert.equal(planAttachIp({ ...att([]), mtu: 1450, bridge: 'mdkbrx' }, 7), [
    'link add name mdk0123456789ab mtu 1450 type veth peer name eth0 mtu 1450 address 02:42:0a:58:00:02 netns 7',
    'link set mdk0123456789ab master mdkbrx up',
    'link set mdk0123456789ab type bridge_slave hairpin on',
  ]);
});

// ---------------------------------------------------------------- restoreScript

test('restoreScript: network rules appended with the chains created first (-N: a chain made meanwhile fails the batch, never flushed)', () => {
  assert.is(
    restoreScript(NET16_RULES, 'A', planChains().chains),
    '*raw\n' +
      '-N MINIDOCK-PREROUTING\n' +
      `-A MINIDOCK-PREROUTING ${NET16_RULES[0]!.spec}\n` +
      'COMMIT\n' +
      '*nat\n' +
      '-N MINIDOCK-DNAT\n' +
      '-N MINIDOCK-POSTROUTING\n' +
      `-A MINIDOCK-POSTROUTING ${NET16_RULES[1]!.spec}\n` +
      `-A MINIDOCK-POSTROUTING ${NET16_RULES[2]!.spec}\n` +
      `-A MINIDOCK-POSTROUTING ${NET16_RULES[3]!.spec}\n` +
      'COMMIT\n' +
      '*filter\n' +
      '-N MINIDOCK-FORWARD\n' +
      '-N MINIDOCK-ISOLATION-1\n' +
      '-N MINIDOCK-ISOLATION-2\n' +
      `-A MINIDOCK-FORWARD ${NET16_RULES[4]!.spec}\n` +
      `-A MINIDOCK-FORWARD ${NET16_RULES[5]!.spec}\n` +
      `-A MINIDOCK-FORWARD ${NET16_RULES[6]!.spec}\n` +
      `-A MINIDOCK-ISOLATION-1 ${NET16_RULES[7]!.spec}\n` +
      `-A MINIDOCK-ISOLATION-2 ${NET16_RULES[8]!.spec}\n` +
      'COMMIT\n',
  );
});

test('restoreScript: jumps inserted, no chain declared unless asked', () => {
  assert.is(
    restoreScript(planChains().jumps, 'I'),
    '*raw\n' +
      '-I PREROUTING -j MINIDOCK-PREROUTING\n' +
      'COMMIT\n' +
      '*nat\n' +
      '-I PREROUTING -m addrtype --dst-type LOCAL -j MINIDOCK-DNAT\n' +
      '-I OUTPUT -m addrtype --dst-type LOCAL -j MINIDOCK-DNAT\n' +
      '-I POSTROUTING -j MINIDOCK-POSTROUTING\n' +
      'COMMIT\n' +
      '*filter\n' +
      '-I FORWARD -j MINIDOCK-FORWARD\n' +
      '-I MINIDOCK-FORWARD -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j MINIDOCK-ISOLATION-1\n' +
      'COMMIT\n',
  );
});

test('batchScript: per table, new chains, inserts, appends, deletes, then removals of chains', () => {
  const j = planChains().jumps;
  assert.is(
    batchScript({ chains: [['filter', 'X']], I: [j[4]!], A: [{ table: 'filter', chain: 'X', spec: '-j ACCEPT' }], D: [j[0]!], X: [['raw', 'MINIDOCK-PREROUTING']] }),
    '*raw\n-D PREROUTING -j MINIDOCK-PREROUTING\n-X MINIDOCK-PREROUTING\nCOMMIT\n' +
      '*filter\n-N X\n-I FORWARD -j MINIDOCK-FORWARD\n-A X -j ACCEPT\nCOMMIT\n',
  );
  assert.is(batchScript({}), '');
});

test('restoreScript: deleting port rules touches nat only (filter omitted)', () => {
  const rules = planPortRules(att([port('0.0.0.0', 8080, 80), port('127.0.0.1', 5353, 53, 'udp')]));
  assert.is(
    restoreScript(rules, 'D'),
    '*nat\n' +
      `-D MINIDOCK-DNAT -p tcp -m tcp --dport 8080 ${TAG} -j DNAT --to-destination 10.88.0.2:80\n` +
      `-D MINIDOCK-DNAT -d 127.0.0.1/32 -p udp -m addrtype --src-type LOCAL -m udp --dport 5353 ${TAG} -j DNAT --to-destination 10.88.0.2:53\n` +
      'COMMIT\n',
  );
});

test('restoreScript: filter rules only (nat omitted), nat before filter whatever the input order', () => {
  const rules: IptRule[] = [
    { table: 'filter', chain: 'X', spec: '-j ACCEPT' },
    { table: 'nat', chain: 'Y', spec: '-j RETURN' },
  ];
  assert.is(restoreScript([rules[0]!], 'D'), '*filter\n-D X -j ACCEPT\nCOMMIT\n');
  assert.is(restoreScript(rules, 'A'), '*nat\n-A Y -j RETURN\nCOMMIT\n*filter\n-A X -j ACCEPT\nCOMMIT\n');
});

test('restoreScript: a table with only a new chain, and nothing at all', () => {
  assert.is(restoreScript([], 'A', [['filter', 'MINIDOCK-FORWARD']]), '*filter\n-N MINIDOCK-FORWARD\nCOMMIT\n');
  assert.is(
    restoreScript([{ table: 'filter', chain: 'F', spec: '-j ACCEPT' }], 'A', [['nat', 'N']]),
    '*nat\n-N N\nCOMMIT\n*filter\n-A F -j ACCEPT\nCOMMIT\n',
  );
  assert.is(restoreScript([], 'A'), '');
  assert.is(restoreScript([], 'D', []), '');
});

// ---------------------------------------------------------------- IPAM helpers

const set = (...ips: string[]): Set<string> => new Set(ips);
const pickCases: Array<[string, NetworkConfig, Set<string>, string | undefined]> = [
  ['empty /29: the first after the gateway', NET29, set(), '10.9.0.2'],
  ['lowest free, holes filled first', NET29, set('10.9.0.2', '10.9.0.4'), '10.9.0.3'],
  ['the last one', NET29, set('10.9.0.2', '10.9.0.3', '10.9.0.4', '10.9.0.5'), '10.9.0.6'],
  ['full', NET29, set('10.9.0.2', '10.9.0.3', '10.9.0.4', '10.9.0.5', '10.9.0.6'), undefined],
  ['a lease on the gateway is irrelevant', NET29, set('10.9.0.1', '10.9.0.2'), '10.9.0.3'],
  ['gateway in the middle is skipped', net('10.9.0.0/29', '10.9.0.3', '10.9.0.1', '10.9.0.6'), set('10.9.0.1', '10.9.0.2'), '10.9.0.4'],
  ['gateway last: the first is free', net('10.9.0.0/29', '10.9.0.6', '10.9.0.1', '10.9.0.6'), set(), '10.9.0.1'],
  ['gateway last, the rest taken', net('10.9.0.0/29', '10.9.0.6', '10.9.0.1', '10.9.0.6'), set('10.9.0.1', '10.9.0.2', '10.9.0.3', '10.9.0.4', '10.9.0.5'), undefined],
  ['/30 has one', net('10.9.0.0/30', '10.9.0.1', '10.9.0.1', '10.9.0.2'), set(), '10.9.0.2'],
  ['/30 full', net('10.9.0.0/30', '10.9.0.1', '10.9.0.1', '10.9.0.2'), set('10.9.0.2'), undefined],
  ['/16 crosses an octet', NET16, new Set(Array.from({ length: 254 }, (_, i) => intToIp(ipToInt('10.88.0.2') + i))), '10.88.1.0'],
];
for (const [name, n, taken, want] of pickCases) {
  test(`pickAddress: ${name}`, () => {
    assert.is(pickAddress(n, taken), want);
  });
}

test('capacity: the range less the gateway', () => {
  assert.is(capacity(NET29), 5);
  assert.is(capacity(NET16), 65533);
  assert.is(capacity(net('10.9.0.0/24', '10.9.0.1', '10.9.0.1', '10.9.0.254')), 253);
  assert.is(capacity(net('10.9.0.0/30', '10.9.0.1', '10.9.0.1', '10.9.0.2')), 1);
});

// ---------------------------------------------------------------- planAsCommands

test('planAsCommands: ip and iptables command lines, append and delete', () => {
  const p = planNetwork(NET29);
  const rules = p.rules.slice(0, 1).concat(p.rules.slice(-1));
  assert.equal(planAsCommands(p.ip, rules), [
    'ip link add name mdkbr0123456789 type bridge',
    'ip addr add 10.9.0.1/29 dev mdkbr0123456789',
    'ip link set mdkbr0123456789 up',
    'iptables -t raw -A MINIDOCK-PREROUTING -d 127.0.0.0/8 -i mdkbr0123456789 -m comment --comment minidock:net:small -j DROP',
    'iptables -t filter -A MINIDOCK-ISOLATION-2 -o mdkbr0123456789 -m comment --comment minidock:net:small -j DROP',
  ]);
  assert.equal(planAsCommands([], planPortRules(att([port('0.0.0.0', 8080, 80)])), 'D'), [
    `iptables -t nat -D MINIDOCK-DNAT -p tcp -m tcp --dport 8080 ${TAG} -j DNAT --to-destination 10.88.0.2:80`,
  ]);
  assert.equal(planAsCommands(planAttachIp(att([]), 9), []), [
    'ip link add name mdk0123456789ab mtu 1500 type veth peer name eth0 mtu 1500 address 02:42:0a:58:00:02 netns 9',
    'ip link set mdk0123456789ab master mdk0 up',
    'ip link set mdk0123456789ab type bridge_slave hairpin on',
  ]);
});

test('requestedAddressProblem: --ip inside the range and not the gateway', () => {
  const n = net('10.134.0.0/24', '10.134.0.1', '10.134.0.1', '10.134.0.254');
  assert.is(requestedAddressProblem(n, '10.134.0.50'), undefined);
  assert.is(requestedAddressProblem(n, '10.134.0.254'), undefined);
  assert.match(requestedAddressProblem(n, '10.134.0.1') ?? '', /is the network's gateway/);
  assert.match(requestedAddressProblem(n, '10.134.0.255') ?? '', /not in the network's range 10\.134\.0\.1-10\.134\.0\.254/);
  assert.match(requestedAddressProblem(n, '10.9.0.5') ?? '', /not in the network's range/);
});

test.run();
