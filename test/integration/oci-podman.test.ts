// A real client of minidock-runc: Debian's podman (4.3, through conmon) with `--runtime` pointing
// at bin/minidock-runc.js, as issue #14 asks. podman writes the OCI bundle (its own defaults:
// sysctls, masked paths, seccomp profile, cgroupsPath), conmon calls `create --console-socket`,
// `start`, `state`, `kill`, `delete` and `exec --process --detach`, and reads errors from
// `--log`. Nothing is mocked: the containers, cgroups, CNI bridge and iptables rules are real.
//
// Isolation: podman's storage, run and tmp directories, its CNI configuration and IPAM data, the
// runtime's --root (given by a two-line wrapper podman calls) and the cgroup parent are this file's; every podman command runs in the
// test network namespace (nsenter --net), so its bridge, veths and portmap rules live and die
// there. podman's default crun refuses this host's hybrid cgroups (and root lacks
// CAP_SYS_RESOURCE to raise a hard rlimit), so every run passes --ulimit with our hard limits.
// The images are run with --rootfs (the busybox tree from images/): podman's image store is
// not what is tested here.
//
// Each test ends with nothing left: no podman container, no minidock-runc container, no process
// rooted in the rootfs, no cgroup but podman's own conmon directory, no network namespace.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_TAR, TEST_NETNS, cgroupMounts, cgroupsUnder, ensureTestNetns, requireRootAndImages, sh } from '../helpers/cli.js';
import { cniCacheCleanup, curlUntil, podmanUlimits } from '../helpers/podman.js';
import { RUNC, processesIn, typedAtPrompt } from '../helpers/oci.js';

requireRootAndImages();
const PODMAN = ['/usr/bin/podman', '/usr/bin/conmon'].find((p) => !existsSync(p));
if (PODMAN) throw new Error(`${PODMAN} is missing: run bin/setup (it installs podman)`);
ensureTestNetns();

const work = mkdtempSync(join(tmpdir(), 'mdk-podman-'));
const rootfs = join(work, 'rootfs');
const rtRoot = join(work, 'runtime');
const RUNTIME = join(work, 'minidock-runc');
writeFileSync(RUNTIME, `#!/bin/sh\nexec ${process.execPath} ${RUNC} --root ${rtRoot} "$@"\n`, { mode: 0o755 });
const netDir = join(work, 'cni');
const www = join(work, 'www');
mkdirSync(rootfs);
sh(`tar -xf ${BUSYBOX_TAR} -C ${rootfs}`);
mkdirSync(netDir);
mkdirSync(www);
writeFileSync(join(www, 'index.html'), 'served by a podman container on minidock-runc\n');

// A cgroup parent of this file's own (podman puts "libpod-ID" and its "conmon" there), and a CNI
// network of its own: bridge and subnet no other test file uses.
const CG_PARENT = `mdkpodman${process.pid}`;
const NET = 'mdkpodman';
const BRIDGE = `mdkpm${process.pid % 100000}`;
const SUBNET = '10.160.0';
writeFileSync(join(netDir, `${NET}.conflist`), JSON.stringify({
  cniVersion: '0.4.0',
  name: NET,
  plugins: [
    {
      type: 'bridge', bridge: BRIDGE, isGateway: true, ipMasq: true, hairpinMode: true,
      ipam: { type: 'host-local', dataDir: join(work, 'ipam'), routes: [{ dst: '0.0.0.0/0' }], ranges: [[{ subnet: `${SUBNET}.0/24`, gateway: `${SUBNET}.1` }]] },
    },
    { type: 'portmap', capabilities: { portMappings: true } },
    { type: 'firewall', backend: 'iptables' },
    { type: 'tuning' },
  ],
}));

const ULIMITS = podmanUlimits();

const GLOBAL = [
  '--root', join(work, 'storage'), '--runroot', join(work, 'run'), '--tmpdir', join(work, 'tmp'),
  '--network-config-dir', netDir, '--cgroup-manager', 'cgroupfs', '--events-backend', 'file',
  // minidock-runc through a two-line wrapper that gives it this file's --root: podman 4.3 passes
  // --runtime-flag to create and start but not to delete, and the default root is shared with
  // anyone else's use of minidock-runc (the conformance runner force-deletes what it finds there).
  '--runtime', RUNTIME,
];
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS; // ~100 ms on every runtime call here, irrelevant to behaviour

interface Result { code: number; stdout: string; stderr: string }

/** One podman command in the test network namespace. */
function podman(args: string[], timeout = 60_000): Result {
  // In the work directory: conmon leaves a file named "oom" in its working directory when its
  // container is OOM-killed.
  const r = spawnSync('nsenter', [`--net=/run/netns/${TEST_NETNS}`, 'podman', ...GLOBAL, ...args], { encoding: 'utf8', env, timeout, input: '', cwd: work });
  return { code: r.status ?? 255, stdout: r.stdout, stderr: r.stderr };
}
const ok = (args: string[]): string => {
  const r = podman(args);
  assert.is(r.code, 0, `podman ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
/** `podman run` options every container here takes. */
const runOpts = (): string[] => [...ULIMITS, '--cgroup-parent', `/${CG_PARENT}`];

/** What is under our cgroup parent, in every hierarchy, but podman's own conmon directory. */
const ourCgroups = (): string[] => cgroupsUnder(CG_PARENT, ['conmon']);
/** podman's network namespaces (it names them cni-UUID under /run/netns): other test files make
 *  and delete namespaces of their own there meanwhile. */
const netnsList = (): string[] => (existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith('cni-')).sort() : []);
const runtimeIds = (): string[] => (existsSync(rtRoot) ? readdirSync(rtRoot).sort() : []);
/** conmon and `podman container cleanup` (conmon's exit command) of this file's containers. */
const podmanHelpers = (): number[] => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
  try { return readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(join(work, 'storage')); } catch { return false; }
}).map(Number);

let netnsBefore: string[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Nothing of this file's containers is left (conmon's exit command may still be finishing:
 *  up to 5 s for it). */
async function assertNothingLeft(): Promise<void> {
  for (let i = 0; i < 100 && podmanHelpers().length; i++) await sleep(50);
  assert.equal(podmanHelpers(), [], 'no conmon or podman cleanup process is left');
  assert.is(ok(['ps', '-aq']).trim(), '', 'podman lists no container');
  assert.equal(runtimeIds(), [], "minidock-runc's state root is empty");
  assert.equal(processesIn(rootfs, 'podman'), [], 'no process is rooted in the rootfs');
  assert.equal(ourCgroups(), [], 'no container cgroup is left under the parent');
  assert.equal(netnsList(), netnsBefore, "podman's network namespaces are gone");
  assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(join(work, 'run')) || l.includes(rootfs)), [], 'no mount of a container is left');
}

const T = suite('podman --runtime minidock-runc');
const cniCache = cniCacheCleanup();
T.before(() => {
  netnsBefore = netnsList();
});
T.after.each(() => {
  podman(['rm', '-af', '-t', '0']);
});
T.after(() => {
  podman(['rm', '-af', '-t', '0']);
  // podman's storage keeps its own mounts (overlay's private bind of the graph root): unmount
  // what names our work directory, then the parent cgroups podman made.
  spawnSync('podman', [...GLOBAL, 'system', 'reset', '-f'], { env, input: '' });
  for (const l of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((x) => x.includes(work)).reverse()) spawnSync('umount', ['-l', l.split(' ')[4]!]);
  for (const m of cgroupMounts()) {
    spawnSync('rmdir', [join(m, CG_PARENT, 'conmon'), join(m, CG_PARENT)]);
  }
  rmSync(work, { recursive: true, force: true });
  cniCache();
});

T('run --rm: the output, the exit status, and podman\'s own defaults (sysctls, masked paths) carried out', async () => {
  const r = podman(['run', '--rm', ...runOpts(), '--network', 'none', '--rootfs', rootfs, 'sh', '-c',
    'echo hello from minidock-runc; cat /proc/sys/net/ipv4/ping_group_range; cat /proc/timer_list 2>&1 | wc -c; exit 7']);
  assert.is(r.code, 7, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines[0], 'hello from minidock-runc');
  // containers.conf's default_sysctls: net.ipv4.ping_group_range=0 0.
  assert.match(lines[1]!, /^0\s+0$/);
  // /proc/timer_list is one of podman's masked paths: /dev/null reads nothing. (This kernel
  // has no /proc/kcore.)
  assert.is(lines[2]!.trim(), '0');
  await assertNothingLeft();
});

T('run -d, then exec, logs, stop (the container\'s own SIGTERM handler), rm', async () => {
  const id = ok(['run', '-d', '--name', 'pm-detached', ...runOpts(), '--network', 'none', '--rootfs', rootfs, 'sh', '-c',
    'echo started; trap "echo got TERM; exit 3" TERM; while :; do sleep 0.1; done']).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.equal(runtimeIds(), [id], 'the container is minidock-runc\'s');
  const state = JSON.parse(spawnSync(process.execPath, [RUNC, '--root', rtRoot, 'state', id], { encoding: 'utf8', env }).stdout);
  assert.is(state.status, 'running');
  // exec joins the container: it sees PID 1's command line.
  const ex = ok(['exec', 'pm-detached', 'sh', '-c', 'echo in-exec; tr "\\0" " " </proc/1/cmdline']);
  assert.match(ex, /^in-exec\nsh -c echo started/);
  const exCode = podman(['exec', 'pm-detached', 'sh', '-c', 'exit 5']);
  assert.is(exCode.code, 5, 'exec passes the process\'s exit status through');
  for (let i = 0; i < 40 && !ok(['logs', 'pm-detached']).includes('started'); i++) await sleep(50);
  assert.is(ok(['logs', 'pm-detached']), 'started\n');
  ok(['stop', '-t', '10', 'pm-detached']);
  assert.is(ok(['inspect', 'pm-detached', '--format', '{{.State.ExitCode}}']).trim(), '3');
  assert.match(ok(['logs', 'pm-detached']), /got TERM/);
  ok(['rm', 'pm-detached']);
  await assertNothingLeft();
});

T('run -it: the terminal through --console-socket', async () => {
  const { code, seen } = await typedAtPrompt(['nsenter', `--net=/run/netns/${TEST_NETNS}`, 'podman', ...GLOBAL, 'run', '-it', '--rm', ...runOpts(), '--network', 'none', '--rootfs', rootfs, 'sh'],
    'tty; [ -t 0 ] && echo "stdin is a tty"; exit 4', env);
  assert.is(code, 4, seen);
  assert.match(seen, /\/dev\/(console|pts\/\d+)/);
  assert.match(seen, /stdin is a tty/);
  await assertNothingLeft();
});

T('-p 8080:80 on podman\'s own (CNI) network answers on localhost and on the container\'s address', async () => {
  ok(['run', '-d', '--name', 'pm-web', ...runOpts(), '--network', NET, '-p', '8080:80', '-v', `${www}:/www:ro`, '--rootfs', rootfs, 'httpd', '-f', '-p', '80', '-h', '/www']);
  const ip = ok(['inspect', 'pm-web', '--format', '{{.NetworkSettings.Networks.mdkpodman.IPAddress}}']).trim();
  assert.ok(ip.startsWith(`${SUBNET}.`), ip);
  const curl = curlUntil;
  assert.is(curl('http://127.0.0.1:8080/'), 'served by a podman container on minidock-runc\n');
  assert.is(curl(`http://${ip}:80/`), 'served by a podman container on minidock-runc\n');
  // httpd as PID 1 has no SIGTERM handler (the kernel ignores it there): -t 0 kills at once.
  ok(['rm', '-f', '-t', '0', 'pm-web']);
  assert.equal(sh(`nsenter --net=/run/netns/${TEST_NETNS} iptables-save -t nat`).split('\n').filter((l) => l.includes('8080')), [], 'the portmap rules are gone');
  await assertNothingLeft();
});

T('--memory is enforced: the limit is in the cgroup, and a process using more is killed', async () => {
  const r = podman(['run', '--rm', ...runOpts(), '--network', 'none', '--memory', '20m', '--memory-swap', '20m', '--rootfs', rootfs, 'sh', '-c',
    'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; x=$(head -c 60000000 /dev/zero | tr "\\0" a); echo survived']);
  assert.is(r.stdout.split('\n')[0], String(20 * 1024 * 1024));
  assert.not.match(r.stdout, /survived/);
  assert.is(r.code, 137, `the shell is OOM-killed (SIGKILL): ${r.stderr}`);
  await assertNothingLeft();
});

T.run();
