#!/usr/bin/env node
// Start-to-exit benchmark: how long does a container running `true` take,
// for minidock and for its peers (crun, runc, podman) and floors (unshare,
// node), measured side by side in one run with the contenders alternated
// run by run.  See bench/README.md.
//
// usage: node bench/startup.mjs [--runs N] [--warmup N] [--install-peers]
//                               [--json FILE] [--image-tar FILE]

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { imageKind, extractRootfs } from './lib/image.mjs';
import { summarize, formatTable } from './lib/stats.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_TAR = path.join(REPO, 'images/busybox/out/busybox.tar');
const MIN_RUNS = 20;
const RUN_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------- options

function usage(code) {
  const text = `usage: node bench/startup.mjs [options]

  --runs N          timed runs per contender (default 30, at least ${MIN_RUNS})
  --warmup N        untimed runs per contender before timing (default 2)
  --install-peers   apt-get install crun, runc and podman if they are missing
  --json FILE       also write the figures as JSON to FILE
  --image-tar FILE  image tarball (default images/busybox/out/busybox.tar)
  --minidock FILE   minidock CLI to run with node (default bin/minidock.js)
  --shuffle         random contender order in each round (default: the same
                    order A B C ... every round)
  -h, --help        this text
`;
  (code ? process.stderr : process.stdout).write(text);
  process.exit(code);
}

function parseArgs(argv) {
  const opts = { runs: 30, warmup: 2, installPeers: false, json: null, imageTar: DEFAULT_TAR, shuffle: false, minidock: path.join(REPO, 'bin/minidock.js') };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let val = null;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) { val = a.slice(eq + 1); a = a.slice(0, eq); }
    const next = () => {
      if (val !== null) return val;
      if (i + 1 >= argv.length) { console.error(`${a} needs a value`); usage(2); }
      return argv[++i];
    };
    switch (a) {
      case '--runs': opts.runs = Number(next()); break;
      case '--warmup': opts.warmup = Number(next()); break;
      case '--install-peers': opts.installPeers = true; break;
      case '--shuffle': opts.shuffle = true; break;
      case '--json': opts.json = path.resolve(next()); break;
      case '--image-tar': opts.imageTar = path.resolve(next()); break;
      case '--minidock': opts.minidock = path.resolve(next()); break;
      case '-h': case '--help': usage(0); break;
      default: console.error(`unknown option: ${a}`); usage(2);
    }
  }
  if (!Number.isInteger(opts.runs) || opts.runs < MIN_RUNS) {
    console.error(`--runs must be an integer >= ${MIN_RUNS} (medians and p90 of fewer runs are noise)`);
    process.exit(2);
  }
  if (!Number.isInteger(opts.warmup) || opts.warmup < 0) {
    console.error('--warmup must be an integer >= 0');
    process.exit(2);
  }
  return opts;
}

// ---------------------------------------------------------------- helpers

const log = (...a) => console.log(...a);

function which(name) {
  for (const dir of (process.env.PATH || '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try { fs.accessSync(p, fs.constants.X_OK); if (fs.statSync(p).isFile()) return p; } catch { /* next */ }
  }
  return null;
}

function shq(s) {
  return /^[A-Za-z0-9_./:=@%+,<>-]+$/.test(s) ? s : `'${String(s).replace(/'/g, `'\\''`)}'`;
}

function cmdline(cmd, args) {
  return [cmd, ...args].map(shq).join(' ');
}

// Run a setup/cleanup command, capturing output.  Never used for timing.
function sh(cmd, args, { env = CLEAN_ENV, cwd, input, inherit = false } = {}) {
  const r = spawnSync(cmd, args, {
    env, cwd, input,
    stdio: inherit ? ['ignore', 'inherit', 'inherit'] : ['pipe', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const ok = r.status === 0 && !r.error;
  return { ok, status: r.status, signal: r.signal, stdout: r.stdout || '', stderr: (r.stderr || '') + (r.error ? String(r.error) : '') };
}

function firstLine(s) {
  return String(s || '').split('\n').map((l) => l.trim()).find(Boolean) || '';
}

function indent(s, prefix = '    | ') {
  const lines = String(s || '').replace(/\s+$/, '').split('\n');
  const shown = lines.slice(0, 15);
  if (lines.length > shown.length) shown.push(`... (${lines.length - shown.length} more lines)`);
  return shown.map((l) => prefix + l).join('\n');
}

let interrupted = null;
class Interrupted extends Error {}
// Lets pending signals reach their handlers: every spawnSync blocks the loop.
async function checkpoint() {
  await new Promise((r) => setImmediate(r));
  if (interrupted) throw new Interrupted(interrupted);
}

// ---------------------------------------------------------------- environment

// Every contender but the 'node -e 0 (env as is)' row runs without
// NODE_EXTRA_CA_CERTS: with it Node reads and parses a CA bundle at start
// (~100 ms here) that a user's machine usually does not have.
const ORIG_ENV = { ...process.env };
const CLEAN_ENV = { ...process.env };
delete CLEAN_ENV.NODE_EXTRA_CA_CERTS;

function machineInfo() {
  let distro = '';
  try {
    const m = fs.readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)"?/m);
    if (m) distro = m[1];
  } catch { /* none */ }
  let cgroups = 'unknown';
  let hybrid = false;
  try {
    const mi = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
    const at = (mp) => mi.map((l) => l.split(' - ')).find(([a]) => a && a.split(' ')[4] === mp);
    const root = at('/sys/fs/cgroup');
    const fstype = root ? root[1].split(' ')[0] : '';
    if (fstype === 'cgroup2') cgroups = 'v2 (unified)';
    else if (fstype === 'tmpfs') {
      const uni = at('/sys/fs/cgroup/unified');
      let ctl = '';
      try { ctl = fs.readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').trim(); } catch { /* none */ }
      hybrid = !!uni;
      cgroups = uni ? `hybrid (v1 controllers + cgroup2 at /sys/fs/cgroup/unified${ctl ? ` with: ${ctl}` : ''})` : 'v1';
    }
  } catch { /* unknown */ }
  const cpus = os.cpus();
  return {
    nproc: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    cpu: cpus[0] ? cpus[0].model.trim() : 'unknown',
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(),
    distro,
    node: process.version,
    cgroups,
    hybridCgroups: hybrid,
    uid: process.getuid(),
  };
}

// ---------------------------------------------------------------- peers

const PEERS = ['crun', 'runc', 'podman'];

function installPeers() {
  const missing = PEERS.filter((p) => !which(p));
  if (missing.length === 0) { log('peers: crun, runc and podman already installed'); return; }
  if (process.getuid() !== 0) { log(`peers: cannot install ${missing.join(', ')}: not root`); return; }
  const aptEnv = { ...CLEAN_ENV, DEBIAN_FRONTEND: 'noninteractive' };
  // Only update the package lists if they do not know the packages yet.
  const known = missing.every((p) => /Candidate: (?!\(none\))/.test(sh('apt-cache', ['policy', p], { env: aptEnv }).stdout));
  if (!known) {
    log('peers: apt-get update');
    const u = sh('apt-get', ['update'], { env: aptEnv });
    if (!u.ok) log(`peers: apt-get update failed:\n${indent(u.stderr)}`);
  }
  log(`peers: apt-get install -y ${missing.join(' ')} (from Debian's packages)`);
  const r = sh('apt-get', ['install', '-y', ...missing], { env: aptEnv });
  if (!r.ok) log(`peers: apt-get install failed (exit ${r.status}):\n${indent(r.stderr || r.stdout)}`);
}

function version(cmd, args = ['--version']) {
  const r = sh(cmd, args);
  return firstLine(r.stdout || r.stderr);
}

// ---------------------------------------------------------------- contenders
//
// A contender: { id, label, cmd, args(runNo) -> string[], env, notes[] }.
// setup() functions below return a contender or a string saying why it is
// skipped; they may register cleanups.

const cleanups = []; // run in reverse order at exit

function nodeContenders() {
  const list = [{
    id: 'node-clean', label: 'node -e 0',
    cmd: process.execPath, args: () => ['-e', '0'], env: CLEAN_ENV,
    notes: ['floor for minidock\'s CLI: a bare Node start, NODE_EXTRA_CA_CERTS removed'],
  }];
  if (ORIG_ENV.NODE_EXTRA_CA_CERTS !== undefined) {
    list.push({
      id: 'node-env', label: 'node -e 0 (env as is)',
      cmd: process.execPath, args: () => ['-e', '0'], env: ORIG_ENV,
      notes: [`NODE_EXTRA_CA_CERTS=${ORIG_ENV.NODE_EXTRA_CA_CERTS} left set, as this environment has it`],
    });
  }
  return list;
}

function unshareContender() {
  const unshare = which('unshare');
  if (!unshare) return 'unshare: not installed (util-linux)';
  // All seven namespaces a container gets (mount, uts, ipc, pid, net, user,
  // cgroup), a fork so `true` is pid 1 of the new pid namespace, and the
  // calling user (root) mapped to root in the user namespace ("0 0 1"),
  // which is the same as --map-user=0 --map-group=0.
  const args = ['--fork', '--pid', '--mount', '--uts', '--ipc', '--net', '--cgroup', '--user', '--map-root-user', 'true'];
  return {
    id: 'unshare', label: 'unshare (7 namespaces)',
    cmd: unshare, args: () => args, env: CLEAN_ENV,
    notes: [
      'floor: new mount, uts, ipc, pid, net, user and cgroup namespaces, then exec true; no rootfs, no pivot_root',
      '--map-root-user: root mapped to root (uid_map/gid_map "0 0 1", setgroups deny); same as --map-user=0 --map-group=0',
      version(unshare),
    ],
  };
}

async function minidockContender(ctx, bin) {
  const shownBin = path.relative(REPO, bin).startsWith('..') ? bin : path.relative(REPO, bin);
  if (!fs.existsSync(bin)) return `minidock: ${shownBin} not found (CLI not written yet?) - skipped`;
  if (!ctx.imageTar) return `minidock: ${ctx.imageMissing}`;
  const root = path.join(ctx.work, 'minidock-root');
  fs.mkdirSync(root, { recursive: true });
  const env = { ...CLEAN_ENV, MINIDOCK_ROOT: root };
  const imp = sh(process.execPath, [bin, 'import', ctx.imageTar, 'busybox'], { env, cwd: REPO });
  await checkpoint();
  if (!imp.ok) {
    return `minidock: \`minidock import ${ctx.imageTar} busybox\` failed (exit ${imp.status}) - skipped\n${indent(imp.stderr || imp.stdout)}`;
  }
  return {
    id: 'minidock', label: 'minidock run',
    cmd: process.execPath,
    args: () => [bin, 'run', '--rm', '--network', 'none', 'busybox', 'true'],
    display: `node ${shownBin} run --rm --network none busybox true`,
    env, cwd: REPO,
    notes: [`MINIDOCK_ROOT=${root} (bench-private; image imported from ${ctx.imageTar})`],
  };
}

// The OCI bundle's config.json: the runtime's own `spec` output, adjusted.
function adjustSpec(spec) {
  spec.process.args = ['true'];
  spec.process.terminal = false;
  spec.root = { path: spec.__rootfs, readonly: false };
  delete spec.__rootfs;
  spec.hostname = 'bench';
  const want = ['pid', 'network', 'ipc', 'uts', 'mount', 'user', 'cgroup'];
  const have = new Map((spec.linux.namespaces || []).map((n) => [n.type, n]));
  spec.linux.namespaces = want.map((t) => have.get(t) || { type: t });
  // Identity map: container uid/gid 0..65535 are host 0..65535.
  spec.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
  spec.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
  return spec;
}

// Each OCI runtime gets a list of variants, tried in order until one runs;
// the ones that failed are reported with their error, so the output says
// honestly which knobs were needed on this machine.
function ociVariants(id, ctx) {
  const stripCgroups = (s) => { delete s.linux.resources; delete s.linux.cgroupsPath; return s; };
  const noCgroupMount = (s) => { s.mounts = s.mounts.filter((m) => m.type !== 'cgroup' && m.destination !== '/sys/fs/cgroup'); return s; };
  const same = (s) => s;
  if (id === 'crun') {
    const list = [
      { name: 'defaults', global: [], edit: same },
      { name: '--cgroup-manager=disabled', global: ['--cgroup-manager=disabled'], edit: same,
        why: 'crun creates no cgroup for the container' },
    ];
    // crun refuses hybrid cgroups (v1 controllers + a cgroup2 at
    // /sys/fs/cgroup/unified that has controllers) before it even looks at
    // --cgroup-manager.  It does accept plain v1, so it is run inside a
    // private mount namespace of the bench's, identical to the host's but
    // with /sys/fs/cgroup/unified unmounted.  Entering it costs one nsenter
    // exec, measured in its own row.
    if (ctx.hybridCgroups) {
      const hidden = 'in a mount namespace without /sys/fs/cgroup/unified (nsenter)';
      list.push(
        { name: hidden, global: [], edit: same, privateMnt: true,
          why: 'crun sees cgroup v1 and makes its cgroups with its default cgroupfs manager' },
        { name: `${hidden}, --cgroup-manager=disabled`, global: ['--cgroup-manager=disabled'], edit: same, privateMnt: true,
          why: 'and no cgroup for the container' },
        { name: `${hidden}, --cgroup-manager=disabled, no linux.resources, no /sys/fs/cgroup mount`, global: ['--cgroup-manager=disabled'],
          edit: (s) => noCgroupMount(stripCgroups(s)), privateMnt: true, why: 'and no cgroup filesystem in the container' },
      );
    }
    return list;
  }
  return [
    { name: 'defaults', global: [], edit: same },
    { name: 'no linux.resources/cgroupsPath', global: [], edit: stripCgroups,
      why: 'runc still makes a cgroup per container, but sets no limits (the default spec only has a device-deny rule)' },
    { name: 'no linux.resources/cgroupsPath, no /sys/fs/cgroup mount', global: [], edit: (s) => noCgroupMount(stripCgroups(s)),
      why: 'as above and no cgroup filesystem mounted in the container' },
  ];
}

// A persistent mount namespace (bind-mounted on a file under the bench's
// /run directory) in which /sys/fs/cgroup/unified is not mounted.
function privateMountNs(ctx) {
  if (ctx.mntNs !== undefined) return ctx.mntNs;
  ctx.mntNs = null;
  const dir = ctx.runDir;
  const file = path.join(dir, 'mnt-ns');
  // The file holding the namespace must sit on a mount that is not shared.
  let r = sh('mount', ['--bind', dir, dir]);
  if (r.ok) r = sh('mount', ['--make-private', dir]);
  if (r.ok) { fs.writeFileSync(file, ''); r = sh('unshare', [`--mount=${file}`, '--propagation', 'private', 'umount', '/sys/fs/cgroup/unified']); }
  if (!r.ok) { ctx.mntNsError = firstLine(r.stderr) || `exit ${r.status}`; return null; }
  ctx.mntNs = file;
  return file;
}

async function ociContender(ctx, id) {
  const bin = which(id);
  if (!bin) return `${id}: not installed (use --install-peers)`;
  if (!ctx.rootfs) return `${id}: ${ctx.imageMissing}`;
  const bundle = path.join(ctx.work, `bundle-${id}`);
  fs.mkdirSync(bundle, { recursive: true });
  // Runtime state goes to a private directory under /run (tmpfs), where
  // both keep it by default, so cleanup cannot touch anything else.
  const state = path.join(ctx.runDir, `${id}-state`);
  fs.mkdirSync(state, { recursive: true });
  const gen = sh(bin, ['spec'], { cwd: bundle });
  if (!gen.ok) return `${id}: \`${id} spec\` failed - skipped\n${indent(gen.stderr)}`;
  const base = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
  const prefix = `mdb${process.pid}-${id}`;
  const failures = [];
  for (const v of ociVariants(id, ctx)) {
    let wrap = [];
    if (v.privateMnt) {
      const ns = privateMountNs(ctx);
      if (!ns) { failures.push({ name: v.name, err: `could not make the mount namespace: ${ctx.mntNsError}`, stderr: ctx.mntNsError }); continue; }
      wrap = [which('nsenter') || 'nsenter', `--mount=${ns}`, '--'];
    }
    const spec = v.edit(adjustSpec({ ...structuredClone(base), __rootfs: ctx.rootfs }));
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
    const global = ['--root', state, ...v.global];
    const cmd = wrap.length ? wrap[0] : bin;
    const args = (n) => [...wrap.slice(1), ...(wrap.length ? [bin] : []), ...global, 'run', '--bundle', bundle, `${prefix}-${n}`];
    const cleanup = () => ociCleanup(cmd, [...wrap.slice(1), ...(wrap.length ? [bin] : [])], state, prefix);
    const r = sh(cmd, args('probe'));
    await checkpoint();
    if (r.ok) {
      cleanups.push(cleanup);
      const notes = [version(bin), `config.json: \`${id} spec\` with args ["true"], terminal false, readonly false, 7 namespaces, uid/gid maps 0->0 x65536`];
      notes.push(`variant: ${v.name}${v.why ? ` (${v.why})` : ''}`);
      for (const f of failures) notes.push(`rejected variant "${f.name}": ${f.err}`);
      const show = (g) => cmdline(wrap.length ? 'nsenter' : id, [...(wrap.length ? ['--mount=<ns>', '--', id] : []), ...g, 'run', '--bundle', '<bundle>', '<id>']);
      const main = {
        id, label: `${id} run`, cmd, args, display: show(v.global),
        env: CLEAN_ENV, notes, failedVariants: failures, variant: v.name, wrapped: wrap.length > 0,
      };
      // crun with its default cgroup handling makes a cgroup in every v1
      // hierarchy; a second row without any shows what that costs.
      if (id === 'crun' && !v.global.includes('--cgroup-manager=disabled')) {
        const g2 = ['--root', state, '--cgroup-manager=disabled', ...v.global];
        const args2 = (n) => [...wrap.slice(1), ...(wrap.length ? [bin] : []), ...g2, 'run', '--bundle', bundle, `${prefix}-nc-${n}`];
        const r2 = sh(cmd, args2('probe'));
        await checkpoint();
        if (r2.ok) {
          return [main, {
            id: 'crun-nocg', label: 'crun run (no cgroup)', cmd, args: args2, display: show(['--cgroup-manager=disabled', ...v.global]),
            env: CLEAN_ENV, wrapped: main.wrapped, variant: `${v.name}, --cgroup-manager=disabled`,
            notes: ['same bundle and namespace as "crun run", but --cgroup-manager=disabled: no cgroup is made for the container'],
          }];
        }
        notes.push(`crun --cgroup-manager=disabled did not run: ${firstLine(r2.stderr)}`);
        cleanup();
      }
      return main;
    }
    failures.push({ name: v.name, err: firstLine(r.stderr) || `exit ${r.status}`, stderr: r.stderr });
    cleanup();
  }
  return `${id}: no variant of the bundle ran - skipped\n` +
    failures.map((f) => `    variant "${f.name}":\n${indent(f.stderr, '      | ')}`).join('\n');
}

function ociCleanup(cmd, pre, state, prefix) {
  if (!fs.existsSync(state)) return;
  const l = sh(cmd, [...pre, '--root', state, 'list', '-q']);
  for (const name of l.stdout.split('\n').map((s) => s.trim()).filter((s) => s.startsWith(prefix))) {
    sh(cmd, [...pre, '--root', state, 'delete', '--force', name]);
  }
}

// The cost of crun's wrapper alone, so it can be subtracted by eye.
function nsenterContender(ctx) {
  return {
    id: 'nsenter', label: 'nsenter --mount true',
    cmd: which('nsenter') || 'nsenter', args: () => [`--mount=${ctx.mntNs}`, '--', 'true'],
    display: 'nsenter --mount=<ns> -- true',
    env: CLEAN_ENV,
    notes: ['cost of entering the mount namespace crun runs in (part of the crun row)'],
  };
}

function readLimit(name) {
  try {
    const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name));
    const hard = line.slice(26).trim().split(/\s+/)[1];
    return hard === 'unlimited' ? Infinity : Number(hard);
  } catch { return NaN; }
}

function podmanVariants() {
  // podman (as root) asks the OCI runtime for RLIMIT_NOFILE=1048576 and,
  // once any --ulimit is given, RLIMIT_NPROC=1048576 too; raising a hard
  // limit needs CAP_SYS_RESOURCE, which root may lack (in a container or a
  // sandbox).  Then the container gets this process's own hard limits.
  const nofile = readLimit('Max open files');
  let pidMax = NaN;
  try { pidMax = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8')); } catch { /* none */ }
  const nproc = Math.min(readLimit('Max processes'), pidMax);
  const ulimits = [];
  if (Number.isFinite(nofile)) ulimits.push('--ulimit', `nofile=${nofile}:${nofile}`);
  if (Number.isFinite(nproc)) ulimits.push('--ulimit', `nproc=${nproc}:${nproc}`);
  const ulWhy = 'podman asks for 1048576 open files, more than this root may raise its hard limit to without CAP_SYS_RESOURCE; ' +
    'podman itself lowers its nproc to pid_max';
  const runcWhy = 'podman\'s default runtime crun refuses hybrid cgroups';
  const sysd = ['--cgroup-manager=cgroupfs', '--events-backend=file'];
  return [
    { name: 'defaults', global: [], run: [] },
    { name: ulimits.join(' '), global: [], run: ulimits, why: ulWhy },
    { name: '--runtime runc', global: ['--runtime', 'runc'], run: [], why: runcWhy },
    { name: `--runtime runc ${ulimits.join(' ')}`, global: ['--runtime', 'runc'], run: ulimits, why: `${runcWhy}; ${ulWhy}` },
    { name: `--runtime runc ${sysd.join(' ')} ${ulimits.join(' ')}`, global: ['--runtime', 'runc', ...sysd], run: ulimits,
      why: `${runcWhy}; ${ulWhy}; systemd cgroups and journald events need systemd` },
  ];
}

async function podmanContender(ctx) {
  const bin = which('podman');
  if (!bin) return 'podman: not installed (use --install-peers)';
  if (!ctx.rootfs) return `podman: ${ctx.imageMissing}`;
  // podman import wants a plain filesystem tarball.
  let flat = ctx.imageTar;
  if (ctx.imageKind !== 'rootfs') {
    flat = path.join(ctx.work, 'podman-rootfs.tar');
    const t = sh('tar', ['-C', ctx.rootfs, '--numeric-owner', '-cf', flat, '.']);
    if (!t.ok) return `podman: could not pack the rootfs for podman import - skipped\n${indent(t.stderr)}`;
  }
  const image = `localhost/minidock-bench-busybox:p${process.pid}`;
  // podman leaves a libpod_parent cgroup (with conmon's) in every hierarchy:
  // removed at the end unless it was there before.
  const parents = libpodParents();
  if (parents.length === 0) cleanups.push(() => { for (const d of libpodParents()) rmdirTree(d); });
  const imp = sh(bin, ['import', '--quiet', flat, image]);
  await checkpoint();
  if (!imp.ok) return `podman: \`podman import\` failed - skipped\n${indent(imp.stderr)}`;
  cleanups.push(() => podmanCleanup(bin, image));
  const failures = [];
  for (const v of podmanVariants()) {
    const args = () => [...v.global, 'run', '--rm', '--network', 'none', ...v.run, image, 'true'];
    const r = sh(bin, args());
    await checkpoint();
    if (r.ok) {
      const notes = [version(bin), `image ${image} imported from the same tarball (podman import)`];
      notes.push(`variant: ${v.name === 'defaults' ? 'defaults' : `flags ${v.name}`}${v.why ? ` (${v.why})` : ''}`);
      const rt = sh(bin, [...v.global, 'info', '--format', '{{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}} {{.Host.CgroupsVersion}} {{.Store.GraphDriverName}} {{.Host.EventLogger}}']);
      if (rt.ok) {
        const [runtime, mgr, cgv, driver, events] = rt.stdout.trim().split(/\s+/);
        notes.push(`podman uses OCI runtime ${runtime}, cgroup manager ${mgr}, cgroups ${cgv}, storage driver ${driver}, events ${events}`);
      }
      for (const f of failures) notes.push(`rejected variant "${f.name}": ${f.err}`);
      return {
        id: 'podman', label: 'podman run',
        cmd: bin, args,
        display: cmdline('podman', [...v.global, 'run', '--rm', '--network', 'none', ...v.run, '<image>', 'true']),
        env: CLEAN_ENV, notes, failedVariants: failures, variant: v.name,
      };
    }
    failures.push({ name: v.name, err: firstLine(r.stderr) || `exit ${r.status}`, stderr: r.stderr });
  }
  return 'podman: no variant ran - skipped\n' +
    failures.map((f) => `    variant "${f.name}":\n${indent(f.stderr, '      | ')}`).join('\n');
}

function libpodParents() {
  const out = [];
  const root = '/sys/fs/cgroup';
  const consider = (d) => { try { if (fs.statSync(d).isDirectory()) out.push(d); } catch { /* absent */ } };
  consider(path.join(root, 'libpod_parent'));
  try { for (const h of fs.readdirSync(root)) consider(path.join(root, h, 'libpod_parent')); } catch { /* no cgroupfs */ }
  return out;
}

// rmdir a cgroup and its child cgroups, deepest first; a cgroup that still
// has processes refuses, which is fine.
function rmdirTree(dir) {
  let kids = [];
  try { kids = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()); } catch { return; }
  for (const k of kids) rmdirTree(path.join(dir, k.name));
  try { fs.rmdirSync(dir); } catch { /* busy or gone */ }
}

function podmanCleanup(bin, image) {
  const ps = sh(bin, ['ps', '-a', '-q', '--filter', `ancestor=${image}`]);
  const ids = ps.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  if (ids.length) sh(bin, ['rm', '-f', ...ids]);
  sh(bin, ['rmi', '-f', image]);
}

// ---------------------------------------------------------------- cleanup

function unmountUnder(dirs) {
  let lines = [];
  try { lines = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n'); } catch { return; }
  const unesc = (s) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  const mps = lines.map((l) => l.split(' ')[4]).filter(Boolean).map(unesc)
    .filter((mp) => dirs.some((d) => mp === d || mp.startsWith(d + '/')))
    .sort((a, b) => b.length - a.length);
  for (const mp of mps) sh('umount', ['-l', mp]);
}

let cleanedUp = false;
function cleanupAll(ctx) {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const fn of cleanups.reverse()) {
    try { fn(); } catch (e) { console.error(`cleanup: ${e.message}`); }
  }
  const dirs = [ctx.work, ctx.runDir].filter(Boolean);
  unmountUnder(dirs);
  for (const d of dirs) {
    try { fs.rmSync(d, { recursive: true, force: true }); } catch (e) { console.error(`cleanup: could not remove ${d}: ${e.message}`); }
  }
}

// ---------------------------------------------------------------- timing

function openErrFile(ctx, id) {
  const p = path.join(ctx.work, `stderr-${id}.txt`);
  return { path: p, fd: fs.openSync(p, 'a') }; // O_APPEND: truncate works while the child writes
}

// One timed run: only the spawnSync call is inside the clock.
function timedRun(c, n) {
  fs.ftruncateSync(c.err.fd, 0);
  const args = c.args(n);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(c.cmd, args, {
    stdio: ['ignore', 'ignore', c.err.fd],
    env: c.env, cwd: c.cwd, timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL',
  });
  const t1 = process.hrtime.bigint();
  if (r.error || r.status !== 0) {
    let why = r.error ? String(r.error.message) : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
    if (r.signal === 'SIGKILL' && Number(t1 - t0) / 1e6 >= RUN_TIMEOUT_MS) why = `timed out after ${RUN_TIMEOUT_MS / 1000}s`;
    return { ok: false, why, stderr: fs.readFileSync(c.err.path, 'utf8') };
  }
  return { ok: true, ms: Number(t1 - t0) / 1e6 };
}

function drop(c, phase, res) {
  c.dropped = `${phase}: ${res.why}`;
  log(`\n${c.label}: ${phase} run failed (${res.why}) - dropped; stderr:`);
  log(res.stderr.trim() ? indent(res.stderr) : '    | (empty)');
}

// ---------------------------------------------------------------- main

const ctx = { work: null, runDir: null };

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const onSignal = (sig) => {
    if (!interrupted) process.stderr.write(`\n${sig}: stopping after the current run and cleaning up...\n`);
    interrupted = sig;
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => onSignal(s));
  process.on('exit', () => cleanupAll(ctx));

  const machine = machineInfo();
  const date = new Date();
  log('minidock startup benchmark: start-to-exit wall time of a container running `true`');
  log(`date:    ${date.toISOString()}`);
  log(`machine: ${machine.nproc} cpus (${machine.cpu}), ${machine.memGiB} GiB, kernel ${machine.kernel}, ${machine.distro}`);
  log(`node:    ${machine.node}   cgroups: ${machine.cgroups}`);
  log(`runs:    ${opts.runs} timed + ${opts.warmup} warm-up per contender, alternated run by run` +
    (opts.shuffle ? ' (order shuffled every round)' : ' (same order every round)'));
  if (ORIG_ENV.NODE_EXTRA_CA_CERTS !== undefined) {
    log(`env:     NODE_EXTRA_CA_CERTS (=${ORIG_ENV.NODE_EXTRA_CA_CERTS}) removed from every contender's environment,`);
    log(`         except the row "node -e 0 (env as is)" which shows what it costs`);
  } else {
    log('env:     NODE_EXTRA_CA_CERTS is not set here; every contender gets the same environment');
  }
  if (machine.uid !== 0) log('warning: not root; crun, runc and podman (and likely minidock) need root and will be skipped');
  log('');

  if (opts.installPeers) installPeers();
  await checkpoint();

  ctx.hybridCgroups = machine.hybridCgroups;
  ctx.work = fs.mkdtempSync(path.join(os.tmpdir(), 'minidock-bench-'));
  const runBase = fs.existsSync('/run') && machine.uid === 0 ? '/run' : os.tmpdir();
  ctx.runDir = fs.mkdtempSync(path.join(runBase, 'minidock-bench-'));

  // The image: one tarball feeds minidock, the OCI bundles and podman.
  if (!fs.existsSync(opts.imageTar)) {
    ctx.imageMissing = `image tarball ${opts.imageTar} missing (run bin/setup to build it) - skipped`;
    log(`image:   ${opts.imageTar} is missing: run bin/setup (it builds images/busybox/out/busybox.tar)`);
  } else {
    ctx.imageTar = opts.imageTar;
    try {
      ctx.imageKind = imageKind(opts.imageTar, sh);
      ctx.rootfs = path.join(ctx.work, 'rootfs');
      extractRootfs(opts.imageTar, ctx.imageKind, ctx.rootfs, path.join(ctx.work, 'image-archive'), sh);
      log(`image:   ${opts.imageTar} (${ctx.imageKind} tarball), extracted for the OCI bundles`);
    } catch (e) {
      ctx.rootfs = null;
      ctx.imageMissing = `could not unpack ${opts.imageTar}: ${e.message} - skipped`;
      log(`image:   ${ctx.imageMissing}`);
    }
  }
  await checkpoint();

  // Set up contenders in table order; anything that cannot run says why.
  const contenders = [];
  const skipped = [];
  const add = (c) => {
    if (typeof c === 'string') { skipped.push(c); log(c); } else contenders.push(c);
  };
  log('setting up contenders...');
  add(await minidockContender(ctx, opts.minidock));
  add(unshareContender());
  for (const c of nodeContenders()) add(c);
  for (const id of ['crun', 'runc']) {
    const got = [await ociContender(ctx, id)].flat();
    for (const c of got) add(c);
    if (got.some((c) => c.wrapped)) add(nsenterContender(ctx));
  }
  add(await podmanContender(ctx));
  for (const c of contenders) c.err = openErrFile(ctx, c.id);

  // Warm-up (untimed): also the check that each contender runs at all.
  for (let w = 0; w < Math.max(1, opts.warmup); w++) {
    for (const c of contenders) {
      if (c.dropped) continue;
      const r = timedRun(c, `w${w}`);
      await checkpoint(); // a Ctrl-C that killed the run is not its failure
      if (!r.ok) drop(c, 'warm-up', r);
    }
  }

  // Timed runs, alternating: A B C ... A B C ...
  for (const c of contenders) c.samples = [];
  log(`\ntiming ${contenders.filter((c) => !c.dropped).length} contenders x ${opts.runs} runs...`);
  let seed = (Date.now() ^ (process.pid << 16)) >>> 0;
  const rand = () => { // xorshift32: enough to shuffle a dozen rows
    seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
    return seed / 2 ** 32;
  };
  for (let n = 0; n < opts.runs; n++) {
    const order = [...contenders];
    if (opts.shuffle) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
    }
    for (const c of order) {
      if (c.dropped) continue;
      const r = timedRun(c, n);
      await checkpoint();
      if (r.ok) c.samples.push(r.ms); else drop(c, `run ${n + 1}`, r);
    }
    if (process.stdout.isTTY) process.stdout.write(`\r  round ${n + 1}/${opts.runs}`);
  }
  if (process.stdout.isTTY) process.stdout.write('\r' + ' '.repeat(30) + '\r');

  // Report.
  const md = contenders.find((c) => c.id === 'minidock' && !c.dropped);
  for (const c of contenders) c.stats = c.dropped ? null : summarize(c.samples);
  const ref = md ? md.stats.median : null;
  log('');
  log(formatTable(contenders, ref));
  log('');
  if (!md) log('x minidock: no ratio, minidock did not run (see above)');
  log('figures in ms, start-to-exit wall time of one spawn (process.hrtime around spawnSync); p90 = nearest rank');
  log('');
  log('contenders:');
  for (const c of contenders) {
    log(`  ${c.label}: ${c.display || cmdline(path.basename(c.cmd), c.args('<n>'))}`);
    for (const n of c.notes) log(`      ${n}`);
    if (c.dropped) log(`      DROPPED (${c.dropped})`);
  }
  if (skipped.length) {
    log('not measured:');
    for (const s of skipped) log(`  ${s.split('\n')[0]}`);
  }

  if (opts.json) {
    const out = {
      date: date.toISOString(), machine, runs: opts.runs, warmup: opts.warmup,
      order: opts.shuffle ? 'alternating, one run of each contender per round in a random order' : 'alternating, one run of each contender per round in table order',
      env: { NODE_EXTRA_CA_CERTS_removed: ORIG_ENV.NODE_EXTRA_CA_CERTS !== undefined, value: ORIG_ENV.NODE_EXTRA_CA_CERTS ?? null },
      unit: 'ms',
      contenders: contenders.map((c) => ({
        id: c.id, label: c.label, command: c.display || cmdline(c.cmd, c.args('<n>')),
        notes: c.notes, variant: c.variant ?? null,
        dropped: c.dropped ?? null,
        ...(c.stats ? { ...c.stats, ratio_to_minidock: ref ? +(c.stats.median / ref).toFixed(3) : null } : {}),
        samples: c.dropped ? [] : c.samples.map((x) => +x.toFixed(3)),
      })),
      skipped: skipped.map((s) => s.split('\n')[0]),
    };
    fs.writeFileSync(opts.json, JSON.stringify(out, null, 2) + '\n');
    log(`\nwrote ${opts.json}`);
  }
}

main().then(
  () => { cleanupAll(ctx); process.exit(0); },
  (e) => {
    cleanupAll(ctx);
    if (e instanceof Interrupted) { console.error('interrupted; cleaned up'); process.exit(130); }
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
  },
);
