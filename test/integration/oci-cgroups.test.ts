// minidock-runc's cgroups (issue #14): linux.cgroupsPath and linux.resources carried out on the
// host's real hierarchies, the device allowlist enforced for a container that is host root (no
// user namespace), and delete removing every directory it made. Real bundles, real kernel.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupMounts, cgroupsUnder, requireRootAndImages } from '../helpers/cli.js';
import { RUNC, ociBundle, runcIn } from '../helpers/oci.js';

requireRootAndImages();
const work = mkdtempSync(join(tmpdir(), 'mdk-ocicg-'));
const PARENT = `mdkocitest${process.pid}`;
const M = 1024 * 1024;
const Cg = suite('oci cgroups');
Cg.after(() => {
  for (const id of list()) runc(['delete', '--force', id]);
  rmSync(work, { recursive: true, force: true });
  for (const m of cgroupMounts()) spawnSync('rmdir', [join(m, PARENT)]);
});

const runc = runcIn(work);
const list = runc.list;
// A test that failed half-way leaves its container: deleted before the next test, which would
// otherwise count it as a leftover of its own and fail too.
Cg.after.each(() => {
  for (const id of list()) runc(['delete', '--force', id]);
});
/** Our cgroups left on the host, in every hierarchy. */
const leftovers = (): string[] => cgroupsUnder(PARENT);

const bundle = (name: string, script: string, edit: (c: any) => void): string => ociBundle(work, name, script, edit);

async function runToEnd(id: string, dir: string): Promise<string> {
  const cr = runc(['create', '--bundle', dir, id]);
  assert.is(cr.code, 0, cr.stderr);
  const st = runc(['start', id]);
  assert.is(st.code, 0, st.stderr);
  for (let i = 0; i < 100 && !/"status": "stopped"/.test(runc(['state', id]).stdout); i++) await new Promise((r) => setTimeout(r, 50));
  return readFileSync(join(dir, 'out/log'), 'utf8');
}

Cg('resources reach the container\'s own cgroups at cgroupsPath, and delete removes them all', async () => {
  const id = 'res';
  // runc spec's config has a cgroup mount and no cgroup namespace: the container's own
  // directories are bound there, so it reads its own limits.
  const dir = bundle(id, 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; ls /sys/fs/cgroup/memory | grep -c memory.limit; sleep 0.3', (c) => {
    c.linux.cgroupsPath = `/${PARENT}/${id}`;
    c.linux.resources.memory = { limit: 67108864 };
    c.linux.resources.pids = { limit: 20 };
    c.linux.resources.cpu = { shares: 512, quota: 50000, period: 100000 };
  });
  const cr = runc(['create', '--bundle', dir, id]);
  assert.is(cr.code, 0, cr.stderr);
  const pid = (JSON.parse(runc(['state', id]).stdout) as { pid: number }).pid;
  const mem = cgroupMounts().find((m) => existsSync(join(m, 'memory.limit_in_bytes')) || /memory/.test(m))!;
  assert.is(readFileSync(join(mem, PARENT, id, 'memory.limit_in_bytes'), 'utf8').trim(), '67108864');
  const pids = cgroupMounts().find((m) => /pids/.test(m))!;
  assert.is(readFileSync(join(pids, PARENT, id, 'pids.max'), 'utf8').trim(), '20');
  const cpu = cgroupMounts().find((m) => /cpu,cpuacct|\/cpu$/.test(m))!;
  assert.is(readFileSync(join(cpu, PARENT, id, 'cpu.shares'), 'utf8').trim(), '512');
  assert.is(readFileSync(join(cpu, PARENT, id, 'cpu.cfs_quota_us'), 'utf8').trim(), '50000');
  assert.match(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), new RegExp(`memory:/${PARENT}/${id}\n`), 'the waiting process is already in them');
  assert.is(runc(['start', id]).code, 0);
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 50));
  assert.is(readFileSync(join(dir, 'out/log'), 'utf8'), '67108864\n20\n1\n', 'inside: its own limits, and no other cgroup beside them');
  assert.is(runc(['delete', id]).code, 0);
  assert.equal(leftovers(), [], 'no cgroup left in any hierarchy');
  assert.equal(list(), []);
});

Cg('the device allowlist holds for a container that is host root: a node it may make, it may not open', async () => {
  const id = 'dev';
  const disk = readFileSync('/proc/partitions', 'utf8').split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f.length === 4 && /^\d+$/.test(f[0]!) && f[3] !== 'name')!;
  const dir = bundle(id, `mknod /dev/disk b ${disk[0]} ${disk[1]}; echo mknod=$?; head -c 1 /dev/disk >/dev/null; echo open=$?; head -c 1 /dev/zero | wc -c`, (c) => {
    c.linux.cgroupsPath = `/${PARENT}/${id}`;
    // runc spec's own deny-all, then this disk for mknod only; the default devices are added.
    c.linux.resources.devices.push({ allow: true, type: 'b', major: Number(disk[0]), minor: Number(disk[1]), access: 'm' });
    for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_MKNOD');
  });
  const out = await runToEnd(id, dir);
  assert.match(out, /mknod=0\n/, out);
  assert.match(out, /Operation not permitted\nopen=1\n/, 'the host disk cannot be opened');
  assert.match(out, /\n1\n$/, '/dev/zero, a default device, still works');
  assert.is(runc(['delete', id]).code, 0);
  assert.equal(leftovers(), []);
});

Cg('pause freezes every process of the container and resume thaws them; ps lists them from the cgroup', async () => {
  const id = 'frz';
  const dir = bundle(id, 'sleep 30 & while :; do date +%s%N > /out/tick; sleep 0.05; done', (c) => {
    c.linux.cgroupsPath = `/${PARENT}/${id}`;
  });
  assert.is(runc(['create', '--bundle', dir, id]).code, 0);
  assert.is(runc(['start', id]).code, 0);
  const tick = (): string => (existsSync(join(dir, 'out/tick')) ? readFileSync(join(dir, 'out/tick'), 'utf8') : '');
  for (let i = 0; i < 50 && !tick(); i++) await new Promise((r) => setTimeout(r, 50));
  const ps = JSON.parse(runc(['ps', '--format', 'json', id]).stdout) as number[];
  assert.ok(ps.length >= 2, `the shell and its sleep: ${ps}`);
  assert.match(runc(['ps', id]).stdout, /sleep 30/);
  const p = runc(['pause', id]);
  assert.is(p.code, 0, p.stderr);
  assert.match(runc(['state', id]).stdout, /"status": "paused"/);
  const frozenAt = tick();
  await new Promise((r) => setTimeout(r, 400));
  assert.is(tick(), frozenAt, 'nothing ran while paused');
  assert.is(runc(['delete', id]).code, 1, 'a paused container is not deleted without --force');
  assert.is(runc(['resume', id]).code, 0);
  // Thawed: the loop writes again (soon; a loaded CI machine may take more than a tick).
  for (let i = 0; i < 100 && tick() === frozenAt; i++) await new Promise((r) => setTimeout(r, 50));
  assert.is.not(tick(), frozenAt, 'it runs again');
  assert.is(runc(['pause', id]).code, 0);
  const d = runc(['delete', '--force', id]);
  assert.is(d.code, 0, d.stderr);
  // Dead at once; gone once the subreaper that inherited them (init here) has reaped them.
  for (let i = 0; i < 40 && ps.some((pid) => existsSync(`/proc/${pid}`)); i++) await new Promise((r) => setTimeout(r, 50));
  for (const pid of ps) assert.not.ok(existsSync(`/proc/${pid}`), `pid ${pid} is gone`);
  assert.equal(leftovers(), []);
  assert.equal(list(), []);
});

Cg('an unsupported resource is refused by name before anything is made', () => {
  const dir = bundle('bad', 'true', (c) => {
    c.linux.resources.rdma = { mlx5_1: { hcaHandles: 3 } };
    c.linux.cgroupsPath = `/${PARENT}/bad`;
  });
  const r = runc(['create', '--bundle', dir, 'bad']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /linux\.resources\.rdma/);
  // unified needs a v2 host: a hybrid one's cgroup2 holds no memory or pids (runc refuses it too).
  const h = readFileSync('/proc/self/mountinfo', 'utf8').includes(' - cgroup cgroup ');
  const dir2 = bundle('cg-bad2', 'true', (c) => {
    c.linux.resources.unified = { 'pids.max': '5' };
    c.linux.cgroupsPath = `/${PARENT}/cg-bad2`;
  });
  const r2 = runc(['create', '--bundle', dir2, 'cg-bad2']);
  if (h) assert.match(r2.stderr, /linux\.resources\.unified \(a cgroup v2 host only\)/);
  else assert.is(r2.code, 0, r2.stderr);
  runc(['delete', '--force', 'cg-bad2']);
  assert.equal(list(), []);
  assert.equal(leftovers(), []);
});

/** The file's first line in the container's directory of the hierarchy mounted at `mount`. */
const cgFile = (mount: string, id: string, name: string): string => readFileSync(join('/sys/fs/cgroup', mount, PARENT, id, name), 'utf8').split('\n')[0]!;
/** A whole disk of this machine (throttling needs a real block device), as "major:minor". */
const diskDev = (): string => {
  const blocks = readdirSync('/sys/block').filter((b) => !/^(loop|ram|zram|dm-)/.test(b));
  return readFileSync(`/sys/block/${blocks[0] ?? readdirSync('/sys/block')[0]}/dev`, 'utf8').trim();
};

// The blkio weight lives in BFQ's file (CFQ's blkio.weight is gone since 5.0), which exists only
// while the bfq scheduler is available: some hosts of this kind have it, some do not, and one may
// gain it when the module loads. The root cgroup never has the weight files, so a child made for
// the look tells.
const WEIGHT = ((): string | undefined => {
  const probe = join('/sys/fs/cgroup/blkio', `mdkprobe${process.pid}`);
  mkdirSync(probe);
  try {
    return ['blkio.bfq.weight', 'blkio.weight'].find((f) => existsSync(join(probe, f)));
  } finally {
    rmdirSync(probe);
  }
})();

Cg('cg-: every linux.resources field reaches its cgroup file on create; update (--resources and flags) rewrites them, created and running; refused when stopped', async () => {
  const id = 'cg-all';
  const [major, minor] = diskDev().split(':').map(Number) as [number, number];
  const dir = bundle(id, 'sleep 30', (c) => {
    c.linux.cgroupsPath = `/${PARENT}/${id}`;
    c.linux.resources.memory = { limit: 64 * M, reservation: 32 * M, swap: 96 * M, kernel: 64 * M, kernelTCP: 64 * M, swappiness: 20, disableOOMKiller: true, useHierarchy: true };
    c.linux.resources.cpu = { shares: 256, quota: 20000, period: 50000, burst: 1000, cpus: '0', mems: '0' };
    c.linux.resources.pids = { limit: 33 };
    c.linux.resources.blockIO = { ...(WEIGHT ? { weight: 300 } : {}), throttleReadBpsDevice: [{ major, minor, rate: M }], throttleWriteIOPSDevice: [{ major, minor, rate: 100 }] };
    // A hybrid host's hugetlb is on cgroup2 (unified): the 2 MB pages' limit goes there.
    c.linux.resources.hugepageLimits = [{ pageSize: '2MB', limit: 4 * M }];
  });
  const cr = runc(['--debug', 'create', '--bundle', dir, id]);
  assert.is(cr.code, 0, cr.stderr);
  assert.match(cr.stderr, /Kernel memory settings are ignored/, 'runc\'s warning for kernel memory');
  const want = (files: [string, string, string][]): void => {
    for (const [mount, name, value] of files) assert.is(cgFile(mount, id, name), value, `${mount}/${name}`);
  };
  want([
    ['memory', 'memory.limit_in_bytes', String(64 * M)], ['memory', 'memory.soft_limit_in_bytes', String(32 * M)],
    ['memory', 'memory.memsw.limit_in_bytes', String(96 * M)], ['memory', 'memory.swappiness', '20'],
    ['memory', 'memory.oom_control', 'oom_kill_disable 1'], ['memory', 'memory.use_hierarchy', '1'],
    ['memory', 'memory.kmem.tcp.limit_in_bytes', String(64 * M)],
    ['cpu', 'cpu.shares', '256'], ['cpu', 'cpu.cfs_quota_us', '20000'], ['cpu', 'cpu.cfs_period_us', '50000'], ['cpu', 'cpu.cfs_burst_us', '1000'],
    ['cpuset', 'cpuset.cpus', '0'], ['cpuset', 'cpuset.mems', '0'],
    ['pids', 'pids.max', '33'],
    ...(WEIGHT ? [['blkio', WEIGHT, '300'] as [string, string, string]] : []),
    ['blkio', 'blkio.throttle.read_bps_device', `${major}:${minor} ${M}`], ['blkio', 'blkio.throttle.write_iops_device', `${major}:${minor} 100`],
    ['unified', 'hugetlb.2MB.max', String(4 * M)],
  ]);
  // While created: linux.resources JSON on stdin (podman's way), merged onto the values in force.
  const res = join(work, `${id}.json`);
  writeFileSync(res, JSON.stringify({ memory: { limit: 128 * M, swap: 256 * M }, cpu: { quota: 30000 }, pids: { limit: 44 }, blockIO: { throttleReadBpsDevice: [{ major, minor, rate: 2 * M }] } }));
  const u1 = spawnSync('sh', ['-c', `${process.execPath} ${RUNC} --root ${join(work, 'state')} update -r - ${id} < ${res}`], { encoding: 'utf8' });
  assert.is(u1.status, 0, u1.stderr);
  want([
    // Raised above memsw in force: memsw went first, or the kernel would have refused memory.
    ['memory', 'memory.limit_in_bytes', String(128 * M)], ['memory', 'memory.memsw.limit_in_bytes', String(256 * M)],
    ['cpu', 'cpu.cfs_quota_us', '30000'], ['cpu', 'cpu.cfs_period_us', '50000'],
    ['pids', 'pids.max', '44'], ['blkio', 'blkio.throttle.read_bps_device', `${major}:${minor} ${2 * M}`], ['blkio', 'blkio.throttle.write_iops_device', `${major}:${minor} 100`],
  ]);
  assert.is(runc(['start', id]).code, 0);
  // Running: runc's flags, as podman update passes them.
  if (!WEIGHT) {
    // No weight file on this host: asked for anyway, the one-line error names the file.
    const nw = runc(['update', '--blkio-weight', '100', id]);
    assert.is(nw.code, 1);
    assert.match(nw.stderr, /cannot write "100" to \S+\/blkio\.bfq\.weight: ENOENT \(the kernel has no such cgroup file/);
  }
  const u2 = runc(['update', '--memory', '32m', '--memory-swap', '32m', '--memory-reservation', '16m', '--cpu-shares', '700', '--cpu-quota', '-1', '--cpuset-cpus', '0', '--pids-limit', '-1', ...(WEIGHT ? ['--blkio-weight', '100'] : []), id]);
  assert.is(u2.code, 0, u2.stderr);
  want([
    ['memory', 'memory.limit_in_bytes', String(32 * M)], ['memory', 'memory.memsw.limit_in_bytes', String(32 * M)], ['memory', 'memory.soft_limit_in_bytes', String(16 * M)],
    ['cpu', 'cpu.shares', '700'], ['cpu', 'cpu.cfs_quota_us', '-1'], ['pids', 'pids.max', 'max'], ...(WEIGHT ? [['blkio', WEIGHT, '100'] as [string, string, string]] : []),
  ]);
  // Paused: the freezer does not stand in the way of new limits.
  assert.is(runc(['pause', id]).code, 0);
  const u3 = runc(['update', '--pids-limit', '50', '--cpu-share', '800', id]);
  assert.is(u3.code, 0, u3.stderr);
  want([['pids', 'pids.max', '50'], ['cpu', 'cpu.shares', '800'], ['memory', 'memory.limit_in_bytes', String(32 * M)]]);
  assert.is(runc(['resume', id]).code, 0);
  // A limit below what the container uses fails with the kernel's reason, and changes nothing.
  const low = runc(['update', '--memory', '4k', '--memory-swap', '4k', id]);
  assert.is(low.code, 1);
  assert.match(low.stderr, /memory\.limit_in_bytes: EBUSY/);
  assert.is(cgFile('memory', id, 'memory.limit_in_bytes'), String(32 * M));
  assert.is(runc(['update', '--memory', 'lots', id]).code, 1);
  assert.is(runc(['kill', id, 'KILL']).code, 0);
  for (let i = 0; i < 100 && !/"status": "stopped"/.test(runc(['state', id]).stdout); i++) await new Promise((r) => setTimeout(r, 50));
  const stopped = runc(['update', '--memory', '64m', id]);
  assert.is(stopped.code, 1);
  assert.match(stopped.stderr, /container not running/);
  assert.is(runc(['delete', id]).code, 0);
  const gone = runc(['update', '--memory', '64m', id]);
  assert.match(gone.stderr, new RegExp(`container "${id}" does not exist`));
  assert.equal(leftovers(), [], 'no cgroup left in any hierarchy, cgroup2 with its hugetlb included');
  assert.equal(list(), []);
});

Cg('cg-: a memory limit is enforced on the container\'s process, and an update raises it while it runs', async () => {
  const id = 'cg-oom';
  // dd's 48 MB buffer is charged as it fills: over the 16 MB limit (no swap beyond it) the
  // kernel's OOM killer ends dd (137); after the update the same dd fits.
  const dir = bundle(id, 'dd if=/dev/zero of=/dev/null bs=48M count=1 2>/dev/null; echo first=$?; while [ ! -e /out/go ]; do sleep 0.05; done; dd if=/dev/zero of=/dev/null bs=48M count=1 2>/dev/null; echo second=$?; sleep 30', (c) => {
    c.linux.cgroupsPath = `/${PARENT}/${id}`;
    c.linux.resources.memory = { limit: 16 * M, swap: 16 * M };
  });
  assert.is(runc(['create', '--bundle', dir, id]).code, 0);
  assert.is(runc(['start', id]).code, 0);
  const log = (): string => (existsSync(join(dir, 'out/log')) ? readFileSync(join(dir, 'out/log'), 'utf8') : '');
  for (let i = 0; i < 200 && !/first=/.test(log()); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(log(), /first=137\n/, 'killed over the limit');
  assert.match(readFileSync(join('/sys/fs/cgroup/memory', PARENT, id, 'memory.oom_control'), 'utf8'), /oom_kill [1-9]/, 'by the OOM killer of its cgroup');
  const u = runc(['update', '--memory', '128m', '--memory-swap', '128m', id]);
  assert.is(u.code, 0, u.stderr);
  writeFileSync(join(dir, 'out/go'), '');
  for (let i = 0; i < 200 && !/second=/.test(log()); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(log(), /second=0\n/, 'fits under the raised limit');
  assert.is(runc(['delete', '--force', id]).code, 0);
  assert.equal(leftovers(), []);
  assert.equal(list(), []);
});

Cg('cg-: a shorter CFS period the old quota does not fit under its parent\'s quota is written again after the quota (runc\'s order)', async () => {
  const id = 'cg-per';
  // A parent of its own with half a CPU: the container's 0.4 CPU fits; the new period under the
  // old quota (40000/50000 = 0.8) does not until the quota is lowered, so the first write fails.
  const q = join('/sys/fs/cgroup/cpu', PARENT, 'q');
  spawnSync('mkdir', ['-p', q]);
  writeFileSync(join(q, 'cpu.cfs_quota_us'), '50000');
  const dir = bundle(id, 'sleep 30', (c) => {
    c.linux.cgroupsPath = `/${PARENT}/q/${id}`;
    c.linux.resources.cpu = { quota: 40000, period: 100000 };
  });
  const cr = runc(['create', '--bundle', dir, id]);
  assert.is(cr.code, 0, cr.stderr);
  const u = runc(['update', '--cpu-period', '50000', '--cpu-quota', '20000', id]);
  assert.is(u.code, 0, u.stderr);
  assert.is(readFileSync(join(q, id, 'cpu.cfs_period_us'), 'utf8').trim(), '50000');
  assert.is(readFileSync(join(q, id, 'cpu.cfs_quota_us'), 'utf8').trim(), '20000');
  // Over the parent's quota, EINVAL reaches the caller with the file that refused it.
  const over = runc(['update', '--cpu-quota', '45000', id]);
  assert.is(over.code, 1);
  assert.match(over.stderr, /cpu\.cfs_quota_us: EINVAL/);
  assert.is(runc(['delete', '--force', id]).code, 0);
  for (const m of cgroupMounts()) spawnSync('rmdir', [join(m, PARENT, 'q')]);
  assert.equal(leftovers(), []);
  assert.equal(list(), []);
});

Cg('cg-: a limit the kernel refuses fails create with the file and errno, and every directory made on the way is removed', () => {
  const id = 'cg-rt';
  // A realtime runtime needs its parents' budget: PARENT's cpu.rt_runtime_us is 0.
  const dir = bundle(id, 'true', (c) => {
    c.linux.cgroupsPath = `/${PARENT}/${id}`;
    c.linux.resources.memory = { limit: 64 * M };
    c.linux.resources.cpu = { realtimePeriod: 1000000, realtimeRuntime: 1000 };
  });
  const r = runc(['create', '--bundle', dir, id]);
  assert.is(r.code, 1);
  assert.match(r.stderr, new RegExp(`cannot write "1000" to /sys/fs/cgroup/cpu/${PARENT}/${id}/cpu.rt_runtime_us: EINVAL`));
  assert.equal(list(), []);
  assert.equal(leftovers(), [], 'the memory directory, written before, is gone too');
});

Cg.run();
