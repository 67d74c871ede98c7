// crun and runc as contenders: an OCI bundle made from the same rootfs as minidock's image, and
// the variants of it each runtime is tried with until one runs on this machine (the ones that
// failed are reported with their error). See bench/README.md, "crun on hybrid cgroups".
import fs from 'node:fs';
import path from 'node:path';
import { cmdline, firstLine, indent, sh, version, which } from './proc.mjs';

// The OCI bundle's config.json: the runtime's own `spec` output, adjusted.
function adjustSpec(spec, rootfs) {
  spec.process.args = ['true'];
  spec.process.terminal = false;
  spec.root = { path: rootfs, readonly: false };
  spec.hostname = 'bench';
  const want = ['pid', 'network', 'ipc', 'uts', 'mount', 'user', 'cgroup'];
  const have = new Map((spec.linux.namespaces || []).map((n) => [n.type, n]));
  spec.linux.namespaces = want.map((t) => have.get(t) || { type: t });
  // Identity map: container uid/gid 0..65535 are host 0..65535.
  spec.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
  spec.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
  return spec;
}

function variants(id, hybridCgroups) {
  const stripCgroups = (s) => { delete s.linux.resources; delete s.linux.cgroupsPath; return s; };
  const noCgroupMount = (s) => { s.mounts = s.mounts.filter((m) => m.type !== 'cgroup' && m.destination !== '/sys/fs/cgroup'); return s; };
  const same = (s) => s;
  if (id === 'crun') {
    const list = [
      { name: 'defaults', global: [], edit: same },
      { name: '--cgroup-manager=disabled', global: ['--cgroup-manager=disabled'], edit: same, why: 'crun creates no cgroup for the container' },
    ];
    // crun refuses hybrid cgroups (v1 controllers + a cgroup2 at /sys/fs/cgroup/unified that has
    // controllers) before it even looks at --cgroup-manager. It accepts plain v1, so it runs in
    // a private mount namespace, the host's minus /sys/fs/cgroup/unified. Entering it costs one
    // nsenter exec, measured in its own row.
    if (hybridCgroups) {
      const hidden = 'in a mount namespace without /sys/fs/cgroup/unified (nsenter)';
      list.push(
        { name: hidden, global: [], edit: same, privateMnt: true, why: 'crun sees cgroup v1 and makes its cgroups with its default cgroupfs manager' },
        { name: `${hidden}, --cgroup-manager=disabled`, global: ['--cgroup-manager=disabled'], edit: same, privateMnt: true, why: 'and no cgroup for the container' },
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

// A persistent mount namespace (bind-mounted on a file under the bench's /run directory) in
// which /sys/fs/cgroup/unified is not mounted.
export function privateMountNs(ctx) {
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

function ociCleanup(cmd, pre, state, prefix) {
  if (!fs.existsSync(state)) return;
  const l = sh(cmd, [...pre, '--root', state, 'list', '-q']);
  for (const name of l.stdout.split('\n').map((s) => s.trim()).filter((s) => s.startsWith(prefix))) {
    sh(cmd, [...pre, '--root', state, 'delete', '--force', name]);
  }
}

/**
 * The contenders for runtime `id` (crun or runc): an array of { id, label, cmd, args(n), display,
 * notes, variant, wrapped }, or a string saying why it is skipped. crun gives two rows (its
 * default cgroup handling, and none) and, on hybrid hosts, the wrapper's own cost.
 */
export function ociContenders(ctx, id) {
  const bin = which(id);
  if (!bin) return `${id}: not installed (use --install-peers)`;
  if (!ctx.rootfs) return `${id}: ${ctx.imageMissing}`;
  const bundle = path.join(ctx.work, `bundle-${id}`);
  fs.mkdirSync(bundle, { recursive: true });
  // Runtime state goes to a private directory under /run (tmpfs), where both keep it by default,
  // so clean-up cannot touch anything else.
  const state = path.join(ctx.runDir, `${id}-state`);
  fs.mkdirSync(state, { recursive: true });
  const gen = sh(bin, ['spec'], { cwd: bundle });
  if (!gen.ok) return `${id}: \`${id} spec\` failed - skipped\n${indent(gen.stderr)}`;
  const base = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
  const prefix = `mdb${process.pid}-${id}`;
  const failures = [];
  for (const v of variants(id, ctx.hybridCgroups)) {
    let wrap = [];
    if (v.privateMnt) {
      const ns = privateMountNs(ctx);
      if (!ns) { failures.push({ name: v.name, err: `could not make the mount namespace: ${ctx.mntNsError}` }); continue; }
      wrap = [which('nsenter') || 'nsenter', `--mount=${ns}`, '--', bin];
    }
    const spec = v.edit(adjustSpec(structuredClone(base), ctx.rootfs));
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
    const cmd = wrap.length ? wrap[0] : bin;
    const pre = wrap.slice(1);
    const argsFor = (global, tag) => (n) => [...pre, '--root', state, ...global, 'run', '--bundle', bundle, `${prefix}-${tag}${n}`];
    const show = (g) => cmdline(wrap.length ? 'nsenter' : id, [...(wrap.length ? ['--mount=<ns>', '--', id] : []), ...g, 'run', '--bundle', '<bundle>', '<id>']);
    const cleanup = () => ociCleanup(cmd, pre, state, prefix);
    const r = sh(cmd, argsFor(v.global, '')('probe'));
    if (!r.ok) {
      failures.push({ name: v.name, err: firstLine(r.stderr) || `exit ${r.status}`, stderr: r.stderr });
      cleanup();
      continue;
    }
    ctx.cleanups.push(cleanup);
    const notes = [version(bin), `config.json: \`${id} spec\` with args ["true"], terminal false, readonly false, 7 namespaces, uid/gid maps 0->0 x65536, no network (lo only)`];
    notes.push(`variant: ${v.name}${v.why ? ` (${v.why})` : ''}`);
    for (const f of failures) notes.push(`rejected variant "${f.name}": ${f.err}`);
    const out = [{ id, label: `${id} run`, cmd, args: argsFor(v.global, ''), display: show(v.global), notes, variant: v.name, wrapped: wrap.length > 0 }];
    // crun with its default cgroup handling makes a cgroup in every v1 hierarchy; a second row
    // without any shows what that costs.
    if (id === 'crun' && !v.global.includes('--cgroup-manager=disabled')) {
      const g2 = ['--cgroup-manager=disabled', ...v.global];
      const r2 = sh(cmd, argsFor(g2, 'nc-')('probe'));
      if (r2.ok) {
        out.push({ id: 'crun-nocg', label: 'crun run (no cgroup)', cmd, args: argsFor(g2, 'nc-'), display: show(g2), variant: `${v.name}, --cgroup-manager=disabled`,
          notes: ['same bundle and namespace as "crun run", but --cgroup-manager=disabled: no cgroup is made for the container'] });
      } else {
        notes.push(`crun --cgroup-manager=disabled did not run: ${firstLine(r2.stderr)}`);
      }
    }
    if (wrap.length) {
      out.push({ id: 'nsenter-mnt', label: 'nsenter --mount true', cmd, args: () => [`--mount=${ctx.mntNs}`, '--', 'true'],
        display: 'nsenter --mount=<ns> -- true', notes: ['cost of entering the mount namespace crun runs in (part of both crun rows)'] });
    }
    return out;
  }
  return `${id}: no variant of the bundle ran - skipped\n` +
    failures.map((f) => `    variant "${f.name}":\n${indent(f.stderr || f.err, '      | ')}`).join('\n');
}
