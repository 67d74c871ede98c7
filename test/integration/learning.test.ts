// The learning commands against the real kernel: doctor, network diagram (text and SVG),
// inspect --net, and trace from the host, a LAN namespace and a sibling container, in the test
// network namespace with a private root. No packet leaves the namespaces the tests make.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  BUSYBOX_TAR, PYTHON_TAR, ensureTestNetns, inNetns, leakChecked, mdk, newRoot, removeRoot, requireRootAndImages, snapshot,
} from '../helpers/cli.js';

requireRootAndImages(PYTHON_TAR);
const root = newRoot('learn');
for (const [tar, name, cmd] of [[BUSYBOX_TAR, 'busybox', 'sh'], [PYTHON_TAR, 'python3', 'python3']] as const) {
  const imp = mdk(root, ['import', '-c', `CMD ["${cmd}"]`, tar, name]);
  if (imp.code !== 0) throw new Error(`importing ${name} failed: ${imp.stderr}`);
}
const ENV = { MINIDOCK_BRIDGE: 'mdktbr8', MINIDOCK_SUBNET: '10.138.0.0/24' };
const md = (...args: string[]) => mdk(root, args, { env: ENV });
const PORT = 18480;
ensureTestNetns();
const before = snapshot(root);
const Learn = suite('learning');
Learn.after(() => removeRoot(root));
const T = leakChecked(Learn, root, before);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const state = (name: string) => {
  const id = readFileSync(join(root, 'names', name), 'utf8');
  return { id, ...JSON.parse(readFileSync(join(root, 'containers', id, 'state.json'), 'utf8')) };
};
const curl = (url: string): string => {
  try {
    return inNetns(`curl -s -m 2 ${url}`);
  } catch {
    return '';
  }
};

/** `minidock doctor`'s lines as [level, check, finding], its fix lines, and its tally. */
function doctor(): { code: number; checks: Array<[string, string, string]>; text: string } {
  const r = md('doctor');
  const lines = r.stdout.split('\n');
  const checks: Array<[string, string, string]> = [];
  for (const [k, l] of lines.entries()) {
    const m = /^(ok|warn|fail) +(\S+) +(.+)$/.exec(l);
    if (!m) continue;
    checks.push([m[1]!, m[2]!, m[3]!]);
    if (m[1] !== 'ok') assert.match(lines[k + 1]!, /^ +→ fix: \S/, `a fix under ${l}`);
  }
  assert.is(r.stderr, '');
  return { code: r.code, checks, text: r.stdout };
}

/** A web server published on PORT, answering from the test namespace. */
async function webServer(): Promise<{ id: string; ip: string }> {
  const r = md('run', '-d', '--name', 'web', '-p', `${PORT}:80`, 'python3', 'python3', '-m', 'http.server', '80');
  assert.is(r.code, 0, r.stderr);
  for (let i = 0; i < 200 && !curl(`http://127.0.0.1:${PORT}/`).includes('Directory listing'); i++) await sleep(25);
  const st = state('web');
  return { id: st.id, ip: st.net.attachment.ip };
}

T('doctor: one line per check, a fix under each that is not ok, and exit 1 exactly when one fails', async () => {
  const d = doctor();
  const names = d.checks.map(([, c]) => c);
  for (const c of ['root', 'tools', 'conntrack', 'ip_forward', 'iptables', 'forward', 'br_netfilter', 'cgroups', 'overlay', 'userns', 'idmap', 'resolv.conf', 'leftovers']) {
    assert.ok(names.includes(c), `a ${c} check in\n${d.text}`);
  }
  assert.is(d.code, d.checks.some(([l]) => l === 'fail') ? 1 : 0, d.text);
  assert.equal(d.checks.find(([, c]) => c === 'root')!.slice(0, 1), ['ok']);
  assert.match(d.checks.find(([, c]) => c === 'leftovers')![2], /^none/);
  const tally = /^(\d+) ok, (\d+) warn, (\d+) fail/m.exec(d.text)!;
  assert.equal(tally.slice(1).map(Number), ['ok', 'warn', 'fail'].map((l) => d.checks.filter(([x]) => x === l).length));

  // With a bridge up, forwarding turned off is a failure, and the exit code says so.
  const web = await webServer();
  try {
    const old = inNetns('cat /proc/sys/net/ipv4/ip_forward').trim();
    inNetns('echo 0 > /proc/sys/net/ipv4/ip_forward');
    try {
      const broken = doctor();
      assert.equal(broken.checks.find(([, c]) => c === 'ip_forward')!.slice(0, 2), ['fail', 'ip_forward']);
      assert.match(broken.text, /→ fix: sysctl -w net\.ipv4\.ip_forward=1/);
      assert.is(broken.code, 1);
    } finally {
      inNetns(`echo ${old} > /proc/sys/net/ipv4/ip_forward`);
    }
    assert.match(doctor().checks.find(([, c]) => c === 'forward')![2], /MINIDOCK-FORWARD|policy ACCEPT/);
    assert.ok(web.ip);
  } finally {
    assert.is(md('rm', '-f', 'web').code, 0);
  }
});

T('network diagram and inspect --net: the address, veth, port and a counter, as text and as SVG', async () => {
  const web = await webServer();
  try {
    const veth = `mdk${web.id.slice(0, 12)}`;
    const r = md('network', 'diagram', '--svg', join(root, 'net.svg'));
    assert.is(r.code, 0, r.stderr);
    const text = r.stdout;
    for (const line of text.split('\n')) assert.ok([...line].length <= 100, `wider than 100 columns: ${line}`);
    assert.match(text, new RegExp(`bridge mdktbr8 · network bridge`));
    assert.match(text, new RegExp(`veth ${veth} \\(host end, [0-9a-f:]{17} up\\) ══ eth0 \\(container end\\)`));
    assert.match(text, new RegExp(`eth0 ${web.ip.replace(/\./g, '\\.')}/24 {2}mac 02:42:[0-9a-f:]{11} {2}\\(read in its namespace\\)`));
    assert.match(text, new RegExp(`port 0\\.0\\.0\\.0:${PORT} → 80/tcp`));
    // The curl that waited for the server went through the DNAT rule: its counter is not zero.
    const dnat = new RegExp(`DNAT -p tcp --dport ${PORT} → ${web.ip.replace(/\./g, '\\.')}:80 +(\\d+) pkts`).exec(text);
    assert.ok(dnat, `a DNAT row in\n${text}`);
    assert.ok(Number(dnat![1]) >= 1, 'its counter counted the connection');
    assert.match(text, /from host {2}-o mdktbr8 --src-type LOCAL -j MASQUERADE +[1-9]\d* pkts/);

    const svg = readFileSync(join(root, 'net.svg'), 'utf8');
    const parsed = spawnSync('python3', ['-c', 'import sys, xml.dom.minidom; d = xml.dom.minidom.parse(sys.argv[1]); print(d.documentElement.tagName)', join(root, 'net.svg')], { encoding: 'utf8' });
    assert.is(parsed.status, 0, `the SVG is well-formed XML: ${parsed.stderr}`);
    assert.is(parsed.stdout.trim(), 'svg');
    for (const want of [web.ip, veth, `0.0.0.0:${PORT} → 80/tcp`, 'pkts', '<title>-t nat -A MINIDOCK-DNAT']) assert.ok(svg.includes(want), `SVG has ${want}`);

    const one = md('inspect', '--net', 'web');
    assert.is(one.code, 0, one.stderr);
    assert.match(one.stdout, /container web · /);
    assert.match(one.stdout, new RegExp(`port 0\\.0\\.0\\.0:${PORT} → 80/tcp`));
  } finally {
    assert.is(md('rm', '-f', 'web').code, 0);
  }
  assert.match(md('network', 'diagram').stdout, /no container attached/);
  const gone = md('inspect', '--net', 'web');
  assert.is(gone.code, 1);
  assert.match(gone.stderr, /^minidock: no such container: web/);
});

T('trace from the host, a LAN namespace and a sibling container: the DNAT rule named, the probe answered', async () => {
  const web = await webServer();
  const rule = `nat MINIDOCK-DNAT: -p tcp --dport ${PORT} -j DNAT --to-destination ${web.ip}:80`;
  try {
    const host = md('trace', String(PORT));
    assert.is(host.code, 0, host.stdout + host.stderr);
    assert.ok(host.stdout.includes(rule), host.stdout);
    assert.match(host.stdout, /nat OUTPUT: --dst-type LOCAL -j MINIDOCK-DNAT/);
    assert.match(host.stdout, /MASQUERADE {3}\(\+1 packet\)\n {5}→ source rewritten to 10\.138\.0\.1 \(mdktbr8's address\): the sender is this host/);
    assert.match(host.stdout, new RegExp(`outcome: ANSWERED in [\\d.]+ ms: container web \\(${web.ip.replace(/\./g, '\\.')}:80\\) accepted the connection`));
    assert.match(host.stdout, new RegExp(`reply {5}${web.ip.replace(/\./g, '\\.')}:80 → 10\\.138\\.0\\.1:\\d+`), 'the reply path, from conntrack');

    const lan = md('trace', String(PORT), '--from', 'lan');
    assert.is(lan.code, 0, lan.stdout + lan.stderr);
    assert.ok(lan.stdout.includes(rule));
    assert.match(lan.stdout, /nat PREROUTING: --dst-type LOCAL -j MINIDOCK-DNAT/);
    assert.match(lan.stdout, /filter MINIDOCK-FORWARD: -o mdktbr8 --ctstate DNAT -j ACCEPT/);
    assert.match(lan.stdout, /outcome: ANSWERED/);
    assert.not.match(inNetns('ip -o link show'), /mdktr/, 'the LAN namespace\'s veth went with it');

    assert.is(md('run', '-d', '--name', 'client', 'busybox', 'sleep', '60').code, 0);
    try {
      const sib = md('trace', String(PORT), '--from', 'container:client');
      assert.is(sib.code, 0, sib.stdout + sib.stderr);
      assert.match(sib.stdout, /from container client \(10\.138\.0\.\d+\): one connection 10\.138\.0\.\d+:\d+ → 10\.138\.0\.1:18480/);
      assert.ok(sib.stdout.includes(rule));
      assert.match(sib.stdout, /-s 10\.138\.0\.0\/24 -o mdktbr8 --ctstate DNAT -j MASQUERADE .*\n {5}→ .*a container called a published port/);
      assert.match(sib.stdout, /outcome: ANSWERED/);
    } finally {
      assert.is(md('rm', '-f', 'client').code, 0);
    }
  } finally {
    assert.is(md('rm', '-f', 'web').code, 0);
  }
});

T('trace says where a connection stopped, and refuses what it cannot probe', () => {
  const r = md('trace', String(PORT + 1));
  assert.is(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`published: nothing on port ${PORT + 1}`));
  assert.match(r.stdout, new RegExp(`outcome: STOPPED at the host: no MINIDOCK-DNAT rule matched: nothing is published on port ${PORT + 1}, and no program on the host listens on 127\\.0\\.0\\.1:${PORT + 1}, so the host's kernel answered RST`));
  for (const [args, msg, code] of [
    // docker's rule outside run: 125 for a flag's value, 1 for the rest.
    [['trace', '0'], /^minidock: invalid port "0" \(a port number from 1 to 65535/, 1],
    [['trace', '53/udp'], /^minidock: trace sends a TCP connect/, 1],
    [['trace', '80', '--from', 'moon'], /^minidock: invalid --from "moon" \(host, lan or container:NAME\)/, 125],
    [['trace', '80', '--from', 'container:nobody'], /^minidock: no such container: nobody/, 1],
    [['trace', '80', '--timeout', '99'], /^minidock: invalid timeout "99"/, 125],
  ] as const) {
    const bad = md(...args);
    assert.is(bad.code, code, `${args.join(' ')}: ${bad.stderr}`);
    assert.match(bad.stderr, msg);
  }
});

Learn.run();
