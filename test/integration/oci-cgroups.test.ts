// minidock-runc's cgroups (issue #14): linux.cgroupsPath and linux.resources carried out on the
// host's real hierarchies, the device allowlist enforced for a container that is host root (no
// user namespace), and delete removing every directory it made. Real bundles, real kernel.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireRootAndImages } from '../helpers/cli.js';
import { ociBundle, runcIn } from '../helpers/oci.js';

requireRootAndImages();
const work = mkdtempSync(join(tmpdir(), 'mdk-ocicg-'));
const PARENT = `mdkocitest${process.pid}`;
const Cg = suite('oci cgroups');
Cg.after(() => {
  for (const id of list()) runc(['delete', '--force', id]);
  rmSync(work, { recursive: true, force: true });
  for (const m of cgroupMounts()) spawnSync('rmdir', [join(m, PARENT)]);
});

const runc = runcIn(work);
const list = runc.list;
const cgroupMounts = (): string[] =>
  readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => / - cgroup2? /.test(l)).map((l) => l.split(' ')[4]!);
/** Our cgroups left on the host, in every hierarchy. */
const leftovers = (): string[] => cgroupMounts().flatMap((m) => (existsSync(join(m, PARENT)) ? readdirSync(join(m, PARENT), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `${m}/${PARENT}/${e.name}`) : []));

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
  await new Promise((r) => setTimeout(r, 400));
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
    c.linux.resources.hugepageLimits = [{ pageSize: '2MB', limit: 1 }];
    c.linux.cgroupsPath = `/${PARENT}/bad`;
  });
  const r = runc(['create', '--bundle', dir, 'bad']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /linux\.resources\.hugepageLimits/);
  assert.equal(list(), []);
  assert.equal(leftovers(), []);
});

Cg.run();
