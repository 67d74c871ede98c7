// docker's commands and run flags that issue #18 added, through the real CLI against the real
// kernel: pause/unpause (the freezer), rename, container and network prune, version and info,
// the exit statuses outside run, and the run flags that become /etc files, mounts, sysctls,
// rlimits and groups. The compat harness (npm run compat) compares the same against docker.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BUSYBOX_TAR, leakChecked, mdk, newRoot, removeRoot, requireRootAndImages, snapshot } from '../helpers/cli.js';

requireRootAndImages();
const root = newRoot('dcli');
const imp = mdk(root, ['import', '-c', 'CMD ["sh"]', BUSYBOX_TAR, 'busybox']);
if (imp.code !== 0) throw new Error(`import failed: ${imp.stderr}`);
const ENV = { MINIDOCK_BRIDGE: 'mdktbr5', MINIDOCK_SUBNET: '10.131.0.0/24' };
const md = (...args: string[]) => mdk(root, args, { env: ENV });
const before = snapshot(root);
const Cli = suite('docker-cli');
const scratch = mkdtempSync(join(tmpdir(), 'mdk-dcli-'));
Cli.after(() => {
  removeRoot(root);
  rmSync(scratch, { recursive: true, force: true });
});
const T = leakChecked(Cli, root, before);

T('pause and unpause: the freezer stops every process; ps, inspect, exec and rm -f see it', async () => {
  assert.is(md('run', '-d', '--name', 'frozen', 'busybox', 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /tmp/tick; sleep 0.05; done').code, 0);
  try {
    const tick = () => md('exec', 'frozen', 'cat', '/tmp/tick').stdout;
    await new Promise((r) => setTimeout(r, 300));
    const p = md('pause', 'frozen');
    assert.is(p.code, 0, p.stderr);
    assert.is(p.stdout, 'frozen\n');
    assert.is(md('ps', '--format', '{{.State}}|{{.Status}}').stdout.replace(/Up .* \(Paused\)/, 'Up (Paused)'), 'paused|Up (Paused)\n');
    assert.is(md('inspect', '-f', '{{.State.Status}} {{.State.Paused}} {{.State.Running}}', 'frozen').stdout, 'paused true true\n');
    assert.is(md('ps', '-q', '-f', 'status=paused').stdout.trim().length, 12);
    assert.is(md('ps', '-q', '-f', 'status=running').stdout, '');
    const refused = md('exec', 'frozen', 'true');
    assert.is(refused.code, 1);
    assert.match(refused.stderr, /is paused, unpause the container before exec/);
    assert.match(md('pause', 'frozen').stderr, /already paused/);
    // The loop stopped: the pid 1 tree is in the freezer; its state file says FROZEN.
    const pid = md('inspect', '-f', '{{.State.Pid}}', 'frozen').stdout.trim();
    assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /State:\s+[SD]/);
    const u = md('unpause', 'frozen');
    assert.is(u.code, 0, u.stderr);
    const t1 = tick();
    await new Promise((r) => setTimeout(r, 300));
    assert.is.not(tick(), t1, 'it runs again');
    assert.is(md('unpause', 'frozen').code, 1, 'not paused');
    // rm -f of a paused container: SIGKILL, then thawed so it is acted on.
    assert.is(md('pause', 'frozen').code, 0);
  } finally {
    const rm = md('rm', '-f', 'frozen');
    assert.is(rm.code, 0, rm.stderr);
  }
  assert.is(md('pause', 'nosuch').code, 1);
});

T('attach: the output from now on, then the container\'s exit code; a stopped one is refused', () => {
  assert.is(md('run', '-d', '--name', 'later', 'busybox', 'sh', '-c', 'echo early; sleep 1; echo late; echo err >&2; exit 3').code, 0);
  for (let i = 0; i < 50 && !md('logs', 'later').stdout.includes('early'); i++) spawnSync('sleep', ['0.02']);
  const a = md('attach', 'later');
  assert.is(a.code, 3, a.stderr);
  assert.is(a.stdout, 'late\n', 'what was written before attach is not replayed');
  assert.is(a.stderr, 'err\n');
  const stopped = md('attach', 'later');
  assert.is(stopped.code, 1);
  assert.match(stopped.stderr, /You cannot attach to a stopped container, start it first/);
  assert.is(md('attach', '--sig-proxy=false', 'nosuch').code, 1);
  assert.is(md('rm', 'later').code, 0);
});

T('logs --since and --until cut at a line\'s own timestamp; a bad time is a flag error', () => {
  assert.is(md('run', '-d', '--name', 'timed', 'busybox', 'sh', '-c', 'echo one; sleep 0.3; echo two').code, 0);
  assert.is(md('wait', 'timed').stdout, '0\n');
  const stamped = md('logs', '-t', 'timed').stdout.trim().split('\n');
  assert.is(stamped.length, 2);
  const [first, second] = stamped.map((l) => l.split(' ')[0]!);
  assert.is(md('logs', '--since', second!, 'timed').stdout, 'two\n');
  assert.is(md('logs', '--until', first!, 'timed').stdout, 'one\n', 'both ends included, as docker\'s');
  assert.is(md('logs', '--since', '1h', 'timed').stdout, 'one\ntwo\n');
  assert.is(md('logs', '--since', String(Math.floor(Date.now() / 1000) + 3600), 'timed').stdout, '', 'Unix seconds, in an hour');
  const bad = md('logs', '--since', 'yesterday', 'timed');
  assert.is(bad.code, 125);
  assert.match(bad.stderr, /failed to parse value as time or duration/);
  assert.is(md('rm', 'timed').code, 0);
});

T('rename: the new name finds it, the old is free, a taken name is refused', () => {
  assert.is(md('create', '--name', 'first', 'busybox', 'true').code, 0);
  assert.is(md('create', '--name', 'taken', 'busybox', 'true').code, 0);
  const r = md('rename', 'first', 'second');
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '');
  assert.is(md('ps', '-a', '--format', '{{.Names}}').stdout.split('\n').sort().join(' ').trim(), 'second taken');
  assert.is(md('inspect', '-f', '{{.Name}}', 'second').stdout, '/second\n');
  assert.is(md('inspect', 'first').code, 1);
  const clash = md('rename', 'second', 'taken');
  assert.is(clash.code, 1);
  assert.match(clash.stderr, /the container name "\/taken" is already in use/);
  assert.is(md('create', '--name', 'first', 'busybox', 'true').code, 0, 'the old name is free again');
  assert.is(md('rename', 'nosuch', 'other').code, 1);
  assert.is(md('rm', 'first', 'second', 'taken').code, 0);
});

T('container prune and network prune: the stopped and the unused go, the running and used stay', () => {
  assert.is(md('run', '--name', 'done1', 'busybox', 'true').code, 0);
  assert.is(md('create', '--name', 'made1', 'busybox', 'true').code, 0);
  assert.is(md('run', '-d', '--name', 'live1', 'busybox', 'sleep', '30').code, 0);
  const ids = ['done1', 'made1'].map((n) => md('inspect', '-f', '{{.Id}}', n).stdout.trim()).sort();
  const p = md('container', 'prune', '-f');
  assert.is(p.code, 0, p.stderr);
  assert.is(p.stdout.split('\n').slice(1, 3).sort().join(' '), ids.join(' '));
  assert.match(p.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n[0-9a-f]{64}\n\nTotal reclaimed space: /);
  assert.is(md('ps', '-a', '--format', '{{.Names}}').stdout, 'live1\n');
  assert.is(md('network', 'create', '--subnet', '10.132.0.0/24', 'unused').code, 0);
  assert.is(md('network', 'create', '--subnet', '10.133.0.0/24', 'used').code, 0);
  assert.is(md('run', '-d', '--name', 'member', '--network', 'used', 'busybox', 'sleep', '30').code, 0);
  const n = md('network', 'prune', '-f');
  assert.is(n.code, 0, n.stderr);
  assert.is(n.stdout, 'Deleted Networks:\nunused\n\n');
  assert.is(md('rm', '-f', 'live1', 'member').code, 0);
  assert.is(md('network', 'rm', 'used').code, 0);
  assert.match(md('network', 'ls', '--format', '{{.Name}} {{.Driver}}').stdout, /^bridge bridge\nhost host\nnone null\n$/);
});

T('--ip on a user-defined network and --mac-address: the container has them; a taken or foreign address is refused', () => {
  assert.is(md('network', 'create', '--subnet', '10.134.0.0/24', 'fixed').code, 0);
  try {
    assert.is(md('run', '-d', '--name', 'pinned', '--network', 'fixed', '--ip', '10.134.0.50', '--mac-address', '02:42:AC:11:00:99', 'busybox', 'sleep', '30').code, 0);
    const seen = md('exec', 'pinned', 'sh', '-c', 'ip -o -4 addr show eth0 | tr -s " " | cut -d" " -f4; cat /sys/class/net/eth0/address').stdout;
    assert.is(seen, '10.134.0.50/24\n02:42:ac:11:00:99\n');
    assert.is(md('inspect', '-f', '{{.NetworkSettings.IPAddress}} {{.NetworkSettings.MacAddress}}', 'pinned').stdout, '10.134.0.50 02:42:ac:11:00:99\n');
    const taken = md('run', '--rm', '--network', 'fixed', '--ip', '10.134.0.50', 'busybox', 'true');
    assert.is(taken.code, 125);
    assert.match(taken.stderr, /Address already in use: 10\.134\.0\.50/);
    const outside = md('run', '--rm', '--network', 'fixed', '--ip', '10.9.0.5', 'busybox', 'true');
    assert.is(outside.code, 125);
    assert.match(outside.stderr, /not in the network's range/);
    const gw = md('run', '--rm', '--network', 'fixed', '--ip', '10.134.0.1', 'busybox', 'true');
    assert.match(gw.stderr, /is the network's gateway/);
    const onBridge = md('run', '--rm', '--ip', '10.131.0.50', 'busybox', 'true');
    assert.is(onBridge.code, 125);
    assert.match(onBridge.stderr, /user specified IP address is supported on user defined networks only/);
    assert.is(md('run', '--rm', '--mac-address', '01:00:00:00:00:01', 'busybox', 'true').code, 125, 'a multicast MAC');
  } finally {
    md('rm', '-f', 'pinned');
    md('network', 'rm', 'fixed');
  }
});

T('--device: the host node at the given path, the device cgroup allowing only the permissions given', () => {
  // /dev/fuse is 0600 root here: under the default remap it shows as nobody's and only host root
  // (--userns=host) may open it, as with docker's userns-remap.
  const rw = md('run', '--rm', '--userns=host', '--device', '/dev/fuse:/dev/myfuse', 'busybox', 'sh', '-c', 'ls -l /dev/myfuse | cut -c1; exec 3<>/dev/myfuse && echo opened');
  assert.is(rw.stdout, 'c\nopened\n', rw.stderr);
  const ro = md('run', '--rm', '--userns=host', '--device', '/dev/fuse:/dev/myfuse:r', 'busybox', 'sh', '-c', 'exec 3</dev/myfuse && echo read; if (exec 4<>/dev/myfuse); then echo wrote; else echo no-write; fi');
  assert.is(ro.stdout, 'read\nno-write\n');
  assert.match(ro.stderr, /Operation not permitted/, 'the cgroup refuses the write');
  assert.is(md('run', '--rm', 'busybox', 'test', '-e', '/dev/fuse').code, 1, 'not there without --device');
  const missing = md('run', '--rm', '--device', '/dev/no-such-node', 'busybox', 'true');
  assert.is(missing.code, 125);
  assert.match(missing.stderr, /error gathering device information while adding custom device "\/dev\/no-such-node": no such file or directory/);
  assert.match(md('run', '--rm', '--device', '/dev/fuse:rx', 'busybox', 'true').stderr, /bad format|invalid device mode|not an absolute path/);
});

T('run -a: only the streams asked for reach the terminal; the log keeps both; -a with -d refused', () => {
  const rm = md('run', '--rm', '-a', 'stdout', 'busybox', 'sh', '-c', 'echo out; echo err >&2');
  assert.is(rm.stdout, 'out\n');
  assert.is(rm.stderr, '');
  const kept = md('run', '--name', 'partly', '-a', 'STDERR', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3');
  assert.is(kept.code, 3);
  assert.is(kept.stdout, '');
  assert.is(kept.stderr, 'err\n');
  const logs = md('logs', 'partly');
  assert.is(logs.stdout, 'out\n', 'logged though not shown');
  assert.is(logs.stderr, 'err\n');
  assert.is(md('rm', 'partly').code, 0);
  const piped = mdk(root, ['run', '--rm', '-i', '-a', 'stdout', 'busybox', 'cat'], { env: ENV, input: 'typed\n' });
  assert.is(piped.stdout, '', 'stdin not listed: not attached');
  const both = md('run', '-d', '-a', 'stdout', 'busybox', 'true');
  assert.is(both.code, 125);
  assert.match(both.stderr, /Conflicting options: -a and -d/);
  assert.is(md('run', '--rm', '-a', 'stdio', 'busybox', 'true').code, 125);
});

T('--network-alias: the other containers of a user-defined network know it by the alias too; --add-host lines stay', () => {
  assert.is(md('network', 'create', '--subnet', '10.135.0.0/24', 'aliased').code, 0);
  try {
    assert.is(md('run', '-d', '--name', 'db1', '--network', 'aliased', '--network-alias', 'database', '--add-host', 'gw:10.135.0.1', 'busybox', 'sleep', '30').code, 0);
    assert.is(md('run', '-d', '--name', 'app1', '--network', 'aliased', 'busybox', 'sleep', '30').code, 0);
    const hosts = md('exec', 'app1', 'cat', '/etc/hosts').stdout;
    assert.match(hosts, /^10\.135\.0\.\d+\tdb1 [0-9a-f]{12} database$/m);
    assert.match(md('exec', 'db1', 'cat', '/etc/hosts').stdout, /^10\.135\.0\.1\tgw$/m, 'rewritten when app1 joined, its own --add-host kept');
    assert.is(md('exec', 'app1', 'ping', '-c', '1', '-W', '2', 'database').code, 0);
    const onBridge = md('run', '--rm', '--network-alias', 'x', 'busybox', 'true');
    assert.is(onBridge.code, 125);
    assert.match(onBridge.stderr, /network-scoped alias is supported only for containers in user defined networks/);
  } finally {
    md('rm', '-f', 'db1', 'app1');
    md('network', 'rm', 'aliased');
  }
});

T('exit statuses: 125 for flag errors only, 1 for the rest outside run; version and info answer', () => {
  const cases: Array<[string[], number, RegExp]> = [
    [['ps', '--bogus'], 125, /unknown option '--bogus'/],
    [['ps', '-n', 'x'], 125, /invalid argument "x" for "-n, --last" flag/],
    [['stop', '-t', 'x', 'nosuch'], 125, /invalid argument "x" for "-t, --time" flag/],
    [['ps', '-f', 'bogus=1'], 1, /invalid filter 'bogus'/],
    [['ps', '--format', '{{.Nmes}}', '-a'], 0, /^$/],
    [['exec', 'nosuch', 'true'], 1, /no such container: nosuch/],
    [['logs', 'nosuch'], 1, /no such container/],
    [['rm'], 1, /missing required argument/],
    [['frobnicate'], 1, /unknown command 'frobnicate'/],
    [['run'], 1, /missing required argument/],
    [['run', '--bogus', 'busybox'], 125, /unknown option/],
    [['run', '--pull', 'never', 'nosuchimage', 'true'], 125, /not found/],
    [['container', 'run', '--pull', 'never', 'nosuchimage', 'true'], 125, /not found/],
    [['rmi', '-f', 'nosuchimage'], 0, /no such image/],
  ];
  for (const [args, code, err] of cases) {
    const r = md(...args);
    assert.is(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, err, args.join(' '));
  }
  // With a row to run over, a misspelt field is an error.
  assert.is(md('create', '--name', 'row', 'busybox', 'true').code, 0);
  const typo = md('ps', '-a', '--format', '{{.Nmes}}');
  assert.is(typo.code, 1);
  assert.match(typo.stderr, /failed to execute template: .*map has no entry for key "Nmes"/);
  assert.is(md('container', 'inspect', '-f', '{{.Name}}', 'row').stdout, '/row\n');
  assert.match(md('container', 'inspect', 'busybox').stderr, /No such container: busybox/, 'container inspect looks only for containers');
  assert.is(md('container', 'rm', 'row').stdout, 'row\n', 'docker\'s container group');
  assert.match(md('version', '--format', '{{.Client.Version}} {{.Client.Os}}').stdout, /^\d+\.\d+\.\d+ linux\n$/);
  assert.match(md('info', '--format', '{{.Containers}} {{.Images}} {{.OSType}}').stdout, /^0 1 linux\n$/);
  const df = md('system', 'df');
  assert.is(df.code, 0, df.stderr);
  assert.match(df.stdout, /^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE\nImages +1 +0 +\S+ +\S+ \(100%\)\nContainers +0 +0 +0B +0B\nLocal Volumes +0 +0 +0B +0B\nBuild Cache +0 +0 +0B +0B\n$/);
  assert.is(md('system', 'df', '--format', '{{.Type}}={{.TotalCount}}').stdout, 'Images=1\nContainers=0\nLocal Volumes=0\nBuild Cache=0\n');
  assert.is(md('version', '--format', '{{.Nope}}').code, 1);
});

T('run flags: --add-host, --dns*, --shm-size, --group-add, --sysctl, --domainname, --ulimit, --mount, --label-file, --cidfile, --stop-timeout, -p host range', () => {
  const dir = join(scratch, 'data');
  rmSync(dir, { recursive: true, force: true });
  writeFileSync(join(scratch, 'labels'), '# a comment\nteam=web\n\nrole=front\n');
  const cid = join(scratch, 'cid');
  rmSync(cid, { force: true });
  const script = [
    'grep -w db /etc/hosts', 'cat /etc/resolv.conf', 'df -k /dev/shm | tail -1 | tr -s " " | cut -d" " -f2', 'id -G',
    'cat /proc/sys/net/ipv4/ip_forward', 'cat /proc/sys/kernel/domainname', 'ulimit -n', 'grep " /cache " /proc/mounts | cut -d" " -f3',
  ].join('; ');
  const r = md('run', '--rm', '--cidfile', cid, '--add-host', 'db:10.1.2.3', '--dns', '10.9.9.9', '--dns-search', 'example.test', '--dns-option', 'ndots:2',
    '--shm-size', '1m', '--group-add', '123', '--group-add', 'nogroup', '--sysctl', 'net.ipv4.ip_forward=1', '--domainname', 'corp.test', '--ulimit', 'nofile=512:512',
    '--mount', 'type=tmpfs,dst=/cache,tmpfs-size=1m', '--label-file', join(scratch, 'labels'), 'busybox', 'sh', '-c', script);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, ['10.1.2.3\tdb', 'nameserver 10.9.9.9', 'search example.test', 'options ndots:2', '1024', '0 123 65534', '1', 'corp.test', '512', 'tmpfs', ''].join('\n'));
  assert.match(readFileSync(cid, 'utf8'), /^[0-9a-f]{64}$/, '--cidfile holds the id');
  const again = md('run', '--rm', '--cidfile', cid, 'busybox', 'true');
  assert.is(again.code, 125);
  assert.match(again.stderr, /Container ID file found/);
  // --mount bind needs its source; -v would make it.
  const noSrc = md('run', '--rm', '--mount', `type=bind,src=${dir},dst=/data`, 'busybox', 'true');
  assert.is(noSrc.code, 125);
  assert.match(noSrc.stderr, /bind source path does not exist/);
  assert.not.ok(existsSync(dir));
  for (const [flag, err] of [['--sysctl=kernel.core_pattern=x', /not whitelisted/], ['--ulimit=nofile=2:1', /soft limit/], ['--add-host=db', /invalid IP address/], ['--mount=type=nfs,dst=/x', /invalid mount type/]] as const) {
    const bad = md('run', '--rm', flag, 'busybox', 'true');
    assert.is(bad.code, 125, flag);
    assert.match(bad.stderr, err, flag);
  }
  // --stop-timeout is stop's default grace; inspect shows it; labels from the file.
  assert.is(md('run', '-d', '--name', 'graceful', '--stop-timeout', '1', '--label-file', join(scratch, 'labels'), '-p', '18700-18702:80', '-p', '18700:81', 'busybox', 'sleep', '30').code, 0);
  try {
    assert.is(md('inspect', '-f', '{{.Config.StopTimeout}} {{.Config.Labels.team}} {{.Config.Labels.role}}', 'graceful').stdout, '1 web front\n');
    // 18700 went to the fixed -p; the range gave container port 80 the next free one.
    assert.is(md('port', 'graceful', '80').stdout, '0.0.0.0:18701\n');
    assert.is(md('inspect', '-f', '{{json .HostConfig.PortBindings}}', 'graceful').stdout.includes('"HostPort":"18700-18702"'), true);
    assert.is(md('ps', '-f', 'label=team=web', '--format', '{{.Names}} {{.Labels}}').stdout, 'graceful role=front,team=web\n');
    assert.is(md('ps', '-f', 'label=team=db', '-q').stdout, '');
    const t0 = Date.now();
    assert.is(md('stop', 'graceful').code, 0);
    assert.ok(Date.now() - t0 < 5000, `stop waited ${Date.now() - t0} ms, not docker's default 10 s`);
  } finally {
    md('rm', '-f', 'graceful');
  }
});

Cli.run();
