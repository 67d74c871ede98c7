// `minidock run --dry-run --bundle DIR`: the bundle runs unchanged under Debian's runc, crun and
// minidock-runc, and each prints what `minidock run` with the same flags prints (user, hostname,
// capability sets, uid map, and what minidock's seccomp filter, carried as linux.seccomp, answers
// to a few calls); each leaves nothing (no container listed, no cgroup under the test's parent),
// and the dry run itself creates no container, name, lease or cgroup.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_TAR, leakChecked, mdk, newRoot, removeRoot, requireRootAndImages, snapshot, testCgroups } from '../helpers/cli.js';
import { runcIn } from '../helpers/oci.js';

requireRootAndImages();
const root = newRoot('ocibundle');
const work = mkdtempSync(join(tmpdir(), 'mdk-ocibundle-'));
// A remapped root walks to its rootfs and bind sources through here.
chmodSync(work, 0o755);
const T = suite('oci bundle');
T.before(() => {
  const r = mdk(root, ['import', BUSYBOX_TAR, 'busybox']);
  assert.is(r.code, 0, r.stderr);
});
T.after(() => {
  removeRoot(root);
  rmSync(work, { recursive: true, force: true });
});
const it = leakChecked(T, root, snapshot(root));
const minidockRunc = runcIn(work);

const SCRIPT = 'echo bundle-marker; id; hostname; grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb)" /proc/self/status; cat /proc/self/uid_map';
/** Calls the seccomp filter decides, and whether there is one. Without CAP_SYS_ADMIN: a new user
 *  namespace (the kernel lets anyone make one) and a mount on a missing /mnt (the kernel looks the
 *  path up before it checks the capability: ENOENT) are refused with EPERM only by the filter;
 *  `unshare -n` is EPERM either way; personality(PER_LINUX32) is let through. */
const PROBES = [
  'unshare -U true 2>&1; echo "unshare -U: $?"',
  'unshare -n true 2>&1; echo "unshare -n: $?"',
  'mount -t tmpfs x /mnt 2>&1; echo "mount: $?"',
  'linux32 uname -m',
  'grep -E "^Seccomp" /proc/self/status',
].join('; ');

/** A runtime's command line, its stdout and stderr through files (the container inherits them). */
function runTo(cmd: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const out = join(work, 'rt.out');
  const err = join(work, 'rt.err');
  const fds = [openSync(out, 'w'), openSync(err, 'w')];
  try {
    const r = spawnSync(cmd, args, { stdio: ['ignore', fds[0]!, fds[1]!], timeout: 30_000 });
    return { code: r.status ?? 255, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

const runtimes = (bundle: string, id: string) => {
  const runcRoot = join(work, 'runc-state');
  const crunRoot = join(work, 'crun-state');
  return [
    {
      name: 'runc',
      run: () => runTo('runc', ['--root', runcRoot, 'run', '--bundle', bundle, id]),
      list: () => runTo('runc', ['--root', runcRoot, 'list', '-q']).stdout.split('\n').filter(Boolean),
    },
    {
      // crun 1.8 refuses a hybrid host while cgroup2 is mounted at unified: hide it, as
      // test/conformance/run.mjs does.
      name: 'crun',
      run: () => runTo('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --root ${crunRoot} run --bundle ${bundle} ${id}`]),
      list: () => runTo('crun', ['--root', crunRoot, 'list', '-q']).stdout.split('\n').filter(Boolean),
    },
    { name: 'minidock-runc', run: () => minidockRunc(['run', '--bundle', bundle, id]), list: () => minidockRunc.list() },
  ];
};

/** [what, flags, what the probes print under `minidock run`]. */
const CASES: Array<[string, string[], RegExp]> = [
  ['remapped root, --network none', ['--network', 'none', '--hostname', 'bundled'], /unshare -U: 1\nunshare: unshare\(0x40000000\): Operation not permitted\nunshare -n: 1\nmount: permission denied \(are you root\?\)\nmount: 1\ni686\nSeccomp:\t2\n/],
  ['identity map, a non-root user, capabilities changed, read-only root', ['--network', 'none', '--hostname', 'bundled2', '--userns=host', '-u', '1000:1000', '--cap-drop', 'ALL', '--cap-add', 'NET_RAW', '--read-only'], /unshare -U: 1\n.*\nunshare -n: 1\nmount: permission denied \(are you root\?\)\nmount: 1\ni686\nSeccomp:\t2\n/],
  // The filter lets CAP_SYS_ADMIN's calls through: both namespaces are made, the mount fails in the kernel.
  ['--cap-add SYS_ADMIN', ['--network', 'none', '--hostname', 'bundled3', '--cap-add', 'SYS_ADMIN'], /unshare -U: 0\nunshare -n: 0\nmount: mounting x on \/mnt failed: No such file or directory\nmount: 255\ni686\nSeccomp:\t2\n/],
  // No filter in minidock run, none in the bundle.
  ['--security-opt seccomp=unconfined', ['--network', 'none', '--hostname', 'bundled4', '--security-opt', 'seccomp=unconfined'], /unshare -U: 0\n.*\nunshare -n: 1\nmount: mounting x on \/mnt failed: No such file or directory\nmount: 255\ni686\nSeccomp:\t0\n/],
];

CASES.forEach(([what, flags, probed], i) => {
  it(`${what}: runc, crun and minidock-runc print what minidock run prints, the seccomp probes too, and leave nothing`, () => {
    const script = `${SCRIPT}; ${PROBES}`;
    const expected = mdk(root, ['run', '--rm', ...flags, 'busybox', 'sh', '-c', script]);
    assert.is(expected.code, 0, expected.stderr);
    assert.match(expected.stdout, /^bundle-marker\n/);
    assert.match(expected.stdout, probed, 'minidock run: the filter decides the probes');

    const bundle = join(work, `bundle${i}`);
    const before = snapshot(root);
    const made = mdk(root, ['run', '--dry-run', '--bundle', bundle, ...flags, 'busybox', 'sh', '-c', script]);
    assert.is(made.code, 0, made.stderr);
    assert.is(made.stdout, '');
    assert.equal(snapshot(root), before, 'the dry run created no container, name, lease or cgroup');
    assert.equal(readdirSync(bundle).sort(), ['README.md', 'config.json', 'hostname', 'hosts', 'resolv.conf', 'rootfs']);
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    assert.match(config.linux.cgroupsPath, new RegExp(`^/mdktest${process.pid}/[0-9a-f]{64}$`));
    assert.match(readFileSync(join(bundle, 'README.md'), 'utf8'), /seccomp/);
    const unconfined = flags.includes('seccomp=unconfined');
    assert.is(config.linux.seccomp?.defaultErrnoRet, unconfined ? undefined : 38, 'linux.seccomp: minidock\'s filter, unless unconfined');

    try {
      for (const rt of runtimes(bundle, `mdkbundle${i}-${process.pid}`)) {
        const r = rt.run();
        assert.is(r.code, 0, `${rt.name}: ${r.stderr}`);
        assert.is(r.stdout, expected.stdout, `${rt.name} prints what minidock run prints`);
        assert.equal(rt.list(), [], `${rt.name} lists nothing after run`);
        assert.equal(testCgroups(), [], `${rt.name} left no cgroup`);
      }
    } finally {
      // A runtime's leak fails this test only: the next one starts without it.
      for (const dir of testCgroups()) {
        try { rmdirSync(dir); } catch { /* still has tasks: the leak check says so */ }
      }
      rmSync(bundle, { recursive: true, force: true });
    }
  });
});

it("a bundle from Debian's `runc spec` (args and terminal edited) runs under minidock-runc as under runc and crun", () => {
  const bundle = join(work, 'from-runc-spec');
  mkdirSync(join(bundle, 'rootfs'), { recursive: true });
  assert.is(spawnSync('tar', ['-xf', BUSYBOX_TAR, '-C', join(bundle, 'rootfs')]).status, 0);
  assert.is(spawnSync('runc', ['spec'], { cwd: bundle }).status, 0, 'runc spec wrote config.json');
  const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  // No pty to hand out here; everything else is runc's default: read-only root, hostname
  // "runc", three capabilities, masked and read-only paths, no user namespace (this kernel has no
  // /proc/kcore: /proc/timer_list is the masked file probed).
  config.process.terminal = false;
  config.process.args = ['sh', '-c', `${SCRIPT}; touch /probe 2>/dev/null && echo root-writable; cat /proc/timer_list 2>&1 | wc -c`];
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config, null, 2));
  try {
    const outs = runtimes(bundle, `mdkrspec-${process.pid}`).map((rt) => {
      const r = rt.run();
      assert.is(r.code, 0, `${rt.name}: ${r.stderr}`);
      assert.equal(rt.list(), [], `${rt.name} lists nothing after run`);
      return { name: rt.name, stdout: r.stdout };
    });
    const runc = outs[0]!.stdout;
    assert.match(runc, /^bundle-marker\nuid=0\(root\) gid=0\(root\)/);
    assert.match(runc, /\nrunc\n/, "runc spec's hostname");
    assert.not.match(runc, /root-writable/, 'root.readonly holds');
    assert.match(runc, /\n\s*0\n$/, '/proc/timer_list is masked (reads as /dev/null)');
    for (const o of outs.slice(1)) assert.is(o.stdout, runc, `${o.name} prints what runc prints`);
    assert.not.ok(existsSync(join(bundle, 'rootfs/probe')), 'the read-only root stayed unwritten');
  } finally {
    rmSync(bundle, { recursive: true, force: true });
  }
});

it('--bundle into a directory that is not empty: exit 125, one line, nothing written', () => {
  const dir = join(work, 'taken');
  mkdirSync(dir);
  writeFileSync(join(dir, 'keep'), 'mine\n');
  const r = mdk(root, ['run', '--dry-run', '--bundle', dir, '--network', 'none', 'busybox', 'true']);
  assert.is(r.code, 125);
  assert.is(r.stdout, '');
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /not empty/);
  assert.equal(readdirSync(dir), ['keep']);
  assert.is(readFileSync(join(dir, 'keep'), 'utf8'), 'mine\n');
  rmSync(dir, { recursive: true });
});

it('--bundle without --dry-run is refused (exit 125) before anything is made', () => {
  const dir = join(work, 'nodry');
  const r = mdk(root, ['run', '--bundle', dir, '--network', 'none', 'busybox', 'true']);
  assert.is(r.code, 125, r.stderr);
  assert.match(r.stderr, /--bundle needs --dry-run/);
  assert.not.ok(existsSync(dir));
});

T.run();
