// minidock run against the real kernel: isolation proven from inside the container, docker's
// exit codes, bad input, and after every test a leak check (mounts, processes, state).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readlinkSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { hostname as hostHostname } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_TAR, CGROUP_PARENT, cliArgv, envFor, leakChecked, mdk, mdkSpawn, newRoot, PYTHON_TAR, removeRoot, REPO, requireRootAndImages, sh, snapshot, TEST_NETNS, type Snapshot } from '../helpers/cli.js';

// Setup runs at the top level, not in a uvu hook: uvu swallows an exception thrown by a hook
// (its runner returns from a finally block), so a failing setup would look like a quiet run.
requireRootAndImages();
const root = newRoot('run');
const imp = mdk(root, ['import', '-c', 'CMD ["sh"]', BUSYBOX_TAR, 'busybox']);
if (imp.code !== 0) throw new Error(`importing the busybox image failed: ${imp.stderr}`);
// The image's one layer, where image inspect says it is.
const imageRootfs = (JSON.parse(mdk(root, ['image', 'inspect', 'busybox']).stdout) as Array<{ GraphDriver: { Data: { UpperDir: string } } }>)[0]!.GraphDriver.Data.UpperDir;
const before: Snapshot = snapshot(root);

const suiteRun = suite('run');
suiteRun.after(() => {
  removeRoot(root);
  // The bad-input and env-file tests' own files, beside the root.
  for (const f of [`junk-${process.pid}.tar`, `env-${process.pid}`]) rmSync(join(root, '..', f), { force: true });
});

const Run = leakChecked(suiteRun, root, before);

const run = (...args: string[]) => mdk(root, ['run', '--rm', ...args]);

Run('the command is PID 1 and /proc shows only the container', () => {
  const r = run('busybox', 'sh', '-c', 'echo $$; cat /proc/1/cmdline | tr "\\0" " "; echo; ls -d /proc/[0-9]* | wc -l');
  assert.is(r.code, 0, r.stderr);
  const [pid, cmdline, count] = r.stdout.trim().split('\n');
  assert.is(pid, '1');
  assert.is(cmdline!.trim(), 'sh -c echo $$; cat /proc/1/cmdline | tr "\\0" " "; echo; ls -d /proc/[0-9]* | wc -l');
  // sh itself, and the pipeline's ls (plus wc and cat while they run)
  assert.ok(Number(count) <= 4, `saw ${count} processes`);
});

Run('the hostname is the container\'s and the host\'s is unchanged', () => {
  const host = hostHostname();
  assert.is(run('-h', 'box1', 'busybox', 'hostname').stdout, 'box1\n');
  assert.is(run('busybox', 'cat', '/etc/hostname').stdout.trim().length, 12, 'default hostname is the short id');
  // docker's rule: the name is not the hostname; the id is, and HOSTNAME, /etc/hosts and
  // .Config.Hostname follow it.
  const named = run('--name', 'named-one', 'busybox', 'sh', '-c', 'hostname; echo $HOSTNAME; grep -c "$(hostname)" /etc/hosts');
  assert.match(named.stdout, /^([0-9a-f]{12})\n\1\n1\n$/, named.stdout + named.stderr);
  // --network host: the host's hostname (in the container's own UTS namespace).
  assert.is(run('--network', 'host', 'busybox', 'hostname').stdout, `${host}\n`);
  // --network container:X: X's hostname; -h with it is refused, as docker refuses it.
  assert.is(mdk(root, ['run', '-d', '--name', 'uts-owner', '-h', 'owner-host', 'busybox', 'sleep', '30']).code, 0);
  try {
    assert.is(run('--network', 'container:uts-owner', 'busybox', 'hostname').stdout, 'owner-host\n');
    const both = run('--network', 'container:uts-owner', '-h', 'x', 'busybox', 'true');
    assert.is(both.code, 125);
    assert.match(both.stderr, /conflicting options: hostname and the network mode/);
    assert.is(mdk(root, ['inspect', '-f', '{{.Config.Hostname}}', 'uts-owner']).stdout, 'owner-host\n');
  } finally {
    mdk(root, ['rm', '-f', 'uts-owner']);
  }
  assert.is(hostHostname(), host);
});

Run('the mount table shows the overlay root and none of the host\'s mounts', () => {
  const r = run('busybox', 'cat', '/proc/self/mountinfo');
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const rootLine = lines.find((l) => l.split(' ')[4] === '/');
  assert.ok(rootLine && / - overlay overlay /.test(rootLine), rootLine);
  assert.match(rootLine!, /nodev/);
  const targets = lines.map((l) => l.split(' ')[4]);
  for (const t of ['/proc', '/sys', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/etc/hosts', '/etc/resolv.conf', '/etc/hostname']) {
    assert.ok(targets.includes(t), `${t} mounted`);
  }
  assert.not.ok(targets.includes('/work') || targets.includes(root), 'host mounts are not visible');
  // Every mount is one minidock makes: the root, /proc, /sys and their hardening, /dev and its
  // nodes, the /etc files, and the container's own cgroups under /sys/fs/cgroup.
  const ours = /^\/($|proc|sys|dev|etc\/(hosts|hostname|resolv\.conf)$)/;
  assert.equal(targets.filter((t) => !ours.test(t!)), [], 'no host mount');
  assert.ok(targets.includes('/sys/fs/cgroup'), 'its cgroups');
  assert.ok(lines.length < 45, `only the container's mounts (${lines.length})`);
  assert.match(lines.find((l) => l.split(' ')[4] === '/sys')!, / ro,/);
});

Run('an IPC object made on the host is invisible inside', () => {
  const id = sh('ipcmk -M 4096').match(/(\d+)/)![1]!;
  try {
    assert.match(readFileSync('/proc/sysvipc/shm', 'utf8'), new RegExp(`\\s${id}\\s`));
    const r = run('busybox', 'cat', '/proc/sysvipc/shm');
    assert.is(r.stdout.trim().split('\n').length, 1, 'only the header line');
  } finally {
    sh(`ipcrm -m ${id}`);
  }
});

Run('--network none: only lo, and it is up', () => {
  const r = run('--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net; cat /sys/class/net/lo/operstate /sys/class/net/lo/flags');
  assert.is(r.code, 0, r.stderr);
  const [ifaces, , flags] = r.stdout.trim().split('\n');
  assert.is(ifaces, 'lo');
  assert.ok((Number(flags) & 1) === 1, 'IFF_UP');
});

Run('user namespace map, cgroup namespace root, and all seven namespaces differ from the host', () => {
  const ns = ['mnt', 'uts', 'ipc', 'pid', 'net', 'user', 'cgroup'];
  const r = run('busybox', 'sh', '-c', `cat /proc/self/uid_map /proc/self/gid_map; cat /proc/self/cgroup; for n in ${ns.join(' ')}; do readlink /proc/self/ns/$n; done`);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  // Remapped by default (test/integration/userns.test.ts has the rest of that story).
  assert.equal(lines[0]!.trim().split(/\s+/), ['0', '100000', '65536']);
  assert.equal(lines[1]!.trim().split(/\s+/), ['0', '100000', '65536']);
  const cgroupLines = lines.slice(2, lines.length - ns.length);
  assert.ok(cgroupLines.length > 0);
  for (const l of cgroupLines) assert.ok(l.endsWith(':/'), `at its cgroup root: ${l}`);
  const inside = lines.slice(-ns.length);
  ns.forEach((n, i) => {
    const host = readlinkSync(`/proc/self/ns/${n}`);
    assert.ok(inside[i]!.startsWith(`${n}:[`), inside[i]);
    assert.is.not(inside[i], host, `${n} namespace differs`);
  });
});

Run('writes inside do not reach the image; a kept container keeps them in its own layer', () => {
  const r = mdk(root, ['run', '--name', 'writer', 'busybox', 'sh', '-c', 'echo x > /bin/newfile && rm /bin/ls && echo y > /root/z']);
  assert.is(r.code, 0, r.stderr);
  // lstat, not exists: the image's /bin/ls is a symlink to /bin/busybox, meaningful only inside.
  assert.not.ok(existsSync(join(imageRootfs, 'bin/newfile')));
  assert.ok(lstatSync(join(imageRootfs, 'bin/ls')).isSymbolicLink());
  const id = readFileSync(join(root, 'names', 'writer'), 'utf8');
  assert.is(readFileSync(join(root, 'containers', id, 'upper/bin/newfile'), 'utf8'), 'x\n');
  const again = run('busybox', 'ls', '/bin/ls');
  assert.is(again.code, 0, 'a new container sees the image unchanged');
  assert.is(mdk(root, ['rm', 'writer']).code, 0);
});

Run('exit codes: 0, 3, 125, 126, 127, 137', async () => {
  assert.is(run('busybox', 'true').code, 0);
  assert.is(run('busybox', 'sh', '-c', 'exit 3').code, 3);
  const r125 = run('--pull', 'never', 'no-such-image', 'true'); // (the default would ask a registry: docker's pull)
  assert.is(r125.code, 125);
  assert.match(r125.stderr, /^minidock: image "no-such-image" not found/);
  const r126 = run('busybox', '/etc');
  assert.is(r126.code, 126, r126.stderr);
  assert.match(r126.stderr, /exec: "\/etc": permission denied/);
  const r127 = run('busybox', 'no-such-command');
  assert.is(r127.code, 127);
  assert.match(r127.stderr, /exec: "no-such-command": executable file not found in \$PATH/);
  assert.is(run('busybox', '/no/such/file').code, 127);

  // 137: the container's PID 1 killed from the host (inside its own namespace PID 1 cannot be).
  const child = mdkSpawn(root, ['run', '--rm', '--name', 'sleeper', 'busybox', 'sleep', '30']);
  const code = new Promise<number | null>((r) => child.on('close', r));
  let pid = 0;
  for (let i = 0; i < 200 && !pid; i++) {
    await new Promise((r) => setTimeout(r, 25));
    try {
      const id = readFileSync(join(root, 'names', 'sleeper'), 'utf8');
      pid = JSON.parse(readFileSync(join(root, 'containers', id, 'state.json'), 'utf8')).pid ?? 0;
    } catch { /* not there yet */ }
  }
  assert.ok(pid > 0, 'container started');
  assert.is(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), 'sleep\x0030\x00');
  process.kill(pid, 'SIGKILL');
  assert.is(await code, 137);
});

Run('a command that cannot be invoked leaves a Created container, as docker does', () => {
  const r = mdk(root, ['run', '--name', 'broken-cmd', 'busybox', 'no-such-command']);
  assert.is(r.code, 127);
  const ps = mdk(root, ['ps', '-a']);
  assert.match(ps.stdout, /broken-cmd/);
  assert.match(ps.stdout, /Created/);
  assert.is(mdk(root, ['rm', 'broken-cmd']).code, 0);
});

Run('bad input: a clear one-line error, exit 125, nothing left behind', () => {
  const junk = join(root, '..', `junk-${process.pid}.tar`);
  writeFileSync(junk, 'this is not a tar archive at all, just text\n'.repeat(40));
  const dup = mdk(root, ['run', '--name', 'taken', 'busybox', 'true']);
  assert.is(dup.code, 0);
  const cases: Array<[string[], RegExp]> = [
    // --pull never: only the store is asked (the default would try a registry: docker's pull).
    [['--pull', 'never', 'nope-image'], /image "nope-image" not found/],
    [['--pull', 'sometimes', 'busybox', 'true'], /invalid pull policy "sometimes"/],
    [[junk], /not a tar archive/],
    [[junk.replace('.tar', '.missing.tar')], /not found: no such file or directory/],
    [['-e', '=v', 'busybox', 'true'], /invalid environment variable "=v": empty name/],
    [['-e', '', 'busybox', 'true'], /invalid environment variable/],
    [['--env-file', '/no/such/env', 'busybox', 'true'], /env file \/no\/such\/env cannot be read/],
    [['-u', 'bob', 'busybox', 'true'], /unable to find user bob/],
    [['-u', '', 'busybox', 'true'], /invalid user spec/],
    [['-w', 'relative', 'busybox', 'true'], /working directory 'relative' is invalid/],
    [['--name', 'taken', 'busybox', 'true'], /name "\/taken" is already in use/],
    [['--name', 'a b', 'busybox', 'true'], /invalid container name/],
    [['--network', 'bogus', 'busybox', 'true'], /network bogus not found/],
    [['-p', 'abc:80', 'busybox', 'true'], /invalid port "abc"/],
    [['-p', '8080:80', '-p', '8080:81', 'busybox', 'true'], /duplicate host port 8080\/tcp/],
    [['--bogus-flag', 'busybox'], /unknown option '--bogus-flag'/],
    [[], /missing required argument 'image'/],
  ];
  try {
    for (const [args, msg] of cases) {
      const r = mdk(root, ['run', ...args]);
      // docker: a missing argument is 1 even for run ("requires at least 1 argument").
      assert.is(r.code, args.length ? 125 : 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg, args.join(' '));
      assert.is(r.stderr.trim().split('\n').length, 1, `one line for ${args.join(' ')}: ${r.stderr}`);
    }
    // No command and no CMD in the image.
    const imp = mdk(root, ['import', BUSYBOX_TAR, 'nocmd']);
    assert.is(imp.code, 0, imp.stderr);
    const r = mdk(root, ['run', 'nocmd']);
    assert.is(r.code, 125);
    assert.match(r.stderr, /no command specified/);
    assert.is(mdk(root, ['rmi', 'nocmd']).code, 0);
    // Only the one container made on purpose exists.
    assert.is(readdirSync(join(root, 'containers')).length, 1);
  } finally {
    mdk(root, ['rm', 'taken']);
  }
});

Run('user, environment and working directory reach the command', () => {
  const envFile = join(root, '..', `env-${process.pid}`);
  writeFileSync(envFile, '# comment\r\nFROM_FILE=1\r\n\r\nSHARED=file\n');
  const r = run('-u', '1000:1001', '-e', 'A=b=c', '-e', 'SHARED=flag', '-e', 'CALLER', '--env-file', envFile, '-w', '/tmp/deep/dir',
    'busybox', 'sh', '-c', 'id -u; id -g; pwd; echo $A; echo $FROM_FILE; echo $SHARED; echo $CALLER; echo $HOSTNAME; echo $PATH');
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.slice(0, 7), ['1000', '1001', '/tmp/deep/dir', 'b=c', '1', 'flag', '']);
  assert.is(lines[7]!.length, 12);
  assert.is(lines[8], '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  const withCaller = mdk(root, ['run', '--rm', '-e', 'CALLER', 'busybox', 'sh', '-c', 'echo $CALLER'], { env: { CALLER: 'from-env' } });
  assert.is(withCaller.stdout, 'from-env\n');
  const root2 = run('-u', 'root', 'busybox', 'sh', '-c', 'id -u; echo $HOME');
  assert.is(root2.stdout, '0\n/root\n');
});

Run('the launchers bin/minidock and bin/minidock.js keep --env-file for run (Node 20 reads its own otherwise)', () => {
  const envFile = join(root, '..', `env-${process.pid}`);
  writeFileSync(envFile, 'FROM_FILE=launched\n');
  for (const launcher of ['bin/minidock', 'bin/minidock.js']) {
    // Executed as a user calls it, through its #! line, not as `node FILE`.
    const r = spawnSync('nsenter', [`--net=/run/netns/${TEST_NETNS}`, join(REPO, launcher), 'run', '--rm', '--network', 'none', '--env-file', envFile, 'busybox', 'sh', '-c', 'echo $FROM_FILE'], { env: envFor(root), encoding: 'utf8' });
    assert.is(r.status, 0, `${launcher}: ${r.stderr}`);
    assert.is(r.stdout, 'launched\n', launcher);
    const missing = spawnSync(join(REPO, launcher), ['run', '--env-file', '/no/such/env', 'busybox', 'true'], { env: envFor(root), encoding: 'utf8' });
    assert.is(missing.status, 125, `${launcher}: ${missing.stderr}`);
    assert.match(missing.stderr, /^minidock: env file \/no\/such\/env cannot be read/, launcher);
  }
});

Run('docker\'s flag syntax: --rm=true, -d=false, --tty=false, -p=HOST:CTR, a bad boolean refused', () => {
  const r = mdk(root, ['run', '--rm=true', '-d=false', '--tty=false', '-i=false', '--network=none', 'busybox', 'sh', '-c', '[ -t 1 ] || echo no-tty; echo -d=false']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'no-tty\n-d=false\n', 'not detached, no tty, the command\'s own arguments untouched');
  const bad = mdk(root, ['run', '--rm=yes', 'busybox', 'true']);
  assert.is(bad.code, 125);
  assert.is(bad.stderr, 'minidock: invalid argument "yes" for "--rm" flag: strconv.ParseBool: parsing "yes": invalid syntax (true or false)\n');
  const published = mdk(root, ['run', '--rm', '-p=18097:80', '--network', 'none', 'busybox', 'true']);
  assert.is(published.code, 0, published.stderr);
  assert.match(published.stderr, /published ports are discarded when using --network none/, '-p=... read as a port');
});

Run('--tmpfs takes docker\'s mount options (exec, uid=...), -v takes :z and :Z', () => {
  const hostDir = mkdtempSync(join(tmpdir(), 'mdk-z-'));
  try {
    const r = mdk(root, ['run', '--rm', '--network', 'none', '--tmpfs', '/x:exec,uid=1000,size=1m', '--tmpfs', '/y', '-v', `${hostDir}:/h:Z`, 'busybox', 'sh', '-c',
      'stat -c "%u" /x; printf "#!/bin/sh\\necho ran\\n" > /x/s; chmod +x /x/s; /x/s; cp /x/s /y/s; /y/s 2>/dev/null || echo noexec; ls -d /h']);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, '1000\nran\nnoexec\n/h\n', 'exec undid the default noexec on /x only; uid= owns its root');
  } finally {
    rmSync(hostDir, { recursive: true, force: true });
  }
});

Run('-it without a terminal on stdin is refused at once, as docker\'s client does; run and exec', () => {
  const r = mdk(root, ['run', '-it', '--name', 'no-tty', 'busybox', 'true']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /^minidock: the input device is not a TTY/);
  assert.is(mdk(root, ['ps', '-a', '-q', '-f', 'name=no-tty']).stdout, '', 'nothing was made');
  const d = mdk(root, ['run', '-d', '--name', 'tty-target', '--network', 'none', 'busybox', 'sleep', '30']);
  assert.is(d.code, 0, d.stderr);
  try {
    const e = mdk(root, ['exec', '-it', 'tty-target', 'true']);
    assert.is(e.code, 1);
    assert.match(e.stderr, /^minidock: the input device is not a TTY/);
    // -t alone and -i alone need no terminal.
    assert.is(mdk(root, ['exec', '-t', 'tty-target', 'true']).code, 0);
    assert.is(mdk(root, ['exec', '-i', 'tty-target', 'cat'], { input: 'in\n' }).stdout, 'in\n');
  } finally {
    mdk(root, ['rm', '-f', 'tty-target']);
  }
});

Run('stdin: closed without -i, passed through with -i', () => {
  assert.is(mdk(root, ['run', '--rm', 'busybox', 'cat'], { input: 'ignored\n' }).stdout, '');
  assert.is(mdk(root, ['run', '--rm', '-i', 'busybox', 'cat'], { input: 'hello\n' }).stdout, 'hello\n');
});

Run('only stdio is open in the container, whatever the caller had open', () => {
  // The shell opens fds 5 and 7 without close-on-exec; the container must not see them.
  const r = sh(`MINIDOCK_ROOT=${root} MINIDOCK_CGROUP_PARENT=${CGROUP_PARENT} nsenter --net=/run/netns/${TEST_NETNS} bin/minidock run --rm busybox sh -c 'ls /proc/self/fd' 5</ 7>/dev/null`);
  assert.equal(r.trim().split('\n').sort(), ['0', '1', '2', '3'].sort(), 'ls itself holds 3 for the directory');
});

Run('/proc/sys and other kernel interfaces are read-only, docker\'s masked paths are hidden', () => {
  const hostCore = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
  const r = run('busybox', 'sh', '-c',
    'echo "|/tmp/x" > /proc/sys/kernel/core_pattern; echo "write=$?"; cat /proc/keys | wc -c; ls /proc/acpi | wc -l; ' +
    'grep -E " /proc/(sys|irq|bus|fs) " /proc/self/mountinfo | cut -d" " -f5,6');
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines[0], 'write=1', 'core_pattern is not writable');
  assert.match(r.stderr, /Read-only file system/);
  assert.is(lines[1]!.trim(), '0', '/proc/keys reads empty');
  assert.is(lines[2]!.trim(), '0', '/proc/acpi is an empty directory');
  for (const p of ['/proc/sys', '/proc/irq', '/proc/bus', '/proc/fs']) {
    assert.ok(lines.some((l) => l.startsWith(`${p} ro,`)), `${p} mounted read-only: ${r.stdout}`);
  }
  assert.is(readFileSync('/proc/sys/kernel/core_pattern', 'utf8'), hostCore, "the host's core_pattern is unchanged");
});

/** CapInh, CapPrm, CapEff, CapBnd, CapAmb and NoNewPrivs from a /proc/PID/status text. */
const privileges = (status: string): Record<string, string> =>
  Object.fromEntries([...status.matchAll(/^(Cap\w+|NoNewPrivs):\s+(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
const DOCKER_DEFAULT = { CapInh: '0000000000000000', CapPrm: '00000000a80425fb', CapEff: '00000000a80425fb', CapBnd: '00000000a80425fb', CapAmb: '0000000000000000', NoNewPrivs: '1' };

Run("docker's default capabilities and no_new_privs, in run and in exec", async () => {
  assert.equal(privileges(run('busybox', 'cat', '/proc/self/status').stdout), DOCKER_DEFAULT);
  assert.is(mdk(root, ['run', '-d', '--name', 'privs', 'busybox', 'sleep', '30']).code, 0);
  try {
    assert.equal(privileges(mdk(root, ['exec', 'privs', 'cat', '/proc/self/status']).stdout), DOCKER_DEFAULT, 'exec gets no more');
    const user = privileges(mdk(root, ['exec', '-u', '1000', 'privs', 'cat', '/proc/self/status']).stdout);
    assert.is(user.CapEff, '0000000000000000');
    assert.is(user.CapBnd, '00000000a80425fb');
  } finally {
    mdk(root, ['rm', '-f', 'privs']);
  }
  const user = privileges(run('-u', '1000', 'busybox', 'cat', '/proc/self/status').stdout);
  assert.equal([user.CapPrm, user.CapEff, user.CapBnd], ['0000000000000000', '0000000000000000', '00000000a80425fb']);
  assert.is(privileges(run('--cap-drop', 'ALL', 'busybox', 'cat', '/proc/self/status').stdout).CapEff, '0000000000000000');
  assert.is(privileges(run('--cap-add', 'NET_ADMIN', 'busybox', 'cat', '/proc/self/status').stdout).CapEff, '00000000a80435fb');
  // docker: --cap-add ALL keeps every capability but the dropped ones, whatever the order.
  for (const flags of [['--cap-add', 'ALL', '--cap-drop', 'SYS_ADMIN'], ['--cap-drop', 'SYS_ADMIN', '--cap-add', 'ALL']]) {
    const bnd = BigInt(`0x${privileges(run(...flags, 'busybox', 'cat', '/proc/self/status').stdout).CapBnd}`);
    assert.is(bnd & (1n << 21n), 0n, `${flags.join(' ')}: no CAP_SYS_ADMIN`);
    assert.is.not(bnd & (1n << 25n), 0n, `${flags.join(' ')}: CAP_SYS_TIME, which only ALL gives`);
  }
  const bad = run('--cap-add', 'BOGUS', 'busybox', 'true');
  assert.is(bad.code, 125);
  assert.match(bad.stderr, /^minidock: unknown capability "BOGUS"/);
});

Run('what the default set denies: mount, sethostname; a setuid binary gives nothing under no_new_privs', () => {
  const denied = run('busybox', 'sh', '-c', 'mount -t tmpfs none /mnt 2>&1; echo mount=$?; hostname evil 2>&1; echo hostname=$?');
  assert.match(denied.stdout, /mount=\d*[1-9]/);
  assert.match(denied.stdout, /hostname=\d*[1-9]/);
  assert.match(denied.stdout, /Operation not permitted|Permission denied/);
  // A setuid-root probe that prints its effective uid (busybox drops setuid itself, so it cannot
  // serve), installed by root and run by nobody through exec: under no_new_privs it stays
  // nobody; with --privileged (no no_new_privs) the bit works and it prints 0.
  const probeDir = mkdtempSync(join(tmpdir(), 'mdk-probe-'));
  writeFileSync(join(probeDir, 'euid.c'), '#include <stdio.h>\n#include <unistd.h>\nint main(void){printf("%u\\n", geteuid());return 0;}\n');
  sh(`gcc -static -Os -o ${probeDir}/euid ${probeDir}/euid.c`);
  const probe = readFileSync(join(probeDir, 'euid'));
  rmSync(probeDir, { recursive: true, force: true });
  for (const [flags, want] of [[[], '65534\n'], [['--privileged'], '0\n']] as const) {
    assert.is(mdk(root, ['run', '-d', ...flags, '--name', 'suid', 'busybox', 'sleep', '30']).code, 0);
    try {
      const install = spawnSync(...cliArgv(['exec', '-i', 'suid', 'sh', '-c', 'cat > /tmp/euid && chmod 4755 /tmp/euid']), { input: probe, env: envFor(root) });
      assert.is(install.status, 0, String(install.stderr));
      assert.is(mdk(root, ['exec', '-u', '65534', 'suid', '/tmp/euid']).stdout, want, flags.join(' ') || 'default');
    } finally {
      mdk(root, ['rm', '-f', 'suid']);
    }
  }
  assert.is(run('--cap-add', 'SYS_ADMIN', 'busybox', 'sh', '-c', 'hostname granted && hostname').stdout, 'granted\n');
});

Run('-v HOST:CTR[:ro], --tmpfs and --read-only', () => {
  const host = mkdtempSync(join(tmpdir(), 'mdk-vol-'));
  chmodSync(host, 0o777); // container root is host uid 100000: it needs the permission any user would
  writeFileSync(join(host, 'f'), 'hostdata\n', { mode: 0o644 });
  try {
    const ro = run('-v', `${host}:/data:ro`, 'busybox', 'sh', '-c', 'cat /data/f; echo x > /data/g; echo rc=$?');
    assert.is(ro.stdout, 'hostdata\nrc=1\n');
    assert.match(ro.stderr, /Read-only file system/);
    assert.not.ok(existsSync(join(host, 'g')));
    assert.is(run('-v', `${host}:/data`, 'busybox', 'sh', '-c', 'echo written > /data/g').code, 0);
    assert.is(readFileSync(join(host, 'g'), 'utf8'), 'written\n', 'a rw volume writes through to the host');
    assert.is(run('-v', `${join(host, 'f')}:/etc/motd:ro`, 'busybox', 'cat', '/etc/motd').stdout, 'hostdata\n', 'a single file');
    const rootRo = run('--read-only', '--tmpfs', '/run', '--tmpfs', '/tmp:size=1m,mode=1777', 'busybox', 'sh', '-c',
      'touch /x 2>/dev/null; echo root=$?; touch /run/ok /tmp/ok && echo tmpfs-ok; grep " /tmp " /proc/self/mountinfo | cut -d" " -f6');
    assert.is(rootRo.stdout, 'root=1\ntmpfs-ok\nrw,nosuid,nodev,noexec,relatime\n');
    // docker mounts /etc/hosts, /etc/hostname and /etc/resolv.conf read-only with the rootfs.
    const etcRo = run('--read-only', 'busybox', 'sh', '-c', 'for f in /etc/hosts /etc/hostname /etc/resolv.conf; do echo x >> $f 2>/dev/null; echo $f=$?; done');
    assert.is(etcRo.stdout, '/etc/hosts=1\n/etc/hostname=1\n/etc/resolv.conf=1\n');
    assert.is(run('busybox', 'sh', '-c', 'echo "1.2.3.4 extra" >> /etc/hosts && echo writable').stdout, 'writable\n', 'without --read-only they stay writable, as docker\'s');
    const cases: Array<[string[], RegExp]> = [
      [['-v', './rel:/d'], /the host path must be absolute/],
      [['-v', 'a:/d'], /includes invalid characters for a local volume name/],
      [['-v', '/nonexistent-mdk:/d'], /source path \/nonexistent-mdk does not exist/],
      [['-v', `${host}:/proc`], /cannot mount over runtime-managed path \/proc/],
      [['-v', `${host}:/dev/pts`], /cannot mount over runtime-managed path \/dev\/pts/],
      [['-v', '/proc:/x'], /refusing to mount \/proc into a container/],
      [['-v', `${root}:/x`], /refusing to mount .* into a container/],
      [['-v', `${host}:/d:rshared`], /invalid mount option "rshared"/],
      [['-v', `${host}:/d`, '-v', `${host}:/d/`], /duplicate mount destination \/d/],
      [['--tmpfs', '/run:bogus'], /invalid tmpfs option "bogus"/],
    ];
    for (const [args, msg] of cases) {
      const r = run(...args, 'busybox', 'true');
      assert.is(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
    }
  } finally {
    rmSync(host, { recursive: true, force: true });
  }
});

Run('the default seccomp filter: EPERM for what reaches past the container, ENOSYS for the unknown, no way around it through x32', () => {
  // Each probe prints the errno name of one raw syscall (python's ctypes; the python3 image).
  const probe = [
    'import ctypes, errno',
    'libc = ctypes.CDLL(None, use_errno=True)',
    'def call(nr, *a):',
    '    r = libc.syscall(nr, *a)',
    '    print(errno.errorcode.get(ctypes.get_errno(), "OK") if r == -1 else "OK")',
    'call(272, 0x10000000)', // unshare(CLONE_NEWUSER): a nested user namespace
    'call(250, 0)',          // keyctl
    'call(321, 0, 0, 0)',    // bpf
    'call(175, 0, 0, 0)',    // init_module
    'call(999)',             // no such syscall
    'call(435, 0, 0)',       // clone3: ENOSYS so that libc falls back to clone
    'call(0x40000000 + 39)', // getpid through the x32 entry point
    'call(39)',              // getpid
  ].join('\n');
  const imp = mdk(root, ['import', '-c', 'CMD ["python3"]', PYTHON_TAR, 'python3']);
  assert.is(imp.code, 0, imp.stderr);
  const on = run('python3', 'python3', '-c', probe);
  assert.is(on.code, 0, on.stderr);
  assert.equal(on.stdout.trim().split('\n'), ['EPERM', 'EPERM', 'EPERM', 'EPERM', 'ENOSYS', 'ENOSYS', 'EPERM', 'OK']);
  assert.match(run('busybox', 'cat', '/proc/self/status').stdout, /^Seccomp:\s+2$/m);
  assert.is(mdk(root, ['run', '-d', '--name', 'filtered', 'busybox', 'sleep', '30']).code, 0);
  try {
    assert.match(mdk(root, ['exec', 'filtered', 'cat', '/proc/self/status']).stdout, /^Seccomp:\s+2$/m, 'exec is filtered too');
  } finally {
    mdk(root, ['rm', '-f', 'filtered']);
  }
  // Without the filter the same probe gets past it (the privileges stop the rest): the test can fail.
  const off = run('--security-opt', 'seccomp=unconfined', 'python3', 'python3', '-c', probe);
  assert.match(run('--security-opt', 'seccomp=unconfined', 'busybox', 'cat', '/proc/self/status').stdout, /^Seccomp:\s+0$/m);
  const offLines = off.stdout.trim().split('\n');
  assert.is(offLines[0], 'OK', 'a nested user namespace needs no capability: only the filter stops it');
  assert.is.not(offLines[6], 'EPERM', 'the x32 entry point is refused by the filter, not the kernel');
  assert.match(run('--privileged', 'busybox', 'cat', '/proc/self/status').stdout, /^Seccomp:\s+0$/m);
  const bad = run('--security-opt', 'apparmor=x', 'busybox', 'true');
  assert.is(bad.code, 125);
  assert.match(bad.stderr, /unsupported --security-opt "apparmor=x"/);
  assert.is(mdk(root, ['rmi', 'python3']).code, 0);
});

Run('--privileged: /sys and /proc/sys writable, the host\'s devices there; without it neither', () => {
  // Only a sysctl of the container's own network namespace is written: never a host-wide one.
  const priv = run('--privileged', 'busybox', 'sh', '-c', 'grep " /sys " /proc/mounts | cut -d" " -f4 | cut -d, -f1; sysctl -w net.ipv4.ip_forward=1 >/dev/null && cat /proc/sys/net/ipv4/ip_forward; test -c /dev/kmsg && echo kmsg; ls /dev | wc -l');
  assert.is(priv.code, 0, priv.stderr);
  const [sysMode, fwd, kmsg, count] = priv.stdout.trim().split('\n');
  assert.is(sysMode, 'rw');
  assert.is(fwd, '1', 'a namespaced sysctl can be set');
  assert.is(kmsg, 'kmsg', 'a host device node is there');
  const hostCount = readdirSync('/dev').length;
  assert.ok(Number(count) > 30 && Number(count) <= hostCount + 10, `privileged /dev has ${count} entries (host ${hostCount})`);
  const plain = run('busybox', 'sh', '-c', 'grep " /sys " /proc/mounts | cut -d" " -f4 | cut -d, -f1; sysctl -w net.ipv4.ip_forward=1 2>&1 >/dev/null | grep -c Read-only; test -e /dev/kmsg || echo no-kmsg');
  assert.is(plain.stdout, 'ro\n1\nno-kmsg\n', plain.stderr);
  // The flag is shown as docker shows it.
  const made = mdk(root, ['create', '--name', 'priv-shown', '--privileged', 'busybox', 'true']);
  assert.is(made.code, 0, made.stderr);
  assert.is(mdk(root, ['inspect', '-f', '{{.HostConfig.Privileged}}', 'priv-shown']).stdout, 'true\n');
  assert.is(mdk(root, ['rm', 'priv-shown']).code, 0);
});

Run('inspect: Binds, ReadonlyRootfs, ExposedPorts, exposed ports in ps; --type, /name, strict templates and docker\'s exit codes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdk-binds-'));
  try {
    const made = mdk(root, ['run', '-d', '--name', 'shown', '-v', `${dir}:/data:ro`, '--read-only', '--expose', '443', '--expose', '7000-7001/udp', '-p', '18480:80', 'busybox', 'sleep', '30']);
    assert.is(made.code, 0, made.stderr);
    const f = (tpl: string, ...more: string[]) => mdk(root, ['inspect', ...more, '-f', tpl, 'shown']);
    assert.is(f('{{json .HostConfig.Binds}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.Privileged}} {{.HostConfig.PublishAllPorts}}').stdout, `["${dir}:/data:ro"] true false false\n`);
    assert.is(f('{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}').stdout, '443/tcp 7000/udp 7001/udp 80/tcp \n');
    assert.is(f('{{json .NetworkSettings.Ports}}').stdout, '{"443/tcp":null,"7000/udp":null,"7001/udp":null,"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"18480"}]}\n');
    assert.is(f('{{(index .Mounts 0).Destination}} {{(index .Mounts 0).RW}}').stdout, '/data false\n');
    assert.is(mdk(root, ['ps', '-f', 'name=shown', '--format', '{{.Ports}}']).stdout, '443/tcp, 7000-7001/udp, 0.0.0.0:18480->80/tcp\n');
    // docker's .Name has a leading slash, and inspect takes it back.
    assert.is(mdk(root, ['inspect', '-f', '{{.Name}}', '/shown']).stdout, '/shown\n');
    assert.is(mdk(root, ['inspect', '--type', 'container', '-f', '{{.Name}}', 'shown']).stdout, '/shown\n');
    // A misspelt field is an error (exit 1), an unparsable template is refused first (exit 64).
    const typo = f('{{.Config.Hostnme}}');
    assert.is(typo.code, 1);
    assert.match(typo.stderr, /map has no entry for key "Hostnme"/);
    assert.is(typo.stdout, '');
    assert.is(f('{{.Config.Labels.nolabel}}').stdout, '<no value>\n', 'a missing map key is no error');
    const bad = f('{{.Name');
    assert.is(bad.code, 64);
    assert.match(bad.stderr, /Template parsing error: template: :1: unclosed action/);
    // Without --type: a container, then an image, then a network; --type narrows it.
    assert.is(mdk(root, ['inspect', '-f', '{{.Id}}', 'busybox']).stdout.slice(0, 7), 'sha256:');
    const img = mdk(root, ['inspect', '--type', 'container', 'busybox']);
    assert.is(img.code, 1);
    assert.is(img.stdout, '[]\n');
    assert.match(img.stderr, /^Error: No such container: busybox\n$/);
    const none = mdk(root, ['inspect', 'shown', 'nothing-here']);
    assert.is(none.code, 1);
    assert.is((JSON.parse(none.stdout) as unknown[]).length, 1, 'what was found is printed');
    assert.match(none.stderr, /^Error: No such object: nothing-here\n$/);
    const vol = mdk(root, ['inspect', '--type', 'volume', 'x']);
    assert.is(vol.code, 1);
    assert.match(vol.stderr, /^Error: No such volume: x\n$/);
    assert.is(mdk(root, ['inspect', '--type', 'plugin', 'x']).code, 1, 'docker: not a valid value for --type, exit 1');
  } finally {
    mdk(root, ['rm', '-f', 'shown']);
    rmSync(dir, { recursive: true, force: true });
  }
});

Run('a tarball or a directory can be given as the image', () => {
  assert.is(run(BUSYBOX_TAR, 'echo', 'from-tar').stdout, 'from-tar\n');
  const dir = mkdtempSync(join(tmpdir(), 'mdk-test-dir-'));
  try {
    sh(`tar -xf ${BUSYBOX_TAR} -C ${dir}`);
    assert.is(run(dir, 'echo', 'from-dir').stdout, 'from-dir\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const bad of ['/', imageRootfs]) {
    const refused = run(bad, 'true');
    assert.is(refused.code, 125);
    assert.match(refused.stderr, /refusing to use .* as a root filesystem: it is the host's or minidock's own/);
  }
});

Run('ps and rm: docker\'s columns, names, ids and prefixes', () => {
  assert.is(mdk(root, ['run', '--name', 'first', 'busybox', 'sh', '-c', 'exit 4']).code, 4);
  const ps = mdk(root, ['ps', '-a']);
  assert.is(ps.code, 0);
  const [header, row] = ps.stdout.split('\n');
  assert.match(header!, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
  assert.match(row!, /^[0-9a-f]{12}\s+busybox\s+"sh -c 'exit 4'"\s+.* ago\s+Exited \(4\) .* ago\s+first$/);
  assert.is(mdk(root, ['ps']).stdout.split('\n').length, 2, 'ps without -a: header only');
  const id = readFileSync(join(root, 'names', 'first'), 'utf8');
  assert.is(mdk(root, ['ps', '-aq']).stdout, `${id.slice(0, 12)}\n`);
  assert.is(mdk(root, ['ps', '-aq', '--no-trunc']).stdout, `${id}\n`);
  const missing = mdk(root, ['rm', 'nobody']);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /no such container: nobody/);
  assert.is(mdk(root, ['rm', id.slice(0, 6)]).code, 0);
  assert.is(mdk(root, ['ps', '-aq']).stdout, '');
});

Run('rm refuses a running container, rm -f kills it', async () => {
  const child = mdkSpawn(root, ['run', '--name', 'runner', 'busybox', 'sleep', '30']);
  const code = new Promise<number | null>((r) => child.on('close', r));
  for (let i = 0; i < 200 && !/runner/.test(mdk(root, ['ps']).stdout); i++) await new Promise((r) => setTimeout(r, 25));
  assert.match(mdk(root, ['ps']).stdout, /Up .*runner/);
  const refused = mdk(root, ['rm', 'runner']);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /container is running/);
  assert.is(mdk(root, ['rm', '-f', 'runner']).code, 0);
  assert.is(await code, 137);
});

Run('--pid, --ipc and --uts host: the host\'s namespaces (bound /proc and /dev/shm), and what --pid host leaves behind is killed with it', async () => {
  const hostNs = (t: string): string => readlinkSync(`/proc/self/ns/${t}`);
  const marker = `mdk-pidhost-${process.pid}`;
  const r = run('--network', 'none', '--pid', 'host', '--ipc', 'host', '--uts', 'host', 'busybox', 'sh', '-c',
    `cat /proc/1/comm; for t in pid ipc uts; do readlink /proc/self/ns/$t; done; hostname; echo x > /dev/shm/${marker}; exec -a ${marker} sleep 1000 & sleep 0.2; echo done`);
  try {
    assert.is(r.code, 0, r.stderr);
    const [p1, pself, ipc, uts, name] = r.stdout.trim().split('\n');
    assert.is(p1, readFileSync('/proc/1/comm', 'utf8').trim(), 'PID 1 is the host\'s init');
    assert.is(pself, hostNs('pid'));
    assert.is(ipc, hostNs('ipc'));
    assert.is(uts, hostNs('uts'));
    assert.is(name, hostHostname());
    assert.ok(existsSync(`/dev/shm/${marker}`), 'the host\'s /dev/shm');
  } finally {
    rmSync(`/dev/shm/${marker}`, { force: true });
  }
  // The background sleep outlived its shell in the host's PID namespace: the exit killed it.
  assert.is(spawnSync('pgrep', ['-f', marker]).status, 1, 'no process left');
  // Without the flags: the container's own, as before.
  const own = run('--network', 'none', 'busybox', 'sh', '-c', 'for t in pid ipc uts; do readlink /proc/self/ns/$t; done');
  for (const [i, t] of ['pid', 'ipc', 'uts'].entries()) assert.is.not(own.stdout.trim().split('\n')[i], hostNs(t));
  // top lists the container's processes (its mount namespace), not the host's.
  assert.is(mdk(root, ['run', '-d', '--name', 'pidhost', '--network', 'none', '--pid', 'host', 'busybox', 'sh', '-c', 'sleep 1001 & sleep 1002']).code, 0);
  try {
    const inspected = mdk(root, ['inspect', '-f', '{{.HostConfig.PidMode}} {{.HostConfig.IpcMode}} {{.HostConfig.UTSMode}}', 'pidhost']);
    assert.is(inspected.stdout, 'host private \n');
    let top = '';
    for (let i = 0; i < 50 && !/sleep 1001/.test(top); i++) { top = mdk(root, ['top', 'pidhost']).stdout; await new Promise((res) => setTimeout(res, 50)); }
    assert.equal(top.trim().split('\n').slice(1).map((l) => l.split(/\s{2,}/).at(-1)).sort(), ['sleep 1001', 'sleep 1002']);
  } finally {
    assert.is(mdk(root, ['rm', '-f', 'pidhost']).code, 0);
  }
  // docker's refusals, one line each, 125, nothing made.
  for (const [args, msg] of [
    [['--uts', 'host', '-h', 'x'], /conflicting options: hostname and the UTS mode/],
    [['--pid', 'container:x'], /--pid container:x: sharing another container's namespace is not supported yet/],
    [['--ipc', 'bogus'], /invalid --ipc "bogus"/],
    [['--ipc', 'host', '--sysctl', 'kernel.shmmax=1000'], /sysctl 'kernel.shmmax' is not allowed with --ipc=host/],
  ] as Array<[string[], RegExp]>) {
    const bad = run(...args, 'busybox', 'true');
    assert.is(bad.code, 125, args.join(' '));
    assert.match(bad.stderr, msg);
    assert.is(bad.stderr.trim().split('\n').length, 1);
  }
});

suiteRun.run();
