// minidock-cni beside the reference plugins (issue #17), under the same driver and the same
// script: cnitool (built by bin/setup from the pinned CNI source) runs a conflist of Debian's
// containernetworking-plugins (bridge + host-local + portmap + firewall, podman's own chain) and
// one of minidock, in the test network namespace, on fresh container namespaces. Each chain:
// ADD two containers, their addresses and routes, a mapped port from localhost, the host's
// address, a LAN namespace and the sibling, CHECK, DEL, DEL again; then what is left. The
// reference's portmap fails CHECK on an IPv4-only set-up (upstream bug #819), and under a FORWARD
// policy of DROP its firewall plugin keeps a published port closed to the LAN: those differences
// are asserted, not hidden.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_NETNS, ensureTestNetns, inNetns, killPid, mdk, sh } from '../helpers/cli.js';
import { cniCacheCleanup } from '../helpers/podman.js';

if (process.getuid?.() !== 0) throw new Error('integration tests need root (run them as root, as CI does)');
const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const CNITOOL = join(REPO, '.tools/bin/cnitool');
if (!existsSync(CNITOOL)) throw new Error(`${CNITOOL} is missing: run bin/setup (it builds cnitool from ../shared/vendor)`);
for (const p of ['bridge', 'host-local', 'portmap', 'firewall']) if (!existsSync(`/usr/lib/cni/${p}`)) throw new Error(`/usr/lib/cni/${p} is missing: run bin/setup (containernetworking-plugins comes with podman)`);
ensureTestNetns();
const work = mkdtempSync(join(tmpdir(), 'mdk-cniref-'));
const pid = process.pid % 100000;
const made: string[] = [];
const addNs = (name: string): void => {
  sh(`ip netns add ${name} && nsenter --net=/run/netns/${name} ip link set lo up`);
  made.push(name);
};
process.on('exit', () => spawnSync('sh', ['-c', made.map((n) => `ip netns del ${n} 2>/dev/null;`).join(' ') + ' true']));
const LAN = `mdkrl${pid}`;
addNs(LAN);
sh(`ip link add cnireflan netns ${TEST_NETNS} type veth peer name lan0 netns ${LAN}`);
inNetns('ip addr add 192.168.79.1/24 dev cnireflan && ip link set cnireflan up');
sh(`nsenter --net=/run/netns/${LAN} sh -c 'ip addr add 192.168.79.2/24 dev lan0 && ip link set lan0 up && ip route add default via 192.168.79.1'`);
inNetns('echo 0 > /proc/sys/net/ipv4/ip_forward; iptables -P FORWARD DROP');

// The plugins' directory: Debian's, and minidock's under the name its "type" says.
const plugins = join(work, 'bin');
mkdirSync(plugins);
symlinkSync(join(REPO, 'bin/minidock-cni'), join(plugins, 'minidock'));
const netconf = join(work, 'net.d');
mkdirSync(netconf);

interface Chain { name: string; bridge: string; subnet: string; prefix: string; gateway: string; port: number; conflist: unknown }
const chains: Chain[] = [
  {
    name: `ref${pid}`, bridge: `mdkrb${pid}`, subnet: '10.131.0.0/24', prefix: '10.131.0.', gateway: '10.131.0.1', port: 18101,
    conflist: {
      cniVersion: '1.0.0', name: `ref${pid}`, plugins: [
        { type: 'bridge', bridge: `mdkrb${pid}`, isGateway: true, ipMasq: true, hairpinMode: true, ipam: { type: 'host-local', ranges: [[{ subnet: '10.131.0.0/24', gateway: '10.131.0.1' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(work, 'host-local') } },
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
        { type: 'firewall', backend: 'iptables' },
      ],
    },
  },
  {
    name: `mdk${pid}`, bridge: `mdkmb${pid}`, subnet: '10.132.0.0/24', prefix: '10.132.0.', gateway: '10.132.0.1', port: 18102,
    conflist: {
      cniVersion: '1.0.0', name: `mdk${pid}`, plugins: [
        { type: 'minidock', bridge: `mdkmb${pid}`, subnet: '10.132.0.0/24', dataDir: join(work, 'minidock'), capabilities: { portMappings: true } },
      ],
    },
  },
];
for (const c of chains) writeFileSync(join(netconf, `${c.name}.conflist`), JSON.stringify(c.conflist));

const cnitool = (op: 'add' | 'check' | 'del', c: Chain, netns: string, capArgs?: unknown): { code: number; out: string; err: string } => {
  const r = spawnSync('nsenter', [`--net=/run/netns/${TEST_NETNS}`, CNITOOL, op, c.name, `/run/netns/${netns}`], {
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', NETCONFPATH: netconf, CNI_PATH: `/usr/lib/cni:${plugins}`, ...(capArgs ? { CAP_ARGS: JSON.stringify(capArgs) } : {}) },
    encoding: 'utf8',
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
};
const curl = (url: string, from = TEST_NETNS): string =>
  spawnSync('nsenter', [`--net=/run/netns/${from}`, 'curl', '-s', '-m', '3', '-o', '/dev/null', '-w', '%{http_code}', url], { encoding: 'utf8' }).stdout;
const inside = (name: string, cmd: string): string => sh(`nsenter --net=/run/netns/${name} sh -c '${cmd}'`);

const cniCache = cniCacheCleanup();
const R = suite('cni-reference');
const servers: ChildProcess[] = [];
R.after(() => {
  for (const s of servers) if (s.pid) killPid(s.pid);
  for (const c of chains) spawnSync('ip', ['-n', TEST_NETNS, 'link', 'del', c.bridge]);
  rmSync(work, { recursive: true, force: true });
  cniCache();
});
const cacheFiles = (c: Chain): string[] => (existsSync('/var/lib/cni/results') ? readdirSync('/var/lib/cni/results').filter((f) => f.startsWith(`${c.name}-`)) : []);

for (const c of chains) {
  R(`${c.name.startsWith('ref') ? 'the reference chain (bridge, host-local, portmap, firewall)' : 'minidock-cni'} under cnitool: ADD two, the mapped port from everywhere, CHECK, DEL twice, nothing of the containers left`, async () => {
    const a = `mdkra${c.name}`;
    const b = `mdkrb${c.name}`;
    addNs(a);
    addNs(b);
    const caps = { portMappings: [{ hostPort: c.port, containerPort: 80, protocol: 'tcp' }] };
    const added = cnitool('add', c, a, caps);
    assert.is(added.code, 0, added.out + added.err);
    const result = JSON.parse(added.out) as { ips: Array<{ address: string; gateway: string; interface: number }>; interfaces: Array<{ name: string; sandbox?: string }> };
    assert.is(result.ips[0]!.address, `${c.prefix}2/24`);
    assert.is(result.ips[0]!.gateway, c.gateway);
    assert.is(result.interfaces[result.ips[0]!.interface]!.sandbox, `/run/netns/${a}`, 'the address is on the container\'s interface');
    assert.is(cnitool('add', c, b).code, 0);
    assert.match(inside(b, 'ip -o -4 addr show dev eth0'), new RegExp(` ${c.prefix.replace(/\./g, '\\.')}3/24 `));
    assert.match(inside(a, 'ip -4 route show default'), new RegExp(`^default via ${c.gateway.replace(/\./g, '\\.')} dev eth0`));
    const web = spawn('nsenter', [`--net=/run/netns/${a}`, 'python3', '-m', 'http.server', '80', '--bind', '0.0.0.0', '--directory', work], { stdio: 'ignore' });
    servers.push(web);
    for (let i = 0; i < 50 && curl(`http://${c.prefix}2:80/`) !== '200'; i++) await new Promise((r) => setTimeout(r, 100));
    assert.is(curl(`http://127.0.0.1:${c.port}/`), '200', 'localhost');
    assert.is(curl(`http://192.168.79.1:${c.port}/`), '200', 'the host\'s address');
    // Under a FORWARD policy of DROP, the reference's firewall plugin admits only connections
    // the container makes (and their replies), so a published port is closed to the LAN;
    // minidock, as docker, admits DNAT'd connections. Asserted both ways.
    assert.is(curl(`http://192.168.79.1:${c.port}/`, LAN), c.name.startsWith('ref') ? '000' : '200', 'another host on the LAN');
    assert.is(curl(`http://${c.prefix}2:80/`, b), '200', 'the sibling, directly');
    assert.is(curl(`http://192.168.79.1:${c.port}/`, b), '200', 'the sibling, through the mapped port');
    assert.is(cnitool('check', c, b).code, 0, 'CHECK of the container without ports');
    const checked = cnitool('check', c, a, caps);
    if (c.name.startsWith('ref')) assert.is.not(checked.code, 0, 'the reference portmap\'s CHECK fails on IPv4 only (upstream #819); if this passes, the bug is fixed');
    else assert.is(checked.code, 0, checked.out + checked.err);
    killPid(web.pid!);
    for (let i = 0; i < 2; i++) assert.is(cnitool('del', c, a, caps).code, 0, `DEL ${i + 1}`);
    assert.is(cnitool('del', c, b).code, 0);
    assert.is(curl(`http://127.0.0.1:${c.port}/`), '000', 'the port is closed');
    // What is left of the containers: no veth on the bridge, no rule naming their addresses,
    // no lease, no cached result. (Each chain keeps its bridge, as the reference bridge does.)
    const veths = inNetns('ip -o link show').split('\n').filter((l) => l.includes(`master ${c.bridge}`));
    assert.equal(veths, [], 'no veth on the bridge');
    const rules = inNetns('iptables-save').split('\n').filter((l) => l.includes(`${c.prefix}2`) || l.includes(`${c.prefix}3`) || l.includes(`--dport ${c.port}`));
    assert.equal(rules, [], 'no rule for the containers');
    const leases = c.name.startsWith('ref') ? join(work, 'host-local', c.name) : join(work, 'minidock', 'networks', c.name, 'leases');
    assert.equal(existsSync(leases) ? readdirSync(leases).filter((f) => /^\d/.test(f)) : [], [], 'no lease');
    assert.equal(cacheFiles(c), [], 'cnitool\'s result cache removed on DEL');
  });
}

R('chained: minidock first, then the reference portmap and bandwidth plugins on its result (prevResult); DEL through the chain leaves nothing of the container', async () => {
  const name = `chain${pid}`;
  const bridge = `mdkch${pid}`;
  const chain: Chain = {
    name, bridge, subnet: '10.135.0.0/24', prefix: '10.135.0.', gateway: '10.135.0.1', port: 18103,
    conflist: {
      cniVersion: '1.0.0', name, plugins: [
        { type: 'minidock', bridge, subnet: '10.135.0.0/24', dataDir: join(work, 'minidock') },
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
        { type: 'bandwidth', capabilities: { bandwidth: true } },
      ],
    },
  };
  writeFileSync(join(netconf, `${name}.conflist`), JSON.stringify(chain.conflist));
  const a = `mdkrc${pid}`;
  addNs(a);
  const caps = { portMappings: [{ hostPort: chain.port, containerPort: 80, protocol: 'tcp' }], bandwidth: { ingressRate: 10_000_000, ingressBurst: 262144, egressRate: 10_000_000, egressBurst: 262144 } };
  const added = cnitool('add', chain, a, caps);
  assert.is(added.code, 0, added.out + added.err);
  // portmap found the container's address in minidock's result; bandwidth its host veth.
  const web = spawn('nsenter', [`--net=/run/netns/${a}`, 'python3', '-m', 'http.server', '80', '--bind', '0.0.0.0', '--directory', work], { stdio: 'ignore' });
  servers.push(web);
  for (let i = 0; i < 50 && curl(`http://${chain.prefix}2:80/`) !== '200'; i++) await new Promise((r) => setTimeout(r, 100));
  assert.is(curl(`http://192.168.79.1:${chain.port}/`), '200', 'the reference portmap\'s DNAT to minidock\'s address');
  const veth = (JSON.parse(added.out) as { interfaces: Array<{ name: string; sandbox?: string }> }).interfaces.find((i) => !i.sandbox && i.name.startsWith('mdk') && i.name !== bridge)!.name;
  assert.match(inNetns(`tc qdisc show dev ${veth}`), /qdisc tbf .* rate 10Mbit/, 'the reference bandwidth plugin shaped minidock\'s veth');
  killPid(web.pid!);
  assert.is(cnitool('del', chain, a, caps).code, 0);
  assert.equal(inNetns('iptables-save').split('\n').filter((l) => l.includes(`${chain.prefix}2`) || l.includes(`--dport ${chain.port}`)), [], 'no rule for the container');
  assert.equal(inNetns('ip -o link show').split('\n').filter((l) => l.includes(`master ${bridge}`) || / bwp[0-9a-f]+/.test(l)), [], 'no veth, no ifb of the bandwidth plugin');
  assert.equal(cacheFiles(chain), []);
  assert.is(mdk(join(work, 'minidock'), ['network', 'rm', name]).code, 0);
});

R('minidock\'s network then goes whole: bridge, network rules, records', () => {
  const c = chains[1]!;
  assert.is(mdk(join(work, 'minidock'), ['network', 'rm', c.name]).code, 0);
  assert.not.match(inNetns('ip -o link show'), new RegExp(`\\b${c.bridge}\\b`));
  assert.equal(inNetns('iptables-save').split('\n').filter((l) => l.includes(c.bridge)), []);
  assert.equal(readdirSync(join(work, 'minidock', 'cni', 'attachments')), []);
});

R.run();
