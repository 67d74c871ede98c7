// minidock's image archives against a real docker (issue #15): Debian's dockerd, started by this
// file alone (its own data, exec and pid paths and socket under a temporary directory, in the
// test network namespace, no bridge, no iptables, its own cgroup parent) and stopped at the end.
// `docker load` of minidock's `save` gives the same image id and the same tree in a docker
// container; docker's own `commit` (its whiteouts) and `save` load into minidock with docker's
// id and run the same tree. Nothing of docker's is left: no process, mount, cgroup or file.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_TAR, TEST_NETNS, cgroupMounts, ensureTestNetns, leakChecked, mdk, newRoot, removeRoot, requireRootAndImages, snapshot } from '../helpers/cli.js';
import { layerTar, ociLayout } from '../helpers/image-layout.js';

requireRootAndImages();
if (!existsSync('/usr/sbin/dockerd') || !existsSync('/usr/bin/docker')) throw new Error('Debian\'s docker.io is missing: run bin/setup (it installs it, without starting its service)');
ensureTestNetns();
const work = mkdtempSync(join(tmpdir(), 'mdk-docker-'));
const root = newRoot('images-docker');
const sock = join(work, 'docker.sock');
const CG = `mdkdocker${process.pid}`;
// What dockerd writes outside its roots (Debian's 20.10): removed at the end if it was not there.
const hostPaths = ['/etc/docker/key.json', '/run/docker'].filter((p) => !existsSync(p));
writeFileSync(join(work, 'daemon.json'), '{}\n');
const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: join(work, 'client') };
delete env.NODE_EXTRA_CA_CERTS;
const daemon = spawn('nsenter', [`--net=/run/netns/${TEST_NETNS}`, '/usr/sbin/dockerd',
  '--data-root', join(work, 'data'), '--exec-root', join(work, 'exec'), '--pidfile', join(work, 'dockerd.pid'), '-H', `unix://${sock}`,
  '--config-file', join(work, 'daemon.json'), '--bridge', 'none', '--iptables=false', '--ip-forward=false', '--ip-masq=false', '--cgroup-parent', CG,
], { env, stdio: ['ignore', 'ignore', 'pipe'] });
let daemonLog = '';
daemon.stderr.on('data', (d) => (daemonLog = (daemonLog + d).slice(-4000)));
const docker = (args: string[]): { code: number; stdout: string; stderr: string } => {
  const r = spawnSync('/usr/bin/docker', ['-H', `unix://${sock}`, ...args], { encoding: 'utf8', env, timeout: 120_000, input: '' });
  return { code: r.status ?? 255, stdout: r.stdout, stderr: r.stderr };
};
for (let i = 0; i < 150 && docker(['version']).code !== 0; i++) spawnSync('sleep', ['0.2']);
if (docker(['version']).code !== 0) throw new Error(`dockerd did not start: ${daemonLog}`);

const before = snapshot(root);
const D = suite('images-docker');
D.after(async () => {
  docker(['rm', '-f', ...docker(['ps', '-aq']).stdout.split('\n').filter(Boolean)]);
  daemon.kill('SIGTERM'); // nsenter execs dockerd: this is dockerd itself
  for (let i = 0; i < 100 && daemon.exitCode === null && daemon.signalCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  const ours = (): string[] => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(work); } catch { return false; }
  });
  for (let i = 0; i < 50 && ours().length; i++) await new Promise((r) => setTimeout(r, 100));
  const mounts = (): string[] => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(work));
  assert.equal(ours(), [], 'no dockerd, containerd or shim of this file is left');
  assert.equal(mounts(), [], 'dockerd left no mount');
  for (const m of cgroupMounts()) if (existsSync(join(m, CG))) rmdirSync(join(m, CG));
  for (const p of hostPaths) rmSync(p, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
  removeRoot(root);
});
const T = leakChecked(D, root, before);
const ok = (args: string[]): string => {
  const r = mdk(root, args);
  assert.is(r.code, 0, `minidock ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const dok = (args: string[]): string => {
  const r = docker(args);
  assert.is(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

const L2 = layerTar(work, 'l2', { 't/a': 'one\n', 't/b': 'b\n', 't/old/x': 'x\n' });
const L3 = layerTar(work, 'l3', { 't/.wh.b': '', 't/old/.wh..wh..opq': '', 't/old/y': 'y\n' }, true);
const layout = ociLayout(join(work, 'oci'), [BUSYBOX_TAR, L2, L3], { tag: 'mdk-test/dk:1' });
const PROBE = 'cd /t && find . | sort | tr "\\n" " "; cat old/y';

T("docker load takes minidock's save: the same image id, and a docker container sees the same tree", () => {
  ok(['load', '-i', layout.dir]);
  const file = join(work, 'saved.tar');
  ok(['save', '-o', file, 'mdk-test/dk:1']);
  assert.is(dok(['load', '-i', file]), 'Loaded image: mdk-test/dk:1\n');
  assert.is(dok(['images', '-q', '--no-trunc', 'mdk-test/dk:1']).trim(), `sha256:${layout.id}`);
  const want = '. ./a ./old ./old/y y\n';
  assert.is(ok(['run', '--rm', '--network', 'none', 'mdk-test/dk:1', 'sh', '-c', PROBE]), want);
  assert.is(dok(['run', '--rm', '--network', 'none', 'mdk-test/dk:1', 'sh', '-c', PROBE]), want);
});

T("docker's commit and save load into minidock with docker's id, its whiteouts honoured", () => {
  dok(['run', '--name', 'c1', '--network', 'none', 'mdk-test/dk:1', 'sh', '-c', 'echo docker > /t/d; rm /t/a; rm -rf /t/old; mkdir /t/old']);
  dok(['commit', 'c1', 'mdk-test/fromdocker:1']);
  dok(['rm', 'c1']);
  const id = dok(['images', '-q', '--no-trunc', 'mdk-test/fromdocker:1']).trim();
  const file = join(work, 'docker-saved.tar');
  dok(['save', '-o', file, 'mdk-test/fromdocker:1']);
  assert.is(ok(['load', '-i', file]), 'Loaded image: mdk-test/fromdocker:1\n');
  assert.is(ok(['images', '-q', '--no-trunc', 'mdk-test/fromdocker:1']).trim(), id);
  const probe = 'cd /t && find . | sort | tr "\\n" " "; cat d';
  assert.is(ok(['run', '--rm', '--network', 'none', 'mdk-test/fromdocker:1', 'sh', '-c', probe]), '. ./d ./old docker\n');
  ok(['rmi', 'mdk-test/fromdocker:1', 'mdk-test/dk:1']);
});

D.run();
