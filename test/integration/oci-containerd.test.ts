// A second real client of minidock-runc: Debian's containerd (1.6) and its runc shim
// (containerd-shim-runc-v2), driven with ctr's --runc-binary, as docker's own engine drives runc.
// The shim calls `create --bundle --pid-file [--console-socket]`, `start`, `state`, `kill`,
// `exec --process --detach --pid-file` and `delete`, with --root, --log and --log-format json.
//
// Isolation: a containerd of this file's own (its root, state, sockets and config in a private
// directory, started in the test network namespace and ended by its pid), a containerd
// namespace and a runc --root of its own. The rootfs is the busybox tree from images/, given
// with ctr's --rootfs (containerd's snapshotters are not what is tested). Each test ends with
// nothing left: no task or container in containerd, no shim, no container in minidock-runc's
// root, no process rooted in the rootfs, no cgroup.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_TAR, TEST_NETNS, cgroupMounts, cgroupsUnder, ensureTestNetns, killPid, requireRootAndImages, sh } from '../helpers/cli.js';
import { RUNC, processesIn, typedAtPrompt } from '../helpers/oci.js';

requireRootAndImages();
const missing = ['/usr/bin/containerd', '/usr/bin/ctr', '/usr/bin/containerd-shim-runc-v2'].find((p) => !existsSync(p));
if (missing) throw new Error(`${missing} is missing: run bin/setup (it installs containerd)`);
ensureTestNetns();

const work = mkdtempSync(join(tmpdir(), 'mdk-containerd-'));
const rootfs = join(work, 'rootfs');
const runcRoot = join(work, 'runc');
const sock = join(work, 'containerd.sock');
// ctr's namespace is also the first element of each container's cgroupsPath (/NS/ID).
const NS = `mdkctd${process.pid}`;
/** The shim gives the runtime --root RUNC_ROOT/NS. */
const runcState = (): string => join(runcRoot, NS);
mkdirSync(rootfs);
sh(`tar -xf ${BUSYBOX_TAR} -C ${rootfs}`);
writeFileSync(join(work, 'config.toml'), [
  'version = 2',
  `root = "${join(work, 'root')}"`,
  `state = "${join(work, 'state')}"`,
  // The CRI plugin wants CNI and an image service: not what this file tests.
  'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
  '[grpc]', `  address = "${sock}"`,
  '[ttrpc]', `  address = "${sock}.ttrpc"`,
  '[debug]', `  address = "${join(work, 'debug.sock')}"`,
  '',
].join('\n'));

const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS; // ~100 ms on every runtime call here, irrelevant to behaviour

let daemon: ChildProcess | undefined;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function startContainerd(): Promise<void> {
  daemon = spawn('nsenter', [`--net=/run/netns/${TEST_NETNS}`, 'containerd', '--config', join(work, 'config.toml')], {
    env, stdio: ['ignore', 'ignore', 'ignore'],
  });
  for (let i = 0; i < 200 && !existsSync(sock); i++) await sleep(25);
  assert.ok(existsSync(sock), 'containerd is serving');
}

interface Result { code: number; stdout: string; stderr: string }
function ctr(args: string[], timeout = 60_000): Result {
  const r = spawnSync('ctr', ['--address', sock, '-n', NS, ...args], { encoding: 'utf8', env, timeout, input: '' });
  return { code: r.status ?? 255, stdout: r.stdout, stderr: r.stderr };
}
const RUNTIME = ['--runc-binary', RUNC, '--runc-root', runcRoot];

const ourCgroups = (): string[] => cgroupsUnder(NS);
/** Shims of this file's containerd (their command line names its socket). */
const shims = (): number[] => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
  try { return /containerd-shim/.test(readFileSync(`/proc/${p}/cmdline`, 'latin1')) && readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(sock); } catch { return false; }
}).map(Number);
const lines = (s: string): string[] => s.split('\n').slice(1).map((l) => l.trim()).filter(Boolean);

/** Waits up to 10 s for `ctr task ls` to show the task STOPPED. */
async function stopped(id: string): Promise<void> {
  let row = '';
  for (let i = 0; i < 200 && !/STOPPED/.test(row); i++) {
    await sleep(50);
    row = lines(ctr(['task', 'ls']).stdout).find((l) => l.startsWith(`${id} `)) ?? '';
  }
  assert.match(row, /STOPPED/, `task ${id} stopped`);
}

async function assertNothingLeft(): Promise<void> {
  for (let i = 0; i < 100 && shims().length; i++) await sleep(50);
  assert.equal(shims(), [], 'no shim is left');
  assert.equal(lines(ctr(['task', 'ls']).stdout), [], 'containerd has no task');
  assert.equal(lines(ctr(['container', 'ls']).stdout), [], 'containerd has no container');
  assert.equal(existsSync(runcState()) ? readdirSync(runcState()) : [], [], "minidock-runc's root is empty");
  assert.equal(processesIn(rootfs, 'containerd'), [], 'no process is rooted in the rootfs');
  assert.equal(ourCgroups(), [], 'no container cgroup is left');
  assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(rootfs)), [], 'no mount of the rootfs is left');
}

/** Removes whatever a failed test left: tasks killed, then tasks and containers deleted. */
function sweep(): void {
  for (const id of ctr(['container', 'ls', '-q']).stdout.split('\n').filter(Boolean)) {
    ctr(['task', 'kill', '-s', 'KILL', id]);
    spawnSync('sleep', ['0.2']);
    ctr(['task', 'rm', '-f', id]);
    ctr(['container', 'rm', id]);
  }
}

const T = suite('containerd (ctr --runc-binary minidock-runc)');
T.before(startContainerd);
T.after.each(sweep);
T.after(async () => {
  sweep();
  if (daemon?.pid) killPid(daemon.pid);
  await new Promise((r) => (daemon && daemon.exitCode === null ? daemon.on('exit', r) : r(undefined)));
  for (const m of cgroupMounts()) spawnSync('rmdir', [join(m, NS)]);
  for (const l of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((x) => x.includes(work)).reverse()) spawnSync('umount', ['-l', l.split(' ')[4]!]);
  rmSync(work, { recursive: true, force: true });
});

T('ctr run --rm: the output and the exit status come back through the shim', async () => {
  const r = ctr(['run', '--rm', ...RUNTIME, '--rootfs', rootfs, 'ctd-rm', 'sh', '-c', 'echo hello through containerd; cat /proc/self/cgroup | grep -c ctd-rm; exit 3']);
  assert.is(r.code, 3, r.stderr);
  const [hello, inCgroup] = r.stdout.trim().split('\n');
  assert.is(hello, 'hello through containerd');
  assert.ok(Number(inCgroup) > 0, 'the process is in the cgroup containerd asked for (/NS/ID)');
  await assertNothingLeft();
});

T('ctr run -d, task exec, task ps, task kill (the container\'s own SIGTERM handler), task rm', async () => {
  const d = ctr(['run', '-d', ...RUNTIME, '--rootfs', rootfs, 'ctd-d', 'sh', '-c', 'trap "exit 9" TERM; while :; do sleep 0.1; done']);
  assert.is(d.code, 0, d.stderr);
  assert.equal(readdirSync(runcState()), ['ctd-d'], 'the task is minidock-runc\'s');
  const st = JSON.parse(spawnSync(process.execPath, [RUNC, '--root', runcState(), 'state', 'ctd-d'], { encoding: 'utf8', env }).stdout);
  assert.is(st.status, 'running');
  const ex = ctr(['task', 'exec', '--exec-id', 'e1', 'ctd-d', 'sh', '-c', 'echo in-exec; tr "\\0" " " </proc/1/cmdline; exit 4']);
  assert.is(ex.code, 4, ex.stderr);
  assert.match(ex.stdout, /^in-exec\nsh -c trap/);
  const ps = lines(ctr(['task', 'ps', 'ctd-d']).stdout);
  assert.ok(ps.some((l) => l.startsWith(`${st.pid} `)), `task ps lists PID 1 (${st.pid}): ${ps.join('; ')}`);
  assert.is(ctr(['task', 'kill', 'ctd-d']).code, 0);
  await stopped('ctd-d');
  const rm = ctr(['task', 'rm', 'ctd-d']);
  assert.is(rm.code, 0, rm.stderr);
  assert.match(rm.stderr, /exit code 9\b/, 'the trap\'s exit status reached containerd');
  assert.is(ctr(['container', 'rm', 'ctd-d']).code, 0);
  await assertNothingLeft();
});

T('ctr run -t: the terminal through the shim\'s console socket', async () => {
  const { code, seen } = await typedAtPrompt(['ctr', '--address', sock, '-n', NS, 'run', '--rm', '-t', ...RUNTIME, '--rootfs', rootfs, 'ctd-tty', 'sh'],
    'tty; [ -t 1 ] && echo "stdout is a tty"; exit 6', env);
  assert.is(code, 6, seen);
  assert.match(seen, /\/dev\/console/);
  assert.match(seen, /stdout is a tty/);
  await assertNothingLeft();
});

T('--memory-limit is enforced: the limit is in the container\'s cgroup, and a process using more is killed', async () => {
  const limit = 20 * 1024 * 1024;
  const d = ctr(['run', '-d', ...RUNTIME, '--memory-limit', String(limit), '--rootfs', rootfs, 'ctd-mem', 'sh', '-c',
    'sleep 0.5; x=$(head -c 60000000 /dev/zero | tr "\\0" a); echo survived']);
  assert.is(d.code, 0, d.stderr);
  const v1 = cgroupMounts().find((m) => m.endsWith('/memory'));
  const file = v1 ? join(v1, NS, 'ctd-mem', 'memory.limit_in_bytes') : join(cgroupMounts().find((m) => /cgroup$/.test(m))!, NS, 'ctd-mem', 'memory.max');
  assert.is(readFileSync(file, 'utf8').trim(), String(limit));
  await stopped('ctd-mem');
  const rm = ctr(['task', 'rm', 'ctd-mem']);
  assert.match(rm.stdout + rm.stderr, /exit code 137/, 'the shell was OOM-killed (SIGKILL)');
  ctr(['container', 'rm', 'ctd-mem']);
  await assertNothingLeft();
});

T.run();
