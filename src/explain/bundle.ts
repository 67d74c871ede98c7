// `minidock run --dry-run --bundle DIR`: the OCI bundle of what `minidock run` would run, from
// the plans --dry-run computes (src/explain/dry-run.ts planRun). Writes DIR only: config.json
// (src/oci/from-spec.ts), rootfs (a copy of the image), the etc files minidock would bind, and
// a README.md saying what a bundle cannot carry. No container, lease, state or cgroup is made.
import { hostDevices } from '../runtime/host-devices.js';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { MinidockError, usageError } from '../core/errors.js';
import type { ExplainInput } from './steps.js';
import { isIdentity } from '../spec/userns.js';
import { BUNDLE_ETC_FILES, BUNDLE_INIT, ociConfigFor } from '../oci/from-spec.js';

/** The bundle directory, absolute, refused (exit 125) when something is already there. */
export function checkBundleDir(dir: string): string {
  const abs = resolve(dir);
  if (!existsSync(abs)) return abs;
  if (!statSync(abs).isDirectory()) throw usageError(`--bundle ${dir}: exists and is not a directory`, 'give a new directory, or an empty one');
  if (readdirSync(abs).length) throw usageError(`--bundle ${dir}: exists and is not empty`, 'give a new directory, or an empty one');
  return abs;
}

/** What the bundle leaves out, for its README.md. */
export function bundleReadme(input: ExplainInput, cgroupsPath: string): string {
  const { spec } = input;
  const lines = [
    `# OCI bundle of \`minidock run\` (container ${spec.id.slice(0, 12)}, image ${spec.image.ref})`,
    '',
    'Made by `minidock run --dry-run --bundle`: `config.json` (runtime-spec 1.1.0, as dockerd builds it',
    'for runc) and `rootfs/`, a copy of the image. Run it with `runc run --bundle DIR ID`, `crun run',
    '--bundle DIR ID` or `minidock-runc run --bundle DIR ID`. Files next to rootfs: `hostname`, `hosts`,',
    `\`resolv.conf\`${spec.init ? ' and `minidock-init` (--init)' : ''}, bound into the container by absolute path: move the bundle and`,
    'edit the mounts\' sources.',
    '',
    'What a bundle cannot carry, and so is not in it:',
    '',
  ];
  if (spec.network.mode === 'bridge') {
    lines.push(`- **The network is not wired.** \`minidock run\` would attach the container to the bridge network "${spec.network.network}" (a veth, an address${input.net ? ` ${input.net.attachment.ip}/${input.net.attachment.prefix}` : ''}, a default route${spec.network.ports.length ? ', the published ports\' DNAT rules' : ''}) from outside the runtime, as dockerd does; runc cannot. The container gets a new network namespace with lo only.`);
  } else if (spec.network.mode === 'container') {
    lines.push(`- The network namespace of container ${spec.network.container} is joined by its /proc path, valid while that container runs.`);
  }
  lines.push(
    spec.seccomp === 'default'
      ? '- **Seccomp: two corners of minidock\'s filter.** `linux.seccomp` is minidock\'s built-in filter (native/src/seccomp.c) for this container\'s capabilities, as an OCI profile: the same answer for every x86_64 system call and argument. A profile cannot say the rest: a system call from another ABI (i386, x32) is killed by libseccomp\'s bad-arch action where minidock answers EPERM, and a call newer than the runtime\'s libseccomp gets ENOSYS.'
      : spec.seccomp === 'profile'
        ? '- **Seccomp: the profile given.** `linux.seccomp` is the profile of `--security-opt seccomp=FILE`, turned from docker\'s format into the OCI one for this container (its capabilities, this host\'s architecture and kernel): the runtime compiles it as minidock run does.'
        : '- No seccomp filter, as `minidock run` would install none (--privileged or --security-opt seccomp=unconfined): `linux.seccomp` is omitted.',
    '- minidock\'s own parts, outside the runtime core as they are outside runc in docker: the container\'s name, its logs, `--rm`, the shim of `-d`, state and `ps`.',
    `- The container's cgroup is \`${cgroupsPath}\` (linux.cgroupsPath) in every hierarchy; limits are in linux.resources.`,
  );
  if (!isIdentity(spec.idMap)) {
    lines.push(`- The container has a user namespace (uid map "${spec.idMap.uidMap}", gid map "${spec.idMap.gidMap}") and rootfs is owned by the mapped ids, as docker's --userns-remap layers are: every directory above the bundle must be searchable by the mapped root.`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes the bundle into `dir` (checked by checkBundleDir first); on failure removes what it wrote. */
export async function writeBundle(dir: string, input: ExplainInput, o: { cgroupParent: string; init?: string }): Promise<void> {
  const abs = checkBundleDir(dir);
  const existed = existsSync(abs);
  const { spec } = input;
  try {
    mkdirSync(abs, { recursive: true });
    // A remapped root walks to its bind sources here: the bundle itself must be searchable.
    chmodSync(abs, 0o755);
    const rootfs = `${abs}/rootfs`;
    // A bundle's rootfs is flat: the image's layers merged (src/image/merge.ts).
    mkdirSync(rootfs, { mode: 0o755 });
    const { copyImageDir } = await import('../image/merge.js');
    copyImageDir(spec.image, '', rootfs);
    // The image as the container's ids own it: an idmapped image is the image store's (owned by
    // the image's ids), so the copy is shifted; a shifted image (no idmapped mounts here) is already.
    if (!isIdentity(spec.idMap) && spec.image.idmapped) {
      const { shiftOwnership } = await import('../image/shift.js');
      shiftOwnership(rootfs, spec.idMap);
    }
    for (const f of input.files ?? []) {
      const name = basename(f.path);
      if (name in BUNDLE_ETC_FILES) writeFileSync(`${abs}/${name}`, f.content, { mode: 0o644 });
    }
    if (spec.init) {
      if (!o.init) throw new MinidockError('--init: minidock-init is not built', { step: 'bundle.init', hint: 'npm run build' });
      copyFileSync(o.init, `${abs}/${BUNDLE_INIT}`);
      chmodSync(`${abs}/${BUNDLE_INIT}`, 0o755);
    }
    const config = ociConfigFor(spec, { bundle: abs, cgroupParent: o.cgroupParent, netnsPath: input.child.netns, ...(spec.privileged ? { hostDevices: hostDevices() } : {}) });
    writeFileSync(`${abs}/config.json`, `${JSON.stringify(config, null, '\t')}\n`);
    writeFileSync(`${abs}/README.md`, bundleReadme(input, (config.linux as { cgroupsPath: string }).cgroupsPath));
  } catch (err) {
    if (existed) for (const e of readdirSync(abs)) rmSync(`${abs}/${e}`, { recursive: true, force: true });
    else rmSync(abs, { recursive: true, force: true });
    if (err instanceof MinidockError) throw err;
    const msg = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    throw new MinidockError(`cannot write the bundle ${dir}: ${msg.split('\n')[0]}`, { step: 'bundle.write', cause: err, hint: 'check the free space and permissions there' });
  }
}
