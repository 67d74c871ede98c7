// The network findings of security issue #13, each performed as an attack with the real CLI,
// kernel and iptables, and each asserting the secure outcome and that nothing leaked:
//
//   - a container's IPv6 router advertisement (a raw frame: NET_RAW is in docker's default set)
//     gives neither the host nor another container a route (CVE-2020-13401);
//   - a service on the host's 127.0.0.1 stays out of a container's reach (route_localnet is on
//     for the bridge: CVE-2020-8558) after the guard chain is flushed, after another state
//     root's last `network rm`, after a `network rm` killed half-way; doctor flags the hole;
//   - two state roots' gc leave each other's rules and veths alone;
//   - containers of different minidock networks cannot reach each other (published ports,
//     egress, hairpin and same-network traffic still work);
//   - a lease file with garbage is never reissued; `network rm bridge` is refused; gc with one
//     unreadable network file still cleans the rest.
//
// Everything happens in the test's own namespaces ("outside" stands in for the internet):
//
//   test host ns 203.0.113.1 ══ veth ══ outside ns 203.0.113.2
//     ├ root A's bridge mdksa0 (10.150.0.0/24) and user networks
//     └ root B's bridge mdksb0 (10.151.0.0/24)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BUSYBOX_TAR, PYTHON_TAR, TEST_NETNS, ensureTestNetns, inNetns, killPid, leakChecked, mdk, newRoot, removeRoot, requireRootAndImages, sh, snapshot,
} from '../helpers/cli.js';

requireRootAndImages(PYTHON_TAR);
const A = newRoot('netsec-a');
const B = newRoot('netsec-b');
for (const root of [A, B]) {
  for (const [tar, name, cmd] of [[BUSYBOX_TAR, 'busybox', 'sh'], [PYTHON_TAR, 'python3', 'python3']] as const) {
    const imp = mdk(root, ['import', '-c', `CMD ["${cmd}"]`, tar, name]);
    if (imp.code !== 0) throw new Error(`importing ${name} failed: ${imp.stderr}`);
  }
}
const ENV_A = { MINIDOCK_BRIDGE: 'mdksa0', MINIDOCK_SUBNET: '10.150.0.0/24' };
const ENV_B = { MINIDOCK_BRIDGE: 'mdksb0', MINIDOCK_SUBNET: '10.151.0.0/24' };
const a = (args: string[], env: NodeJS.ProcessEnv = {}) => mdk(A, args, { env: { ...ENV_A, ...env } });
const b = (args: string[], env: NodeJS.ProcessEnv = {}) => mdk(B, args, { env: { ...ENV_B, ...env } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const OUT = `mdkso${process.pid}`;
ensureTestNetns();
sh(`ip netns add ${OUT} && ip -n ${OUT} link set lo up`);
process.on('exit', () => sh(`ip netns del ${OUT}; true`));
sh(`ip link add secouth netns ${TEST_NETNS} type veth peer name secout0 netns ${OUT}`);
inNetns('ip addr add 203.0.113.1/24 dev secouth && ip link set secouth up');
// outside has no route back to the containers' subnets: only MASQUERADE lets replies return.
sh(`ip -n ${OUT} addr add 203.0.113.2/24 dev secout0 && ip -n ${OUT} link set secout0 up`);
inNetns('echo 0 > /proc/sys/net/ipv4/ip_forward; iptables -P FORWARD DROP');
const HOST = '203.0.113.1';

// The default networks' bridges and rules exist before the baselines: they stay by design.
for (const r of [a(['run', '--rm', 'busybox', 'true']), b(['run', '--rm', 'busybox', 'true'])]) if (r.code !== 0) throw new Error(r.stderr);
const beforeA = snapshot(A);
const beforeB = snapshot(B);
const Sec = suite('netsec');
Sec.after(() => { removeRoot(A); removeRoot(B); });
const T = leakChecked(Sec, A, beforeA);

/** iptables-save of the test namespace. */
const save = (): string => inNetns('iptables-save');
/** Rules of one state root's networks: tagged minidock:net:<name>:<scope>, scope from network.json. */
const scopeOf = (root: string): string => JSON.parse(readFileSync(join(root, 'networks', 'bridge', 'network.json'), 'utf8')).scope;
const netRules = (root: string): string[] => save().split('\n').filter((l) => l.includes(`:${scopeOf(root)}"`)).sort();
/** minidock's rules about one bridge (whoever tagged them). */
const bridgeRules = (br: string): string[] => save().split('\n').filter((l) => l.includes(' minidock:') || l.includes('"minidock:')).filter((l) => new RegExp(` ${br}( |$)`).test(l)).sort();

/** A detached container; returns its id and address. */
function detached(run: typeof a, name: string, args: string[]): { id: string; ip: string } {
  const r = run(['run', '-d', '--name', name, ...args]);
  assert.is(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  const root = run === a ? A : B;
  const st = JSON.parse(readFileSync(join(root, 'containers', id, 'state.json'), 'utf8'));
  return { id, ip: st.net?.attachment.ip ?? '' };
}

// ---------------------------------------------------------------- the host's 127.0.0.1

const SECRET_PORT = 18500;
const LEAKS = join(A, 'leaks.log');

/** A UDP service on the test host's 127.0.0.1 that writes down every datagram it gets. */
function startLoopbackService(): string {
  writeFileSync(LEAKS, '');
  const pid = inNetns(`python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', ${SECRET_PORT}))
while True:
    d, _ = s.recvfrom(200)
    open('${LEAKS}', 'ab').write(d + b'\\n')
" >/dev/null 2>&1 & echo $!`).trim();
  return pid;
}

/** What a container with NET_RAW can do: hand-craft a frame to the bridge's MAC carrying a UDP
 *  datagram for 127.0.0.1 (its own kernel would route 127/8 to its lo; the frame goes out
 *  eth0 regardless). The host delivers it only if the bridge takes 127/8 (route_localnet) and
 *  nothing drops it. */
const LOOPBACK_ATTACK = `
import socket, struct, sys, time
gw, port, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.connect((gw, 9))
me = u.getsockname()[0]
u.send(b'x')  # the kernel ARPs for the gateway
hit = []
for i in range(100):
    hit = [l.split() for l in open('/proc/net/arp').read().splitlines()[1:] if l.split()[0] == gw and l.split()[3] != '00:00:00:00:00:00']
    if hit: break
    time.sleep(0.02)
gwmac = bytes.fromhex(hit[0][3].replace(':', ''))
mymac = bytes.fromhex(open('/sys/class/net/eth0/address').read().strip().replace(':', ''))
def csum(b):
    if len(b) % 2: b += b'\\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
udp = struct.pack('!HHHH', 40000, port, 8 + len(tag), 0) + tag
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, socket.inet_aton(me), socket.inet_aton('127.0.0.1'))
ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
for i in range(3):
    s.send(gwmac + mymac + b'\\x08\\x00' + ip + udp)
    time.sleep(0.05)
print('sent')
`;

/** Runs the attack from a running container (exec) and tells whether the host's 127.0.0.1
 *  service got it. */
async function leaks(run: typeof a, container: string, gateway: string, tag: string): Promise<boolean> {
  const r = run(['exec', container, 'python3', '-c', LOOPBACK_ATTACK, gateway, String(SECRET_PORT), tag]);
  assert.is(r.stdout, 'sent\n', `the attack ran: ${r.stderr}`);
  await sleep(300);
  return readFileSync(LEAKS, 'utf8').includes(tag);
}

const GW_A = '10.150.0.1';

T('the host\'s 127.0.0.1: a flushed guard is re-asserted by the next run, and doctor flags the gap', async () => {
  const svc = startLoopbackService();
  detached(a, 'atk', ['python3', 'sleep', '600']);
  try {
    assert.is(await leaks(a, 'atk', GW_A, 'guarded'), false, 'the guard drops 127/8 from the bridge');
    // Someone flushes minidock's guard (today's chain, and the one it replaced).
    inNetns('iptables -t raw -F MINIDOCK-PREROUTING 2>/dev/null; iptables -F MINIDOCK-INPUT 2>/dev/null; true');
    assert.is(await leaks(a, 'atk', GW_A, 'flushed'), true, 'the probe works: with no guard, route_localnet lets it in');
    const doc = a(['doctor']);
    assert.is(doc.code, 1, 'a bridge open to 127/8 is a failure');
    // (The flush opened root B's bridge too: doctor looks at every interface of the namespace,
    // which holds the bridges of every test file when uvu runs them all in one process.)
    assert.match(doc.stdout, /fail\s+localnet\s+route_localnet=1 on (\S+, )*mdksa0, (\S+, )*mdksb0(, \S+)* and no guard: a container there reaches the host's 127\.0\.0\.1 services/);
    // The next run on the network puts the guard back before its container gets an eth0.
    const next = a(['run', '--rm', 'busybox', 'true']);
    assert.is(next.code, 0, next.stderr);
    assert.is(await leaks(a, 'atk', GW_A, 'reasserted'), false, 'run re-asserted the guard');
    const after = a(['doctor']).stdout;
    assert.match(after, /fail\s+localnet\s+route_localnet=1 on (\S+, )*mdksb0(, \S+)* and no guard/, 'root B\'s bridge waits for its next run');
    assert.not.match(after, /fail\s+localnet[^\n]*mdksa0/, 'root A\'s is guarded again');
    assert.is(b(['run', '--rm', 'busybox', 'true']).code, 0);
    // Both roots' bridges are guarded again. (Alone, doctor says "ok localnet ... each guarded";
    // under one uvu process the other files' bridges in this namespace lost the shared guard
    // to the flush too, and stay open until their own next run.)
    const healed = a(['doctor']).stdout;
    assert.match(healed, /localnet\s+route_localnet=1 on /);
    assert.not.match(healed, /fail\s+localnet[^\n]*mdks[ab]0/);
    for (const br of ['mdksa0', 'mdksb0']) assert.match(save(), new RegExp(`-d 127\\.0\\.0\\.0/8 -i ${br}\\b[^\\n]*-j DROP`));
  } finally {
    a(['rm', '-f', 'atk']);
    killPid(svc);
  }
});

T('the host\'s 127.0.0.1: another state root\'s last network rm leaves this root\'s chains and rules', async () => {
  const svc = startLoopbackService();
  a(['run', '-d', '--name', 'atk', 'python3', 'sleep', '600']);
  try {
    const mine = bridgeRules('mdksa0');
    assert.is(await leaks(a, 'atk', GW_A, 'before-b-rm'), false);
    assert.is(b(['network', 'create', '--subnet', '10.152.0.0/24', 'bnet']).code, 0);
    const rm = b(['network', 'rm', 'bnet']);
    assert.is(rm.code, 0, rm.stderr);
    assert.is(await leaks(a, 'atk', GW_A, 'after-b-rm'), false, 'root A\'s running container is still kept from 127/8');
    assert.equal(bridgeRules('mdksa0'), mine, 'root B removed only its own rules');
    assert.ok(netRules(A).some((l) => l.includes('-d 127.0.0.0/8 -i mdksa0')), 'root A\'s guard, tagged with its scope');
    assert.not.match(save(), /minidock:net:bnet/);
  } finally {
    a(['rm', '-f', 'atk']);
    killPid(svc);
  }
  assert.equal(snapshot(B), beforeB, 'root B left nothing either');
});

for (const [k, step] of ['netrm.marked', 'netrm.bridge-deleted', 'netrm.rules-removed'].entries()) {
  const name = `doomed${k}`;
  const subnet = `10.153.${k}.0/24`;
  T(`the host's 127.0.0.1: a network rm killed at ${step} leaves no open bridge, and gc finishes it`, async () => {
    const svc = startLoopbackService();
    try {
      assert.is(a(['network', 'create', '--subnet', subnet, name]).code, 0);
      const rm = a(['network', 'rm', name], { MINIDOCK_TEST_CRASH_AT: step });
      assert.is(rm.code, 137, `network rm died at ${step}: ${rm.stderr}`);
      // Whatever is left of the network: no container on it reaches the host's loopback.
      const run = a(['run', '-d', '--name', 'atk', '--network', name, 'python3', 'sleep', '600']);
      if (run.code === 0) {
        assert.is(await leaks(a, 'atk', `10.153.${k}.1`, `killed-${step}`), false, 'a network that still runs containers is guarded');
        assert.is(a(['rm', '-f', 'atk']).code, 0);
      } else {
        assert.is(run.code, 125);
        assert.match(run.stderr, new RegExp(`network ${name} is being removed`));
      }
      const g = a(['gc']);
      assert.is(g.code, 0, g.stderr);
      assert.not.match(a(['network', 'ls']).stdout, new RegExp(name), 'gc finished the removal');
      assert.not.match(save(), new RegExp(`minidock:net:${name}`));
      assert.not.match(inNetns('ip -o link show'), /mdkbr/);
      assert.is(existsSync(join(A, 'networks', name)), false);
    } finally {
      a(['rm', '-f', 'atk']);
      killPid(svc);
    }
  });
}

// ---------------------------------------------------------------- IPv6 router advertisements

/** A router advertisement for 2001:db8:1::/64 with a default route, as a raw Ethernet frame
 *  from the container's eth0 to all nodes: what a container with NET_RAW can send whatever its
 *  own IPv6 settings. */
const RA_ATTACK = `
import socket, struct, time
mac = bytes.fromhex(open('/sys/class/net/eth0/address').read().strip().replace(':', ''))
src = bytes.fromhex('fe80000000000000') + bytes([mac[0] ^ 2]) + mac[1:3] + b'\\xff\\xfe' + mac[3:6]
dst = bytes.fromhex('ff020000000000000000000000000001')
def csum(b):
    if len(b) % 2: b += b'\\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
ra = struct.pack('!BBHBBHII', 134, 0, 0, 64, 0, 1800, 0, 0)
ra += struct.pack('!BB', 1, 1) + mac
ra += struct.pack('!BBBBIII', 3, 4, 64, 0xc0, 86400, 14400, 0) + bytes.fromhex('20010db8000100000000000000000000')
ra = ra[:2] + struct.pack('!H', csum(src + dst + struct.pack('!I', len(ra)) + b'\\0\\0\\0' + bytes([58]) + ra)) + ra[4:]
ip6 = struct.pack('!IHBB', 0x60000000, len(ra), 58, 255) + src + dst
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
for i in range(5):
    s.send(bytes.fromhex('333300000001') + mac + b'\\x86\\xdd' + ip6 + ra)
    time.sleep(0.1)
print('sent')
`;

const ROUTES6 = "import sys; sys.stdout.write(''.join(l for l in open('/proc/net/ipv6_route') if not l.endswith(' lo\\n')))";

T('IPv6: a container\'s router advertisement gives neither the host nor another container a route', async () => {
  detached(a, 'victim', ['python3', 'sleep', '600']);
  detached(a, 'rogue', ['python3', 'sleep', '600']);
  try {
    const r = a(['exec', 'rogue', 'python3', '-c', RA_ATTACK]);
    assert.is(r.stdout, 'sent\n', r.stderr);
    await sleep(500);
    assert.is(inNetns('ip -6 route show default').trim(), '', 'the host took no default route');
    assert.not.match(inNetns('ip -6 addr show'), /2001:db8:1:/, 'nor an address from the advertised prefix');
    assert.is(inNetns('cat /proc/sys/net/ipv6/conf/mdksa0/disable_ipv6').trim(), '1');
    const v = a(['exec', 'victim', 'python3', '-c', ROUTES6]);
    assert.is(v.code, 0, v.stderr);
    assert.is(v.stdout, '', 'the other container has no IPv6 route at all (IPv6 is off on its eth0)');
    assert.is(a(['exec', 'victim', 'cat', '/proc/sys/net/ipv6/conf/eth0/disable_ipv6']).stdout, '1\n');
    assert.is(a(['exec', 'victim', 'cat', '/proc/sys/net/ipv6/conf/lo/disable_ipv6']).stdout, '0\n', 'lo keeps ::1');
  } finally {
    a(['rm', '-f', 'victim', 'rogue']);
  }
});

// ---------------------------------------------------------------- two state roots

T('two state roots: neither one\'s gc touches the other\'s rules or veths', async () => {
  const ka = detached(a, 'keep', ['-p', '18540:80', 'busybox', 'sleep', '600']);
  const kb = detached(b, 'keep', ['-p', '18541:80', 'busybox', 'sleep', '600']);
  try {
    const rulesOf = (id: string) => save().split('\n').filter((l) => l.includes(`minidock:${id}`));
    const links = () => inNetns('ip -o link show');
    assert.is(rulesOf(ka.id).length, 1);
    assert.is(rulesOf(kb.id).length, 1);
    for (const [gc, other] of [[b, ka], [a, kb]] as const) {
      const g = gc(['gc']);
      assert.is(g.code, 0, g.stderr);
      assert.match(g.stdout, /freed 0 lease\(s\), 0 port lease\(s\), 0 rule\(s\), 0 veth\(s\)/);
      assert.is(rulesOf(other.id).length, 1, 'the other root\'s DNAT rule stays');
      assert.match(links(), new RegExp(`mdk${other.id.slice(0, 12)}`), 'the other root\'s veth stays');
    }
  } finally {
    a(['rm', '-f', 'keep']);
    b(['rm', '-f', 'keep']);
  }
  assert.equal(snapshot(B), beforeB);
});

// ---------------------------------------------------------------- isolation between networks

T('networks are isolated from each other; egress, published ports, hairpin and same-network traffic work', async () => {
  assert.is(a(['network', 'create', '--subnet', '10.154.0.0/24', 'appnet']).code, 0);
  // (python3 on both ends: busybox's wget is only the client of the other tests.)
  const web = [
    'python3', '-c',
    'import http.server, socket\nclass H(http.server.BaseHTTPRequestHandler):\n def do_GET(self):\n  self.send_response(200); self.end_headers(); self.wfile.write((socket.gethostname() + "\\n").encode())\n def log_message(self, *a): pass\nhttp.server.ThreadingHTTPServer(("0.0.0.0", 80), H).serve_forever()',
  ];
  const outside = sh(`ip netns exec ${OUT} python3 -c "
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(self.client_address[0].encode())
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(('203.0.113.2', 18560), H).serve_forever()
" >/dev/null 2>&1 & echo $!`).trim();
  const c1 = detached(a, 'c1', ['-p', '18520:80', '--hostname', 'c1', 'python3', ...web]);
  const c2 = detached(a, 'c2', ['--network', 'appnet', '-p', '18521:80', '--hostname', 'c2', 'python3', ...web]);
  detached(a, 'c3', ['python3', 'sleep', '600']);
  const get = (from: string, url: string): string => {
    const r = a(['exec', from, 'python3', '-c', 'import sys, urllib.request as u; sys.stdout.write(u.urlopen(sys.argv[1], timeout=2).read().decode())', url]);
    return r.code === 0 ? r.stdout : `(failed: ${r.stderr.trim().split('\n').pop()})`;
  };
  try {
    for (let i = 0; i < 50 && !/^c1/.test(get('c3', `http://${c1.ip}/`)); i++) await sleep(100);
    for (let i = 0; i < 50 && !/^c2/.test(get('c2', 'http://127.0.0.1/')); i++) await sleep(100);
    assert.match(c2.ip, /^10\.154\.0\./);
    assert.match(get('c1', `http://${c2.ip}/`), /^\(failed/, 'bridge → user network: dropped');
    assert.match(get('c2', `http://${c1.ip}/`), /^\(failed/, 'user network → bridge: dropped');
    assert.is(get('c3', `http://${c1.ip}/`), 'c1\n', 'same network: open');
    assert.is(get('c1', `http://${HOST}:18520/`), 'c1\n', 'its own published port (hairpin)');
    assert.is(get('c2', `http://${HOST}:18521/`), 'c2\n', 'its own published port (hairpin), user network');
    assert.is(get('c1', `http://${HOST}:18521/`), 'c2\n', 'another network\'s published port, as any LAN host reaches it');
    let out = '';
    for (let i = 0; i < 20 && !/^203/.test(out); i++) { out = get('c1', 'http://203.0.113.2:18560/'); if (!/^203/.test(out)) await sleep(100); }
    assert.is(out, HOST, 'egress from the bridge, MASQUERADE\'d');
    assert.is(get('c2', 'http://203.0.113.2:18560/'), HOST, 'egress from the user network');
    const curl = sh(`ip netns exec ${TEST_NETNS} curl -s -m 3 http://127.0.0.1:18521/ || true`);
    assert.is(curl, 'c2\n', 'localhost:PORT from the host');
  } finally {
    a(['rm', '-f', 'c1', 'c2', 'c3']);
    killPid(outside);
  }
  assert.is(a(['network', 'rm', 'appnet']).code, 0);
});

// ---------------------------------------------------------------- corrupted state

T('a lease file with garbage is never reissued: no shared address, no second DNAT rule; rm -f frees it', () => {
  const x = detached(a, 'holder', ['-p', '18530:80', 'busybox', 'sleep', '600']);
  try {
    writeFileSync(join(A, 'networks', 'bridge', 'leases', x.ip), 'garbage\n');
    writeFileSync(join(A, 'ports', 'tcp-18530-0.0.0.0'), '\0\0\0');
    const y = a(['run', '--rm', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
    assert.is(y.code, 0, y.stderr);
    assert.not.match(y.stdout, new RegExp(`inet ${x.ip.replace(/\./g, '\\.')}/`), 'the next container gets another address');
    const p = a(['run', '--rm', '-p', '18530:80', 'busybox', 'true']);
    assert.is(p.code, 125, 'the port stays leased');
    assert.match(p.stderr, /host port 18530\/tcp is leased, and its lease file .* names no readable owner/);
    assert.is(save().split('\n').filter((l) => /--dport 18530 /.test(l)).length, 1, 'one DNAT rule for the port');
    assert.match(a(['doctor']).stdout, /2 lease file\(s\) naming no readable owner/);
    const g = a(['gc']);
    assert.is(g.code, 0, g.stderr);
    assert.ok(existsSync(join(A, 'networks', 'bridge', 'leases', x.ip)), 'gc leaves it in use');
    assert.match(g.stderr, /its owner cannot be read: left in use/);
  } finally {
    assert.is(a(['rm', '-f', 'holder']).code, 0, 'rm -f of the container that recorded them frees them');
  }
  assert.not.ok(existsSync(join(A, 'ports', 'tcp-18530-0.0.0.0')));
});

T('gc with one unreadable network file reports it and still cleans the others', async () => {
  assert.is(a(['network', 'create', '--subnet', '10.155.0.0/24', 'brokennet']).code, 0);
  const file = join(A, 'networks', 'brokennet', 'network.json');
  const good = readFileSync(file, 'utf8');
  const ghost = 'f'.repeat(64);
  try {
    writeFileSync(file, '{"name": "brok');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(A, 'ports'), { recursive: true });
    writeFileSync(join(A, 'networks', 'bridge', 'leases', '10.150.0.200'), ghost);
    writeFileSync(join(A, 'ports', 'tcp-18599-0.0.0.0'), ghost);
    inNetns(`iptables -t nat -A MINIDOCK-DNAT -p tcp -m tcp --dport 18599 -m comment --comment minidock:${ghost} -j DNAT --to-destination 10.150.0.200:80`);
    const g = a(['gc']);
    assert.is(g.code, 0, g.stderr);
    assert.match(g.stderr, /network brokennet: its configuration is unreadable/);
    assert.match(g.stdout, /freed 1 lease\(s\), 1 port lease\(s\), 1 rule\(s\)/);
    assert.not.match(save(), /18599/);
  } finally {
    writeFileSync(file, good);
  }
  assert.is(a(['network', 'rm', 'brokennet']).code, 0);
});

T('network rm of the pre-defined networks is refused, exit 1, as docker does', () => {
  for (const name of ['bridge', 'host', 'none']) {
    const r = a(['network', 'rm', name]);
    assert.is(r.code, 1, name);
    assert.match(r.stderr, new RegExp(`${name} is a pre-defined network and cannot be removed`));
  }
  assert.match(a(['network', 'ls']).stdout, /bridge\s+bridge\s+local/);
  assert.match(inNetns('ip -o link show'), /mdksa0/, 'the default bridge is still there');
  assert.match(save(), /-d 127\.0\.0\.0\/8 -i mdksa0/);
});

Sec.run();
