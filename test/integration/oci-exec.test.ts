// minidock-runc exec (issue #14): a process run in a running container joins its namespaces and
// cgroups and gets the process's user, capabilities, rlimits, no_new_privs and the container's
// seccomp filter, as runc's exec does. Real busybox bundles (`minidock-runc spec` edited), one
// without a user namespace (runc spec's default) and one with; every fact is read from inside
// the container (or from /proc of the exec'd pid), and every test ends with nothing left.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireRootAndImages } from '../helpers/cli.js';
import { bundleMarker, consoleReceiver, ended, ociBundle, processesIn, runcIn } from '../helpers/oci.js';

requireRootAndImages();
const work = mkdtempSync(join(tmpdir(), 'mdk-ociexec-'));
// mkdtemp's 0700 would keep a remapped root (host uid 100000) from reaching its bundle.
chmodSync(work, 0o755);
const T = suite('minidock-runc exec');
const state = join(work, 'state');
const runc = runcIn(work);
const list = runc.list;
T.after.each(() => {
  for (const id of list()) runc(['delete', '--force', id]);
});
T.after(() => {
  for (const id of list()) runc(['delete', '--force', id]);
  rmSync(work, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const marker = bundleMarker;
const NS = ['mnt', 'pid', 'net', 'ipc', 'uts', 'user', 'cgroup'];
const USERNS = (c: any): void => {
  c.linux.namespaces.push({ type: 'user' });
  c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
};

/** A bundle whose process sleeps until killed, with a marker at the top of its root. */
const bundle = (name: string, edit: (c: any) => void = () => {}, script = 'exec sleep 600'): string =>
  ociBundle(work, name, script, edit, `touch rootfs/${marker(name)}`);

/** create + start; returns the container's pid. */
function up(id: string, dir: string): number {
  const cr = runc(['create', '--bundle', dir, id]);
  assert.is(cr.code, 0, cr.stderr);
  assert.is(runc(['start', id]).code, 0);
  const st = JSON.parse(runc(['state', id]).stdout) as { pid: number; status: string };
  assert.is(st.status, 'running');
  return st.pid;
}

async function deleteAndCheck(id: string, dir: string, name = id): Promise<void> {
  const d = runc(['delete', '--force', id]);
  assert.is(d.code, 0, d.stderr);
  assert.equal(list(), [], 'minidock-runc list is empty');
  // Processes killed by delete are reaped by PID 1 in its own time: a zombie holds no root.
  for (let i = 0; i < 100 && processesIn(dir, name).length; i++) await sleep(25);
  assert.equal(processesIn(dir, name), [], 'no process is rooted in the bundle');
  assert.not.ok(existsSync(join(state, id)), 'the state directory is removed');
}

const nsLinks = (pid: number | 'self'): Record<string, string> => Object.fromEntries(NS.map((n) => [n, readlinkSync(`/proc/${pid}/ns/${n}`)]));
/** "name=link" lines a shell inside prints for PID ("self" or 1). */
const nsScript = (who: string): string => NS.map((n) => `echo ${who}-${n}=$(readlink /proc/${who}/ns/${n})`).join('; ');
const field = (out: string, key: string): string | undefined => new RegExp(`^${key}[=:]\\s*(.*)$`, 'm').exec(out)?.[1];
const capBit = (hex: string, bit: number): boolean => ((BigInt(`0x${hex}`) >> BigInt(bit)) & 1n) === 1n;

for (const [kind, edit] of [['no user namespace', (_c: any) => {}], ['a user namespace', USERNS]] as const) {
  const tag = kind === 'no user namespace' ? 'plain' : 'userns';
  T(`${kind}: the exec'd process is in every namespace and cgroup of the container's init, sees its root, and its exit status passes through`, async () => {
    const id = `ns-${tag}`;
    const dir = bundle(id, edit);
    const pid = up(id, dir);
    const host = nsLinks('self');
    const init = nsLinks(pid);
    const r = runc(['exec', id, 'sh', '-c', `${nsScript('self')}; ${nsScript('1')}; echo cg-self=$(cat /proc/self/cgroup | tr '\\n' ' '); echo cg-init=$(cat /proc/1/cgroup | tr '\\n' ' '); ls -a / | grep -cxF ${marker(id)}; id; cat /proc/self/uid_map`]);
    assert.is(r.code, 0, r.stderr);
    const out = r.stdout;
    for (const n of NS) {
      assert.is(field(out, `self-${n}`), field(out, `1-${n}`), `${n}: the same namespace as PID 1 inside\n${out}`);
      assert.is(field(out, `1-${n}`), init[n], `${n}: PID 1 inside is the container's init`);
    }
    // Namespaces the container shares with the host are not entered (setns of one's own user
    // namespace is EINVAL) and stay the host's; the others are the container's own.
    for (const n of ['mnt', 'pid', 'net', 'ipc', 'uts']) assert.is.not(init[n], host[n], `${n} is the container's own`);
    if (tag === 'plain') assert.is(init.user, host.user, 'no user namespace: the host\'s');
    else assert.is.not(init.user, host.user, 'the container\'s user namespace');
    assert.is(field(out, 'cg-self'), field(out, 'cg-init'), 'in the container\'s cgroups');
    assert.ok(/^1$/m.test(out), `the container's root (its marker is at /)\n${out}`);
    assert.match(out, /uid=0\(root\) gid=0\(root\)/);
    if (tag === 'userns') assert.match(out, /^\s*0\s+100000\s+65536\s*$/m, 'root inside is host uid 100000');
    // Exit status: a code, and a signal as 128+N, as runc reports them.
    assert.is(runc(['exec', id, 'sh', '-c', 'exit 3']).code, 3);
    assert.is(runc(['exec', id, 'sh', '-c', 'kill -9 $$']).code, 137);
    assert.is(runc(['exec', id, 'sh', '-c', 'kill -15 $$']).code, 143);
    const missing = runc(['exec', id, 'no-such-command']);
    assert.is(missing.code, 127);
    assert.match(missing.stderr, /"no-such-command": executable file not found in \$PATH/);
    await deleteAndCheck(id, dir);
  });

  T(`${kind}: --detach --pid-file returns at once with the host pid of a live process in the container; delete ends it`, async () => {
    const id = `det-${tag}`;
    const dir = bundle(id, edit);
    const pid = up(id, dir);
    const pidFile = join(work, `${id}.pid`);
    const t0 = Date.now();
    const r = runc(['exec', '--detach', '--pid-file', pidFile, id, 'sleep', '300']);
    assert.is(r.code, 0, r.stderr);
    assert.ok(Date.now() - t0 < 10_000, 'returned without waiting for the process');
    const epid = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(epid > 0 && epid !== pid);
    assert.match(readFileSync(`/proc/${epid}/cmdline`, 'utf8'), /^sleep\x00300\x00$/);
    assert.equal(nsLinks(epid), nsLinks(pid), 'every namespace of the init');
    assert.is(readFileSync(`/proc/${epid}/cgroup`, 'utf8'), readFileSync(`/proc/${pid}/cgroup`, 'utf8'), 'its cgroups');
    assert.ok(existsSync(`/proc/${epid}/root/${marker(id)}`), 'rooted in the bundle');
    // No minidock process stays as its parent (runc's exec leaves it to the caller's subreaper).
    const ppid = Number(/^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${epid}/status`, 'utf8'))![1]);
    assert.not.match(readFileSync(`/proc/${ppid}/cmdline`, 'utf8'), /minidock/);
    const ps = JSON.parse(runc(['ps', '--format', 'json', id]).stdout) as number[];
    assert.ok(ps.includes(epid), 'ps lists it (it is in the container\'s cgroups)');
    await deleteAndCheck(id, dir);
    assert.ok(await ended(epid), 'delete --force ended the exec\'d process too');
  });
}

T('--user, --additional-gids, --cap, --cwd, --env, --no-new-privs: the process has what was asked', async () => {
  const id = 'flags';
  const dir = bundle(id);
  up(id, dir);
  const r = runc(['exec', '--user', '1000:1001', '-g', '5', '-g', '7', '--cap', 'CAP_SYS_ADMIN', '--cwd', '/tmp', '--env', 'FOO=bar baz', id,
    'sh', '-c', 'id; pwd; echo "FOO=$FOO"; grep -E "^(Cap|NoNewPrivs)" /proc/self/status']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^uid=1000 gid=1001 groups=5,7$/m);
  assert.match(r.stdout, /^\/tmp$/m);
  assert.match(r.stdout, /^FOO=bar baz$/m);
  // runc spec's bounding set (AUDIT_WRITE, KILL, NET_BIND_SERVICE) plus SYS_ADMIN; a non-root
  // uid keeps none effective, as with runc.
  const bnd = field(r.stdout, 'CapBnd')!;
  for (const bit of [29, 5, 10, 21]) assert.ok(capBit(bnd, bit), `bounding has bit ${bit}: ${bnd}`);
  assert.is(field(r.stdout, 'CapEff'), '0000000000000000');
  // Root with --cap gets it effective too; runc spec's noNewPrivileges is true already.
  const root = runc(['exec', '--cap', 'CAP_NET_ADMIN', id, 'grep', '-E', '^(CapEff|NoNewPrivs)', '/proc/self/status']);
  assert.is(root.code, 0, root.stderr);
  assert.is(field(root.stdout, 'CapEff'), '0000000020001420', 'AUDIT_WRITE, KILL, NET_BIND_SERVICE and NET_ADMIN');
  assert.is(field(root.stdout, 'NoNewPrivs'), '1');
  await deleteAndCheck(id, dir);
});

T('--process FILE: args, env, cwd, user, the five capability sets, rlimits and noNewPrivileges as a runtime-spec process object gives them', async () => {
  const id = 'procfile';
  const dir = bundle(id, (c) => { c.process.noNewPrivileges = false; });
  up(id, dir);
  const file = join(work, 'process.json');
  writeFileSync(file, JSON.stringify({
    terminal: false,
    user: { uid: 0, gid: 0, additionalGids: [9] },
    args: ['sh', '-c', 'id; pwd; echo "X=$X"; grep -E "^(Cap|NoNewPrivs)" /proc/self/status; cat /proc/self/limits'],
    env: ['PATH=/bin:/usr/bin', 'X=from-process-json'],
    cwd: '/etc',
    capabilities: { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL', 'CAP_CHOWN'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'] },
    rlimits: [{ type: 'RLIMIT_NOFILE', soft: 256, hard: 512 }],
    noNewPrivileges: true,
  }));
  const r = runc(['exec', '--process', file, id]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^uid=0\(root\) gid=0\(root\) groups=9/m);
  assert.match(r.stdout, /^\/etc$/m);
  assert.match(r.stdout, /^X=from-process-json$/m);
  // sh is exec'd by the shim: ambient KILL comes through execve; the other sets are as after it.
  assert.is(field(r.stdout, 'CapBnd'), '0000000000000021', 'bounding KILL, CHOWN');
  assert.is(field(r.stdout, 'CapInh'), '0000000000000020');
  assert.is(field(r.stdout, 'CapAmb'), '0000000000000020');
  assert.is(field(r.stdout, 'NoNewPrivs'), '1');
  assert.match(r.stdout, /^Max open files\s+256\s+512\s+files/m);
  const bad = runc(['exec', '--process', join(work, 'nope.json'), id]);
  assert.is(bad.code, 255, 'runc exits 255 when exec fails');
  assert.match(bad.stderr, /cannot read the process file/);
  await deleteAndCheck(id, dir);
});

T('the container\'s linux.seccomp filter applies to the exec\'d process', async () => {
  const id = 'seccomp';
  const dir = bundle(id, (c) => {
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
  });
  up(id, dir);
  const r = runc(['exec', id, 'sh', '-c', 'grep ^Seccomp: /proc/self/status; mkdir /tmp/x && echo made || echo refused']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Seccomp:\s+2$/m, 'in filter mode');
  assert.match(r.stdout, /^refused$/m, r.stdout + r.stderr);
  assert.match(r.stderr, /Operation not permitted/);
  await deleteAndCheck(id, dir);
});

T('--tty --console-socket: the pty master (from the container\'s devpts) reaches the socket and carries the process\'s terminal', async () => {
  const id = 'tty';
  const dir = bundle(id);
  up(id, dir);
  const sock = join(dir, 'console.sock');
  const receiver = consoleReceiver(sock, 'bye');
  await receiver.ready;
  const r = runc(['exec', '--tty', '--console-socket', sock, id, 'sh', '-c', 'tty; [ -t 0 ] && echo stdin-is-a-tty; echo bye; exit 4']);
  assert.is(r.code, 4, r.stderr);
  const said = await receiver.done;
  assert.match(said, /name \/dev\/pts\/\d+ 1\n/, 'one descriptor, named by its pty');
  assert.match(said, /\/dev\/pts\/\d+\r?\nstdin-is-a-tty\r?\nbye/, said);
  const refused = runc(['exec', '--detach', '--tty', id, 'true']);
  assert.is(refused.code, 255);
  assert.match(refused.stderr, /cannot allocate tty if minidock-runc will detach without setting console socket/);
  await deleteAndCheck(id, dir);
});

T('exec into a stopped container fails with runc\'s message, into a paused one too (unless --ignore-paused)', async () => {
  const id = 'stopped';
  const dir = bundle(id);
  const pid = up(id, dir);
  assert.is(runc(['pause', id]).code, 0);
  const paused = runc(['exec', id, 'true']);
  assert.is(paused.code, 255);
  assert.match(paused.stderr, /cannot exec in a paused container \(use --ignore-paused to override\)/);
  assert.is(runc(['resume', id]).code, 0);
  assert.is(runc(['kill', id, 'KILL']).code, 0);
  assert.ok(await ended(pid));
  assert.is(JSON.parse(runc(['state', id]).stdout).status, 'stopped');
  const r = runc(['exec', id, 'true']);
  assert.is(r.code, 255);
  assert.match(r.stderr, /exec failed: cannot exec in a stopped container/);
  const none = runc(['exec', 'no-such-container', 'true']);
  assert.is(none.code, 255);
  assert.match(none.stderr, /container "no-such-container" does not exist/);
  await deleteAndCheck(id, dir);
});

T('arguments after the id are the command\'s, even when they look like runc options', async () => {
  const id = 'args';
  const dir = bundle(id);
  up(id, dir);
  const r = runc(['exec', id, 'sh', '-c', 'echo "$@"', 'sh', '--version', '-t', '--debug', '--root', 'x']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '--version -t --debug --root x\n');
  await deleteAndCheck(id, dir);
});

T.run();
