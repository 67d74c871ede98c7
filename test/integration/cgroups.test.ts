// Resource limits for real: the kernel's OOM killer, a fork bomb against pids.max, a CFS quota
// measured over a window, the cgroup namespace and its read-only mounts, stats and update, and
// no cgroup left after rm. Works on v1, hybrid and v2 hosts: the test reads which it is on.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_TAR, CGROUP_PARENT, killPid, leakChecked, mdk, mdkSpawn, newRoot, removeRoot, requireRootAndImages, snapshot, testCgroups } from '../helpers/cli.js';

requireRootAndImages();
const root = newRoot('cgroups');
const imp = mdk(root, ['import', '-c', 'CMD ["sh"]', BUSYBOX_TAR, 'busybox']);
if (imp.code !== 0) throw new Error(`import failed: ${imp.stderr}`);
const before = snapshot(root);
const Cg = suite('cgroups');
Cg.after(() => removeRoot(root));
const T = leakChecked(Cg, root, before);
const run = (...args: string[]) => mdk(root, ['run', '--rm', '--network', 'none', ...args]);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Where a controller lives on this host: a v1 hierarchy of its own, or cgroup2. */
const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => / - cgroup2? /.test(l));
const v1Mount = (c: string): string | undefined =>
  mounts.filter((l) => / - cgroup /.test(l) && l.split(' - ')[1]!.split(' ')[2]!.split(',').includes(c)).map((l) => l.split(' ')[4]!)[0];
const v2Mount = mounts.filter((l) => / - cgroup2 /.test(l)).map((l) => l.split(' ')[4]!)[0];
/** The host path of a container's cgroup file for a controller. */
function cgFile(id: string, c: string, v1: string, v2: string): string {
  const m = v1Mount(c);
  return m ? join(m, CGROUP_PARENT, id, v1) : join(v2Mount!, CGROUP_PARENT, id, v2);
}
const read = (f: string): string => readFileSync(f, 'utf8').trim();
const idOf = (name: string): string => readFileSync(join(root, 'names', name), 'utf8');

T('limits land in the container\'s cgroups, which it sees as its root, read-only', () => {
  assert.is(mdk(root, ['run', '-d', '--network', 'none', '--name', 'lim', '-m', '64m', '--memory-swap', '96m', '--pids-limit', '50', '--cpus', '0.5', '--cpu-shares', '512', '--cpuset-cpus', '0', 'busybox', 'sleep', '60']).code, 0);
  try {
    const id = idOf('lim');
    assert.is(read(cgFile(id, 'memory', 'memory.limit_in_bytes', 'memory.max')), '67108864');
    assert.is(read(cgFile(id, 'pids', 'pids.max', 'pids.max')), '50');
    if (v1Mount('cpu')) {
      assert.is(read(cgFile(id, 'cpu', 'cpu.cfs_quota_us', 'cpu.max')), '50000');
      assert.is(read(cgFile(id, 'cpu', 'cpu.shares', 'cpu.weight')), '512');
    } else {
      assert.is(read(cgFile(id, 'cpu', '', 'cpu.max')), '50000 100000');
    }
    assert.is(read(cgFile(id, 'cpuset', 'cpuset.cpus', 'cpuset.cpus')), '0');
    // Inside: every line of /proc/self/cgroup is at "/", the limits read back, writes fail.
    const inside = mdk(root, ['exec', 'lim', 'sh', '-c',
      'cat /proc/self/cgroup; for f in /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max; do [ -f $f ] && cat $f; done; ' +
      'f=/sys/fs/cgroup/pids/pids.max; [ -f $f ] || f=/sys/fs/cgroup/pids.max; if (echo 1000 > $f) 2>/dev/null; then echo write=ok; else echo write=refused; fi']);
    assert.is(inside.code, 0, inside.stderr);
    const lines = inside.stdout.trim().split('\n');
    for (const l of lines.filter((x) => /^\d+:/.test(x))) assert.ok(l.endsWith(':/'), `at its cgroup root: ${l}`);
    assert.ok(lines.includes('67108864'), 'the memory limit reads back inside');
    assert.ok(lines.includes('write=refused'), `the cgroup mount is read-only: ${lines.join(' | ')}`);
    assert.is(read(cgFile(id, 'pids', 'pids.max', 'pids.max')), '50', 'unchanged');
    // exec joins the cgroups too: two processes now (sleep, and this exec's sh).
    assert.is(mdk(root, ['exec', 'lim', 'sh', '-c', 'cat /proc/self/cgroup | grep -c ":/$" >/dev/null; echo ok']).stdout, 'ok\n');
  } finally {
    mdk(root, ['rm', '-f', 'lim']);
  }
  assert.equal(testCgroups(), [], 'rm removed every cgroup');
});

T('the runtime\'s cgroups from the config: docker\'s device rules, and the freezer (v1 hosts)', () => {
  if (!v1Mount('devices')) return; // v2: no devices controller (runc uses eBPF, minidock has none)
  const r = run('busybox', 'sh', '-c', 'cat /sys/fs/cgroup/devices/devices.list; cat /proc/self/cgroup; head -c 3 /dev/urandom | wc -c; (mknod /tmp/sda b 8 0) 2>/dev/null && echo mknod=ok || echo mknod=refused');
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  // What dockerd puts in linux.resources.devices: deny all, then the default nodes and ptys.
  assert.ok(!lines.includes('a *:* rwm'), `not every device: ${lines.join(' | ')}`);
  for (const rule of ['c 1:3 rwm', 'c 1:9 rwm', 'c 5:2 rwm', 'c 136:* rwm']) assert.ok(lines.includes(rule), `${rule} in ${lines.join(' | ')}`);
  assert.not.ok(lines.some((l) => l.startsWith('b ')), 'no block device allowed');
  assert.ok(lines.includes('3'), 'an allowed node opens');
  assert.ok(lines.includes('mknod=refused'));
  if (v1Mount('freezer')) assert.ok(lines.some((l) => /^\d+:freezer:\/$/.test(l)), 'in a freezer cgroup of its own');
});

T('a container over its memory limit is OOM-killed: exit 137, Exited (137), OOMKilled true', () => {
  // tail keeps a "line" with no newline in memory: 200 MB of zeros against 16m with no swap.
  const r = mdk(root, ['run', '--network', 'none', '--name', 'oom', '-m', '16m', '--memory-swap', '16m', 'busybox', 'sh', '-c', 'head -c 200000000 /dev/zero | tail > /dev/null']);
  assert.is(r.code, 137, r.stderr);
  assert.is(mdk(root, ['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', 'oom']).stdout, 'true 137\n');
  assert.match(mdk(root, ['ps', '-a', '--filter', 'name=oom']).stdout, /Exited \(137\)/);
  assert.is(mdk(root, ['inspect', '-f', '{{.State.OOMKilled}}', 'oom']).code, 0);
  assert.is(mdk(root, ['rm', 'oom']).code, 0);
  // Detached the same: the shim's cleanup reads the OOM count before the cgroup goes.
  assert.is(mdk(root, ['run', '-d', '--network', 'none', '--name', 'oomd', '-m', '16m', '--memory-swap', '16m', 'busybox', 'sh', '-c', 'head -c 200000000 /dev/zero | tail > /dev/null']).code, 0);
  assert.is(mdk(root, ['wait', 'oomd']).stdout, '137\n');
  let oom = '';
  for (let i = 0; i < 50 && oom !== 'true\n'; i++) {
    oom = mdk(root, ['inspect', '-f', '{{.State.OOMKilled}}', 'oomd']).stdout;
    spawnSync('sleep', ['0.1']);
  }
  assert.is(oom, 'true\n');
  assert.is(mdk(root, ['rm', 'oomd']).code, 0);
  assert.is(mdk(root, ['run', '--network', 'none', '--name', 'fine', '-m', '64m', 'busybox', 'true']).code, 0);
  assert.is(mdk(root, ['inspect', '-f', '{{.State.OOMKilled}}', 'fine']).stdout, 'false\n', 'a container that fits is not OOMKilled');
  assert.is(mdk(root, ['rm', 'fine']).code, 0);
});

T('a fork bomb stops at --pids-limit and the host can still fork', async () => {
  // The bomb forks until fork fails, then gives up (busybox sh); PID 1 stays (exec, no fork).
  assert.is(mdk(root, ['run', '-d', '--network', 'none', '--name', 'bomb', '--pids-limit', '30', 'busybox', 'sh', '-c', 'sh -c "while :; do sleep 30 & done" 2>/dev/null; exec sleep 60']).code, 0);
  try {
    const id = idOf('bomb');
    const events = cgFile(id, 'pids', 'pids.events', 'pids.events');
    let refused = 0;
    for (let i = 0; i < 50 && refused === 0; i++) {
      await sleep(100);
      refused = Number(/max (\d+)/.exec(read(events))?.[1] ?? 0);
    }
    assert.ok(refused > 0, 'the kernel refused forks past the limit');
    const n = Number(read(cgFile(id, 'pids', 'pids.current', 'pids.current')));
    assert.ok(n >= 28 && n <= 30, `${n} processes: the bomb filled the limit and no more`);
    const host = spawnSync('sh', ['-c', 'for i in 1 2 3 4 5; do true & done; wait; echo forked']);
    assert.is(String(host.stdout), 'forked\n', 'the host is unaffected');
  } finally {
    mdk(root, ['rm', '-f', 'bomb']);
  }
});

T('--cpus 0.5 holds a busy loop to about half a core', async () => {
  assert.is(mdk(root, ['run', '-d', '--network', 'none', '--name', 'busy', '--cpus', '0.5', 'busybox', 'sh', '-c', 'while :; do :; done']).code, 0);
  try {
    const id = idOf('busy');
    const usageNs = (): number => {
      const v1 = v1Mount('cpuacct');
      if (v1) return Number(read(join(v1, CGROUP_PARENT, id, 'cpuacct.usage')));
      return Number(/usage_usec (\d+)/.exec(read(join(v2Mount!, CGROUP_PARENT, id, 'cpu.stat')))![1]) * 1000;
    };
    // Idle CPU time of the whole host (jiffies of 10 ms): on a busy machine the loop may get
    // less than its quota, and then only the ceiling can be asserted.
    const idle = (): number => readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(4, 6).reduce((a, b) => a + Number(b), 0) * 10e6;
    await sleep(300); // past start-up
    const t0 = process.hrtime.bigint();
    const u0 = usageNs();
    const i0 = idle();
    await sleep(1500);
    const wall = Number(process.hrtime.bigint() - t0);
    const share = (usageNs() - u0) / wall;
    const spare = (idle() - i0) / wall; // cores left idle meanwhile
    assert.ok(share < 0.6, `CPU share ${share.toFixed(3)} is held under the 0.5 quota (+ tolerance)`);
    if (spare > 1) {
      assert.ok(share > 0.4, `CPU share ${share.toFixed(3)} with ${spare.toFixed(2)} cores idle: about 0.5`);
      const stat = join(v1Mount('cpu') ?? v2Mount!, CGROUP_PARENT, id, 'cpu.stat');
      assert.ok(Number(/nr_throttled (\d+)/.exec(read(stat))![1]) > 0, 'the CFS quota throttled it');
    }
  } finally {
    mdk(root, ['rm', '-f', 'busy']);
  }
});

T('stats --no-stream: docker\'s columns, the limit, pids; update changes limits of a running container', async () => {
  assert.is(mdk(root, ['run', '-d', '--network', 'none', '--name', 'st', '-m', '64m', 'busybox', 'sleep', '60']).code, 0);
  try {
    const id = idOf('st');
    const out = mdk(root, ['stats', '--no-stream', 'st']);
    assert.is(out.code, 0, out.stderr);
    const [head, row] = out.stdout.trim().split('\n');
    assert.match(head!, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
    assert.match(row!, new RegExp(`^${id.slice(0, 12)}\\s+st\\s+\\d+\\.\\d\\d%\\s+[\\d.]+[KMG]?i?B / 64MiB\\s+\\d+\\.\\d\\d%\\s+\\S+ / \\S+\\s+\\S+ / \\S+\\s+1$`));
    // Streaming: a fresh frame (clear screen, table) every second until Ctrl-C.
    const live = mdkSpawn(root, ['stats', 'st']);
    let text = '';
    live.stdout.on('data', (d) => (text += d));
    const ended = new Promise<number | null>((r) => live.on('close', r));
    await sleep(3300);
    killPid(live.pid!, 'SIGINT');
    assert.is(await ended, 0, 'Ctrl-C ends it with 0');
    const frames = text.split('\x1b[2J\x1b[H').filter(Boolean);
    assert.ok(frames.length >= 2 && frames.length <= 4, `${frames.length} frames in 3.3 s`);
    for (const f of frames) assert.match(f, new RegExp(`^CONTAINER ID.*\\n${id.slice(0, 12)}\\s+st\\s`));
    const up = mdk(root, ['update', '--memory', '128m', '--memory-swap', '256m', '--pids-limit', '40', 'st']);
    assert.is(up.code, 0, up.stderr);
    assert.is(up.stdout, 'st\n');
    assert.is(read(cgFile(id, 'memory', 'memory.limit_in_bytes', 'memory.max')), '134217728');
    assert.is(read(cgFile(id, 'pids', 'pids.max', 'pids.max')), '40');
    assert.is(mdk(root, ['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}', 'st']).stdout, '134217728 40\n');
    assert.match(mdk(root, ['stats', '--no-stream', 'st']).stdout, /\/ 128MiB/);
    // docker: update's validation errors exit 1, as every failure outside run (125: flag errors).
    const bad = mdk(root, ['update', '--memory', '1k', 'st']);
    assert.is(bad.code, 1);
    assert.match(bad.stderr, /Minimum memory limit allowed is 6MB/);
    const none = mdk(root, ['update', 'st']);
    assert.is(none.code, 1);
    assert.match(none.stderr, /you must provide one or more flags/);
    // A sub-cgroup made under the container's (as a nested runtime would) goes with it.
    const memDir = join(v1Mount('memory') ?? v2Mount!, CGROUP_PARENT, id);
    mkdirSync(join(memDir, 'sub', 'subsub'), { recursive: true });
  } finally {
    mdk(root, ['rm', '-f', 'st']);
  }
  assert.equal(testCgroups(), []);
});

T('malformed or impossible limits: exit 125, one line, nothing made', () => {
  const cases: Array<[string[], RegExp]> = [
    [['-m', '64x'], /invalid argument "64x" for "-m, --memory" flag/],
    [['-m', '1k'], /Minimum memory limit allowed is 6MB/],
    [['--memory-swap', '128m'], /memory/i],
    [['-m', '64m', '--memory-swap', '32m'], /Minimum memoryswap limit should be larger than memory limit/],
    [['--cpus', '1000'], /range of CPUs is from 0\.01 to/],
    [['--cpus', 'abc'], /invalid argument "abc" for "--cpus" flag/],
    [['--cpuset-cpus', '0-999'], /Requested CPUs are not available/],
    [['--pids-limit', 'x'], /invalid argument "x" for "--pids-limit" flag/],
  ];
  for (const [args, msg] of cases) {
    const r = run(...args, 'busybox', 'true');
    assert.is(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.is(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
});

Cg.run();
