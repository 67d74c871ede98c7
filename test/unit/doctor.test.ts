// Unit tests for src/runtime/doctor.ts: facts in, findings out. Each case starts from a healthy
// host and breaks one thing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  countLeftovers, diagnose, doctorExitCode, kernelVersion, nftForwardDropChains, parseProcCgroups, renderFindings,
  type DoctorFacts, type Finding,
} from '../../src/runtime/doctor.js';
import { parseSave } from '../../src/network/counters.js';
import { parseCgroupLayout } from '../../src/cgroup/layout.js';

const ID = 'a'.repeat(64);
const GONE = 'b'.repeat(64);

const SAVE = `*raw
:PREROUTING ACCEPT [0:0]
:MINIDOCK-PREROUTING - [0:0]
[0:0] -A PREROUTING -j MINIDOCK-PREROUTING
[0:0] -A MINIDOCK-PREROUTING -d 127.0.0.0/8 -i mdk0 -m comment --comment "minidock:net:bridge:0a1b2c3d" -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:MINIDOCK-DNAT - [0:0]
[0:0] -A PREROUTING -m addrtype --dst-type LOCAL -j MINIDOCK-DNAT
[2:120] -A MINIDOCK-DNAT -p tcp -m tcp --dport 8080 -m comment --comment "minidock:${ID}" -j DNAT --to-destination 10.88.0.2:80
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:MINIDOCK-FORWARD - [0:0]
[5:300] -A FORWARD -j MINIDOCK-FORWARD
[0:0] -A MINIDOCK-FORWARD -o mdk0 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "minidock:net:bridge" -j ACCEPT
[0:0] -A MINIDOCK-FORWARD -o mdk0 -m conntrack --ctstate DNAT -m comment --comment "minidock:net:bridge" -j ACCEPT
[0:0] -A MINIDOCK-FORWARD -i mdk0 -m comment --comment "minidock:net:bridge" -j ACCEPT
COMMIT
`;

// /proc/self/mountinfo of a v2 host and of a hybrid one (this project's CI machine).
const MOUNTINFO_V2 = '30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n';
const MOUNTINFO_HYBRID = [
  '30 24 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '32 30 0:28 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct',
  '33 30 0:29 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset',
  '34 30 0:30 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '35 30 0:31 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio',
  '36 30 0:32 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
  '37 30 0:33 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');

const healthy = (): DoctorFacts => ({
  uid: 0,
  kernelRelease: '6.1.0-18-amd64',
  ipForward: '1',
  bridges: ['mdk0'],
  iptablesVersion: 'iptables v1.8.9 (nf_tables)\n',
  save: SAVE,
  otherBackendRules: 0,
  nftForwardDrop: [],
  bridgeNfCallIptables: undefined,
  hairpinOff: [],
  cgroups: parseCgroupLayout(MOUNTINFO_V2, '0::/\n', 'cpuset cpu io memory pids\n'),
  cgroupEnabled: ['cpuset', 'cpu', 'cpuacct', 'blkio', 'memory', 'pids'],
  filesystems: 'nodev\tsysfs\nnodev\toverlay\n',
  overlayModule: false,
  maxUserNamespaces: 15000,
  resolvConf: 'nameserver 192.168.1.1\n',
  tools: { ip: '/usr/sbin/ip', iptables: '/usr/sbin/iptables', 'iptables-save': '/usr/sbin/iptables-save', 'iptables-restore': '/usr/sbin/iptables-restore', nsenter: '/usr/bin/nsenter', conntrack: undefined },
  procConntrack: true,
  routeLocalnet: ['mdk0'],
  bridgeIpv6: [{ bridge: 'mdk0', disableIpv6: '1', acceptRa: '1' }],
  leftovers: { containers: [{ id: ID, status: 'running', rawStatus: 'running', creatorAlive: false, holdsResources: true }], live: [ID], leases: [{ network: 'bridge', ip: '10.88.0.2', owner: ID }], portLeases: [{ owner: ID }], links: ['lo', 'eth0', 'mdk0', `mdk${ID.slice(0, 12)}`], names: [{ name: 'web', containerExists: true }], deadTraceNamespaces: [] },
});

const find = (fs: Finding[], check: string): Finding => {
  const f = fs.find((x) => x.check === check);
  if (!f) throw new Error(`no ${check} finding in ${fs.map((x) => x.check).join(', ')}`);
  return f;
};
const levelOf = (facts: DoctorFacts, check: string): string => find(diagnose(facts), check).level;

test('a healthy host: every check ok, exit 0', () => {
  const fs = diagnose(healthy());
  assert.equal(fs.filter((f) => f.level !== 'ok'), []);
  assert.is(doctorExitCode(fs), 0);
  assert.match(find(fs, 'forward').finding, /policy DROP; FORWARD jumps to MINIDOCK-FORWARD, whose 3 rule\(s\) admit mdk0/);
  assert.match(find(fs, 'cgroups').finding, /^v2 \(unified\) at \/sys\/fs\/cgroup/);
  assert.match(find(fs, 'conntrack').finding, /reads \/proc\/net\/nf_conntrack/);
});

test('render: aligned columns, a fix line under each non-ok finding, a tally', () => {
  const out = renderFindings([
    { level: 'ok', check: 'root', finding: 'running as root' },
    { level: 'fail', check: 'ip_forward', finding: '0 while bridge mdk0 exists', fix: 'sysctl -w net.ipv4.ip_forward=1' },
  ]);
  assert.is(out, [
    'ok    root        running as root',
    'fail  ip_forward  0 while bridge mdk0 exists',
    '                  → fix: sysctl -w net.ipv4.ip_forward=1',
    '',
    '1 ok, 0 warn, 1 fail: containers will not work until the failures are fixed',
    '',
  ].join('\n'));
});

test('ip_forward: off is fine before the first bridge, a failure after it', () => {
  assert.is(levelOf({ ...healthy(), ipForward: '0', bridges: [] }, 'ip_forward'), 'ok');
  const f = find(diagnose({ ...healthy(), ipForward: '0' }), 'ip_forward');
  assert.is(f.level, 'fail');
  assert.match(f.fix!, /sysctl -w net.ipv4.ip_forward=1/);
  assert.is(doctorExitCode(diagnose({ ...healthy(), ipForward: '0' })), 1);
});

test('iptables backend: rules in the other backend are a warning naming both', () => {
  const f = find(diagnose({ ...healthy(), otherBackendRules: 7 }), 'iptables');
  assert.is(f.level, 'warn');
  assert.match(f.finding, /v1\.8\.9, nf_tables backend, 8 rule\(s\); the legacy tables hold 7 rule\(s\) too/);
  assert.match(f.fix!, /iptables-legacy-save/);
  const legacy = find(diagnose({ ...healthy(), iptablesVersion: 'iptables v1.8.7 (legacy)', otherBackendRules: 3 }), 'iptables');
  assert.match(legacy.finding, /the nf_tables tables hold 3/);
  assert.is(levelOf({ ...healthy(), iptablesVersion: undefined }, 'iptables'), 'fail');
});

test('FORWARD policy DROP without minidock\'s jump fails, with the command that restores it', () => {
  const noJump = SAVE.replace('[5:300] -A FORWARD -j MINIDOCK-FORWARD\n', '');
  const f = find(diagnose({ ...healthy(), save: noJump }), 'forward');
  assert.is(f.level, 'fail');
  assert.match(f.finding, /FORWARD policy DROP and no jump to MINIDOCK-FORWARD/);
  assert.is(f.fix, 'iptables -I FORWARD 1 -j MINIDOCK-FORWARD');
  // br_netfilter then also cuts containers on one bridge off from each other.
  assert.is(levelOf({ ...healthy(), save: noJump, bridgeNfCallIptables: '1' }, 'br_netfilter'), 'warn');
  assert.is(levelOf({ ...healthy(), bridgeNfCallIptables: '1' }, 'br_netfilter'), 'ok');
});

test('br_netfilter: bridge ports without hairpin mode cannot reach their own published ports', () => {
  const f = find(diagnose({ ...healthy(), bridgeNfCallIptables: '1', hairpinOff: ['mdk0123456789ab'] }), 'br_netfilter');
  assert.is(f.level, 'warn');
  assert.match(f.finding, /1 port\(s\) \(mdk0123456789ab\) lack hairpin mode: their container cannot reach its own published port/);
  assert.match(f.fix!, /^ip link set mdk0123456789ab type bridge_slave hairpin on/);
  assert.is(levelOf({ ...healthy(), bridgeNfCallIptables: '0', hairpinOff: ['mdk0123456789ab'] }, 'br_netfilter'), 'ok', 'routed, not bridged: no hairpin needed');
});

test('FORWARD: a bridge without rules, a DROP before the jump, policy DROP before any bridge', () => {
  const other = find(diagnose({ ...healthy(), bridges: ['mdk0', 'mdkbr0123456789'] }), 'forward');
  assert.is(other.level, 'fail');
  assert.match(other.finding, /no rule for mdkbr0123456789/);
  assert.match(other.fix!, /ip link del mdkbr0123456789/);
  const dropFirst = SAVE.replace('[5:300] -A FORWARD -j MINIDOCK-FORWARD', '[0:0] -A FORWARD -i eth1 -j DROP\n[5:300] -A FORWARD -j MINIDOCK-FORWARD');
  const fs = diagnose({ ...healthy(), save: dropFirst });
  assert.equal(fs.filter((f) => f.check === 'forward').map((f) => f.level), ['ok', 'warn']);
  assert.is(levelOf({ ...healthy(), bridges: [], save: SAVE.replace(/^.*MINIDOCK-FORWARD.*\n/gm, '') }, 'forward'), 'ok');
  assert.is(levelOf({ ...healthy(), save: undefined, saveError: 'Permission denied' }, 'forward'), 'fail');
});

test('nftables: a native forward chain with policy drop is named', () => {
  const json = JSON.stringify({ nftables: [
    { metainfo: {} },
    { chain: { family: 'ip', table: 'filter', name: 'FORWARD', hook: 'forward', policy: 'drop' } },
    { chain: { family: 'inet', table: 'filter', name: 'forward', hook: 'forward', policy: 'drop' } },
    { chain: { family: 'inet', table: 'filter', name: 'input', hook: 'input', policy: 'drop' } },
  ] });
  assert.equal(nftForwardDropChains(json), ['inet filter forward']);
  assert.equal(nftForwardDropChains('not json'), []);
  const f = find(diagnose({ ...healthy(), nftForwardDrop: ['inet filter forward'] }), 'nftables');
  assert.is(f.level, 'warn');
  assert.match(f.fix!, /nft add rule inet filter forward iifname "mdk\*" accept/);
});

test('cgroups: where each controller is, on a v2 and on a hybrid host', () => {
  const v2 = diagnose(healthy());
  assert.match(find(v2, 'cgroups').finding, /^v2 \(unified\) at \/sys\/fs\/cgroup: one tree/);
  assert.is(find(v2, 'cgroup.memory').finding, 'v2 at /sys/fs/cgroup: -m/--memory-swap');
  assert.is(find(v2, 'cgroup.blkio').finding, 'v2 at /sys/fs/cgroup (as io): block I/O in stats');
  assert.is(find(v2, 'cgroup.cpuacct').finding, 'v2 at /sys/fs/cgroup (cpu.stat, in every v2 cgroup): CPU usage in stats');

  const hybrid = { ...healthy(), cgroups: { ...parseCgroupLayout(MOUNTINFO_HYBRID, '0::/\n', 'hugetlb\n'), swapAccounting: true } };
  const fs = diagnose(hybrid);
  assert.is(find(fs, 'cgroups').level, 'ok', 'minidock puts each limit where its controller is');
  assert.match(find(fs, 'cgroups').finding, /^hybrid: 5 v1 hierarchies, cgroup2 at \/sys\/fs\/cgroup\/unified \(no controller of ours\)/);
  assert.is(find(fs, 'cgroup.memory').finding, 'v1 at /sys/fs/cgroup/memory: -m/--memory-swap');
  assert.is(find(fs, 'cgroup.pids').level, 'warn', 'enabled in the kernel, mounted nowhere');
  assert.match(find(fs, 'cgroup.pids').finding, /no mounted hierarchy offers it: --pids-limit cannot work/);
  assert.is(find(fs, 'cgroup.pids').fix, 'mount -t cgroup -o pids cgroup /sys/fs/cgroup/pids');

  const noSwap = find(diagnose({ ...hybrid, cgroups: { ...hybrid.cgroups, swapAccounting: false } }), 'cgroup.memory');
  assert.is(noSwap.level, 'warn');
  assert.match(noSwap.finding, /--memory-swap cannot be enforced/);
  assert.is(noSwap.fix, 'boot with swapaccount=1');
  const none = diagnose({ ...healthy(), cgroups: parseCgroupLayout('', '', '') });
  assert.equal(none.filter((f) => f.check.startsWith('cgroup')).map((f) => [f.check, f.level]), [['cgroups', 'warn']], 'one line when nothing is mounted');
  assert.equal(parseProcCgroups('#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t3\t3\t1\nnet_cls\t0\t2\t0\n'), ['cpuset']);
});

test('overlay, user namespaces, idmapped mounts by kernel version', () => {
  assert.is(levelOf({ ...healthy(), filesystems: 'nodev\tsysfs\n' }, 'overlay'), 'fail');
  assert.is(levelOf({ ...healthy(), filesystems: 'nodev\tsysfs\n', overlayModule: true }, 'overlay'), 'ok');
  assert.is(levelOf({ ...healthy(), maxUserNamespaces: 0 }, 'userns'), 'fail');
  assert.equal(kernelVersion('5.10.0-28-amd64'), [5, 10]);
  assert.is(levelOf({ ...healthy(), kernelRelease: '5.19.0' }, 'idmap'), 'ok');
  assert.match(find(diagnose({ ...healthy(), kernelRelease: '5.15.0-91-generic' }), 'idmap').finding, /overlay takes idmapped lower layers only from 5\.19/);
  assert.match(find(diagnose({ ...healthy(), kernelRelease: '5.10.0-28-amd64' }), 'idmap').finding, /no idmapped mounts/);
  const nfs = find(diagnose({ ...healthy(), kernelRelease: '6.18.0', storeIdmap: false }), 'idmap');
  assert.is(nfs.level, 'warn');
  assert.match(nfs.finding, /image store's filesystem does not take them, so minidock copies each image once/);
});

test('resolv.conf: a loopback resolver is named as unreachable from containers', () => {
  const only = find(diagnose({ ...healthy(), resolvConf: 'nameserver 127.0.0.53\noptions edns0\n' }), 'resolv.conf');
  assert.is(only.level, 'warn');
  assert.match(only.finding, /only 127\.0\.0\.53: the host's loopback.*fall back to 8\.8\.8\.8/);
  assert.match(only.fix!, /\/run\/systemd\/resolve\/resolv.conf/);
  const mixed = find(diagnose({ ...healthy(), resolvConf: 'nameserver 127.0.0.1\nnameserver 1.1.1.1\n' }), 'resolv.conf');
  assert.match(mixed.finding, /containers get only 1\.1\.1\.1/);
  assert.is(levelOf({ ...healthy(), resolvConf: '' }, 'resolv.conf'), 'warn');
});

test('tools: a missing tool fails and names its package; conntrack is optional', () => {
  const f = find(diagnose({ ...healthy(), tools: { ...healthy().tools, nsenter: undefined, ip: undefined } }), 'tools');
  assert.is(f.level, 'fail');
  assert.match(f.finding, /missing: ip, nsenter/);
  assert.match(f.fix!, /apt-get install iproute2 util-linux/);
  assert.is(levelOf({ ...healthy(), procConntrack: false }, 'conntrack'), 'warn');
  assert.is(levelOf({ ...healthy(), uid: 1000 }, 'root'), 'fail');
});

test('leftovers: counted as gc decides, with gc as the fix', () => {
  const facts = healthy();
  facts.leftovers = {
    containers: [
      { id: ID, status: 'running', rawStatus: 'running', creatorAlive: false, holdsResources: true },
      { id: GONE, status: 'exited', rawStatus: 'running', creatorAlive: false, holdsResources: true, exitCode: 255 },
      { id: 'c'.repeat(64), status: 'created', rawStatus: 'created', creatorAlive: false, holdsResources: false },
      { id: 'd'.repeat(64), status: 'exited', rawStatus: 'exited', creatorAlive: false, holdsResources: false, exitCode: 0 },
    ],
    live: [ID],
    leases: [{ network: 'bridge', ip: '10.88.0.2', owner: ID }, { network: 'bridge', ip: '10.88.0.3', owner: GONE }],
    portLeases: [{ owner: GONE }],
    links: ['lo', `mdk${ID.slice(0, 12)}`, `mdk${GONE.slice(0, 12)}`, 'mdkbr0123456789'],
    names: [{ name: 'web', containerExists: true }, { name: 'old', containerExists: false }],
    deadTraceNamespaces: ['mdktr4242'],
  };
  facts.save = SAVE + `*nat\n[0:0] -A MINIDOCK-DNAT -p tcp -m tcp --dport 9 -m comment --comment "minidock:${GONE}" -j DNAT --to-destination 10.88.0.3:9\nCOMMIT\n`;
  assert.equal(countLeftovers(facts.leftovers, parseSave(facts.save)), { halfMade: 1, unfinished: 1, leases: 1, ports: 1, rules: 1, veths: 1, names: 1, traceNamespaces: 1, unreadable: 0 });
  const f = find(diagnose(facts), 'leftovers');
  assert.is(f.level, 'warn');
  assert.match(f.finding, /1 half-made container\(s\) of a killed run, 1 stopped container\(s\) whose cleanup never ran, 1 address lease/);
  assert.match(f.finding, /1 namespace\(s\) of a killed minidock trace \(mdktr4242\)/);
  assert.is(f.fix, 'minidock gc; ip netns del mdktr4242');
  assert.is(doctorExitCode(diagnose(facts)), 0, 'leftovers warn, never fail');
});

test('localnet: route_localnet on a bridge is ok only with the raw guard, and its jump', () => {
  assert.match(find(diagnose(healthy()), 'localnet').finding, /route_localnet=1 on mdk0 \(localhost:PORT\), each guarded/);
  const flushed = { ...healthy(), save: SAVE.replace(/^.*-A MINIDOCK-PREROUTING .*\n/m, '') };
  const f = find(diagnose(flushed), 'localnet');
  assert.is(f.level, 'fail');
  assert.match(f.finding, /^route_localnet=1 on mdk0 and no guard: a container there reaches the host's 127\.0\.0\.1 services/);
  assert.match(f.fix!, /echo 0 > \/proc\/sys\/net\/ipv4\/conf\/mdk0\/route_localnet/);
  assert.is(doctorExitCode(diagnose(flushed)), 1);
  const noJump = find(diagnose({ ...healthy(), save: SAVE.replace('[0:0] -A PREROUTING -j MINIDOCK-PREROUTING\n', '') }), 'localnet');
  assert.is(noJump.level, 'fail', 'a guard nothing jumps to guards nothing');
  assert.match(noJump.finding, /raw PREROUTING does not jump there/);
  assert.is(levelOf({ ...healthy(), routeLocalnet: ['mdk0', 'mdkbr0123456789'] }, 'localnet'), 'fail', 'another bridge, open');
  assert.is(levelOf({ ...healthy(), routeLocalnet: ['all', 'mdk0'] }, 'localnet'), 'fail', 'on all: every interface');
  assert.is(levelOf({ ...healthy(), routeLocalnet: [] }, 'localnet'), 'ok');
  assert.is(levelOf({ ...healthy(), save: undefined, saveError: 'x' }, 'localnet'), 'warn');
});

test('ipv6: a bridge with IPv6 on that accepts router advertisements is a warning', () => {
  assert.is(levelOf(healthy(), 'ipv6'), 'ok');
  const on = find(diagnose({ ...healthy(), bridgeIpv6: [{ bridge: 'mdk0', disableIpv6: '0', acceptRa: '1' }] }), 'ipv6');
  assert.is(on.level, 'warn');
  assert.match(on.finding, /CVE-2020-13401/);
  assert.is(on.fix, 'echo 1 > /proc/sys/net/ipv6/conf/mdk0/disable_ipv6 (the next minidock run on that network does it too)');
  assert.is(levelOf({ ...healthy(), bridgeIpv6: [{ bridge: 'mdk0', disableIpv6: '0', acceptRa: '0' }] }, 'ipv6'), 'ok');
});

test('leftovers: another root\'s rules and veths are not this root\'s to count; unreadable leases are kept and reported', () => {
  const facts = healthy();
  const OTHER = 'e'.repeat(64);
  facts.save = SAVE + `*nat\n[0:0] -A MINIDOCK-DNAT -p tcp -m tcp --dport 9 -m comment --comment "minidock:${OTHER}" -j DNAT --to-destination 10.89.0.3:9\nCOMMIT\n`;
  facts.leftovers = { ...facts.leftovers, links: [...facts.leftovers.links, `mdk${OTHER.slice(0, 12)}`] };
  const c = countLeftovers(facts.leftovers, parseSave(facts.save));
  assert.is(c.rules, 0, 'a rule of a container this root never recorded');
  assert.is(c.veths, 0);
  assert.is(levelOf(facts, 'leftovers'), 'ok');
  facts.leftovers = { ...facts.leftovers, leases: [...facts.leftovers.leases, { network: 'bridge', ip: '10.88.0.9', owner: null }], portLeases: [{ owner: ID }, { owner: null, file: 'tcp-80-0.0.0.0' }] };
  assert.is(countLeftovers(facts.leftovers, parseSave(facts.save)).leases, 0, 'never counted as freeable');
  const f = find(diagnose(facts), 'leftovers');
  assert.is(f.level, 'warn');
  assert.is(f.finding, '2 lease file(s) naming no readable owner (bridge/10.88.0.9, tcp-80-0.0.0.0), kept in use: a live container may hold them');
  assert.not.match(f.fix!, /minidock gc/);
});

test.run();
