// The three engines that run whole containers from an image — minidock, podman and docker —
// behind one small interface, so every section of the suite runs the same steps on each:
//
//   engine.cmd, engine.env          what to spawn
//   engine.run({ rm, detach, name, network, publish, image, command })  -> argv
//   engine.rm(names), engine.exec(name, argv), engine.ps(), engine.inspect(fmt, names) -> argv
//   engine.images.{busybox,python3}  the image references (imported from the same tarballs)
//
// Each set-up function returns an engine or a string saying why that engine is skipped, and
// pushes its clean-up onto ctx.cleanups. The docker daemon is a private one, started here inside
// the suite's network namespace with its own data root, sockets and cgroup parent, and stopped
// (by pid) at the end.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLEAN_ENV, firstLine, indent, lastLine, sh, sleep, version, which } from './proc.mjs';

const TARS = (repo) => ({
  busybox: { tar: path.join(repo, 'images/busybox/out/busybox.tar'), cmd: 'sh' },
  python3: { tar: path.join(repo, 'images/python3/out/python3.tar'), cmd: 'python3' },
});

// ------------------------------------------------------------------------------------ minidock

export function minidockEngine(ctx) {
  // bin/minidock, as users run it: node started from the startup snapshot.
  const bin = path.join(ctx.repo, 'bin/minidock');
  const root = path.join(ctx.work, 'minidock-root');
  fs.mkdirSync(root, { recursive: true });
  const env = { ...CLEAN_ENV, MINIDOCK_ROOT: root, MINIDOCK_BRIDGE: ctx.net.minidockBridge, MINIDOCK_SUBNET: ctx.net.minidockSubnet };
  delete env.MINIDOCK_TRACE;
  const pre = [];
  for (const [name, { tar, cmd }] of Object.entries(TARS(ctx.repo))) {
    const r = sh(bin, [...pre, 'import', '-c', `CMD ["${cmd}"]`, tar, name], { env });
    if (!r.ok) return `minidock: \`minidock import ${tar}\` failed (exit ${r.status}) - skipped\n${indent(r.stderr || r.stdout)}`;
  }
  const engine = {
    id: 'minidock', label: 'minidock', cmd: bin, js: path.join(ctx.repo, 'bin/minidock.js'), env, root,
    images: { busybox: 'busybox', python3: 'python3' },
    notes: [`${path.relative(ctx.repo, bin)} (node from the startup snapshot); MINIDOCK_ROOT=${root}, bridge ${env.MINIDOCK_BRIDGE} ${env.MINIDOCK_SUBNET} (bench-private)`],
    run: ({ rm, detach, name, network, publish = [], image, command }) => [...pre, 'run',
      ...(rm ? ['--rm'] : []), ...(detach ? ['-d'] : []), ...(name ? ['--name', name] : []),
      ...(network ? ['--network', network] : []), ...publish.flatMap((p) => ['-p', p]), image, ...command],
    rm: (names) => [...pre, 'rm', '-f', ...names],
    exec: (name, argv) => [...pre, 'exec', name, ...argv],
    ps: () => [...pre, 'ps'],
    psAll: () => [...pre, 'ps', '-a'],
    inspect: (fmt, names) => [...pre, 'inspect', '-f', fmt, ...names],
  };
  ctx.cleanups.push(() => {
    // Every container of the private root, then the root's leftovers (gc).
    const ids = sh(bin, [...pre, 'ps', '-a', '-q', '--no-trunc'], { env }).stdout.split('\n').filter(Boolean);
    if (ids.length) sh(bin, [...pre, 'rm', '-f', ...ids], { env });
    sh(bin, [...pre, 'gc'], { env });
  });
  return engine;
}

// ------------------------------------------------------------------------------------ podman

function readLimit(name) {
  try {
    const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name));
    const hard = line.slice(26).trim().split(/\s+/)[1];
    return hard === 'unlimited' ? Infinity : Number(hard);
  } catch { return NaN; }
}

function podmanVariants() {
  // podman (as root) asks the OCI runtime for RLIMIT_NOFILE=1048576 and, once any --ulimit is
  // given, RLIMIT_NPROC=1048576 too; raising a hard limit needs CAP_SYS_RESOURCE, which root may
  // lack (in a container or a sandbox). Then the container gets this process's own hard limits.
  const nofile = readLimit('Max open files');
  let pidMax = NaN;
  try { pidMax = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8')); } catch { /* none */ }
  const nproc = Math.min(readLimit('Max processes'), pidMax);
  const ulimits = [];
  if (Number.isFinite(nofile)) ulimits.push('--ulimit', `nofile=${nofile}:${nofile}`);
  if (Number.isFinite(nproc)) ulimits.push('--ulimit', `nproc=${nproc}:${nproc}`);
  const ulWhy = 'podman asks for 1048576 open files, more than this root may raise its hard limit to without CAP_SYS_RESOURCE; podman itself lowers its nproc to pid_max';
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

function libpodParents() {
  const out = [];
  const consider = (d) => { try { if (fs.statSync(d).isDirectory()) out.push(d); } catch { /* absent */ } };
  consider('/sys/fs/cgroup/libpod_parent');
  try { for (const h of fs.readdirSync('/sys/fs/cgroup')) consider(path.join('/sys/fs/cgroup', h, 'libpod_parent')); } catch { /* none */ }
  return out;
}

// rmdir a cgroup and its child cgroups, deepest first; a cgroup that still has processes
// refuses, which is fine.
export function rmdirTree(dir) {
  let kids = [];
  try { kids = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()); } catch { return; }
  for (const k of kids) rmdirTree(path.join(dir, k.name));
  try { fs.rmdirSync(dir); } catch { /* busy or gone */ }
}

/** Names the engines give the bench's own containers: `<prefix><what>-<n>`. */
export const namePrefix = () => `mdkb${process.pid}-`;

export function podmanEngine(ctx) {
  const bin = which('podman');
  if (!bin) return 'podman: not installed (use --install-peers)';
  const tag = `p${process.pid}`;
  const images = { busybox: `localhost/minidock-bench-busybox:${tag}`, python3: `localhost/minidock-bench-python3:${tag}` };
  // podman leaves a libpod_parent cgroup (with conmon's) in every hierarchy: removed at the end
  // unless it was there before.
  if (libpodParents().length === 0) ctx.cleanups.push(() => { for (const d of libpodParents()) rmdirTree(d); });
  const cleanup = () => {
    const prefix = namePrefix();
    const ps = sh(bin, ['ps', '-a', '--format', '{{.Names}}']);
    const mine = ps.stdout.split('\n').map((s) => s.trim()).filter((n) => n.startsWith(prefix));
    if (mine.length) sh(bin, ['rm', '-f', '-t', '0', ...mine]);
    for (const img of Object.values(images)) {
      const left = sh(bin, ['ps', '-a', '-q', '--filter', `ancestor=${img}`]).stdout.split('\n').filter(Boolean);
      if (left.length) sh(bin, ['rm', '-f', '-t', '0', ...left]);
    }
    sh(bin, ['rmi', '-f', ...Object.values(images)]);
  };
  ctx.cleanups.push(cleanup);
  for (const [name, { tar }] of Object.entries(TARS(ctx.repo))) {
    const r = sh(bin, ['import', '--quiet', tar, images[name]]);
    if (!r.ok) return `podman: \`podman import ${tar}\` failed - skipped\n${indent(r.stderr)}`;
  }
  const failures = [];
  for (const v of podmanVariants()) {
    const r = sh(bin, [...v.global, 'run', '--rm', '--network', 'none', ...v.run, images.busybox, 'true']);
    if (!r.ok) { failures.push({ name: v.name, err: firstLine(r.stderr) || `exit ${r.status}`, stderr: r.stderr }); continue; }
    const notes = [version(bin), `images imported from the same tarballs (podman import)`,
      `variant: ${v.name === 'defaults' ? 'defaults' : `flags ${v.name}`}${v.why ? ` (${v.why})` : ''}`];
    const rt = sh(bin, [...v.global, 'info', '--format', '{{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}} {{.Host.NetworkBackend}} {{.Store.GraphDriverName}}']);
    if (rt.ok) {
      const [runtime, mgr, netb, driver] = rt.stdout.trim().split(/\s+/);
      notes.push(`OCI runtime ${runtime}, cgroup manager ${mgr}, network backend ${netb}, storage ${driver}; conmon is the per-container monitor`);
    }
    for (const f of failures) notes.push(`rejected variant "${f.name}": ${f.err}`);
    return {
      id: 'podman', label: 'podman', cmd: bin, env: CLEAN_ENV, images, notes, variant: v.name,
      run: ({ rm, detach, name, network, publish = [], image, command }) => [...v.global, 'run',
        ...(rm ? ['--rm'] : []), ...(detach ? ['-d'] : []), ...(name ? ['--name', name] : []),
        ...(network ? ['--network', network] : []), ...publish.flatMap((p) => ['-p', p]), ...v.run, image, ...command],
      // -t 0: kill at once, as docker's and minidock's rm -f do (podman's default waits 10 s for
      // a PID 1 that ignores SIGTERM).
      rm: (names) => [...v.global, 'rm', '-f', '-t', '0', ...names],
      exec: (name, argv) => [...v.global, 'exec', name, ...argv],
      ps: () => [...v.global, 'ps'],
      psAll: () => [...v.global, 'ps', '-a'],
      inspect: (fmt, names) => [...v.global, 'inspect', '-f', fmt, ...names],
    };
  }
  return 'podman: no variant ran - skipped\n' + failures.map((f) => `    variant "${f.name}":\n${indent(f.stderr, '      | ')}`).join('\n');
}

// ------------------------------------------------------------------------------------ docker

/**
 * Starts a private dockerd (and the containerd it manages) in the current network namespace.
 * Returns an engine or a string saying why docker is skipped.
 */
export async function dockerEngine(ctx) {
  const dockerd = which('dockerd');
  if (!dockerd) return 'docker: dockerd not installed (use --install-peers: Debian\'s docker.io)';
  // The client from the same package, not whichever `docker` comes first on PATH.
  const bin = [path.join(path.dirname(dockerd), 'docker'), '/usr/bin/docker'].find((p) => fs.existsSync(p)) || which('docker');
  if (!bin) return 'docker: the docker client is not installed';
  const dir = path.join(ctx.runDir, 'docker');
  const data = path.join(ctx.work, 'docker-data');
  fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(data, { recursive: true });
  const sock = path.join(dir, 'docker.sock');
  const cgroupParent = `minidock-bench-docker-${process.pid}`;
  const config = path.join(dir, 'daemon.json');
  fs.writeFileSync(config, '{}\n');
  const logFile = path.join(ctx.work, 'dockerd.log');
  const env = { ...CLEAN_ENV, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: path.join(ctx.work, 'docker-client') };
  // Host paths dockerd and containerd write to whatever their roots (seen on Debian 12's 20.10):
  // removed at the end if they were not there before.
  const hostPaths = ['/etc/docker/key.json', '/run/docker', '/run/containerd'].filter((p) => !fs.existsSync(p));
  const args = ['--data-root', data, '--exec-root', path.join(dir, 'exec'), '--pidfile', path.join(dir, 'dockerd.pid'),
    '-H', `unix://${sock}`, '--config-file', config, '--bip', ctx.net.dockerBip, '--cgroup-parent', cgroupParent];
  const log = fs.openSync(logFile, 'w');
  // Its own process group: a Ctrl-C reaches the suite, which then stops the daemon in order.
  const daemon = spawn(dockerd, args, { env: CLEAN_ENV, stdio: ['ignore', log, log], detached: true });
  fs.closeSync(log);
  let exited = null;
  daemon.on('exit', (code, sig) => { exited = sig ? `killed by ${sig}` : `exit ${code}`; });
  const stop = async () => {
    const ids = sh(bin, ['ps', '-a', '-q'], { env }).stdout.split('\n').filter(Boolean);
    if (ids.length && !exited) sh(bin, ['rm', '-f', ...ids], { env, timeout: 180_000 });
    if (!exited) {
      process.kill(daemon.pid, 'SIGTERM');
      for (let i = 0; i < 150 && !exited; i++) await sleep(100);
      if (!exited) { process.kill(daemon.pid, 'SIGKILL'); await sleep(500); }
    }
    // containerd and its shims are the daemon's children; any left (a killed dockerd) are ours.
    for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      let cl = '';
      try { cl = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { continue; }
      if (cl.includes(dir)) try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
    }
    await sleep(200);
    const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter(Boolean)
      .filter((mp) => mp.startsWith(data + '/') || mp.startsWith(dir + '/')).sort((a, b) => b.length - a.length);
    for (const mp of mounts) sh('umount', ['-l', mp]);
    for (const h of fs.readdirSync('/sys/fs/cgroup')) rmdirTree(path.join('/sys/fs/cgroup', h, cgroupParent));
    for (const p of hostPaths) fs.rmSync(p, { recursive: true, force: true });
  };
  ctx.asyncCleanups.push(stop);
  for (let i = 0; i < 300 && !exited; i++) {
    if (sh(bin, ['version', '--format', '{{.Server.Version}}'], { env }).ok) break;
    await sleep(100);
  }
  const tail = () => { try { return fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => /level=(error|fatal)|failed/i.test(l)).slice(-3).join('\n'); } catch { return ''; } };
  if (exited) return `docker: dockerd cannot run here (${exited}) - skipped\n${indent(tail())}`;
  const ver = sh(bin, ['version', '--format', '{{.Server.Version}}'], { env });
  if (!ver.ok) return `docker: dockerd did not answer within 30 s - skipped\n${indent(tail())}`;
  const tag = `p${process.pid}`;
  const images = { busybox: `minidock-bench-busybox:${tag}`, python3: `minidock-bench-python3:${tag}` };
  for (const [name, { tar, cmd }] of Object.entries(TARS(ctx.repo))) {
    const r = sh(bin, ['import', '-c', `CMD ["${cmd}"]`, tar, images[name]], { env });
    if (!r.ok) return `docker: \`docker import ${tar}\` failed - skipped\n${indent(r.stderr)}`;
  }
  const probe = sh(bin, ['run', '--rm', '--network', 'none', images.busybox, 'true'], { env });
  if (!probe.ok) return `docker: \`docker run --rm --network none busybox true\` failed - skipped: ${lastLine(probe.stderr)}`;
  const info = sh(bin, ['info', '--format', '{{.DefaultRuntime}} {{.CgroupDriver}} {{.Driver}}'], { env }).stdout.trim().split(/\s+/);
  return {
    id: 'docker', label: 'docker', cmd: bin, env, images, daemonPid: daemon.pid,
    notes: [`Docker ${ver.stdout.trim()} (Debian's docker.io), client ${version(bin)}`,
      `a private dockerd started by the suite in its network namespace: --data-root and --exec-root bench-private, --bip ${ctx.net.dockerBip}, --cgroup-parent ${cgroupParent}; runtime ${info[0]}, cgroup driver ${info[1]}, storage ${info[2]}; containerd-shim-runc-v2 is the per-container monitor`,
      'docker\'s defaults otherwise: the userland proxy (docker-proxy) carries published ports reached on 127.0.0.1',
      'dockerd adds a docker0 bridge and DOCKER iptables chains: inside the suite\'s network namespace only, gone with it'],
    run: ({ rm, detach, name, network, publish = [], image, command }) => ['run',
      ...(rm ? ['--rm'] : []), ...(detach ? ['-d'] : []), ...(name ? ['--name', name] : []),
      ...(network ? ['--network', network] : []), ...publish.flatMap((p) => ['-p', p]), image, ...command],
    rm: (names) => ['rm', '-f', ...names],
    exec: (name, argv) => ['exec', name, ...argv],
    ps: () => ['ps'],
    psAll: () => ['ps', '-a'],
    inspect: (fmt, names) => ['inspect', '-f', fmt, ...names],
    daemonsKb: () => [daemon.pid, ...childPids(daemon.pid)],
  };
}

/** Direct children of a process (for dockerd's containerd). */
export function childPids(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch { return []; }
}
