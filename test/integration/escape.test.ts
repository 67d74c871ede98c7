// Escapes from tracking and from the seccomp filter (issue #13), each performed for real by a
// hostile container command (test/fixtures/escape.c, built static by this file and added to
// busybox as /escape), against the real CLI and kernel:
//  - a PID 1 that calls PTRACE_TRACEME makes its parent (the CLI or the shim) its tracer, so
//    that any signal shows up in the parent's wait as a stop: it must still be tracked as
//    running (lease kept, signals delivered, exit code recorded, rm -f works);
//  - a foreground container must die with its CLI (kill -9) whatever its user namespace and
//    uid did to PR_SET_PDEATHSIG;
//  - a run whose rollback comes after the clone must leave no process, veth or cgroup;
//  - io_uring, AF_VSOCK/AF_ALG sockets and personality flags docker refuses are refused.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_TAR, REPO, containerProcesses, killPid, leakChecked, mdk, mdkSpawn, newRoot, removeRoot, requireRootAndImages, sh, snapshot, testCgroups } from '../helpers/cli.js';

requireRootAndImages();
const root = newRoot('escape');
const work = mkdtempSync(join(tmpdir(), 'mdk-escape-'));

// Setup at the top level (uvu swallows an exception thrown by a hook).
const cc = spawnSync('gcc', ['-static', '-O1', '-Wall', '-o', join(work, 'escape'), join(REPO, 'test/fixtures/escape.c')], { encoding: 'utf8' });
if (cc.status !== 0) throw new Error(`building test/fixtures/escape.c failed: ${cc.stderr}`);
chmodSync(join(work, 'escape'), 0o755);
copyFileSync(BUSYBOX_TAR, join(work, 'escape.tar'));
sh(`tar -rf ${work}/escape.tar -C ${work} --owner=0 --group=0 escape`);

const ENV = { MINIDOCK_BRIDGE: 'mdktbr9', MINIDOCK_SUBNET: '10.139.0.0/24' };
const md = (args: string[], env: NodeJS.ProcessEnv = {}) => mdk(root, args, { env: { ...ENV, ...env } });
const imp = md(['import', '-c', 'CMD ["/escape"]', join(work, 'escape.tar'), 'escape']);
if (imp.code !== 0) throw new Error(`import failed: ${imp.stderr}`);
assert.is(md(['import', '-c', 'CMD ["sh"]', BUSYBOX_TAR, 'busybox']).code, 0);
// The default network's bridge and rules exist before the baseline: they stay by design.
assert.is(md(['run', '--rm', 'busybox', 'true']).code, 0);
const before = snapshot(root);

const Escape = suite('escape');
Escape.after(() => {
  removeRoot(root);
  rmSync(work, { recursive: true, force: true });
});
const leakT = leakChecked(Escape, root, before);
/** A failed test may leave a container that minidock itself can no longer end (that is what
 *  some of these attacks achieve on unfixed code): end its processes by pid and remove what is
 *  left, so that the next test starts from the baseline and fails, or passes, on its own. */
function scrub(): void {
  for (const pid of containerProcesses(root)) killPid(pid, 'SIGKILL');
  spawnSync('sleep', ['0.3']);
  for (const dir of testCgroups()) {
    try { rmdirSync(dir); } catch { /* in use still, or gone */ }
  }
  for (const name of existsSync(join(root, 'names')) ? readdirSync(join(root, 'names')) : []) md(['rm', '-f', name]);
  md(['gc']);
}
const T = (name: string, fn: () => Promise<void> | void): void =>
  leakT(name, async () => {
    try {
      await fn();
    } catch (err) {
      scrub();
      throw err;
    }
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, pred: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (pred()) return;
  assert.ok(pred(), `timed out waiting for ${what}`);
}
const psLine = (name: string): string => md(['ps', '-a']).stdout.split('\n').find((l) => l.endsWith(` ${name}`)) ?? '';
const idOf = (name: string): string => readFileSync(join(root, 'names', name), 'utf8').trim();
/** The addresses leased to container `id` ("network/ip"). */
const leasesOf = (id: string): string[] =>
  snapshot(root).leases.filter((l) => {
    const [net, ip] = l.split('/') as [string, string];
    return readFileSync(join(root, 'networks', net, 'leases', ip), 'utf8').trim() === id;
  });
const alive = (pid: number): boolean => {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
};

/** Output of a spawned CLI; `exited` settles when the CLI process ends, `done` once its output
 *  pipes are closed too (the container, which shares them, is gone as well). */
function watch(child: ChildProcess): { out: () => string; exited: Promise<number | null>; done: Promise<number | null> } {
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return {
    out: () => out,
    exited: new Promise((r) => child.on('exit', (code) => r(code))),
    done: new Promise((r) => child.on('close', (code) => r(code))),
  };
}

// ---------- A: PTRACE_TRACEME ----------

for (const mode of ['traceme', 'traceme-exec']) {
  T(`run -d: a PID 1 that calls PTRACE_TRACEME (${mode}) and takes signals stays Up with its lease; its exit is recorded; rm -f removes it`, async () => {
    const r = md(['run', '-d', '--name', 'tracer', '-p', '18401:80', 'escape', '/escape', mode]);
    assert.is(r.code, 0, r.stderr);
    const id = idOf('tracer');
    // Its own raise(SIGUSR1) put it in a ptrace-stop of which the shim was told.
    await until('the first signal handled', () => md(['logs', 'tracer']).stdout.includes('ready\n'));
    await sleep(300); // room for a shim that took the stop for an exit to record it and clean up
    assert.match(psLine('tracer'), / Up /, 'still running');
    assert.not.ok(existsSync(join(root, 'containers', id, 'exit.json')), 'no exit recorded');
    assert.is(leasesOf(id).length, 1, 'its address is still leased to it');
    assert.ok(snapshot(root).ports.length > before.ports.length, 'its host port is still leased');
    // Each later signal is another stop (it calls TRACEME again): each reaches its handler.
    for (const n of [2, 3]) {
      assert.is(md(['kill', '-s', 'USR1', 'tracer']).code, 0);
      await until(`signal ${n} handled`, () => md(['logs', 'tracer']).stdout.includes(`usr1 ${n}\n`));
    }
    await sleep(200);
    assert.match(psLine('tracer'), / Up /);
    const pid = Number(md(['inspect', '-f', '{{.State.Pid}}', 'tracer']).stdout);
    assert.ok(alive(pid));
    const rm = md(['rm', '-f', 'tracer']);
    assert.is(rm.code, 0, rm.stderr);
    await until('PID 1 gone', () => !alive(pid), 2000);
    assert.is(md(['ps', '-a', '-q']).stdout, '');
  });
}

T('run -d: SIGTERM to a traced PID 1 reaches its handler, and its exit code (42) is what is recorded', async () => {
  assert.is(md(['run', '-d', '--name', 'tracer', 'escape', '/escape', 'traceme']).code, 0);
  await until('the first signal handled', () => md(['logs', 'tracer']).stdout.includes('ready\n'));
  assert.is(md(['kill', '-s', 'TERM', 'tracer']).code, 0);
  assert.is(md(['wait', 'tracer']).stdout, '42\n');
  assert.match(md(['logs', 'tracer']).stdout, /term\n$/);
  assert.match(psLine('tracer'), /Exited \(42\)/);
  assert.is(md(['rm', 'tracer']).code, 0);
});

T('foreground: a traced PID 1 keeps the CLI waiting; the CLI passes SIGTERM on and returns its exit code', async () => {
  const cli = mdkSpawn(root, ['run', '--name', 'tracer', 'escape', '/escape', 'traceme'], ENV);
  const w = watch(cli);
  let exited = false;
  void w.exited.then(() => (exited = true));
  await until('the first signal handled', () => w.out().includes('ready\n') || exited);
  await sleep(300);
  assert.not.ok(exited, `the CLI took a ptrace-stop for an exit: ${w.out()}`);
  assert.match(psLine('tracer'), / Up /);
  killPid(cli.pid!, 'SIGTERM'); // forwarded to PID 1, which is stopped by it again, then gets it
  assert.is(await w.done, 42, w.out());
  assert.match(w.out(), /term\n/);
  assert.match(psLine('tracer'), /Exited \(42\)/);
  assert.is(md(['rm', 'tracer']).code, 0);
});

T('exec: a command that calls PTRACE_TRACEME keeps `exec` waiting; SIGTERM reaches it and its exit code (42) is exec\'s', async () => {
  assert.is(md(['run', '-d', '--name', 'host', '--network', 'none', 'escape', 'sleep', '600']).code, 0);
  const cli = mdkSpawn(root, ['exec', 'host', '/escape', 'traceme'], ENV);
  const w = watch(cli);
  let exited = false;
  void w.exited.then(() => (exited = true));
  await until('the first signal handled', () => w.out().includes('ready\n') || exited);
  await sleep(300);
  assert.not.ok(exited, `minidock-shim exec took a ptrace-stop for an exit: ${w.out()}`);
  killPid(cli.pid!, 'SIGTERM'); // the CLI passes it to the shim, the shim to the command
  assert.is(await w.done, 42, w.out());
  assert.match(w.out(), /term\n/);
  assert.is(md(['rm', '-f', 'host']).code, 0);
});

// ---------- B: the container dies with its CLI; a failed run leaves nothing ----------

for (const user of [[], ['-u', '1000:1000']]) {
  T(`foreground${user.length ? ' -u 1000' : ''}: kill -9 of the CLI ends the container within 2 s (PDEATHSIG survives the id changes)`, async () => {
    const cli = mdkSpawn(root, ['run', '--name', 'orphan', ...user, 'busybox', 'sleep', '600'], ENV);
    const w = watch(cli);
    let pid = 0;
    await until('the container running', () => {
      const out = md(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', 'orphan']).stdout.trim().split(' ');
      if (out[0] === 'running') pid = Number(out[1]);
      return pid > 0;
    });
    assert.ok(alive(pid));
    killPid(cli.pid!, 'SIGKILL');
    await w.exited; // not its output's end: a surviving container holds the pipes
    await until('PID 1 gone', () => !alive(pid), 2000);
    assert.equal(containerProcesses(root), [], 'no process of the container is left');
    await until('ps showing it exited', () => /Exited \(255\)/.test(psLine('orphan')), 2000);
    assert.is(md(['rm', 'orphan']).code, 0);
    assert.is(md(['gc']).code, 0); // the dead CLI's lease and rules (see network.test.ts)
  });
}

/** A PATH whose iptables-restore refuses to add the rules of host port 18499 (and passes
 *  everything else to the real one): `publish` fails after the clone, even after "go". */
function failingPublishPath(): string {
  const dir = join(work, 'bin');
  mkdirSync(dir, { recursive: true });
  const real = sh('command -v iptables-restore').trim();
  writeFileSync(join(dir, 'iptables-restore'), `#!/bin/sh
in=$(cat)
if printf '%s\\n' "$in" | grep -q -- '^-A .*--dport 18499'; then echo 'iptables-restore: injected failure' >&2; exit 1; fi
printf '%s\\n' "$in" | exec ${real} "$@"
`);
  chmodSync(join(dir, 'iptables-restore'), 0o755);
  return `${dir}:${process.env.PATH}`;
}

for (const flags of [['-d'], []]) {
  T(`run ${flags.join(' ') || '(foreground)'}: a failure after the command started (publishing the port) leaves no process, veth, cgroup or record`, async () => {
    const r = md(['run', ...flags, '--name', 'late', '-p', '18499:80', 'busybox', 'sleep', '60'], { PATH: failingPublishPath() });
    assert.is(r.code, 125, r.stderr);
    assert.match(r.stderr, /injected failure/);
    // At once, not after a PID 1 has finished dying on its own: the rollback waited for it.
    assert.equal(containerProcesses(root), [], 'no process of the container is left');
    assert.is(md(['ps', '-a', '-q']).stdout, '');
  });
}

// ---------- C: seccomp ----------

const EXPECTED = [
  'io_uring_setup EPERM',
  'io_uring_enter EPERM',
  'io_uring_register EPERM',
  'socket_vsock EPERM',
  'socket_vsock_highbits EPERM',
  'socket_alg EPERM',
  'socket_inet ok',
  'socket_unix ok',
  'personality_addr_no_randomize EPERM',
  'personality_read_implies_exec EPERM',
  'personality_highbits EPERM',
  'personality_linux32 ok',
  'personality_query ok',
  'personality_linux ok',
].join('\n') + '\n';

T('seccomp: io_uring, AF_VSOCK and AF_ALG sockets and personality flags docker refuses get EPERM in run; personality(PER_LINUX32) works', () => {
  const r = md(['run', '--rm', '--network', 'none', 'escape', '/escape', 'syscalls']);
  assert.is(r.code, 0, r.stderr);
  assert.fixture(r.stdout, EXPECTED);
  // Without the filter the same program reaches the kernel: it is the filter that refuses.
  const open = md(['run', '--rm', '--network', 'none', '--security-opt', 'seccomp=unconfined', 'escape', '/escape', 'syscalls']);
  assert.match(open.stdout, /^io_uring_setup ok$/m);
  assert.match(open.stdout, /^personality_addr_no_randomize ok$/m);
});

T('seccomp: exec gets the same filter', async () => {
  assert.is(md(['run', '-d', '--name', 'target', '--network', 'none', 'escape', 'sleep', '60']).code, 0);
  const r = md(['exec', 'target', '/escape', 'syscalls']);
  assert.is(r.code, 0, r.stderr);
  assert.fixture(r.stdout, EXPECTED);
  assert.is(md(['rm', '-f', 'target']).code, 0);
});

T('--security-opt seccomp=PROFILE.json: docker\'s format, its includes by capability, in run and exec; builtin is the default', () => {
  const file = join(work, 'profile.json');
  writeFileSync(file, JSON.stringify({
    defaultAction: 'SCMP_ACT_ALLOW',
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }],
    syscalls: [
      { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, comment: 'EPERM' },
      { names: ['rmdir', 'unlinkat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, includes: { caps: ['CAP_SYS_ADMIN'] } },
    ],
  }));
  const probe = 'mkdir /tmp/a 2>&1; echo mkdir $?; rmdir /etc 2>&1; true';
  const r = md(['run', '--rm', '--network', 'none', '--security-opt', `seccomp=${file}`, 'busybox', 'sh', '-c', probe]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /Operation not permitted\nmkdir 1\n/);
  assert.match(r.stdout, /Directory not empty/, 'without CAP_SYS_ADMIN the rmdir rule is not in the filter');
  const admin = md(['run', '--rm', '--network', 'none', '--cap-add', 'SYS_ADMIN', '--security-opt', `seccomp=${file}`, 'busybox', 'sh', '-c', probe]);
  assert.match(admin.stdout, /Permission denied/, 'with it, rmdir gets the rule\'s EACCES');
  // The profile replaces the built-in filter: what that refuses goes through.
  const open = md(['run', '--rm', '--network', 'none', '--security-opt', `seccomp=${file}`, 'escape', '/escape', 'syscalls']);
  assert.match(open.stdout, /^io_uring_setup ok$/m);
  assert.fixture(md(['run', '--rm', '--network', 'none', '--security-opt', 'seccomp=builtin', 'escape', '/escape', 'syscalls']).stdout, EXPECTED);
  // exec gets PID 1's filter.
  assert.is(md(['run', '-d', '--name', 'profiled', '--network', 'none', '--security-opt', `seccomp=${file}`, 'busybox', 'sleep', '60']).code, 0);
  try {
    const e = md(['exec', 'profiled', 'sh', '-c', 'mkdir /tmp/b 2>&1; echo mkdir $?']);
    assert.match(e.stdout, /Operation not permitted\nmkdir 1\n/, e.stderr);
  } finally {
    assert.is(md(['rm', '-f', 'profiled']).code, 0);
  }
  // A missing or broken profile: one line, 125, no container made.
  const missing = md(['run', '--rm', '--security-opt', `seccomp=${join(work, 'nope.json')}`, 'busybox', 'true']);
  assert.is(missing.code, 125);
  assert.match(missing.stderr, /^minidock: opening seccomp profile \(.*nope\.json\) failed: ENOENT/);
  writeFileSync(join(work, 'broken.json'), '{"defaultAction": "SCMP_ACT_SOMETIMES"}');
  const broken = md(['run', '--rm', '--security-opt', `seccomp=${join(work, 'broken.json')}`, 'busybox', 'true']);
  assert.is(broken.code, 125);
  assert.match(broken.stderr, /^minidock: seccomp profile: defaultAction "SCMP_ACT_SOMETIMES" is not a seccomp action/);
  assert.is(md(['ps', '-aq']).stdout, '');
});

Escape.run();
