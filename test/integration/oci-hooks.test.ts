// minidock-runc's OCI hooks (config.md "POSIX-platform Hooks", runtime.md's lifecycle) and
// linux.namespaces[].path, on real busybox bundles. Every hook writes what it saw (its stdin,
// its PID and mount namespaces) to one events file, so order, state and place are checked; a
// failing create-phase hook must leave nothing behind; joined namespaces are ones this file makes
// with unshare(1) and compared by inode from inside the container. Each test ends with nothing
// left: no container listed, no process rooted in the bundle, no cgroup, no state.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireRootAndImages } from '../helpers/cli.js';
import { RUNC, bundleMarker, ended, ociBundle, processesIn, runcIn } from '../helpers/oci.js';

requireRootAndImages();
const work = mkdtempSync(join(tmpdir(), 'mdk-ocihk-'));
chmodSync(work, 0o755); // a remapped root (host uid 100000) must reach its bundle
const H = suite('oci hooks, joined namespaces');
/** Processes this file started to hold namespaces: ended by pid. */
const holders: ChildProcess[] = [];
const cleanup = (): void => {
  for (const id of runc.list()) runc(['delete', '--force', id]);
  while (holders.length) holders.pop()!.kill('SIGKILL');
};
H.after.each(cleanup);
H.after(() => {
  cleanup();
  rmSync(work, { recursive: true, force: true });
});

const state = join(work, 'state');
const runc = runcIn(work);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ns = (pid: number | 'self', type: string): string => readlinkSync(`/proc/${pid}/ns/${type}`);

const bundle = (name: string, script: string, edit: (c: any) => void = () => {}): string =>
  ociBundle(work, name, script, edit, `touch rootfs/${bundleMarker(name)}`);

/** A hook running busybox's sh from the bundle (runtime namespace: the busybox binary itself, its
 *  sh link points at /bin/busybox, which is the host's there; argv[0] "sh" picks the applet) or
 *  from the container's root (startContainer's path resolves in the container), appending "NAME pidns mntns STDIN" to FILE. */
const shHook = (sh: string, name: string, file: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  path: sh,
  args: ['sh', '-c', `echo "${name} $(readlink /proc/self/ns/pid) $(readlink /proc/self/ns/mnt) $(cat)" >> ${file}`],
  ...extra,
});

/** The container's cgroups on the host: every directory named after the id, in any hierarchy. */
function cgroupsOf(id: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 4) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      if (e.name.includes(id)) found.push(join(dir, e.name));
      else walk(join(dir, e.name), depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return found;
}

function assertNothingLeft(id: string, dir: string): void {
  assert.equal(runc.list(), [], 'minidock-runc list is empty');
  assert.equal(processesIn(dir, id), [], 'no process is rooted in the bundle');
  assert.equal(cgroupsOf(id), [], 'no cgroup is left');
  assert.not.ok(existsSync(join(state, id)), 'the state directory is removed');
}

interface Event { name: string; pidns: string; mntns: string; state?: { id: string; pid: number; status: string; bundle: string; annotations?: Record<string, string> } }
const events = (file: string): Event[] => (existsSync(file) ? readFileSync(file, 'utf8') : '').split('\n').filter(Boolean).map((l) => {
  const [name, pidns, mntns, ...rest] = l.split(' ');
  const text = rest.join(' ');
  return { name: name!, pidns: pidns!, mntns: mntns!, ...(text.startsWith('{') ? { state: JSON.parse(text) } : {}) };
});

H('all six hooks: in order, each with the state on stdin, in the runtime\'s namespaces or the container\'s as the spec says', async () => {
  const id = 'hk-order';
  const hostFile = join(work, id, 'out/events');
  const dir = bundle(id, 'echo "prog $(readlink /proc/self/ns/pid) $(readlink /proc/self/ns/mnt)" >> /out/events', (c) => {
    const sh = join(work, id, 'rootfs/bin/busybox');
    c.annotations = { 'org.example.k': 'v' };
    c.hooks = {
      prestart: [shHook(sh, 'prestart', hostFile)],
      createRuntime: [shHook(sh, 'createRuntime1', hostFile), shHook(sh, 'createRuntime2', hostFile, { timeout: 5 })],
      createContainer: [shHook(sh, 'createContainer', hostFile)],
      // Resolved inside the container, after pivot_root: its own /bin/sh and /out.
      startContainer: [shHook('/bin/sh', 'startContainer', '/out/events')],
      poststart: [shHook(sh, 'poststart', hostFile)],
      poststop: [shHook(sh, 'poststop', hostFile)],
    };
  });
  const cr = runc(['create', '--bundle', dir, id]);
  assert.is(cr.code, 0, cr.stderr);
  const st = JSON.parse(runc(['state', id]).stdout) as { pid: number; status: string };
  const inside = { pid: ns(st.pid, 'pid'), mnt: ns(st.pid, 'mnt') };
  const host = { pid: ns('self', 'pid'), mnt: ns('self', 'mnt') };
  assert.equal(events(hostFile).map((e) => e.name), ['prestart', 'createRuntime1', 'createRuntime2', 'createContainer'], 'create ran the create-phase hooks, and only them');
  const go = runc(['start', id]);
  assert.is(go.code, 0, go.stderr);
  assert.ok(await ended(st.pid));
  assert.is(runc(['delete', id]).code, 0);
  const ev = events(hostFile);
  const names = ev.map((e) => e.name);
  assert.equal(names.filter((n) => n !== 'prog'), ['prestart', 'createRuntime1', 'createRuntime2', 'createContainer', 'startContainer', 'poststart', 'poststop']);
  assert.ok(names.indexOf('startContainer') < names.indexOf('prog') && names.indexOf('prog') < names.indexOf('poststop'), names.join(' '));
  const by = (n: string): Event => ev.find((e) => e.name === n)!;
  // Where each ran.
  for (const n of ['prestart', 'createRuntime1', 'poststart', 'poststop']) assert.equal([by(n).pidns, by(n).mntns], [host.pid, host.mnt], `${n} runs in the runtime's namespaces`);
  for (const n of ['createContainer', 'startContainer', 'prog']) assert.equal([by(n).pidns, by(n).mntns], [inside.pid, inside.mnt], `${n} runs in the container's namespaces`);
  // What each was told.
  const told = (n: string): unknown[] => { const s = by(n).state!; return [s.id, s.pid, s.status, s.bundle, s.annotations]; };
  for (const n of ['prestart', 'createRuntime1', 'createRuntime2']) assert.equal(told(n), [id, st.pid, 'created', dir, { 'org.example.k': 'v' }], `${n}'s stdin`);
  // The container's own hooks see its pid as its PID namespace does (1), as runc's do.
  assert.equal([by('createContainer').state!.pid, by('createContainer').state!.status, by('createContainer').state!.id], [1, 'created', id]);
  assert.equal([by('startContainer').state!.pid, by('startContainer').state!.status], [1, 'created']);
  assert.equal([by('poststart').state!.pid, by('poststart').state!.status], [st.pid, 'running']);
  assert.equal([by('poststop').state!.status, by('poststop').state!.bundle], ['stopped', dir]);
  assertNothingLeft(id, dir);
});

for (const kind of ['prestart', 'createRuntime', 'createContainer'] as const) {
  H(`a failing ${kind} hook fails create and leaves no container, no process, no cgroup; poststop still runs`, () => {
    const id = `hk-fail-${kind.toLowerCase()}`;
    const hostFile = join(work, id, 'out/events');
    const dir = bundle(id, 'echo prog >> /out/events', (c) => {
      const sh = join(work, id, 'rootfs/bin/busybox');
      c.hooks = {
        [kind]: [shHook(sh, 'first', hostFile), { path: sh, args: ['sh', '-c', 'echo no network >&2; exit 7'] }, shHook(sh, 'third', hostFile)],
        poststop: [shHook(sh, 'poststop', hostFile)],
      };
    });
    const cr = runc(['create', '--bundle', dir, id]);
    assert.is(cr.code, 1);
    assert.match(cr.stderr, `${kind} hook #1 (${join(work, id, 'rootfs/bin/busybox')}): exit status 7`);
    if (kind !== 'createContainer') assert.match(cr.stderr, 'stderr: no network');
    assert.equal(events(hostFile).map((e) => e.name), ['first', 'poststop'], 'the hook after the failed one never ran, nor the program');
    assert.is(runc(['state', id]).code, 1, 'no such container');
    assertNothingLeft(id, dir);
  });
}

H('a hook past its timeout is killed, and create fails in about that time', () => {
  const id = 'hk-timeout';
  const dir = bundle(id, 'true', (c) => {
    c.hooks = { createRuntime: [{ path: join(work, id, 'rootfs/bin/busybox'), args: ['sleep', '30'], timeout: 1 }] };
  });
  const started = Date.now();
  const cr = runc(['create', '--bundle', dir, id]);
  assert.is(cr.code, 1);
  assert.match(cr.stderr, 'createRuntime hook #0');
  assert.match(cr.stderr, 'ran past its timeout of 1 s');
  assert.ok(Date.now() - started < 8000, `took ${Date.now() - started} ms`);
  assert.equal(spawnSync('pgrep', ['-f', 'sleep 30']).stdout.toString().split('\n').filter((p) => p && existsSync(`/proc/${p}/root/${bundleMarker(id)}`)), []);
  assertNothingLeft(id, dir);
});

H('a failing startContainer hook fails start, the program never runs, delete cleans up', async () => {
  const id = 'hk-fail-start';
  const dir = bundle(id, 'echo prog >> /out/events', (c) => {
    c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 4'] }] };
  });
  assert.is(runc(['create', '--bundle', dir, id]).code, 0);
  const pid = (JSON.parse(runc(['state', id]).stdout) as { pid: number }).pid;
  const go = runc(['start', id]);
  assert.is(go.code, 1);
  assert.match(go.stderr, 'startContainer hook #0 (/bin/sh): exit status 4');
  assert.ok(await ended(pid));
  assert.is((JSON.parse(runc(['state', id]).stdout) as { status: string }).status, 'stopped');
  assert.not.ok(existsSync(join(dir, 'out/events')), 'the program did not run');
  assert.is(runc(['delete', id]).code, 0);
  assertNothingLeft(id, dir);
});

H('startContainer under a seccomp filter that refuses clone3 (as docker\'s does): the hook still runs, and its timeout still kills', async () => {
  const noClone3 = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }] };
  const id = 'hk-seccomp';
  const dir = bundle(id, 'echo prog >> /out/events', (c) => {
    c.linux.seccomp = noClone3;
    c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo "sc $(cat)" >> /out/events'], timeout: 5 }] };
  });
  assert.is(runc(['create', '--bundle', dir, id]).code, 0);
  const pid = (JSON.parse(runc(['state', id]).stdout) as { pid: number }).pid;
  const go = runc(['start', id]);
  assert.is(go.code, 0, go.stderr);
  assert.ok(await ended(pid));
  const ev = readFileSync(join(dir, 'out/events'), 'utf8').split('\n');
  assert.match(ev[0]!, /^sc \{"ociVersion":".*","id":"hk-seccomp","pid":1,"status":"created"/);
  assert.is(ev[1], 'prog');
  assert.is(runc(['delete', id]).code, 0);
  assertNothingLeft(id, dir);

  const slow = 'hk-seccomp-slow';
  const dir2 = bundle(slow, 'echo prog >> /out/events', (c) => {
    c.linux.seccomp = noClone3;
    c.hooks = { startContainer: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] };
  });
  assert.is(runc(['create', '--bundle', dir2, slow]).code, 0);
  const started = Date.now();
  const late = runc(['start', slow]);
  assert.is(late.code, 1);
  assert.match(late.stderr, 'startContainer hook #0 (/bin/sleep): it ran past its timeout of 1 s and was killed');
  assert.ok(Date.now() - started < 8000, `took ${Date.now() - started} ms`);
  assert.not.ok(existsSync(join(dir2, 'out/events')), 'the program did not run');
  assert.is(runc(['delete', slow]).code, 0);
  assertNothingLeft(slow, dir2);
});

H('failing poststart and poststop hooks are warnings: start and delete succeed, the next hooks run', async () => {
  const id = 'hk-warn';
  const hostFile = join(work, id, 'out/events');
  const dir = bundle(id, 'true', (c) => {
    const sh = join(work, id, 'rootfs/bin/busybox');
    c.hooks = {
      poststart: [{ path: join(work, id, 'rootfs/bin/busybox'), args: ['false'] }, shHook(sh, 'poststart', hostFile)],
      poststop: [{ path: '/nonexistent/hook' }, shHook(sh, 'poststop', hostFile)],
    };
  });
  assert.is(runc(['create', '--bundle', dir, id]).code, 0);
  const pid = (JSON.parse(runc(['state', id]).stdout) as { pid: number }).pid;
  const go = runc(['start', id]);
  assert.is(go.code, 0, go.stderr);
  assert.match(go.stderr, /warning: error running poststart hook #0 \(.*\/bin\/busybox\): exit status 1/);
  assert.ok(await ended(pid));
  const del = runc(['delete', id]);
  assert.is(del.code, 0, del.stderr);
  assert.match(del.stderr, 'warning: error running poststop hook #0 (/nonexistent/hook): cannot run it: ENOENT');
  assert.equal(events(hostFile).map((e) => e.name), ['poststart', 'poststop']);
  assertNothingLeft(id, dir);
});

/** A process in new namespaces of these types, started and ended by this file: the holder's pid
 *  (for pid: the forked child, the one in the new PID namespace). */
async function holder(flags: string[]): Promise<number> {
  const p = spawn('unshare', [...flags, '--fork', '--kill-child', 'sleep', '120'], { stdio: 'ignore' });
  holders.push(p);
  for (let i = 0; i < 100; i++) {
    await sleep(20);
    const kids = existsSync(`/proc/${p.pid}/task/${p.pid}/children`) ? readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, 'utf8').trim() : '';
    if (kids && readFileSync(`/proc/${kids}/cmdline`, 'utf8').startsWith('sleep')) return Number(kids);
  }
  throw new Error('unshare did not start its sleep');
}

H('joined ipc, uts, mount, pid and network namespaces: the container is in each, the holder\'s root untouched', async () => {
  const id = 'hk-join';
  const h = await holder(['--ipc', '--uts', '--mount', '--pid', '--net', '--propagation', 'private']);
  const types = ['ipc', 'uts', 'mnt', 'pid', 'net'];
  const dir = bundle(id, `for t in ${types.join(' ')} user cgroup; do echo "$t $(readlink /proc/self/ns/$t)"; done; hostname; exec sleep 30`, (c) => {
    const oci: Record<string, string> = { ipc: 'ipc', uts: 'uts', mnt: 'mount', pid: 'pid', net: 'network' };
    c.hostname = 'joined-name';
    c.linux.namespaces = types.map((t) => ({ type: oci[t], path: `/proc/${h}/ns/${t}` }));
  });
  assert.is(runc(['create', '--bundle', dir, id]).code, 0);
  const pid = (JSON.parse(runc(['state', id]).stdout) as { pid: number }).pid;
  assert.is(runc(['start', id]).code, 0);
  // exec enters the container's root, not the root of the mount namespace it shares.
  const ex = runc(['exec', id, 'sh', '-c', 'ls -a /; readlink /proc/self/ns/mnt']);
  assert.is(ex.code, 0, ex.stderr);
  assert.ok(ex.stdout.split('\n').includes(bundleMarker(id)), `exec sees the bundle's root: ${ex.stdout}`);
  assert.match(ex.stdout, ns(h, 'mnt'));
  // kill --all in a joined PID namespace: the container's processes (its cgroups), not the
  // holder, which is in that namespace too.
  const k = runc(['kill', '--all', id, 'KILL']);
  assert.is(k.code, 0, k.stderr);
  assert.ok(await ended(pid));
  assert.ok(existsSync(`/proc/${h}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${h}/status`, 'utf8')), 'the holder lives on');
  const seen = Object.fromEntries(readFileSync(join(dir, 'out/log'), 'utf8').trim().split('\n').filter((l) => l.includes(' ')).map((l) => l.split(' ') as [string, string]));
  for (const t of types) assert.is(seen[t], ns(h, t), `the container is in the holder's ${t} namespace`);
  assert.is(seen.user, ns('self', 'user'), 'no user namespace: the runtime\'s');
  assert.match(readFileSync(join(dir, 'out/log'), 'utf8'), /\njoined-name\n$/, 'the hostname was set in the joined UTS namespace');
  // chroot, not pivot_root: the holder, in the same mount namespace, keeps its root.
  assert.is(readlinkSync(`/proc/${h}/root`), '/');
  assert.is(runc(['delete', id]).code, 0);
  assertNothingLeft(id, dir);
});

/** A holder in a user namespace of its own (root = host uid 100000), and a bundle that joins
 *  it with `fresh` new namespaces, created: its id, dir, pid and the holder. */
async function createInJoinedUserns(id: string, script: string, fresh: string[], edit: (c: any) => void = () => {}): Promise<{ dir: string; pid: number; h: number }> {
  const h = await holder(['--user']);
  writeFileSync(`/proc/${h}/uid_map`, '0 100000 65536');
  writeFileSync(`/proc/${h}/gid_map`, '0 100000 65536');
  const dir = bundle(id, script, (c) => {
    c.linux.namespaces = [{ type: 'user', path: `/proc/${h}/ns/user` }, ...fresh.map((type) => ({ type }))];
    delete c.linux.uidMappings;
    delete c.linux.gidMappings;
    c.linux.maskedPaths = [];
    c.linux.readonlyPaths = [];
    edit(c);
  });
  spawnSync('chown', ['-R', '100000:100000', join(dir, 'out')]);
  const cr = runc(['create', '--bundle', dir, id]);
  assert.is(cr.code, 0, cr.stderr);
  return { dir, h, pid: (JSON.parse(runc(['state', id]).stdout) as { pid: number }).pid };
}

H('a joined user namespace: no maps written, new mount/uts/ipc/net namespaces belong to it, root inside', async () => {
  const id = 'hk-joinuser';
  const { dir, pid, h } = await createInJoinedUserns(id, 'readlink /proc/self/ns/user; cat /proc/self/uid_map; id -u; touch /out/owned', ['mount', 'uts', 'ipc', 'network'], (c) => {
    // The PID namespace is the host's, owned by the host's user namespace: no proc can be
    // mounted for it from the joined one (runc fails there too), so the runtime's is bound.
    c.mounts = c.mounts.map((m: { destination: string }) => (m.destination === '/proc' ? { destination: '/proc', type: 'bind', source: '/proc', options: ['rbind'] } : m));
  });
  assert.is(runc(['start', id]).code, 0);
  assert.ok(await ended(pid));
  const [user, map, uid] = readFileSync(join(dir, 'out/log'), 'utf8').trim().split('\n');
  assert.is(user, ns(h, 'user'));
  assert.match(map!, /^\s*0\s+100000\s+65536$/);
  assert.is(uid, '0');
  assert.is(spawnSync('stat', ['-c', '%u', join(dir, 'out/owned')]).stdout.toString().trim(), '100000', 'container root is host uid 100000');
  assert.is(runc(['delete', id]).code, 0);
  assertNothingLeft(id, dir);
});

H('a joined user namespace with a new PID namespace: the second fork makes the command PID 1 there, and create, state, kill and delete follow it', async () => {
  const id = 'hk-joinuser-pid';
  // The default /proc mount stays: the new PID namespace belongs to the joined user namespace.
  const { dir, pid, h } = await createInJoinedUserns(id, 'echo "pid $$"; readlink /proc/self/ns/user; ls /proc | grep -c "^[0-9]"; exec sleep 30', ['pid', 'mount', 'uts', 'ipc', 'network']);
  // The state's pid is PID 1 of the new namespace (the child that forked it is gone).
  assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), new RegExp(`^NSpid:\\s+${pid}\\s+1$`, 'm'));
  assert.is(readlinkSync(`/proc/${pid}/ns/user`), ns(h, 'user'));
  assert.is.not(readlinkSync(`/proc/${pid}/ns/pid`), ns('self', 'pid'));
  assert.is(runc(['start', id]).code, 0);
  const log = join(dir, 'out/log');
  const lines = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
  for (let i = 0; i < 100 && lines().length < 3; i++) await new Promise((r) => setTimeout(r, 50));
  const [first, user, procs] = lines();
  assert.is(first, 'pid 1');
  assert.is(user, ns(h, 'user'));
  assert.ok(Number(procs) <= 3, `its own /proc shows only its own processes: ${procs}`);
  assert.is((JSON.parse(runc(['state', id]).stdout) as { status: string }).status, 'running');
  assert.is(runc(['kill', id, 'KILL']).code, 0);
  assert.ok(await ended(pid));
  assert.is((JSON.parse(runc(['state', id]).stdout) as { status: string }).status, 'stopped');
  assert.is(runc(['delete', id]).code, 0);
  assertNothingLeft(id, dir);
});

H('no mount namespace: the container mounts in the runtime\'s (as runc), chroots, and delete takes its whole tree away', () => {
  const id = 'hk-nomnt';
  const dir = bundle(id, 'readlink /proc/self/ns/mnt; readlink /proc/1/ns/pid; ls /proc/1/ns >/dev/null && echo proc', (c) => {
    c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'mount');
  });
  // In a private mount namespace of this test's own: the runtime's is then that one, and even
  // a failing delete would leave nothing on the host.
  const rc = `${process.execPath} ${RUNC} --root ${state}`;
  const script = [
    'echo "ns $(readlink /proc/self/ns/mnt)"',
    `${rc} create --bundle ${dir} ${id} || exit 9`,
    `echo "created $(grep -c ' ${dir}/rootfs' /proc/self/mountinfo)"`,
    `pid=$(${rc} state ${id} | sed -n 's/.*"pid": \\([0-9]*\\).*/\\1/p')`,
    `echo "root $(readlink /proc/$pid/root)"`,
    `${rc} start ${id} || exit 8`,
    'while [ -e /proc/$pid/ns ] && ! grep -q "^State:.Z" /proc/$pid/status 2>/dev/null; do sleep 0.05; done',
    `${rc} delete ${id} || exit 7`,
    `echo "deleted $(grep -c ' ${dir}/rootfs' /proc/self/mountinfo)"`,
  ].join('\n');
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  const said = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
  assert.ok(Number(said.created) > 5, `the container's tree was in the runtime's mount namespace: ${said.created} mounts`);
  assert.is(said.root, `${dir}/rootfs`, 'the container is chroot\'ed into its tree');
  assert.is(said.deleted, '0', 'delete detached every mount of it');
  const log = readFileSync(join(dir, 'out/log'), 'utf8').split('\n');
  assert.is(log[0], said.ns, 'inside: the runtime\'s mount namespace');
  assert.is(log[2], 'proc', 'its own /proc for its PID namespace');
  assertNothingLeft(id, dir);
});

H('a namespace path of the wrong type is refused at setns, naming it; nothing is left', () => {
  const id = 'hk-wrongtype';
  const dir = bundle(id, 'true', (c) => {
    c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'ipc').concat([{ type: 'ipc', path: '/proc/self/ns/uts' }]);
  });
  const cr = runc(['create', '--bundle', dir, id]);
  assert.is(cr.code, 1);
  assert.match(cr.stderr, 'child.setns.ipc /proc/self/ns/uts: Invalid argument');
  assert.match(cr.stderr, 'a namespace of type ipc?');
  assertNothingLeft(id, dir);
});

H.run();
