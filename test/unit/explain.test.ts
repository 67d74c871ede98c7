// Unit tests for src/explain: the explanation is read off the plans (every mount op, rule and ip
// command once, in minidock's order), the script carries the same commands, and a change in a
// plan shows in both. No root: the script is only parsed (bash -n), never run.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinidockError } from '../../src/core/errors.js';
import { compactJson, explain, explainNet, explainSteps, formatSteps, type ExplainInput, type Step } from '../../src/explain/steps.js';
import { planRunChild } from '../../src/runtime/run-plan.js';
import { facts } from '../helpers/run-plan.js';
import { containerScript } from '../../src/explain/script.js';
import { ipToInt } from '../../src/network/ipv4.js';
import { hostVethName, type Attachment, type NetworkConfig } from '../../src/network/plan.js';
import type { ChildPlan, ContainerPaths, PlanOp } from '../../src/runtime/child-plan.js';
import { runPlan } from '../helpers/run-plan.js';
import { StateStore } from '../../src/runtime/state.js';
import type { ContainerSpec } from '../../src/spec/container-spec.js';

const ID = '0123456789abcdef'.repeat(4);
const ROOT = '/var/lib/minidock';
const DIR = `${ROOT}/containers/${ID}`;
const paths: ContainerPaths = new StateStore(ROOT).paths(ID); // only computes the layout

const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({
  id: ID,
  name: 'web',
  hostname: 'web',
  image: { ref: 'python3', id: 'abc', rootfs: `${ROOT}/images/abc/rootfs` },
  argv: ['python3', '-m', 'http.server', '80'],
  env: ['PATH=/usr/bin:/bin', 'HOSTNAME=web', 'A=b=c d'],
  cwd: '/srv',
  user: { uid: 0, gid: 0, additionalGids: [] },
  tty: false,
  interactive: false,
  network: { mode: 'bridge', network: 'bridge', ports: [] },
  autoRemove: false,
  caps: 'a80425fb',
  noNewPrivs: true,
  seccomp: 'default',
  idMap: { uidMap: '0 0 4294967295', gidMap: '0 0 4294967295' },
  createdAt: 0,
  ...over,
});

const config: NetworkConfig = {
  name: 'bridge', id: 'f'.repeat(64), bridge: 'mdk0', subnet: '10.88.0.0/16', prefix: 16, gateway: '10.88.0.1',
  first: ipToInt('10.88.0.1'), last: ipToInt('10.88.255.254'), createdAt: 0,
};

const attachment = (hostPort = 8080): Attachment => ({
  containerId: ID, network: 'bridge', bridge: 'mdk0', ip: '10.88.0.2', prefix: 16, gateway: '10.88.0.1',
  mac: '02:42:0a:58:00:02', hostVeth: hostVethName(ID), mtu: 1500,
  ports: [{ hostIp: '0.0.0.0', hostPort, containerPort: 80, proto: 'tcp' }],
});

function input(over: { spec?: Partial<ContainerSpec>; child?: (c: ChildPlan) => ChildPlan; hostPort?: number; pid?: number } = {}): ExplainInput {
  const s = spec(over.spec);
  const att = attachment(over.hostPort);
  const base = runPlan(s, { stdio: [0, 1, 2] }, { kind: 'own', eth: { ip: att.ip, prefix: att.prefix, gateway: att.gateway } }, paths);
  return {
    spec: s,
    child: over.child ? over.child(base) : base,
    files: [
      { path: paths.hostname, content: 'web\n' },
      { path: paths.hosts, content: '127.0.0.1\tlocalhost\n10.88.0.2\tweb\n' },
    ],
    root: ROOT,
    net: explainNet(config, att, over.pid ?? 0),
    cgroup: { dirs: ['/sys/fs/cgroup/minidock/web'], writes: [{ path: '/sys/fs/cgroup/minidock/web/pids.max', value: '100' }], procs: ['/sys/fs/cgroup/minidock/web/cgroup.procs'] },
    pid: over.pid,
  };
}

/** Steps whose command has `word` as a whole word. */
const withWord = (steps: Step[], word: string): number[] =>
  steps.flatMap((s, i) => (s.command.split(/\s+/).includes(word) ? [i] : []));
const withText = (steps: Step[], text: string): number[] => steps.flatMap((s, i) => (s.command.includes(text) ? [i] : []));
const increasing = (xs: number[]): boolean => xs.every((x, i) => i === 0 || x > xs[i - 1]!);

test('every entry of child.ops is one step, in order, naming its source and its target under the rootfs', () => {
  const inp = input();
  const steps = explainSteps(inp);
  const at = inp.child.ops.map((op) => {
    const hits = withWord(steps, `${inp.child.rootfs}${op.dst}`);
    assert.is(hits.length, 1, `${op.op} ${op.dst}: ${hits.length} steps`);
    const cmd = steps[hits[0]!]!.command;
    if ('src' in op) assert.ok(cmd.split(/\s+/).includes(op.src), `${op.dst}: source ${op.src} in "${cmd}"`);
    return hits[0]!;
  });
  assert.ok(increasing(at), 'in the order of child.ops');
  assert.is(steps.filter((s) => /^(mount|ln|mkdir) /.test(s.command) && s.command.includes(`${inp.child.rootfs}/`)).length, inp.child.ops.length);
});

test('mount ops as mount(8) commands: types, options, --rbind and the remount a bind needs for its flags', () => {
  const steps = explainSteps(input());
  const cmd = (dst: string): string => steps[withWord(steps, `${DIR}/rootfs${dst}`)[0]!]!.command;
  assert.is(cmd('/proc'), `mount -t proc -o nosuid,noexec,nodev proc ${DIR}/rootfs/proc`);
  assert.is(cmd('/dev'), `mount -t tmpfs -o nosuid,strictatime,mode=755,size=65536k tmpfs ${DIR}/rootfs/dev`);
  assert.is(cmd('/proc/sys'), `mount --rbind ${DIR}/rootfs/proc/sys ${DIR}/rootfs/proc/sys && mount -o remount,bind,ro ${DIR}/rootfs/proc/sys`);
  assert.match(steps[withWord(steps, `${DIR}/rootfs/proc/sys`)[0]!]!.why, /keeps the nosuid, nodev, noexec/);
  assert.is(cmd('/etc/hosts'), `mount --rbind ${DIR}/hosts ${DIR}/rootfs/etc/hosts && mount --make-rprivate ${DIR}/rootfs/etc/hosts`);
  assert.is(cmd('/dev/null'), `mount --bind /dev/null ${DIR}/rootfs/dev/null`);
  assert.is(cmd('/dev/ptmx'), `ln -s pts/ptmx ${DIR}/rootfs/dev/ptmx`);
  assert.match(steps[withWord(steps, `${DIR}/rootfs/proc/kcore`)[0]!]!.why, /skipped where this kernel has no such path/);
});

test('every planned rule and ip command is one step, in order; the port rules come after exec and are deleted at exit', () => {
  const inp = input({ pid: 4242 });
  const steps = explainSteps(inp);
  const net = inp.net!;
  const ipAt = [...net.network.ip, ...net.ip].map((l) => {
    const hits = steps.flatMap((s, i) => (s.command === `ip ${l}` ? [i] : []));
    assert.is(hits.length, 1, `ip ${l}`);
    return hits[0]!;
  });
  assert.ok(increasing(ipAt));
  assert.ok(net.ip[0]!.endsWith('netns 4242'), 'the veth is made in the pid given');
  const ruleAt = [
    ...net.chains.jumps.map((r) => `iptables -t ${r.table} -I ${r.chain} ${r.spec}`),
    ...net.network.rules.map((r) => `iptables -t ${r.table} -A ${r.chain} ${r.spec}`),
    ...net.rules.map((r) => `iptables -t ${r.table} -A ${r.chain} ${r.spec}`),
    ...net.rules.map((r) => `iptables -t ${r.table} -D ${r.chain} ${r.spec}`),
  ].map((c) => {
    const hits = steps.flatMap((s, i) => (s.command === c ? [i] : []));
    assert.is(hits.length, 1, c);
    return hits[0]!;
  });
  assert.ok(increasing(ruleAt));
  const exec = steps.findIndex((s) => s.command.startsWith('exec env -i'));
  assert.ok(exec > 0 && ruleAt[ruleAt.length - 2]! > exec, 'DNAT only once the command runs');
  assert.match(steps[ruleAt[ruleAt.length - 2]!]!.why, /tcp 8080 on every host address goes to 10\.88\.0\.2:80/);
  for (const sysctl of net.network.sysctls) assert.is(withText(steps, `echo ${sysctl[1]} > ${sysctl[0]}`).length, 1);
});

test("minidock's order: maps, cgroup, veth, go, then the child's network, mounts, pivot_root, privileges, exec", () => {
  const steps = explainSteps(input());
  const first = (re: RegExp): number => {
    const i = steps.findIndex((s) => re.test(s.command));
    assert.ok(i >= 0, String(re));
    return i;
  };
  const order = [
    first(/^mkdir -p .*\/rootfs/), first(/leases\/10\.88\.0\.2/), first(/^ip link add name mdk0 type bridge/), first(/^cat > .*\/hosts/),
    first(/^unshare --mount/), first(/uid_map$/), first(/^mkdir -p \/sys\/fs\/cgroup/), first(/pids\.max/), first(/cgroup\.procs$/),
    first(/type veth/), first(/^echo go/), first(/^unshare --cgroup/), first(/^hostname web$/), first(/^ip addr add 10\.88\.0\.2\/16 dev eth0/),
    first(/^mount --make-rslave \/$/), first(/^mount -t overlay/), first(/pivot_root \. \./), first(/^umount -l \./), first(/^setsid/),
    first(/^cd \/srv$/), first(/--bounding-set -all,\+chown/), first(/--regid 0 --reuid 0/), first(/--no-new-privs/), first(/SECCOMP/),
    first(/^exec env -i/), first(/-j DNAT/), first(/^rmdir /), first(/^rm .*leases/),
  ];
  assert.ok(increasing(order), `order: ${order.join(' ')}`);
  assert.is(steps.filter((s) => /^unshare --(mount|uts|ipc|pid|net|user)/.test(s.command)).length, 6, 'one step per namespace');
});

test('the localhost guard before route_localnet, IPv6 off in the container\'s namespace before its veth; the script does the same', () => {
  const steps = explainSteps(input({ pid: 4242 }));
  const at = (re: RegExp): number => {
    const hits = steps.flatMap((st, i) => (re.test(st.command) ? [i] : []));
    assert.is(hits.length, 1, String(re));
    return hits[0]!;
  };
  const guard = at(/^iptables -t raw -A MINIDOCK-PREROUTING -d 127\.0\.0\.0\/8 -i mdk0 /);
  const localnet = at(/^echo 1 > \/proc\/sys\/net\/ipv4\/conf\/mdk0\/route_localnet$/);
  assert.ok(guard < localnet, 'route_localnet only once the guard exists');
  assert.ok(at(/^iptables -t filter -A MINIDOCK-ISOLATION-2 -o mdk0 /) < localnet);
  const netns = at(/^nsenter --net=\/proc\/4242\/ns\/net sh -c /);
  assert.ok(netns < at(/type veth/), 'eth0 is born with IPv6 off');
  assert.match(steps[netns]!.why, /router advertisement/);
  assert.match(steps[at(/ipv6\/conf\/mdk0\/disable_ipv6/)]!.why, /CVE-2020-13401/);
  const script = containerScript(input());
  assert.ok(script.includes(`nsenter --net="/proc/$PID/ns/net" sh -c '[ ! -e /proc/sys/net/ipv6/conf/default/disable_ipv6 ] || echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6'\n`));
  assert.ok(script.includes('[ ! -e /proc/sys/net/ipv6/conf/mdk0/disable_ipv6 ] || set_sysctl /proc/sys/net/ipv6/conf/mdk0/disable_ipv6 1\n'));
  assert.ok(script.indexOf('add_rule raw A MINIDOCK-PREROUTING') < script.indexOf('set_sysctl /proc/sys/net/ipv4/conf/mdk0/route_localnet 1'));
});

test('without a pid the commands say $PID; the map steps read the plan\'s maps', () => {
  const steps = explainSteps(input({ spec: { idMap: { uidMap: '0 100000 65536', gidMap: '0 100000 65536' } } }));
  assert.ok(steps.some((s) => s.command === "echo '0 100000 65536' > /proc/$PID/uid_map"));
  assert.ok(steps.some((s) => s.command.endsWith('netns $PID')));
  assert.ok(steps.some((s) => s.command === 'echo $PID > /sys/fs/cgroup/minidock/web/cgroup.procs'));
  assert.match(steps.find((s) => s.command.endsWith('uid_map'))!.why, /host uids 100000-165535/);
  assert.ok(steps.some((s) => s.command.startsWith('chown 100000:100000') && s.command.includes(`${DIR}/upper`)), 'the remapped root owns its upper layer');
});

test("the cgroup plan's shape: ops in order, cpuset inheritance, a write retried and the device rules", () => {
  const steps = explainSteps({
    ...input(),
    cgroup: {
      dirs: [{ path: '/sys/fs/cgroup/memory/minidock/x' }],
      ops: [
        { op: 'mkdir', path: '/sys/fs/cgroup/memory/minidock/x' },
        { op: 'inherit', file: '/c/x/cpuset.cpus', from: '/c/cpuset.cpus' },
        { op: 'write', file: '/sys/fs/cgroup/memory/minidock/x/memory.memsw.limit_in_bytes', value: '1024' },
        { op: 'write', file: '/c/x/cpu.cfs_period_us', value: '100000', einvalLater: true },
        { op: 'write', file: '/d/x/devices.deny', value: 'a' },
      ],
      procs: ['/sys/fs/cgroup/memory/minidock/x/cgroup.procs'],
    },
  });
  const cg = steps.filter((s) => s.phase === 'cgroups').map((s) => s.command);
  assert.equal(cg, [
    'mkdir -p /sys/fs/cgroup/memory/minidock/x',
    '[ -n "$(cat /c/x/cpuset.cpus)" ] || cat /c/cpuset.cpus > /c/x/cpuset.cpus',
    'echo 1024 > /sys/fs/cgroup/memory/minidock/x/memory.memsw.limit_in_bytes',
    'echo 100000 > /c/x/cpu.cfs_period_us',
    'echo a > /d/x/devices.deny',
    'echo $PID > /sys/fs/cgroup/memory/minidock/x/cgroup.procs',
  ]);
  assert.match(steps.find((s) => s.command.includes('memsw'))!.why, /--memory-swap/);
  assert.match(steps.find((s) => s.command.includes('cfs_period'))!.why, /written again after it/);
  assert.match(steps.find((s) => s.command.includes('devices.deny'))!.why, /no device may be opened/);
  assert.ok(steps.some((s) => s.command === 'rmdir /sys/fs/cgroup/memory/minidock/x'));
});

test('other network modes: none has lo only, host no --net, container:NAME enters its namespace', () => {
  const none = explainSteps({ ...input(), net: undefined, child: runPlan(spec({ network: { mode: 'none' } }), { stdio: [0, 1, 2] }, { kind: 'own' }, paths) });
  assert.ok(none.some((s) => s.command === 'ip link set lo up'));
  assert.not.ok(none.some((s) => /eth0|iptables|veth/.test(s.command)));
  const host = explainSteps({ ...input(), net: undefined, child: runPlan(spec({ network: { mode: 'host' } }), { stdio: [0, 1, 2] }, { kind: 'host' }, paths) });
  assert.ok(host.some((s) => s.command === '(no --net)'));
  assert.not.ok(host.some((s) => s.command === 'unshare --net' || s.command === 'ip link set lo up'));
  assert.ok(host.some((s) => s.command.startsWith('mount --rbind /sys ')), '/sys bound, not mounted');
  const join = explainSteps({ ...input(), net: undefined, child: runPlan(spec({ network: { mode: 'container', container: 'db' } }), { stdio: [0, 1, 2] }, { kind: 'join', netns: '/proc/77/ns/net' }, paths) });
  assert.ok(join.some((s) => s.command === 'nsenter --net=/proc/77/ns/net'));
});

test('a change in the plan changes the explanation and the script', () => {
  const before = input();
  const extra: PlanOp = { op: 'mount', src: 'tmpfs', dst: '/scratch', type: 'tmpfs', flags: 'nosuid,nodev,noexec', data: 'size=1m' };
  const after = input({ child: (c) => ({ ...c, ops: [...c.ops, extra] }), hostPort: 9090 });
  const [e1, e2] = [explain(before), explain(after)];
  assert.not.ok(e1.includes('/scratch'));
  assert.ok(e2.includes('mount -t tmpfs -o nosuid,nodev,noexec,size=1m tmpfs $DIR/rootfs/scratch'));
  assert.ok(e1.includes('--dport 8080') && !e1.includes('--dport 9090'));
  assert.ok(e2.includes('--dport 9090') && !e2.includes('--dport 8080'));
  assert.is(explainSteps(after).length, explainSteps(before).length + 1);
  const [s1, s2] = [containerScript(before), containerScript(after)];
  assert.not.ok(s1.includes('target /scratch'));
  assert.ok(s2.includes('t=$(target /scratch)\n  mount -t tmpfs -o nosuid,nodev,noexec,size=1m tmpfs "$t"'));
  assert.ok(s2.includes('--dport 9090') && !s2.includes('--dport 8080'));
});

test('the script carries every op, rule, ip command and id map of the plan, and bash can parse it', () => {
  const image = `${ROOT}/images/abc/rootfs`;
  const inp = input({
    spec: { idMap: { uidMap: '0 100000 65536', gidMap: '0 100000 65536' } },
    // A remapped container's image, shown through an idmapped mount at $DIR/lower.
    child: (c) => ({ ...c, idmapLower: image, lowerMnt: `${DIR}/lower`, overlay: c.overlay.replace(image, `${DIR}/lower`) }),
  });
  const script = containerScript(inp);
  for (const op of inp.child.ops) {
    if (op.op === 'symlink') {
      assert.ok(script.includes(`ln -s ${op.src} "$t/"${op.dst.split('/').pop()}`), op.dst);
      continue;
    }
    assert.match(script, new RegExp(`t=\\$\\(target (-f )?(-n )?${op.dst.replace(/[.]/g, '\\.')}\\)`), op.dst);
  }
  const net = inp.net!;
  for (const r of net.chains.jumps) assert.ok(script.includes(`add_rule ${r.table} I ${r.chain} ${r.spec}\n`), r.spec);
  for (const r of [...net.network.rules, ...net.rules]) assert.ok(script.includes(`add_rule ${r.table} A ${r.chain} ${r.spec}\n`), r.spec);
  for (const l of net.network.ip) assert.ok(script.includes(`  ip ${l}\n`), l);
  assert.ok(script.includes(`ip ${net.ip[0]!.replace(/netns 0$/, 'netns "$PID"')}\n`));
  for (const l of net.ip.slice(1)) assert.ok(script.includes(`ip ${l}\n`), l);
  assert.ok(script.includes(`echo '0 100000 65536' >"/proc/$PID/uid_map"`));
  assert.ok(script.includes(`shift_copy ${image} $DIR/lower`), 'an idmapped image becomes a shifted copy');
  assert.ok(script.includes(`mount -t overlay overlay -o nodev,lowerdir=$DIR/lower,upperdir=$DIR/upper,workdir=$DIR/work,userxattr $DIR/rootfs`));
  assert.ok(script.includes(`env -i PATH=/usr/bin:/bin HOSTNAME=web 'A=b=c d'`), 'the environment, exactly');
  assert.ok(script.includes('sh -c "$waiter" sh /srv python3 -m http.server 80'));
  assert.ok(script.includes('--bounding-set -all,+chown,'));
  assert.ok(script.startsWith('#!/usr/bin/env bash\n') && script.includes('\nset -euo pipefail\n'));
  const parsed = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
  assert.is(parsed.status, 0, parsed.stderr);
});

test('the script refuses an environment variable sh would drop', () => {
  const inp = input({ spec: { env: ['PATH=/bin', 'A-B=1'] } });
  assert.throws(() => containerScript(inp), (e: unknown) => e instanceof MinidockError && /A-B/.test(e.message));
});

test('formatSteps: numbered under phase headings, whys as comments, long commands continued, paths shortened', () => {
  const inp = input();
  const text = formatSteps(explainSteps(inp), { width: 80, vars: { DIR } });
  const lines = text.split('\n');
  assert.ok(lines.includes(`  DIR=${DIR}`));
  assert.ok(lines.some((l) => l.startsWith('── id maps ──')));
  assert.match(text, /\n {2}1\. mkdir -p \$DIR\/rootfs/);
  assert.match(text, /\n {5}# the container's directory/);
  // Longer only where one word (a path, the overlay's options) is longer than the line.
  for (const l of lines) assert.ok(l.length <= 80 || !l.trim().replace(/^(#|\d+\.) /, '').replace(/ \\$/, '').includes(' '), `too long: ${l}`);
  assert.ok(lines.some((l) => l.endsWith(' \\')), 'a long command is continued');
  assert.is((text.match(/^ *\d+\. /gm) ?? []).length, explainSteps(inp).length);
});

test('explain: the OCI config first (the run\'s own, paths as $DIR, the seccomp rules counted), then the steps taken from it', () => {
  const s = spec();
  const eth = { ip: '10.88.0.2', prefix: 16, gateway: '10.88.0.1' };
  const { child, config: full } = planRunChild(s, paths, { stdio: [0, 1, 2] }, { kind: 'own', eth }, { cgroupParent: 'minidock', facts });
  const config = full();
  const text = explain({ ...input(), child, config });
  const [head, steps] = text.split('What minidock does for this container') as [string, string];
  assert.ok(steps, 'the steps follow the config');
  assert.ok(head.includes(`  DIR=${DIR}`));
  const json = head.slice(head.indexOf('\n{') + 1, head.lastIndexOf('\n}') + 2);
  const shown = JSON.parse(json);
  const rules = (config.linux as { seccomp: { syscalls: unknown[] } }).seccomp.syscalls.length;
  assert.is(shown.linux.seccomp.syscalls, `… ${rules} rules (run --dry-run --bundle DIR writes them)`);
  // Everything else is the config as built, the container's directory written $DIR.
  const back = JSON.parse(JSON.stringify(shown).split('$DIR').join(DIR));
  back.linux.seccomp.syscalls = (config.linux as { seccomp: { syscalls: unknown[] } }).seccomp.syscalls;
  assert.equal(back, config);
  assert.ok(head.split('\n').every((l) => l.length <= 100 || l.startsWith('  DIR=') || !l.includes(' ')), 'lines fit 100 columns where they can break');
  // Without a config (an older caller), only the steps.
  assert.ok(explain(input()).startsWith('What minidock does'));
});

test('compactJson: short values on one line, long ones broken, lists of names packed; parses back', () => {
  assert.is(compactJson({ a: 1, b: ['x', 'y'] }, 40), '{"a": 1, "b": ["x", "y"]}');
  const long = { names: Array.from({ length: 12 }, (_, i) => `name-${i}`), nested: { deep: { deeper: 'a'.repeat(20) } } };
  const text = compactJson(long, 40);
  assert.equal(JSON.parse(text), long);
  assert.ok(text.split('\n').every((l) => l.length <= 40), text);
  assert.match(text, /"name-0", "name-1"/);
  assert.is(compactJson([], 10), '[]');
  assert.is(compactJson({}, 10), '{}');
});

test.run();
