// minidock-runc carrying out the OCI process fields of issue #14: process.rlimits, the five
// capability sets, linux.seccomp (compiled by src/oci/seccomp.ts), umask, oomScoreAdj and
// domainname. Real bundles (busybox, `minidock-runc spec` edited) through create/start/state/
// delete; every value is read back from inside the container, and every test ends with nothing
// left: no container listed, no process rooted in the bundle, no mount naming it, no state.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireRootAndImages } from '../helpers/cli.js';
import { bundleMarker, consoleReceiver, ended, ociBundle, processesIn, runcIn } from '../helpers/oci.js';

requireRootAndImages();
const work = mkdtempSync(join(tmpdir(), 'mdk-ocirunc-'));
const T = suite('oci process fields');
// A test that failed half-way leaves its container: the next one starts clean all the same.
T.after.each(() => {
  for (const id of list()) runc(['delete', '--force', id]);
});
T.after(() => {
  for (const id of list()) runc(['delete', '--force', id]);
  rmSync(work, { recursive: true, force: true });
});

const state = join(work, 'state');
const runc = runcIn(work);
const list = runc.list;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const marker = bundleMarker;

/** A busybox bundle (test/helpers/oci.ts) with a marker at the top of its root. */
const bundle = (name: string, script: string, edit: (c: any) => void = () => {}): string =>
  ociBundle(work, name, script, edit, `touch rootfs/${marker(name)}`);

/** create, start, wait for the process to end; returns what it wrote. */
async function runToEnd(id: string, dir: string): Promise<string> {
  const cr = runc(['create', '--bundle', dir, id]);
  assert.is(cr.code, 0, cr.stderr);
  const st = JSON.parse(runc(['state', id]).stdout) as { pid: number; status: string };
  assert.is(st.status, 'created');
  assert.ok(st.pid > 0);
  const go = runc(['start', id]);
  assert.is(go.code, 0, go.stderr);
  assert.ok(await ended(st.pid), `container process ${st.pid} did not exit`);
  assert.is(JSON.parse(runc(['state', id]).stdout).status, 'stopped');
  return readFileSync(join(dir, 'out/log'), 'utf8');
}

/** Deletes the container and checks that nothing of it is left anywhere. */
function deleteAndCheck(id: string, dir: string, name = id): void {
  if (existsSync(join(state, id))) assert.is(runc(['delete', id]).code, 0);
  assertNothingLeft(id, dir, name);
}

function assertNothingLeft(id: string, dir: string, name = id): void {
  assert.equal(list(), [], 'minidock-runc list is empty');
  assert.equal(processesIn(dir, name), [], 'no process is rooted in the bundle');
  assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir)), [], 'no mount names the bundle');
  assert.not.ok(existsSync(join(state, id)), 'the state directory is removed');
}

/** Our own hard limit for a resource, as /proc/self/limits names it. */
function ownLimit(label: string): { soft: string; hard: string } {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(label))!;
  const [soft, hard] = line.slice(26).trim().split(/\s+/);
  return { soft: soft!, hard: hard! };
}

/** "Max open files            512                  1024                 files" -> [soft, hard]. */
function limitIn(out: string, label: string): [string, string] | undefined {
  const line = out.split('\n').find((l) => l.startsWith(label));
  if (!line) return undefined;
  const [soft, hard] = line.slice(26).trim().split(/\s+/);
  return [soft!, hard!];
}

const CAP_BITS: Record<string, number> = {
  CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_FOWNER: 3, CAP_FSETID: 4, CAP_KILL: 5, CAP_SETGID: 6, CAP_SETUID: 7, CAP_SETPCAP: 8,
  CAP_NET_BIND_SERVICE: 10, CAP_NET_RAW: 13, CAP_SYS_CHROOT: 18, CAP_SYS_ADMIN: 21, CAP_MKNOD: 27, CAP_AUDIT_WRITE: 29, CAP_SETFCAP: 31,
};
/** /proc/PID/status's 16-digit hex for a set of names. */
const capHex = (names: string[]): string => names.reduce((m, n) => m | (1n << BigInt(CAP_BITS[n]!)), 0n).toString(16).padStart(16, '0');
/** { CapInh, CapPrm, CapEff, CapBnd, CapAmb } from a /proc/self/status dump. */
const capsIn = (out: string): Record<string, string> => Object.fromEntries([...out.matchAll(/^(Cap\w+):\s+([0-9a-f]+)$/gm)].map((m) => [m[1]!, m[2]!]));
const statusField = (out: string, name: string): string | undefined => new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(out)?.[1];

// ---------------------------------------------------------------- process.rlimits

T('process.rlimits: /proc/self/limits inside shows each soft and hard limit as configured', async () => {
  const dir = bundle('rlimits', 'cat /proc/self/limits', (c) => {
    c.process.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 512, hard: 1024 },
      { type: 'RLIMIT_CORE', soft: 0, hard: 4096 },
      { type: 'RLIMIT_MSGQUEUE', soft: 1000, hard: 2000 },
      { type: 'RLIMIT_NPROC', soft: 300, hard: 400 },
    ];
  });
  const out = await runToEnd('rlimits', dir);
  assert.equal(limitIn(out, 'Max open files'), ['512', '1024'], out);
  assert.equal(limitIn(out, 'Max core file size'), ['0', '4096'], out);
  assert.equal(limitIn(out, 'Max msgqueue size'), ['1000', '2000'], out);
  assert.equal(limitIn(out, 'Max processes'), ['300', '400'], out);
  deleteAndCheck('rlimits', dir);
});

T('a hard limit above the caller\'s (no CAP_SYS_RESOURCE) fails at child.setrlimit RLIMIT_NOFILE, as runc fails, and nothing is left', async () => {
  const own = ownLimit('Max open files');
  const above = Number(own.hard) + 1;
  const dir = bundle('rlimit-eperm', 'true', (c) => {
    c.process.rlimits = [{ type: 'RLIMIT_CORE', soft: 0, hard: 0 }, { type: 'RLIMIT_NOFILE', soft: above, hard: above }];
  });
  const r = runc(['create', '--bundle', dir, 'rlimit-eperm']);
  assert.is(r.code, 1);
  assert.is(r.stderr, 'minidock-runc: container setup failed at child.setrlimit RLIMIT_NOFILE: Operation not permitted\n');
  await sleep(100);
  assertNothingLeft('rlimit-eperm', dir);
});

// ---------------------------------------------------------------- the five capability sets

const SHOW_CAPS = 'grep -E "^(Cap|NoNewPrivs|Seccomp:)" /proc/self/status; id -u';

T("capabilities: runtime-tools' default (root, all five sets the same fourteen) are what /proc/self/status shows", async () => {
  const L = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];
  const dir = bundle('caps-all', SHOW_CAPS, (c) => {
    c.process.capabilities = { bounding: L, effective: L, inheritable: L, permitted: L, ambient: L };
  });
  const out = await runToEnd('caps-all', dir);
  const want = capHex(L);
  assert.equal(capsIn(out), { CapInh: want, CapPrm: want, CapEff: want, CapBnd: want, CapAmb: want }, out);
  deleteAndCheck('caps-all', dir);
});

T('capabilities: a non-root user with five different sets: bounding and inheritable as given, the ambient one raised and, after execve, permitted and effective', async () => {
  const dir = bundle('caps-user', SHOW_CAPS, (c) => {
    c.process.user = { uid: 1000, gid: 1000 };
    c.process.capabilities = {
      bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'],
      permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'],
      effective: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      inheritable: ['CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'],
      ambient: ['CAP_NET_BIND_SERVICE'],
    };
  });
  const out = await runToEnd('caps-user', dir);
  // execve for a non-root uid without file capabilities (capabilities(7)): P'(permitted) =
  // P'(effective) = P'(ambient); inheritable and bounding carry over. Without keep-caps across
  // setresuid the ambient raise would have failed (it needs the capability permitted).
  const amb = capHex(['CAP_NET_BIND_SERVICE']);
  assert.equal(capsIn(out), {
    CapInh: capHex(['CAP_NET_BIND_SERVICE', 'CAP_NET_RAW']), CapPrm: amb, CapEff: amb,
    CapBnd: capHex(['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW']), CapAmb: amb,
  }, out);
  assert.match(out, /\n1000\n$/);
  deleteAndCheck('caps-user', dir);
});

T("capabilities: runc spec's own default (ambient listed, no inheritable set): the ambient raise is skipped as runc skips it", async () => {
  const dir = bundle('caps-spec', SHOW_CAPS);
  const out = await runToEnd('caps-spec', dir);
  const caps = capHex(['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']);
  assert.equal(capsIn(out), { CapInh: '0000000000000000', CapPrm: caps, CapEff: caps, CapBnd: caps, CapAmb: '0000000000000000' }, out);
  assert.is(statusField(out, 'NoNewPrivs'), '1');
  deleteAndCheck('caps-spec', dir);
});

T('capabilities: effective outside permitted is refused by the kernel at child.caps.set', async () => {
  const dir = bundle('caps-bad', 'true', (c) => {
    c.process.capabilities = { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_CHOWN'], permitted: ['CAP_KILL'], inheritable: [], ambient: [] };
  });
  const r = runc(['create', '--bundle', dir, 'caps-bad']);
  assert.is(r.code, 1);
  assert.is(r.stderr, 'minidock-runc: container setup failed at child.caps.set: Operation not permitted\n');
  await sleep(100);
  assertNothingLeft('caps-bad', dir);
});

// ---------------------------------------------------------------- linux.seccomp

for (const nnp of [true, false]) {
  T(`linux.seccomp: a rule's errnoRet is what the call gets (noNewPrivileges ${nnp}${nnp ? '' : ': installed before the capabilities go, which lack CAP_SYS_ADMIN'})`, async () => {
    const name = `seccomp-${nnp}`;
    const dir = bundle(name, `${SHOW_CAPS}; mkdir /tmp/blocked; echo mkdir=$?; touch /tmp/file && echo touch=$?`, (c) => {
      c.process.noNewPrivileges = nnp;
      c.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64'],
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 42 }],
      };
    });
    const out = await runToEnd(name, dir);
    // errno 42 is ENOMSG: nothing else would give it.
    assert.match(out, /mkdir: can't create directory '\/tmp\/blocked': No message of desired type\nmkdir=1\ntouch=0\n$/, out);
    assert.is(statusField(out, 'Seccomp'), '2', out);
    assert.is(statusField(out, 'NoNewPrivs'), nnp ? '1' : '0');
    deleteAndCheck(name, dir);
  });
}

// ---------------------------------------------------------------- umask, oomScoreAdj, domainname

T('process.user.umask, process.oomScoreAdj and domainname as configured; umask 0022 when the config has none', async () => {
  const script = 'umask; cat /proc/self/oom_score_adj; cat /proc/sys/kernel/domainname; hostname; touch /out/f; stat -c %a /out/f';
  const dir = bundle('misc', script, (c) => {
    c.process.user.umask = 0o027;
    c.process.oomScoreAdj = 500;
    c.domainname = 'example.org';
    c.hostname = 'box';
  });
  assert.is(await runToEnd('misc', dir), '0027\n500\nexample.org\nbox\n640\n');
  deleteAndCheck('misc', dir);
  const ownDomain = readFileSync('/proc/sys/kernel/domainname', 'utf8');
  assert.not.equal(ownDomain, 'example.org\n', 'the host\'s domainname is untouched');

  const plain = bundle('misc-default', 'umask; cat /proc/self/oom_score_adj');
  const ownAdj = readFileSync('/proc/self/oom_score_adj', 'utf8');
  assert.is(await runToEnd('misc-default', plain), `0022\n${ownAdj}`);
  deleteAndCheck('misc-default', plain);
});

T('an oomScoreAdj below the caller\'s needs CAP_SYS_RESOURCE: without it, parent.oom_score_adj refuses and nothing is left', async () => {
  const capEff = BigInt(`0x${/^CapEff:\s+([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`);
  const own = Number(readFileSync('/proc/self/oom_score_adj', 'utf8'));
  const dir = bundle('oom-low', 'cat /proc/self/oom_score_adj', (c) => {
    c.process.oomScoreAdj = own - 1;
  });
  if (capEff & (1n << 24n)) {
    assert.is(await runToEnd('oom-low', dir), `${own - 1}\n`);
    deleteAndCheck('oom-low', dir);
    return;
  }
  const r = runc(['create', '--bundle', dir, 'oom-low']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /parent\.oom_score_adj.*Permission denied/);
  await sleep(100);
  assertNothingLeft('oom-low', dir);
});

T('process.terminal: the pty master reaches --console-socket (SCM_RIGHTS, as conmon receives it) and carries the container\'s terminal', async () => {
  const dir = bundle('tty', 'tty; echo hello-tty; sleep 0.3', (c) => {
    c.process.terminal = true;
    // The test reads the terminal itself: the command's output must not go to out/log.
    c.process.args = ['sh', '-c', 'tty; echo hello-tty; sleep 0.3'];
  });
  const sock = join(dir, 'console.sock');
  // A receiver as conmon is one: accept, take the descriptor, read the terminal until the line.
  const receiver = consoleReceiver(sock, 'hello-tty');
  await receiver.ready;
  const cr = runc(['create', '--bundle', dir, '--console-socket', sock, 'tty']);
  assert.is(cr.code, 0, cr.stderr);
  const pid = (JSON.parse(runc(['state', 'tty']).stdout) as { pid: number }).pid;
  assert.is(runc(['start', 'tty']).code, 0);
  const said = await receiver.done;
  assert.match(said, /name \/dev\/pts\/\d+ 1\n/, 'one descriptor, named by its pty');
  assert.match(said, /\/dev\/console\r?\nhello-tty/, 'the command\'s stdout is that terminal, which it sees as /dev/console');
  assert.ok(await ended(pid));
  deleteAndCheck('tty', dir);
  const refused = runc(['create', '--bundle', dir, 'tty2']);
  assert.is(refused.code, 1, 'a terminal without --console-socket is refused when detaching');
  assert.match(refused.stderr, /cannot allocate tty if minidock-runc will detach without setting console socket/);
  assertNothingLeft('tty2', dir, 'tty');
});

T.run();
