// A real client of minidock-cni (issue #17): Debian's podman (4.3) with its CNI backend, a
// private containers.conf whose cni_plugin_dirs holds bin/minidock-cni under the name
// "minidock", and a conflist of that type in a private network config directory. podman makes
// the container's network namespace, calls ADD with its port mappings and DEL when the
// container goes; the OCI runtime is Debian's runc (podman's crun refuses hybrid cgroups).
// Every podman command runs in the test network namespace, so the bridge and rules live there.
// At the end nothing of the container is left: no lease, record, rule, veth or namespace.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUSYBOX_TAR, TEST_NETNS, cgroupMounts, cgroupsUnder, ensureTestNetns, inNetns, mdk, requireRootAndImages, sh } from '../helpers/cli.js';
import { cniCacheCleanup, curlUntil, podmanUlimits } from '../helpers/podman.js';

requireRootAndImages();
for (const p of ['/usr/bin/podman', '/usr/bin/conmon', '/usr/bin/runc']) if (!existsSync(p)) throw new Error(`${p} is missing: run bin/setup (it installs podman)`);
ensureTestNetns();
const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const work = mkdtempSync(join(tmpdir(), 'mdk-cnipodman-'));
const rootfs = join(work, 'rootfs');
const www = join(work, 'www');
const plugins = join(work, 'plugins');
const netDir = join(work, 'net.d');
const data = join(work, 'minidock');
for (const d of [rootfs, www, plugins, netDir]) mkdirSync(d);
sh(`tar -xf ${BUSYBOX_TAR} -C ${rootfs}`);
writeFileSync(join(www, 'index.html'), 'served through minidock-cni\n');
symlinkSync(join(REPO, 'bin/minidock-cni'), join(plugins, 'minidock'));
const NET = 'mdkcnipodman';
const BRIDGE = `mdkcp${process.pid % 100000}`;
const SUBNET = '10.133.0';
writeFileSync(join(netDir, `${NET}.conflist`), JSON.stringify({
  cniVersion: '1.0.0', name: NET,
  plugins: [{ type: 'minidock', bridge: BRIDGE, subnet: `${SUBNET}.0/24`, dataDir: data, capabilities: { portMappings: true } }],
}));
const CONF = join(work, 'containers.conf');
writeFileSync(CONF, `[network]\nnetwork_backend = "cni"\ncni_plugin_dirs = ["${plugins}", "/usr/lib/cni"]\nnetwork_config_dir = "${netDir}"\n`);

const ULIMITS = podmanUlimits();
const CG_PARENT = `mdkcnipodman${process.pid}`;
const GLOBAL = [
  '--root', join(work, 'storage'), '--runroot', join(work, 'run'), '--tmpdir', join(work, 'tmp'),
  '--network-config-dir', netDir, '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--runtime', 'runc',
];
const env: NodeJS.ProcessEnv = { ...process.env, CONTAINERS_CONF: CONF };
delete env.NODE_EXTRA_CA_CERTS;
const podman = (args: string[]): { code: number; stdout: string; stderr: string } => {
  const r = spawnSync('nsenter', [`--net=/run/netns/${TEST_NETNS}`, 'podman', ...GLOBAL, ...args], { encoding: 'utf8', env, timeout: 60_000, input: '', cwd: work });
  return { code: r.status ?? 255, stdout: r.stdout, stderr: r.stderr };
};
const ok = (args: string[]): string => {
  const r = podman(args);
  assert.is(r.code, 0, `podman ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const netnsList = (): string[] => (existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith('cni-')).sort() : []);
const listing = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith('.')) : []);

const P = suite('podman with minidock-cni');
const cniCache = cniCacheCleanup();
let netnsBefore: string[] = [];
P.before(() => {
  netnsBefore = netnsList();
});
P.after(() => {
  podman(['rm', '-af', '-t', '0']);
  spawnSync('podman', [...GLOBAL, 'system', 'reset', '-f'], { env, input: '' });
  spawnSync('ip', ['-n', TEST_NETNS, 'link', 'del', BRIDGE]);
  // The cgroup parent podman made for conmon, in every hierarchy (empty by now).
  for (const m of cgroupMounts()) spawnSync('sh', ['-c', `find ${m}/${CG_PARENT} -depth -type d -exec rmdir {} + 2>/dev/null; true`]);
  rmSync(work, { recursive: true, force: true });
  cniCache();
});

P('podman run -p 18120:80 on a minidock network answers on localhost and on the container\'s address; rm takes its attachment away', async () => {
  ok(['run', '-d', '--name', 'pmc-web', ...ULIMITS, '--cgroup-parent', `/${CG_PARENT}`, '--network', NET, '-p', '18120:80', '-v', `${www}:/www:ro`, '--rootfs', rootfs, 'httpd', '-f', '-p', '80', '-h', '/www']);
  const ip = ok(['inspect', 'pmc-web', '--format', `{{(index .NetworkSettings.Networks "${NET}").IPAddress}}`]).trim();
  assert.is(ip, `${SUBNET}.2`, 'the address minidock leased, as podman reports it');
  assert.equal(listing(join(data, 'networks', NET, 'leases')), [ip]);
  assert.is(listing(join(data, 'cni', 'attachments')).length, 1);
  const curl = curlUntil;
  assert.is(curl('http://127.0.0.1:18120/'), 'served through minidock-cni\n', 'localhost');
  assert.is(curl(`http://${ip}:80/`), 'served through minidock-cni\n', 'the container\'s address');
  ok(['rm', '-f', '-t', '0', 'pmc-web']);
  assert.equal(listing(join(data, 'networks', NET, 'leases')), [], 'the lease released on DEL');
  assert.equal(listing(join(data, 'cni', 'attachments')), [], 'the record removed');
  assert.equal(listing(join(data, 'ports')), [], 'the host port released');
  assert.equal(inNetns('iptables-save').split('\n').filter((l) => l.includes('18120') || l.includes(`${SUBNET}.2`)), [], 'no rule for the container');
  assert.equal(inNetns('ip -o link show').split('\n').filter((l) => l.includes(`master ${BRIDGE}`)), [], 'no veth on the bridge');
  assert.equal(netnsList(), netnsBefore, "podman's network namespace is gone");
  assert.is(mdk(data, ['network', 'rm', NET]).code, 0, 'the network goes with minidock network rm');
  assert.equal(cgroupsUnder(CG_PARENT, ['conmon']), [], 'no container cgroup is left');
});

P.run();
