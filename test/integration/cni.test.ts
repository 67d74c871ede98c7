// minidock-cni driven by hand through the CNI environment protocol (issue #17), as a runtime
// calls it: the plugin runs in the test network namespace (standing in for the host), each
// "container" is a network namespace this file makes, a LAN namespace stands in for another
// machine. ADD two containers, their addresses and routes, a mapped port from localhost, the
// host's address, the LAN and the sibling; CHECK, and CHECK naming a drift; DEL twice, with the
// namespace gone, after a failed ADD; GC; the spec's error codes for bad input. At the end
// nothing is left: no link, rule, lease or record.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_NETNS, ensureTestNetns, inNetns, killPid, mdk, sh } from '../helpers/cli.js';
import { assertShaped } from '../helpers/iperf.js';

if (process.getuid?.() !== 0) throw new Error('integration tests need root (run them as root, as CI does)');
ensureTestNetns();
// The launcher a runtime executes (node from the plugin's startup snapshot).
const PLUGIN = join(dirname(fileURLToPath(import.meta.url)), '../../../bin/minidock-cni');
const data = mkdtempSync(join(tmpdir(), 'mdk-cni-'));
const BR = `mdkcb${process.pid % 100000}`;
const SUBNET = '10.124.0.0/24';
const NETWORK = 'cnitest';
const ns = (n: string): string => `mdkc${n}${process.pid}`;
const LAN = ns('lan');
const made: string[] = [];
const addNs = (name: string): void => {
  sh(`ip netns add ${name} && nsenter --net=/run/netns/${name} ip link set lo up`);
  made.push(name);
};
process.on('exit', () => spawnSync('sh', ['-c', made.map((n) => `ip netns del ${n} 2>/dev/null;`).join(' ') + ' true']));
addNs(LAN);
sh(`ip link add cnilan netns ${TEST_NETNS} type veth peer name lan0 netns ${LAN}`);
inNetns('ip addr add 192.168.78.1/24 dev cnilan && ip link set cnilan up');
sh(`nsenter --net=/run/netns/${LAN} sh -c 'ip addr add 192.168.78.2/24 dev lan0 && ip link set lan0 up && ip route add default via 192.168.78.1'`);
// From "off" and a FORWARD policy of DROP: what the plugin needs it must turn on itself.
inNetns('echo 0 > /proc/sys/net/ipv4/ip_forward; iptables -P FORWARD DROP');

const conf = (extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ cniVersion: '1.0.0', name: NETWORK, type: 'minidock', bridge: BR, subnet: SUBNET, dataDir: data, ...extra });
interface Call { code: number; out: Record<string, unknown> | undefined; raw: string }
const cni = (command: string, env: Record<string, string>, stdin: string): Call => {
  const r = spawnSync('nsenter', [`--net=/run/netns/${TEST_NETNS}`, PLUGIN], {
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: command, CNI_PATH: '/usr/lib/cni', ...env },
    input: stdin, encoding: 'utf8',
  });
  const raw = r.stdout.trim();
  return { code: r.status ?? -1, out: raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined, raw: raw + r.stderr };
};
const forNs = (id: string, name: string, ifname = 'eth0'): Record<string, string> => ({ CNI_CONTAINERID: id, CNI_NETNS: `/run/netns/${name}`, CNI_IFNAME: ifname });
const inside = (name: string, cmd: string): string => sh(`nsenter --net=/run/netns/${name} sh -c '${cmd}'`);
const curl = (url: string, from = TEST_NETNS): string => {
  const r = spawnSync('nsenter', [`--net=/run/netns/${from}`, 'curl', '-s', '-m', '3', '-o', '/dev/null', '-w', '%{http_code}', url], { encoding: 'utf8' });
  return r.stdout;
};
const ports = { runtimeConfig: { portMappings: [{ hostPort: 18090, containerPort: 80, protocol: 'tcp' }] } };

const C = suite('cni');
const servers: ChildProcess[] = [];
C.after(() => {
  for (const s of servers) if (s.pid) killPid(s.pid);
  rmSync(data, { recursive: true, force: true });
});
const leftovers = (): string[] => {
  const links = inNetns('ip -o link show').split('\n').filter((l) => l.includes(BR) || / mdk[0-9a-f]{12}[@:]/.test(l));
  const rules = inNetns('iptables-save').split('\n').filter((l) => l.includes(BR) || /minidock:[0-9a-f]{64}/.test(l));
  const leases = existsSync(join(data, 'networks', NETWORK, 'leases')) ? readdirSync(join(data, 'networks', NETWORK, 'leases')) : [];
  const portLeases = existsSync(join(data, 'ports')) ? readdirSync(join(data, 'ports')) : [];
  const records = existsSync(join(data, 'cni/attachments')) ? readdirSync(join(data, 'cni/attachments')) : [];
  return [...links, ...rules, ...leases.map((l) => `lease ${l}`), ...portLeases.map((p) => `port ${p}`), ...records.map((r) => `record ${r}`)];
};

C('ADD two containers: addresses, routes and the result; a mapped port from localhost, the host\'s address, the LAN and the sibling; CHECK passes', async () => {
  addNs(ns('a'));
  addNs(ns('b'));
  const a = cni('ADD', forNs('ctr-a', ns('a')), conf(ports));
  assert.is(a.code, 0, a.raw);
  assert.equal(a.out!.ips, [{ address: '10.124.0.2/24', gateway: '10.124.0.1', interface: 2 }]);
  assert.equal(a.out!.routes, [{ dst: '0.0.0.0/0', gw: '10.124.0.1' }]);
  const ifs = a.out!.interfaces as Array<{ name: string; mac: string; sandbox?: string }>;
  assert.equal(ifs.map((i) => i.name), [BR, ifs[1]!.name, 'eth0']);
  assert.match(ifs[1]!.name, /^mdk[0-9a-f]{12}$/);
  assert.is(ifs[2]!.sandbox, `/run/netns/${ns('a')}`);
  assert.match(ifs[2]!.mac, /^02:42:0a:7c:00:02$/);
  // Explained (MINIDOCK_CNI_EXPLAIN=1): the steps on stderr as run --explain prints them; stdout
  // stays the result. The bridge is there already: its steps say so.
  const b = cni('ADD', { ...forNs('ctr-b', ns('b')), MINIDOCK_CNI_EXPLAIN: '1' }, conf());
  assert.is(b.code, 0, b.raw);
  assert.match(b.raw, new RegExp(`── bridge ${BR} \\(already there: made by the first container on ${NETWORK}\\) ──`));
  assert.match(b.raw.replace(/ \\\n\s+/g, ' '), /ip link add name mdk[0-9a-f]{12} mtu \d+ type veth peer name eth0 .* netns \/run\/netns\//, 'the veth, its container end born in the namespace file');
  assert.match(b.raw, /── inside \/run\/netns\/\S+ ──\n\s*\d+\. nsenter --net=\/run\/netns\/\S+ ip addr add 10\.124\.0\.3\/24 dev eth0/);
  assert.equal((b.out!.ips as Array<{ address: string }>)[0]!.address, '10.124.0.3/24');
  assert.match(inside(ns('a'), 'ip -o -4 addr show dev eth0'), / 10\.124\.0\.2\/24 /);
  assert.match(inside(ns('b'), 'ip -4 route show default'), /^default via 10\.124\.0\.1 dev eth0/);
  const web = spawn('nsenter', [`--net=/run/netns/${ns('a')}`, 'python3', '-m', 'http.server', '80', '--bind', '0.0.0.0', '--directory', data], { stdio: 'ignore' });
  servers.push(web);
  for (let i = 0; i < 50 && curl('http://10.124.0.2:80/') !== '200'; i++) await new Promise((r) => setTimeout(r, 100));
  assert.is(curl('http://127.0.0.1:18090/'), '200', 'localhost');
  assert.is(curl('http://192.168.78.1:18090/'), '200', 'the host\'s address');
  assert.is(curl('http://192.168.78.1:18090/', LAN), '200', 'another host on the LAN');
  assert.is(curl('http://10.124.0.2:80/', ns('b')), '200', 'the sibling, directly');
  assert.is(curl('http://192.168.78.1:18090/', ns('b')), '200', 'the sibling, through the mapped port');
  for (const [id, n] of [['ctr-a', ns('a')], ['ctr-b', ns('b')]] as const) {
    const c = cni('CHECK', forNs(id, n), conf(id === 'ctr-a' ? ports : {}));
    assert.is(c.code, 0, c.raw);
  }
  // The plugin's networks are a minidock state root: the CLI lists this one.
  assert.match(mdk(data, ['network', 'ls']).stdout, new RegExp(`\\b${NETWORK}\\b`));
});

C('CHECK names what drifted: an address gone, a rule gone', () => {
  inside(ns('b'), 'ip addr del 10.124.0.3/24 dev eth0');
  const c = cni('CHECK', forNs('ctr-b', ns('b')), conf());
  assert.is(c.code, 1);
  assert.is(c.out!.code, 100);
  assert.match(String(c.out!.msg), /^CHECK: eth0 lacks 10\.124\.0\.3\/24; no default route via 10\.124\.0\.1 on eth0$/);
  inside(ns('b'), 'ip addr add 10.124.0.3/24 dev eth0 && ip route add default via 10.124.0.1 dev eth0');
  assert.is(cni('CHECK', forNs('ctr-b', ns('b')), conf()).code, 0);
  const rule = inNetns('iptables-save -t nat').split('\n').find((l) => l.includes('--dport 18090'))!;
  inNetns(`iptables -t nat ${rule.replace(/^-A /, '-D ')}`);
  const lost = cni('CHECK', forNs('ctr-a', ns('a')), conf(ports));
  assert.match(String(lost.out!.msg), /1 rule\(s\) missing, e\.g\. -t nat -A MINIDOCK-DNAT .*--dport 18090/);
  inNetns(`iptables -t nat ${rule}`);
  const unknown = cni('CHECK', forNs('ctr-z', ns('b')), conf());
  assert.is(unknown.out!.code, 3, 'an attachment never made');
});

C('the spec\'s error codes: bad JSON 6, an unknown cniVersion 1, no CNI_NETNS 4, an exhausted subnet 11 (and DEL after that failed ADD is fine); nothing half-made', () => {
  const env = forNs('ctr-x', ns('a'), 'net1');
  assert.is(cni('ADD', env, '{"cniVersion":').out!.code, 6);
  assert.is(cni('ADD', env, conf({ cniVersion: '0.1.0' })).out!.code, 1);
  const { CNI_NETNS: _, ...noNetns } = env;
  const missing = cni('ADD', noNetns, conf());
  assert.is(missing.code, 1);
  assert.equal(missing.out, { cniVersion: '1.0.0', code: 4, msg: 'CNI_NETNS is not set', details: "the path of the container's network namespace, e.g. /run/netns/NAME" });
  // A /30 holds one address: the second ADD finds none.
  const tiny = { name: 'cnitiny', bridge: `${BR}t`, subnet: '10.125.0.0/30' };
  const one = cni('ADD', forNs('ctr-t1', ns('a'), 'net1'), conf(tiny));
  assert.is(one.code, 0, one.raw);
  const full = cni('ADD', forNs('ctr-t2', ns('b'), 'net1'), conf(tiny));
  assert.is(full.out!.code, 11, full.raw);
  assert.match(String(full.out!.msg), /no free address in 10\.125\.0\.0\/30/);
  assert.not.match(inside(ns('b'), 'ip -o link'), /net1/, 'no interface left by the failed ADD');
  assert.is(cni('DEL', forNs('ctr-t2', ns('b'), 'net1'), conf(tiny)).code, 0, 'DEL after a failed ADD');
  assert.is(cni('DEL', forNs('ctr-t1', ns('a'), 'net1'), conf(tiny)).code, 0);
  assert.is(mdk(data, ['network', 'rm', 'cnitiny']).code, 0);
  // Another config for a network that exists: the clash named, code 7.
  const clash = cni('ADD', forNs('ctr-y', ns('a'), 'net2'), conf({ subnet: '10.126.0.0/24' }));
  assert.is(clash.out!.code, 7);
  assert.match(String(clash.out!.msg), /network cnitest exists with bridge .* and subnet 10\.124\.0\.0\/24, not .* 10\.126\.0\.0\/24/);
});

C('bandwidth: runtimeConfig.bandwidth of 10 mbit each way measured by iperf3 within 10%, an unshaped sibling far faster; DEL takes the ifb', async () => {
  addNs(ns('s'));
  const shaped = { runtimeConfig: { bandwidth: { ingressRate: 10_000_000, ingressBurst: 262144, egressRate: 10_000_000, egressBurst: 262144 } } };
  const add = cni('ADD', forNs('ctr-s', ns('s')), conf(shaped));
  assert.is(add.code, 0, add.raw);
  const ip = (add.out!.ips as Array<{ address: string }>)[0]!.address.split('/')[0]!;
  const ifb = inNetns('ip -o link show type ifb').split('\n').filter((l) => / mdb[0-9a-f]{12}:/.test(l));
  assert.is(ifb.length, 1, 'one ifb for the egress shaping');
  // iperf3's server on the host side (the gateway), the client in the container: -R measures
  // what the host sends down (the container's ingress), plain what the container sends (egress).
  const server = spawn('nsenter', [`--net=/run/netns/${TEST_NETNS}`, 'iperf3', '-s', '-B', '10.124.0.1', '-p', '15201'], { stdio: 'ignore' });
  servers.push(server);
  for (let i = 0; i < 50 && spawnSync('nsenter', [`--net=/run/netns/${TEST_NETNS}`, 'sh', '-c', 'ss -ltn | grep -q ":15201 "']).status !== 0; i++) await new Promise((r) => setTimeout(r, 100));
  const rate = (from: string, reverse: boolean): number => {
    const r = spawnSync('nsenter', [`--net=/run/netns/${from}`, 'iperf3', '-c', '10.124.0.1', '-p', '15201', '-t', '3', '-J', ...(reverse ? ['-R'] : [])], { encoding: 'utf8', timeout: 30_000 });
    assert.is(r.status, 0, r.stderr + r.stdout.slice(0, 400));
    return (JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
  };
  assertShaped('ingress', () => rate(ns('s'), true), 10e6);
  assertShaped('egress', () => rate(ns('s'), false), 10e6);
  addNs(ns('u'));
  assert.is(cni('ADD', forNs('ctr-u', ns('u')), conf()).code, 0);
  const free = rate(ns('u'), false);
  assert.ok(free > 50e6, `unshaped ${(free / 1e6).toFixed(0)} Mbit/s, far above the shaped 10`);
  killPid(server.pid!);
  assert.ok(!inside(ns('s'), 'true') || ip, 'the container still there');
  assert.is(cni('DEL', forNs('ctr-s', ns('s')), conf(shaped)).code, 0);
  assert.is(cni('DEL', forNs('ctr-u', ns('u')), conf()).code, 0);
  assert.equal(inNetns('ip -o link show type ifb').split('\n').filter((l) => / mdb[0-9a-f]{12}:/.test(l)), [], 'the ifb is gone');
});

C('DEL: twice, with the namespace already gone; GC removes what the runtime no longer lists; STATUS', () => {
  for (let i = 0; i < 2; i++) assert.is(cni('DEL', forNs('ctr-a', ns('a')), conf(ports)).code, 0, `DEL ${i + 1}`);
  assert.is(curl('http://127.0.0.1:18090/'), '000', 'the port is closed');
  sh(`ip netns del ${ns('b')}`);
  const { CNI_NETNS: _, ...gone } = forNs('ctr-b', ns('b'));
  assert.is(cni('DEL', gone, conf()).code, 0, 'DEL with the namespace gone and no CNI_NETNS');
  addNs(ns('c'));
  assert.is(cni('ADD', forNs('ctr-c', ns('c')), conf()).code, 0);
  assert.is(cni('GC', {}, conf({ cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'ctr-other', ifname: 'eth0' }] })).code, 0);
  assert.not.match(inside(ns('c'), 'ip -o link'), /eth0/, 'GC took the attachment the runtime no longer has');
  assert.is(cni('STATUS', {}, conf({ cniVersion: '1.1.0' })).code, 0);
  assert.is(cni('DEL', forNs('ctr-c', ns('c')), conf()).code, 0, 'DEL after GC');
  assert.is(mdk(data, ['network', 'rm', NETWORK]).code, 0);
  assert.equal(leftovers(), [], 'nothing left');
});

C.run();
