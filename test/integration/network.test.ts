// Networking against the real kernel: published ports reached from localhost, the host's own
// address, another host and another container; egress through MASQUERADE; user-defined
// networks; limits and conflicts. Everything happens in namespaces this test creates:
//
//   lan ns 192.168.77.2 ══ veth ══ test host ns 192.168.77.1 | 198.51.100.1 ══ veth ══ outside ns 198.51.100.2
//                                   └ minidock's bridge (own subnet) ─ containers
//
// "test host" is where the CLI runs (helpers/cli.ts); "lan" stands in for another machine on the
// LAN, "outside" for the internet. No packet leaves these namespaces.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BUSYBOX_TAR, PYTHON_TAR, TEST_NETNS, ensureTestNetns, inNetns, killPid, leakChecked, mdk, mdkSpawn, shQuote, newRoot, removeRoot, requireRootAndImages, sh, snapshot,
  type Snapshot,
} from '../helpers/cli.js';
import { assertShaped } from '../helpers/iperf.js';

requireRootAndImages(PYTHON_TAR);
const root = newRoot('net');
for (const [tar, name, cmd] of [[BUSYBOX_TAR, 'busybox', 'sh'], [PYTHON_TAR, 'python3', 'python3']] as const) {
  const imp = mdk(root, ['import', '-c', `CMD ["${cmd}"]`, tar, name]);
  if (imp.code !== 0) throw new Error(`importing ${name} failed: ${imp.stderr}`);
}
// The default network gets this test's own bridge and subnet.
const ENV = { MINIDOCK_BRIDGE: 'mdktbr0', MINIDOCK_SUBNET: '10.123.0.0/24' };
const run = (args: string[], input?: string) => mdk(root, ['run', '--rm', ...args], { env: ENV, input });

const LAN = `mdkl${process.pid}`;
const OUT = `mdko${process.pid}`;
ensureTestNetns();
sh(`ip netns add ${LAN} && ip netns add ${OUT}`);
process.on('exit', () => sh(`ip netns del ${LAN}; ip netns del ${OUT}; true`));
sh(`ip -n ${LAN} link set lo up; ip -n ${OUT} link set lo up`);
sh(`ip link add lanh netns ${TEST_NETNS} type veth peer name lan0 netns ${LAN}`);
sh(`ip link add outh netns ${TEST_NETNS} type veth peer name out0 netns ${OUT}`);
inNetns('ip addr add 192.168.77.1/24 dev lanh && ip link set lanh up && ip addr add 198.51.100.1/24 dev outh && ip link set outh up');
sh(`ip -n ${LAN} addr add 192.168.77.2/24 dev lan0 && ip -n ${LAN} link set lan0 up && ip -n ${LAN} route add default via 192.168.77.1`);
// outside has no route back to the containers' subnet: only MASQUERADE lets replies return.
sh(`ip -n ${OUT} addr add 198.51.100.2/24 dev out0 && ip -n ${OUT} link set out0 up`);
// A new namespace copies ip_forward from the host; start from "off" so minidock must turn it on,
// and a FORWARD policy of DROP, which minidock's rules must get through.
inNetns('echo 0 > /proc/sys/net/ipv4/ip_forward; iptables -P FORWARD DROP');

const before: Snapshot = snapshot(root);
const Net = suite('network');
Net.after(() => removeRoot(root));

const T = leakChecked(Net, root, before);

const lan = (cmd: string): string => sh(`ip netns exec ${LAN} sh -c ${shQuote(cmd)}`);
const curl = (url: string, ns = TEST_NETNS): { code: number; body: string } => {
  try {
    return { code: 0, body: sh(`ip netns exec ${ns} curl -s -m 3 ${url}`) };
  } catch {
    return { code: 1, body: '' };
  }
};

interface Bg {
  id: string;
  ip: string;
  done: Promise<number | null>;
  stop(): Promise<void>;
}

/** Runs a container in the foreground of a background CLI and waits until it is running. */
async function start(args: string[], ready?: (c: Bg) => boolean): Promise<Bg> {
  const child = mdkSpawn(root, ['run', ...args], ENV);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<number | null>((r) => child.on('close', r));
  const nameIdx = args.indexOf('--name');
  const name = args[nameIdx + 1]!;
  for (let i = 0; i < 400; i++) {
    try {
      const id = readFileSync(join(root, 'names', name), 'utf8');
      const st = JSON.parse(readFileSync(join(root, 'containers', id, 'state.json'), 'utf8'));
      if (st.status === 'running') {
        const c: Bg = {
          id,
          ip: st.net?.attachment.ip ?? '',
          done,
          stop: async () => {
            mdk(root, ['rm', '-f', name]);
            await done;
          },
        };
        if (!ready || ready(c)) return c;
      }
    } catch { /* not yet */ }
    if (child.exitCode !== null) throw new Error(`container ${name} exited early: ${stderr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`container ${name} did not start: ${stderr}`);
}


async function webServer(name: string, extra: string[] = []): Promise<Bg> {
  const c = await start([...extra, '--name', name, 'python3', 'python3', '-m', 'http.server', '80']);
  for (let i = 0; i < 100 && curl(`http://${c.ip}:80/`).code !== 0; i++) await new Promise((r) => setTimeout(r, 50));
  return c;
}

T('a published port answers from localhost, the host\'s address, the LAN and a sibling container', async () => {
  const web = await webServer('web', ['-p', '18080:80']);
  try {
    assert.match(inNetns('cat /proc/sys/net/ipv4/ip_forward'), /^1/, 'minidock turned forwarding on');
    assert.is(inNetns('cat /proc/sys/net/ipv4/conf/all/route_localnet').trim(), '0', 'route_localnet never on for all');
    assert.match(curl('http://127.0.0.1:18080/').body, /Directory listing/, 'from localhost');
    assert.match(curl('http://192.168.77.1:18080/').body, /Directory listing/, "from the host's address");
    assert.match(curl('http://192.168.77.1:18080/', LAN).body, /Directory listing/, 'from another host on the LAN');
    const sib = run(['busybox', 'wget', '-qO-', 'http://192.168.77.1:18080/']);
    assert.is(sib.code, 0, `from a sibling container (hairpin): ${sib.stderr}`);
    assert.match(sib.stdout, /Directory listing/);
    // The container calling its own published port: DNAT sends the packet back out of the
    // bridge port it came in on, which needs that port in hairpin mode.
    const own = mdk(root, ['exec', 'web', 'python3', '-c', "import urllib.request as u; print(u.urlopen('http://192.168.77.1:18080/', timeout=5).status)"]);
    assert.is(own.stdout, '200\n', `from the container itself: ${own.stderr}`);
    const self = mdk(root, ['ps'], { env: ENV }).stdout;
    assert.match(self, /0\.0\.0\.0:18080->80\/tcp\s+web/);
    assert.is(mdk(root, ['port', 'web']).stdout, '80/tcp -> 0.0.0.0:18080\n');
  } finally {
    await web.stop();
  }
  assert.is(curl('http://127.0.0.1:18080/').code, 1, 'gone with its container');
});

T('a port published on 127.0.0.1 answers locally and never from the LAN', async () => {
  const web = await webServer('local-only', ['-p', '127.0.0.1:18081:80']);
  try {
    assert.match(curl('http://127.0.0.1:18081/').body, /Directory listing/);
    assert.is(curl('http://192.168.77.1:18081/', LAN).code, 1, 'not on the LAN address');
    // A LAN host that routes 127.0.0.1 to us (kube-proxy's CVE-2020-8558) must not get in either.
    lan('ip route del local 127.0.0.1 dev lo table local 2>/dev/null; ip route add 127.0.0.1/32 via 192.168.77.1 dev lan0; echo 1 > /proc/sys/net/ipv4/conf/lan0/route_localnet');
    try {
      assert.is(curl('http://127.0.0.1:18081/', LAN).code, 1, 'not through a route to 127.0.0.1');
    } finally {
      lan('ip route del 127.0.0.1/32 via 192.168.77.1 dev lan0; ip route add local 127.0.0.1 dev lo table local; echo 0 > /proc/sys/net/ipv4/conf/lan0/route_localnet');
    }
  } finally {
    await web.stop();
  }
});

T('udp publishing', async () => {
  const echo = await start(['-p', '15353:53/udp', '--name', 'udp-echo', 'python3', 'python3', '-c',
    'import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(("",53))\nwhile True:\n d,a=s.recvfrom(100)\n s.sendto(d.upper(),a)']);
  try {
    let reply = '';
    for (let i = 0; i < 20 && !reply; i++) {
      reply = inNetns(`python3 -c "import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(0.5); s.sendto(b'ping', ('192.168.77.1', 15353)); print(s.recvfrom(100)[0].decode())" 2>/dev/null || true`).trim();
    }
    assert.is(reply, 'PING');
    assert.match(mdk(root, ['ps']).stdout, /0\.0\.0\.0:15353->53\/udp/);
  } finally {
    await echo.stop();
  }
});

T('egress: MASQUERADE makes the outside see the host\'s address', async () => {
  const log = join(root, 'outside.log');
  const server = sh(`ip netns exec ${OUT} python3 -c "
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(self.client_address[0].encode())
    def log_message(self, *a): pass
s = http.server.HTTPServer(('198.51.100.2', 18090), H)
s.timeout = 10
s.handle_request()
" > ${log} 2>&1 & echo $!`).trim();
  try {
    let r = { code: 1, stdout: '', stderr: '' };
    for (let i = 0; i < 20 && r.code !== 0; i++) {
      r = run(['busybox', 'wget', '-qO-', 'http://198.51.100.2:18090/']);
      if (r.code !== 0) await new Promise((res) => setTimeout(res, 100));
    }
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, '198.51.100.1', 'the outside saw the host, not 10.123.0.x');
  } finally {
    killPid(server); // it may have served its one request and exited already
  }
});

T('a user-defined network: containers reach each other by name; network rm refused while in use', async () => {
  assert.is(mdk(root, ['network', 'create', '--subnet', '10.124.0.0/24', 'appnet']).code, 0);
  const web = await webServer('alpha', ['--network', 'appnet']);
  try {
    assert.match(web.ip, /^10\.124\.0\./);
    const r = run(['--network', 'appnet', 'busybox', 'wget', '-qO-', 'http://alpha/']);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /Directory listing/);
    const refused = mdk(root, ['network', 'rm', 'appnet']);
    assert.is(refused.code, 1);
    assert.match(refused.stderr, /has active endpoints/);
    const inspect = JSON.parse(mdk(root, ['network', 'inspect', 'appnet']).stdout);
    assert.is(inspect[0].IPAM.Config[0].Subnet, '10.124.0.0/24');
    assert.is(Object.values(inspect[0].Containers as Record<string, { Name: string }>)[0]!.Name, 'alpha');
    assert.match(mdk(root, ['network', 'ls']).stdout, /appnet\s+bridge\s+local/);
    // --format, as docker's: per network, or a table with the template's own header.
    assert.match(mdk(root, ['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']).stdout, /^(\S+ bridge local\n)*appnet bridge local\n/);
    assert.match(mdk(root, ['network', 'ls', '--format', 'table {{.Name}}\\t{{.ID}}']).stdout, /^NAME +NETWORK ID\n(.*\n)*appnet +[0-9a-f]{12}\n/);
    assert.is(mdk(root, ['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}} {{len .Containers}}', 'appnet']).stdout, '10.124.0.0/24 1\n');
  } finally {
    await web.stop();
  }
  assert.is(mdk(root, ['network', 'rm', 'appnet']).code, 0);
  assert.not.match(inNetns('ip -o link show'), /mdkbr/, 'its bridge is gone');
});

T('--network container:NAME shares another container\'s namespace', async () => {
  const web = await webServer('pod');
  try {
    const r = run(['--network', 'container:pod', 'busybox', 'wget', '-qO-', 'http://127.0.0.1:80/']);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /Directory listing/);
    // /proc/net/dev follows the process's network namespace (/sys is the host's, bound
    // read-only, in this mode: see child-plan.ts).
    const dev = run(['--network', 'container:pod', 'busybox', 'cat', '/proc/net/dev']).stdout;
    const ifaces = dev.split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter(Boolean).sort();
    assert.equal(ifaces, ['eth0', 'lo']);
  } finally {
    await web.stop();
  }
  assert.is(run(['--network', 'container:pod', 'busybox', 'true']).code, 125, 'refused once it is gone');
});

T('30 containers started at once get distinct addresses and all answer', async () => {
  const names = Array.from({ length: 30 }, (_, i) => `par${i}`);
  const started = await Promise.all(
    names.map((n) => start(['--name', n, '-h', n, 'busybox', 'sh', '-c', 'mkdir /w && hostname > /w/index.html && exec httpd -f -p 80 -h /w'])),
  );
  try {
    const ips = started.map((c) => c.ip);
    assert.is(new Set(ips).size, 30, `distinct: ${ips.join(' ')}`);
    for (let i = 0; i < 30; i++) {
      let body = '';
      for (let t = 0; t < 40 && !body; t++) {
        body = curl(`http://${ips[i]}/`).body;
        if (!body) await new Promise((r) => setTimeout(r, 50));
      }
      assert.is(body, `${names[i]}\n`, `${names[i]} at ${ips[i]} answers as itself`);
      // state agrees with the kernel: the address really is on the container's eth0
    }
    const inside = run(['--network', 'container:par7', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']).stdout;
    assert.match(inside, new RegExp(`inet ${ips[7]!.replace(/\./g, '\\.')}/24`));
  } finally {
    await Promise.all(started.map((c) => c.stop()));
  }
});

T('a full subnet is a clear error and leaves nothing behind', async () => {
  assert.is(mdk(root, ['network', 'create', '--subnet', '10.125.0.0/29', 'tiny']).code, 0);
  const five = await Promise.all([1, 2, 3, 4, 5].map((i) => start(['--network', 'tiny', '--name', `tiny${i}`, 'busybox', 'sleep', '60'])));
  try {
    const before6 = snapshot(root);
    const r = run(['--network', 'tiny', 'busybox', 'true']);
    assert.is(r.code, 125);
    assert.match(r.stderr, /no free address in 10\.125\.0\.0\/29 \(5 of 5 in use\) on network tiny/);
    assert.equal(snapshot(root), before6, 'the failed run left nothing');
  } finally {
    await Promise.all(five.map((c) => c.stop()));
  }
  assert.is(run(['--network', 'tiny', 'busybox', 'true']).code, 0, 'a freed address is reused');
  assert.is(mdk(root, ['network', 'rm', 'tiny']).code, 0);
});

T('port conflicts are refused before the container starts', async () => {
  const web = await start(['-p', '18082:80', '--name', 'holder', 'busybox', 'sleep', '60']);
  const squatter = inNetns(`python3 -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 18083)); s.listen(); time.sleep(30)" >/dev/null 2>&1 & echo $!`).trim();
  try {
    const taken = run(['-p', '18082:80', 'busybox', 'true']);
    assert.is(taken.code, 125);
    assert.match(taken.stderr, /host port 18082\/tcp is already published by container [0-9a-f]{12}/);
    for (let i = 0; i < 40 && !/:18083/.test(inNetns('ss -ltn')); i++) await new Promise((r) => setTimeout(r, 25));
    const used = run(['-p', '18083:80', 'busybox', 'true']);
    assert.is(used.code, 125);
    assert.match(used.stderr, /host port 18083\/tcp is already in use by another program/);
    const notOurs = run(['-p', '203.0.113.7:18084:80', 'busybox', 'true']);
    assert.is(notOurs.code, 125);
    assert.match(notOurs.stderr, /203\.0\.113\.7 is not an address of this host/);
    const random = run(['-p', '80', 'busybox', 'true']);
    assert.is(random.code, 0, random.stderr);
  } finally {
    killPid(squatter);
    await web.stop();
  }
});

T('--network host: the host\'s interfaces and resolver', () => {
  const r = run(['--network', 'host', 'busybox', 'cat', '/proc/net/dev', '/etc/resolv.conf']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /lanh:/, "the test host's uplink is visible");
  assert.not.match(r.stdout, /eth0:/);
  assert.ok(r.stdout.endsWith(readFileSync('/etc/resolv.conf', 'utf8')), "resolv.conf is the host's, unchanged");
});

T('-P publishes exposed ports on free host ports; a range publishes each port', async () => {
  assert.is(mdk(root, ['import', '-c', 'EXPOSE 80', '-c', 'CMD ["sh"]', BUSYBOX_TAR, 'exposing']).code, 0);
  const c = await start(['-P', '-p', '18100-18101:7000-7001', '--name', 'pub', 'exposing', 'sh', '-c',
    'mkdir /w && echo exposed > /w/index.html && (httpd -p 7000 -h /w; httpd -p 7001 -h /w; exec httpd -f -p 80 -h /w)']);
  try {
    const ports = mdk(root, ['port', 'pub']).stdout;
    const random = /80\/tcp -> 0\.0\.0\.0:(\d+)/.exec(ports);
    assert.ok(random, ports);
    assert.ok(Number(random![1]) > 1024, 'a free host port was chosen');
    assert.match(ports, /7000\/tcp -> 0\.0\.0\.0:18100\n/);
    assert.match(ports, /7001\/tcp -> 0\.0\.0\.0:18101\n/);
    for (const port of [random![1], '18100', '18101']) {
      let body = '';
      for (let i = 0; i < 40 && !body; i++) {
        body = curl(`http://127.0.0.1:${port}/`).body;
        if (!body) await new Promise((r) => setTimeout(r, 50));
      }
      assert.is(body, 'exposed\n', `port ${port}`);
    }
  } finally {
    await c.stop();
  }
  assert.is(mdk(root, ['rmi', 'exposing']).code, 0);
});

T('a killed CLI leaves leases and rules that the next run reclaims', async () => {
  const child = mdkSpawn(root, ['run', '--name', 'orphan', '-p', '18110:80', 'busybox', 'sleep', '60'], ENV);
  const done = new Promise((r) => child.on('close', r));
  let id = '';
  for (let i = 0; i < 200 && !id; i++) {
    await new Promise((r) => setTimeout(r, 25));
    try {
      id = readFileSync(join(root, 'names', 'orphan'), 'utf8');
      if (JSON.parse(readFileSync(join(root, 'containers', id, 'state.json'), 'utf8')).status !== 'running') id = '';
    } catch { /* not yet */ }
  }
  assert.ok(id, 'started');
  for (let i = 0; i < 100 && !inNetns('iptables-save').includes(`minidock:${id}`); i++) await new Promise((r) => setTimeout(r, 20));
  killPid(child.pid!, 'SIGKILL'); // what a crash looks like
  await done;
  // The container died with its CLI (PR_SET_PDEATHSIG); its lease, port and DNAT rule are left.
  assert.match(inNetns('iptables-save'), new RegExp(`minidock:${id}`));
  // PID 1 is killed by PR_SET_PDEATHSIG as the CLI dies; its exit takes a moment to complete.
  let ps = '';
  for (let i = 0; i < 100 && !/Exited \(255\).*orphan/.test(ps); i++) {
    ps = mdk(root, ['ps', '-a']).stdout;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.match(ps, /Exited \(255\).*orphan/);
  // The same host port is free for the next container: the stale owner's rule goes first.
  const again = run(['-p', '18110:80', 'busybox', 'true']);
  assert.is(again.code, 0, again.stderr);
  assert.not.match(inNetns('iptables-save'), new RegExp(`minidock:${id}`));
  assert.is(mdk(root, ['rm', 'orphan']).code, 0);
});

T('--ingress-rate and --egress-rate: 10mbit each way measured by iperf3 within 10%, shown in inspect, network diagram and --dry-run; the ifb goes with the container; bad rates refused', async () => {
  const c = await start(['--name', 'shaped', '--ingress-rate', '10mbit', '--egress-rate', '10mbit', 'busybox', 'sleep', '60']);
  const iperf = spawn('nsenter', [`--net=/run/netns/${TEST_NETNS}`, 'iperf3', '-s', '-B', '10.123.0.1', '-p', '15301'], { stdio: 'ignore' });
  try {
    assert.is(mdk(root, ['inspect', '-f', '{{.NetworkSettings.IngressRate}} {{.NetworkSettings.EgressRate}}', 'shaped']).stdout, '10000000 10000000\n');
    const ifb = `mdb${c.id.slice(0, 12)}`;
    assert.match(inNetns(`tc qdisc show dev mdk${c.id.slice(0, 12)}`), /qdisc tbf .* rate 10Mbit/);
    assert.match(inNetns(`tc qdisc show dev ${ifb}`), /qdisc tbf .* rate 10Mbit/);
    const diagram = mdk(root, ['network', 'diagram'], { env: ENV }).stdout;
    assert.match(diagram, /shaped: receives at most 10mbit/);
    assert.match(diagram, new RegExp(`shaped: sends at most 10mbit \\(tbf on ${ifb}, its ifb\\)`));
    for (let i = 0; i < 50 && spawnSync('nsenter', [`--net=/run/netns/${TEST_NETNS}`, 'sh', '-c', 'ss -ltn | grep -q ":15301 "']).status !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    // The host's iperf3 in the container's network namespace only: the image has none.
    const pid = mdk(root, ['inspect', '-f', '{{.State.Pid}}', 'shaped']).stdout.trim();
    const rate = (reverse: boolean): number => {
      const r = spawnSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'iperf3', '-c', '10.123.0.1', '-p', '15301', '-t', '3', '-J', ...(reverse ? ['-R'] : [])], { encoding: 'utf8', timeout: 30_000 });
      assert.is(r.status, 0, r.stderr + r.stdout.slice(0, 300));
      return (JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
    };
    assertShaped('ingress', () => rate(true), 10e6);
    assertShaped('egress', () => rate(false), 10e6);
    await c.stop();
    assert.not.match(inNetns('ip -o link show type ifb'), new RegExp(ifb), 'the ifb went with the container');
  } finally {
    if (iperf.pid) killPid(iperf.pid);
    await c.stop().catch(() => undefined);
  }
  const dry = mdk(root, ['run', '--dry-run', '--ingress-rate', '5mbit', '--egress-rate', '1mbit', 'busybox', 'true'], { env: ENV });
  assert.is(dry.code, 0, dry.stderr);
  assert.match(dry.stdout + dry.stderr, /tc qdisc add dev mdk[0-9a-f]{12} root tbf rate 625000bps burst 32768b latency 25ms/);
  assert.match(dry.stdout + dry.stderr, /ip link add name mdb[0-9a-f]{12} type ifb/);
  const bad = mdk(root, ['run', '--rm', '--ingress-rate', 'fast', 'busybox', 'true'], { env: ENV });
  assert.is(bad.code, 125);
  assert.match(bad.stderr, /^minidock: invalid --ingress-rate "fast" \(give a rate as tc writes one, e\.g\. 10mbit, 500kbit, 1gbit\)\n$/);
  const none = mdk(root, ['run', '--rm', '--network', 'none', '--egress-rate', '1mbit', 'busybox', 'true'], { env: ENV });
  assert.is(none.code, 125);
  assert.match(none.stderr, /not with --network none/);
});

Net.run();
