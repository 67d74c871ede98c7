// `minidock run`: builds the container spec, creates the container and runs it in the
// foreground. Orchestrates and owns the rollback; the decisions live in pure modules
// (spec/*, child-plan, exit-status), the kernel work in the native helper.
import { chownSync, closeSync, existsSync, lstatSync, openSync, readFileSync, realpathSync, rmSync, statSync, write, writeFileSync, writeSync } from 'node:fs';
import { netLib, ttyLib } from '../core/lazy.js';
import { ForegroundLog, writeAll } from './cri-log.js';
import { checkInputTerminal } from './input-terminal.js';
import { join } from 'node:path';
import { EXIT, MinidockError, flagError, usageError } from '../core/errors.js';
import { isIP } from 'node:net';
import { Rollback } from '../core/rollback.js';
import { checkpoint, trace } from '../core/trace.js';
import type { ContainerSpec, NetworkSpec } from '../spec/container-spec.js';
import { parseResources, ramInBytes, type ResourceFlags, type Resources } from '../spec/resources.js';
import { availableParallelism, release } from 'node:os';
import { checkUserMapped, chooseMapping, isIdentity, mappedRoot, parseRemapSetting, parseUsernsFlag } from '../spec/userns.js';
import { checkEnvSize, containerEnv, parseEnvFile, parseEnvFlag } from '../spec/env.js';
import { commandFor } from '../spec/image-change.js';
import { looksLikePath } from '../spec/image-ref.js';
import { generateName, shortId, validateContainerName } from '../spec/name.js';
import { parseGroup, parseUserSpec, resolveUser } from '../spec/user.js';
import { parseWorkdir } from '../spec/workdir.js';
import { capabilityMask, capabilityNames } from '../spec/caps.js';
import { dockerSeccompProfile } from '../spec/seccomp-docker.js';
import { exposedPortKeys, parseExpose } from '../spec/ports.js';
import { parseDeviceFlag, parseDomainname, parseMount, parseNamespaceModes, parseSysctls, parseUlimits, type NamespaceModes } from '../spec/run-flags.js';
import { splitDev } from './host-devices.js';
import { sysctlNamespace } from '../oci/plan.js';
import { hostname as osHostname } from 'node:os';
import { parseSignal } from '../spec/signal.js';
import { checkDestinations, parseTmpfs, parseVolume, parseVolumeFlag } from '../spec/volumes.js';
import { initPath, native, type ChildHandle, type NativeApi } from '../native/binding.js';
import { ImageStore, type ResolvedImage } from '../image/store.js';
import { serializePlan, type ContainerPaths } from './child-plan.js';
import { planRunChild } from './run-plan.js';
import { hostnameFile, hostsFile, resolvConf } from './etc-files.js';
import { childFailureError, exitCodeOf } from './exit-status.js';
import { processStartTime } from './proc.js';
import { randomHex } from './ids.js';
import { StateStore } from './state.js';
import { finishContainer } from './finish.js';
import { ensureVolumes, planAnonymousVolumes, removeAnonymousVolumes, volumesDir } from './anon-volumes.js';
import { cgroupParent, enterCgroup, hostResources, planRunCgroups, releaseCgroup } from './run-cgroup.js';
import { readCgroupLayout } from '../cgroup/layout.js';
import type { OciCgroups } from '../oci/cgroups.js';
import { attachNetwork, parseNetworkOption, publishPorts, prepareNetwork, refreshNetworkHosts, releaseNetwork, type PreparedNet } from './run-network.js';

export interface RunOptions {
  image: string;
  command: string[];
  name?: string;
  hostname?: string;
  env: string[];
  envFiles: string[];
  workdir?: string;
  user?: string;
  interactive: boolean;
  tty: boolean;
  rm: boolean;
  detach: boolean;
  init: boolean;
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  volumes: string[];
  tmpfs: string[];
  readOnly: boolean;
  network: string;
  /** --network was not given (inspect's NetworkMode then says "default", as docker's). */
  networkDefault?: boolean;
  publish: string[];
  publishAll: boolean;
  /** --expose: ports to add to the image's EXPOSE set (what -P publishes). */
  expose?: string[];
  /** --ingress-rate / --egress-rate: tc rates for what the container receives and sends. */
  ingressRate?: string;
  egressRate?: string;
  securityOpt: string[];
  /** --pull missing|always|never (docker's; default missing). */
  pull?: string;
  /** --platform OS/ARCH for a pull. */
  platform?: string;
  /** --entrypoint: replaces the image's ENTRYPOINT (and drops its CMD). */
  entrypoint?: string;
  /** --stop-signal: checked like kill's -s. */
  stopSignal?: string;
  /** -l/--label K=V (K alone: an empty value, as docker). */
  labels?: string[];
  /** --label-file: files of KEY=VALUE lines. */
  labelFiles?: string[];
  /** --add-host HOST:IP. */
  addHost?: string[];
  /** --dns, --dns-search, --dns-option. */
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  /** --group-add: group names (the image's /etc/group) or gids. */
  groupAdd?: string[];
  /** --cidfile: written with the id once the container exists; must not exist before. */
  cidfile?: string;
  /** --shm-size, a go-units size. */
  shmSize?: string;
  /** --stop-timeout, whole seconds. */
  stopTimeout?: string;
  /** -a/--attach: the foreground streams attached (all three when not given; docker's -a). */
  attach?: string[];
  /** --device HOST[:CTR[:PERMS]]. */
  device?: string[];
  /** --ip (a user-defined network's address) and --mac-address. */
  ip?: string;
  mac?: string;
  /** --network-alias: more names the other containers of a user-defined network know it by. */
  networkAlias?: string[];
  /** --sig-proxy=false: signals to the CLI are not passed to the container. */
  noSigProxy?: boolean;
  /** --sysctl K=V, --domainname, --ulimit, --mount (see spec/run-flags.ts). */
  sysctl?: string[];
  domainname?: string;
  ulimit?: string[];
  mount?: string[];
  /** docker's --userns: "host" keeps the identity mapping. */
  userns?: string;
  /** --pid, --ipc, --uts: "host" shares the host's namespace (docker's modes). */
  pid?: string;
  ipc?: string;
  uts?: string;
  /** Resource limits as typed (--memory 64m, --cpus 0.5, ...): parsed by spec/resources.ts. */
  resources?: ResourceFlags;
  /** --explain: given the plans that ran once the command runs, prints what was done step by
   *  step (src/explain/live.ts: the runtime does not import the explainer). */
  explain?: (ran: RanContainer) => Promise<void>;
}

export interface RunDeps {
  root: string;
  native?: NativeApi;
  callerEnv?: NodeJS.ProcessEnv;
}

/** The limits of `run`'s flags, undefined when none was given. */
function runResources(o: RunOptions): Resources | undefined {
  if (!o.resources || !Object.values(o.resources).some((v) => v !== undefined)) return undefined;
  return parseResources(o.resources, { cpus: availableParallelism() });
}

/** Checks everything that needs no image and no state, so bad flags fail before any work. */
export function validateRunOptions(o: RunOptions, stateRoot = ''): void {
  for (const opt of o.securityOpt) {
    if (!(SECCOMP_OPT.test(opt) && opt.length > 'seccomp='.length) && noNewPrivsOption(opt) === undefined) {
      throw usageError(`unsupported --security-opt "${opt}"`, 'minidock knows seccomp=unconfined|builtin|PROFILE.json and no-new-privileges[:true|false]');
    }
  }
  if (o.securityOpt.filter((opt) => SECCOMP_OPT.test(opt)).length > 1) throw usageError('--security-opt seccomp is given more than once', 'give one seccomp= option');
  for (const h of o.addHost ?? []) parseAddHost(h);
  devicesOf(o);
  for (const a of o.attach ?? []) {
    if (!['stdin', 'stdout', 'stderr'].includes(a.toLowerCase())) throw flagError(`invalid argument "${a}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
  }
  if (o.attach?.length && o.detach) throw usageError('Conflicting options: -a and -d', 'a detached container is attached to nothing: drop one');
  if (o.ip !== undefined) {
    if (isIP(o.ip) !== 4) throw flagError(`invalid argument "${o.ip}" for "--ip" flag: invalid string being converted to IP address: ${o.ip}`, 'an IPv4 address of the network');
    if (['bridge', 'none', 'host'].includes(o.network) || o.network.startsWith('container:')) {
      throw usageError('user specified IP address is supported on user defined networks only', 'minidock network create --subnet CIDR NAME, then --network NAME --ip ADDRESS');
    }
  }
  for (const a of o.networkAlias ?? []) {
    if (['bridge', 'none', 'host'].includes(o.network) || o.network.startsWith('container:')) {
      throw usageError('network-scoped alias is supported only for containers in user defined networks', 'minidock network create NAME, then --network NAME --network-alias ALIAS');
    }
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(a)) throw flagError(`invalid argument "${a}" for "--network-alias" flag: not a host name`);
  }
  if (o.mac !== undefined) {
    if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(o.mac) || (parseInt(o.mac.slice(0, 2), 16) & 1) === 1) {
      throw flagError(`invalid argument "${o.mac}" for "--mac-address" flag: ${o.mac} is not a unicast MAC address`, 'six hex pairs, e.g. 02:42:ac:11:00:02, the first even');
    }
    if (['none', 'host'].includes(o.network) || o.network.startsWith('container:')) throw usageError('conflicting options: mac-address and the network mode');
  }
  sysctlsOf(o);
  parseUlimits(o.ulimit ?? []);
  for (const m of o.mount ?? []) {
    const p = parseMount(m);
    if (p.bindSource !== undefined && !existsSync(p.bindSource)) throw usageError(`invalid mount config for type "bind": bind source path does not exist: ${p.bindSource}`, '--mount does not create it (-v does)');
  }
  for (const d of o.dns ?? []) if (!isIP(d)) throw flagError(`invalid argument "${d}" for "--dns" flag: ${d} is not an ip address`);
  if (o.shmSize !== undefined) shmBytes(o.shmSize);
  if (o.stopTimeout !== undefined && !/^-?\d+$/.test(o.stopTimeout)) throw flagError(`invalid argument "${o.stopTimeout}" for "--stop-timeout" flag: strconv.ParseInt: parsing "${o.stopTimeout}": invalid syntax`);
  if (o.cidfile !== undefined && existsSync(o.cidfile)) {
    throw usageError(`Container ID file found, make sure the other container isn't running or delete ${o.cidfile}`);
  }
  if ((o.dns?.length || o.dnsSearch?.length || o.dnsOption?.length) && o.network.startsWith('container:')) {
    throw usageError('conflicting options: dns and the network mode', 'the container whose network is joined has the resolv.conf');
  }
  const volumes = o.volumes.map((v) => parseVolumeFlag(v, stateRoot));
  parseUsernsFlag(o.userns);
  parseNamespaceModes(o);
  runResources(o);
  if (o.name !== undefined) validateContainerName(o.name);
  if (o.workdir !== undefined) parseWorkdir(o.workdir);
  if (o.user !== undefined) parseUserSpec(o.user);
  capabilityMask({ add: o.capAdd, drop: o.capDrop, privileged: o.privileged }); // names checked early
  checkDestinations([...volumes.map((v) => v.dst), ...o.tmpfs.map((t) => parseTmpfs(t).dst)].map((d) => d.replace(/\/+$/, '')));
  if (o.hostname !== undefined && !/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})$/.test(o.hostname)) {
    throw usageError(`invalid hostname "${o.hostname}": letters, digits, "." and "-", at most 63 characters, not starting with "-" or "."`);
  }
}

/** Reads a file of the image, refusing one whose path leaves the image through a symlink. A
 *  layered image is read top layer first: the first layer that has the path decides (a
 *  whiteout there, or in a directory on the way, means deleted). An opaque directory is not
 *  looked for (Node cannot read xattrs): a file that one hides would still be read from below,
 *  which is harmless for /etc/passwd and /etc/group, the only files read. */
function readImageFile(image: ResolvedImage, rel: string): string | null {
  if (image.rootfs) return readInside(image.rootfs, rel);
  for (const dir of image.layers?.dirs ?? []) {
    const parts = rel.split('/');
    for (let i = 1; i <= parts.length; i++) {
      let st;
      try {
        st = lstatSync(join(dir, ...parts.slice(0, i)));
      } catch {
        break; // not in this layer: the next one down
      }
      if (st.isCharacterDevice() && st.rdev === 0) return null; // overlay's whiteout
      if (i === parts.length) return st.isFile() ? readInside(dir, rel) : null;
      if (!st.isDirectory()) return null;
    }
  }
  return null;
}

function readInside(root: string, rel: string): string | null {
  try {
    const real = realpathSync(join(root, rel));
    const base = realpathSync(root);
    if (!real.startsWith(base + '/')) return null;
    return readFileSync(real, 'utf8');
  } catch {
    return null;
  }
}

/** A -v spec with its host path checked: it must exist (docker would create it; an error is
 *  safer) and be a directory or a regular file; it is used as it resolves now. */
function resolveVolume(spec: string, stateRoot: string): { src: string; dst: string; ro: boolean; file: boolean } {
  const v = parseVolume(spec, stateRoot);
  let real: string;
  try {
    real = realpathSync(v.src);
  } catch {
    throw usageError(`invalid volume spec "${spec}": source path ${v.src} does not exist`, 'create it first');
  }
  const again = parseVolume(`${real}:${v.dst}${v.ro ? ':ro' : ''}`, stateRoot); // a symlink to / or /proc is refused too
  const st = statSync(real);
  if (!st.isDirectory() && !st.isFile()) throw usageError(`invalid volume spec "${spec}": ${real} is neither a directory nor a regular file`);
  return { ...again, file: st.isFile() };
}

export async function buildSpec(o: RunOptions, image: ResolvedImage, callerEnv: NodeJS.ProcessEnv, network: NetworkSpec, stateRoot = ''): Promise<ContainerSpec> {
  const id = randomHex(32);
  const name = o.name !== undefined ? validateContainerName(o.name) : generateName();
  const modes = parseNamespaceModes(o);
  const hostname = containerHostname(o, network, id, stateRoot, modes);
  const user = resolveUser(
    parseUserSpec(o.user ?? image.config.User ?? '0'),
    readImageFile(image, 'etc/passwd'),
    readImageFile(image, 'etc/group'),
  );
  const cliEnv: Array<[string, string]> = [];
  for (const file of o.envFiles) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw usageError(`env file ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? err}`, 'check the --env-file path');
    }
    cliEnv.push(...parseEnvFile(text, file, callerEnv));
  }
  for (const e of o.env) {
    const kv = parseEnvFlag(e, callerEnv);
    if (kv) cliEnv.push(kv);
  }
  const env = containerEnv({ hostname, home: user.home, tty: o.tty, imageEnv: image.config.Env ?? [], cliEnv });
  // docker's Config.Env: the -e and --env-file entries, then the image's the user did not
  // override (HOSTNAME, HOME and TERM are added at start, not recorded).
  const given = new Set(cliEnv.map(([k]) => k));
  const configEnv = [...cliEnv.map(([k, v]) => `${k}=${v}`), ...(image.config.Env ?? []).filter((e) => !given.has(e.split('=')[0]!))];
  checkEnvSize(env);
  const idMap = chooseMapping(
    { userns: parseUsernsFlag(o.userns), privileged: o.privileged, hostNetwork: network.mode === 'host', hostPid: modes.pidMode === 'host' },
    parseRemapSetting(callerEnv.MINIDOCK_USERNS_REMAP),
  );
  checkUserMapped(user, idMap);
  return {
    id,
    name,
    hostname,
    image: { ref: image.ref, ...(image.id ? { id: image.id } : {}), ...(isIdentity(idMap) ? lowerOf(image) : await remappedImage(image, idMap, stateRoot, callerEnv)) },
    ...stopAndLabels(o, image.config),
    argv: commandFor(image.config, o.command, o.entrypoint),
    env,
    configEnv,
    cwd: parseWorkdir(o.workdir ?? image.config.WorkingDir ?? '/'),
    user: { uid: user.uid, gid: user.gid, additionalGids: [...new Set([...user.additionalGids, ...extraGroups(o.groupAdd, readImageFile(image, 'etc/group'))])] },
    userGiven: o.user ?? image.config.User ?? '',
    tty: o.tty,
    interactive: o.interactive,
    network,
    autoRemove: o.rm,
    init: o.init || undefined,
    caps: capabilityMask({ add: o.capAdd, drop: o.capDrop, privileged: o.privileged }),
    noNewPrivs: !o.privileged && !o.securityOpt.some((opt) => noNewPrivsOption(opt) === false),
    ...seccompOf(o),
    volumes: volumesOf(o, image, stateRoot),
    tmpfs: o.tmpfs.length ? o.tmpfs.map(parseTmpfs) : undefined,
    readOnly: o.readOnly || undefined,
    ...(o.privileged ? { privileged: true } : {}),
    ...(o.networkDefault ? { networkDefault: true } : {}),
    ...(o.stopTimeout !== undefined ? { stopTimeout: Number(o.stopTimeout) } : {}),
    ...(o.addHost?.length ? { extraHosts: o.addHost.map(parseAddHost) } : {}),
    ...(o.dns?.length || o.dnsSearch?.length || o.dnsOption?.length ? { dns: { servers: o.dns ?? [], search: o.dnsSearch ?? [], options: o.dnsOption ?? [] } } : {}),
    ...(o.shmSize !== undefined ? { shmSize: shmBytes(o.shmSize) } : {}),
    ...sysctlSpec(o),
    ...modes,
    ...(o.ulimit?.length ? { rlimits: parseUlimits(o.ulimit) } : {}),
    ...(o.domainname ? { domainname: o.domainname } : {}),
    ...(o.device?.length ? { devices: devicesOf(o) } : {}),
    ...(o.publishAll ? { publishAll: true } : {}),
    ...exposedOf(o, image, network),
    resources: runResources(o),
    idMap,
    createdAt: Date.now(),
  };
}

/** --device: each host node stat'ed for its type and numbers (docker's error when it is not one). */
function devicesOf(o: RunOptions): NonNullable<ContainerSpec['devices']> {
  return (o.device ?? []).map((v) => {
    const d = parseDeviceFlag(v);
    let st;
    try {
      st = statSync(d.host);
    } catch (err) {
      throw usageError(`error gathering device information while adding custom device "${d.host}": ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : String(err)}`, 'give a device node of this host');
    }
    if (!st.isCharacterDevice() && !st.isBlockDevice()) throw usageError(`error gathering device information while adding custom device "${d.host}": not a device node`, 'give a character or block device (a directory of devices is not supported)');
    return { ...d, type: st.isCharacterDevice() ? 'c' as const : 'b' as const, ...splitDev(st.rdev) };
  });
}

/** --sysctl as linux.sysctl; --domainname is checked here and set with setdomainname(2) (a
 *  remapped root may not write /proc/sys/kernel/domainname, whose owner check is the host's). */
function sysctlsOf(o: RunOptions): Record<string, string> {
  if (o.domainname !== undefined) parseDomainname(o.domainname);
  return parseSysctls(o.sysctl ?? [], { hostNetwork: o.network === 'host', hostIpc: o.ipc === 'host', namespaceOf: sysctlNamespace });
}

function sysctlSpec(o: RunOptions): Pick<ContainerSpec, 'sysctl'> {
  const sysctl = sysctlsOf(o);
  return Object.keys(sysctl).length ? { sysctl } : {};
}

/** --security-opt seccomp=... or seccomp:... (docker's older spelling). */
const SECCOMP_OPT = /^seccomp[=:]/;

/** --security-opt seccomp=unconfined|builtin|FILE (docker's; `seccomp:` is its older spelling):
 *  no filter, minidock's own, or the profile in FILE for this container's capabilities.
 *  --privileged has none, as docker's (a profile given with it is ignored there too). */
function seccompOf(o: RunOptions): Pick<ContainerSpec, 'seccomp' | 'seccompProfile'> {
  const value = o.securityOpt.find((opt) => SECCOMP_OPT.test(opt))?.slice('seccomp='.length);
  if (o.privileged || value === 'unconfined') return { seccomp: 'unconfined' };
  if (value === undefined || value === 'builtin') return { seccomp: 'default' };
  let text: string;
  try {
    text = readFileSync(value, 'utf8');
  } catch (err) {
    throw usageError(`opening seccomp profile (${value}) failed: ${(err as NodeJS.ErrnoException).code ?? err}`, 'give the path of a profile in docker\'s JSON format, or seccomp=unconfined');
  }
  const caps = capabilityNames(capabilityMask({ add: o.capAdd, drop: o.capDrop, privileged: false }));
  return { seccomp: 'profile', seccompProfile: dockerSeccompProfile(text, { caps, arch: 'SCMP_ARCH_X86_64', kernel: release() }) };
}

/** --security-opt no-new-privileges[:=]true|false: what it asks, undefined when it is not that. */
function noNewPrivsOption(opt: string): boolean | undefined {
  const m = /^no-new-privileges(?:[:=](true|false))?$/.exec(opt);
  return m ? m[1] !== 'false' : undefined;
}

/** --add-host NAME:IP (docker splits at the first colon: an IPv6 address keeps its own). */
export function parseAddHost(v: string): [string, string] {
  const i = v.indexOf(':');
  const [host, ip] = i < 0 ? [v, ''] : [v.slice(0, i), v.slice(i + 1)];
  if (!host || !isIP(ip)) throw flagError(`invalid argument "${v}" for "--add-host" flag: invalid IP address in add-host: "${ip}"`, 'use --add-host NAME:IP');
  return [host, ip];
}

/** --shm-size in bytes; docker refuses 0 and below. */
function shmBytes(v: string): number {
  const r = ramInBytes(v);
  if ('error' in r || r.bytes <= 0) throw flagError(`invalid argument "${v}" for "--shm-size" flag: ${'error' in r ? r.error : 'must be greater than 0'}`);
  return r.bytes;
}

/** KEY=VALUE lines of --label-file files (blank lines and # comments skipped), before -l. */
function labelFileLines(files: string[] | undefined): string[] {
  return (files ?? []).flatMap((f) => {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (err) {
      throw usageError(`label file ${f} cannot be read: ${(err as NodeJS.ErrnoException).code ?? err}`, 'check the --label-file path');
    }
    return text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  });
}

/** --group-add: gids, or names looked up in the image's /etc/group. */
function extraGroups(names: string[] | undefined, group: string | null): number[] {
  return (names ?? []).map((g) => {
    if (/^\d+$/.test(g)) return Number(g);
    const found = parseGroup(group ?? '').find((e) => e.name === g);
    if (!found) throw usageError(`unable to find group ${g}: no matching entries in group file`, 'give a gid, or a group the image\'s /etc/group has');
    return found.gid;
  });
}

/** docker's hostname rule: -h, else the host's own under --network host, else the other
 *  container's under --network container:X (which refuses -h, as docker does: the name would
 *  differ from the one the shared network answers to), else the 12-character id. */
function containerHostname(o: RunOptions, network: NetworkSpec, id: string, stateRoot: string, modes: NamespaceModes): string {
  // The host's UTS namespace: its name, whatever the network.
  if (modes.utsMode === 'host') return osHostname();
  if (network.mode === 'container') {
    if (o.hostname !== undefined) throw usageError('conflicting options: hostname and the network mode', `-h cannot be used with --network container:${network.container}`);
    // Not found or not running is prepareNetwork's error, said there; the id stands in meanwhile.
    try {
      return new StateStore(stateRoot).resolve(network.container).spec?.hostname ?? shortId(id);
    } catch {
      return shortId(id);
    }
  }
  if (o.hostname !== undefined) return o.hostname;
  if (network.mode === 'host') return osHostname();
  return shortId(id);
}

/** docker's ExposedPorts of the container: EXPOSE, --expose and the -p container ports. */
function exposedOf(o: RunOptions, image: ResolvedImage, network: NetworkSpec): Pick<ContainerSpec, 'exposedPorts'> {
  const set = { ...image.config.ExposedPorts, ...(o.expose?.length ? parseExpose(o.expose) : {}) };
  const keys = exposedPortKeys(set, network.mode === 'bridge' ? network.ports : []);
  return keys.length ? { exposedPorts: keys } : {};
}

/** IMAGE under docker's --pull policy: "missing" (the default) pulls what the store lacks,
 *  saying so first as docker does; "always" pulls first; "never" only looks. A path (a
 *  directory, a tarball) is never pulled. The pull's progress goes to stderr, as docker run's. */
async function resolveImage(o: RunOptions, root: string): Promise<ResolvedImage> {
  const store = new ImageStore(root);
  const policy = o.pull ?? 'missing';
  if (!['missing', 'always', 'never'].includes(policy)) throw usageError(`invalid pull policy "${policy}"`, 'use --pull missing, always or never');
  // A path when it is one on disk, or is written as one ("./x", "/x"); "team/app" that is not a
  // file is a name. The one place this is decided.
  if (looksLikePath(o.image) && (existsSync(o.image) || /^[./]/.test(o.image))) return store.resolve(o.image, true);
  const pull = async (): Promise<ResolvedImage> => {
    const { pullForRun } = await import('../image/pull.js');
    const tag = await pullForRun(store, o.image, o.platform);
    return store.resolve(tag, false);
  };
  if (policy === 'always') return pull();
  try {
    return await store.resolve(o.image, false);
  } catch (err) {
    if (policy === 'never' || !(err instanceof MinidockError) || err.step !== 'image.resolve' || !/not found/.test(err.message)) throw err;
    const { parseReference, localTag, familiarRepository } = await import('../registry/reference.js');
    let ref;
    try {
      ref = parseReference(o.image);
    } catch {
      throw err; // neither a stored image nor a reference: the "not found" is the better error
    }
    process.stderr.write(`Unable to find image '${localTag(ref) ?? `${familiarRepository(ref)}@${ref.digest}`}' locally\n`);
    return pull();
  }
}

/** -v binds, then an anonymous volume per VOLUME path of the image that no -v or --tmpfs covers. */
function volumesOf(o: RunOptions, image: ResolvedImage, stateRoot: string): ContainerSpec['volumes'] {
  const binds: NonNullable<ContainerSpec['volumes']> = o.volumes.map((text) => {
    const v = parseVolumeFlag(text, stateRoot);
    if (v.kind === 'bind') return resolveVolume(text, stateRoot);
    if (v.kind === 'named') return { src: join(volumesDir(stateRoot), v.name, '_data'), dst: v.dst, ro: v.ro, file: false, named: v.name, ...(v.nocopy ? { nocopy: true } : {}) };
    return planAnonymousVolumes([v.dst], [], stateRoot)[0]!;
  });
  const anon = planAnonymousVolumes(image.config.Volumes, [...binds.map((b) => b.dst), ...o.tmpfs.map((t) => parseTmpfs(t).dst)], stateRoot);
  return binds.length || anon.length ? [...binds, ...anon] : undefined;
}

/** docker's merge: --stop-signal over the image's StopSignal, --label over the image's Labels. */
function stopAndLabels(o: RunOptions, config: ResolvedImage['config']): Pick<ContainerSpec, 'stopSignal' | 'labels'> {
  const stopSignal = o.stopSignal ?? config.StopSignal;
  if (stopSignal !== undefined) parseSignal(stopSignal); // refused now, not at `stop`
  const labels: Record<string, string> = { ...config.Labels };
  for (const l of [...labelFileLines(o.labelFiles), ...(o.labels ?? [])]) {
    const eq = l.indexOf('=');
    if (eq === 0 || l === '') throw usageError(`invalid label "${l}"`, 'use --label KEY=VALUE');
    labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  return { ...(stopSignal !== undefined ? { stopSignal } : {}), ...(Object.keys(labels).length ? { labels } : {}) };
}

/** The image as overlay's lower layers, for a container with the host's ids. */
function lowerOf(image: ResolvedImage): { rootfs: string } | { layers: string[]; layerRoot: string } {
  return image.layers ? { layers: image.layers.links, layerRoot: image.layers.root } : { rootfs: image.rootfs! };
}

/** How a remapped container sees its image with the right owners: through one idmapped mount
 *  (of the layer store, or of the directory) where the kernel and filesystem allow it, else
 *  copies shifted into the mapped ids once per layer. */
async function remappedImage(image: ResolvedImage, idMap: ContainerSpec['idMap'], stateRoot: string, env: NodeJS.ProcessEnv): Promise<Omit<ContainerSpec['image'], 'ref' | 'id'>> {
  const { canIdmap, shiftedLayers } = await import('../image/shift.js');
  const base = lowerOf(image);
  if (canIdmap('rootfs' in base ? base.rootfs : base.layerRoot, release(), env)) return { ...base, idmapped: true };
  if (!image.layers) {
    throw usageError(
      `the directory ${image.rootfs} cannot be shown to a remapped container: this kernel or filesystem has no idmapped mounts`,
      'import it first (minidock import DIR NAME), or run with --userns=host',
    );
  }
  return { layers: image.layers.links, layerRoot: shiftedLayers(stateRoot, image.layers, idMap, mappedRoot(idMap)!.gid) };
}

function writeEtcFiles(spec: ContainerSpec, paths: ContainerPaths, net: PreparedNet): void {
  let hostResolv = '';
  try {
    hostResolv = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    /* no resolver configured on the host */
  }
  writeFileSync(paths.hostname, hostnameFile(spec.hostname));
  writeFileSync(paths.hosts, net.hostsText ?? hostsFile(spec.hostname, net.leased?.attachment.ip, spec.extraHosts));
  writeFileSync(paths.resolvConf, net.resolvText !== undefined && !spec.dns ? net.resolvText : resolvConf(net.resolvText ?? hostResolv, spec.dns));
  // docker makes them the container root's, so it may edit its own /etc/hosts.
  const owner = mappedRoot(spec.idMap);
  if (owner) for (const f of [paths.hostname, paths.hosts, paths.resolvConf]) chownSync(f, owner.uid, owner.gid);
}

/** What `minidock run` decides before it makes anything: the one planning step the real run and
 *  `--dry-run` (explain/dry-run.ts) share. The network's address is not in it: a run leases one
 *  (prepareNetwork), a dry run only predicts it. */
export interface RunDecision {
  image: ResolvedImage;
  /** docker's warnings about the options (a -p without a network to publish on). */
  warnings: string[];
  /** The spec, with the limits this host can carry out, and the cgroups planned from them.
   *  Called again for a fresh generated name when another run took the last one. */
  spec(): Promise<{ spec: ContainerSpec; cgroups: OciCgroups; warnings: string[] }>;
}

export async function decideRun(given: RunOptions, deps: RunDeps): Promise<RunDecision> {
  // --mount is -v and --tmpfs in docker's other syntax: one way through from here on (validated
  // once, with the -v and --tmpfs it became).
  const mounts = (given.mount ?? []).map(parseMount);
  const o: RunOptions = mounts.length
    ? { ...given, volumes: [...given.volumes, ...mounts.flatMap((m) => (m.volume ? [m.volume] : []))], tmpfs: [...given.tmpfs, ...mounts.flatMap((m) => (m.tmpfs ? [m.tmpfs] : []))] }
    : given;
  validateRunOptions(o, deps.root);
  const callerEnv = deps.callerEnv ?? process.env;
  const image = await resolveImage(o, deps.root);
  trace('image resolved');
  // EXPOSE of the image and --expose: what -P publishes and what inspect and ps show.
  const exposedSet = { ...image.config.ExposedPorts, ...(o.expose?.length ? parseExpose(o.expose) : {}) };
  let exposed: import('../spec/ports.js').PortBinding[] = [];
  if (o.publishAll && Object.keys(exposedSet).length) {
    exposed = (await import('../spec/ports.js')).exposedToBindings(exposedSet);
  }
  // The network mode is decided here, once: the spec carries it to everything after.
  const parsed = o.network === 'none' && !o.publish.length && !exposed.length && !o.ingressRate && !o.egressRate
    ? { spec: { mode: 'none' as const }, warning: undefined }
    : await parseNetworkOption(o.network, o.publish, exposed, { ...(o.ingressRate ? { ingress: o.ingressRate } : {}), ...(o.egressRate ? { egress: o.egressRate } : {}) });
  const { warning } = parsed;
  const network: NetworkSpec = parsed.spec.mode === 'bridge' && (o.ip || o.mac || o.networkAlias?.length)
    ? { ...parsed.spec, ...(o.ip ? { ip: o.ip } : {}), ...(o.mac ? { mac: o.mac.toLowerCase() } : {}), ...(o.networkAlias?.length ? { aliases: [...o.networkAlias] } : {}) }
    : parsed.spec;
  // The mount table once, for the layout and for the hierarchies only runc's plan uses.
  const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  const host = { layout: readCgroupLayout(mountinfo), mountinfo };
  return {
    image,
    warnings: warning ? [warning] : [],
    async spec() {
      const built = await buildSpec(o, image, callerEnv, network, deps.root);
      // dockerd's check before it builds the config: the record keeps only the limits this host
      // carries out, as docker's HostConfig does.
      const checked = hostResources(host.layout, built.resources ?? {});
      const spec = built.resources ? { ...built, resources: checked.resources } : built;
      return { spec, cgroups: planRunCgroups(spec, { host }), warnings: checked.warnings };
    },
  };
}

/** Runs a container in the foreground and resolves to the exit code `minidock run` returns. */
export async function runContainer(o: RunOptions, deps: RunDeps): Promise<number> {
  checkInputTerminal(o.interactive && o.tty && !o.detach);
  const { store, spec: s, paths, cgroups, api } = await makeContainer(o, deps);
  const attach = o.attach?.length ? new Set(o.attach.map((a) => a.toLowerCase() as 'stdin' | 'stdout' | 'stderr')) : undefined;
  const code = await startContainer(store, s, paths, { detach: o.detach, fresh: true, explain: o.explain, cgroups, ...(attach ? { attach } : {}), ...(o.noSigProxy ? { noSigProxy: true } : {}) }, deps.root, api);
  if (o.detach) process.stdout.write(`${s.id}\n`);
  return code;
}

/** `create`: the container as `run` makes it (image pulled when missing, name, spec, state),
 *  kept as Created (`standing`) until `start` runs it or `rm` removes it; its id on stdout.
 *  Nothing reaches the kernel yet: the network, cgroups and mounts come with `start`. */
export async function createContainer(o: RunOptions, deps: RunDeps): Promise<number> {
  const { store, spec: s } = await makeContainer(o, deps);
  const { creator: _, ...state } = store.read(s.id).state!;
  store.writeState(s.id, { ...state, status: 'created', standing: true });
  process.stdout.write(`${s.id}\n`);
  return 0;
}

/** What run and create share: the decisions, then the container's record under a name. */
async function makeContainer(o: RunOptions, deps: RunDeps): Promise<{ store: StateStore; spec: ContainerSpec; paths: ContainerPaths; cgroups: OciCgroups; api: NativeApi }> {
  const api = deps.native ?? native();
  trace('run: modules loaded');
  const decided = await decideRun(o, deps);
  warn(decided.warnings);
  const store = new StateStore(deps.root, api.flock);

  // Two runs may pick the same generated name: try a few, as docker does.
  let planned: Awaited<ReturnType<RunDecision['spec']>> | undefined;
  let paths: ContainerPaths | undefined;
  for (let attempt = 0; !paths; attempt++) {
    planned = await decided.spec();
    trace('run: spec built');
    try {
      paths = store.create(planned.spec, { cgroup: planned.cgroups.plan.dirs });
    } catch (err) {
      if (o.name !== undefined || attempt >= 5 || !(err instanceof MinidockError) || err.step !== 'state.name') throw err;
    }
  }
  const { spec: s, cgroups, warnings } = planned!;
  warn(warnings);
  // docker's client writes it once the container exists, and leaves it (its id stays useful
  // to whoever reads it, even after a failed start).
  if (o.cidfile !== undefined) writeFileSync(o.cidfile, s.id, { flag: 'wx', mode: 0o644 });
  checkpoint('run.state-created');
  return { store, spec: s, paths, cgroups, api };
}

/** What a run carried out, for --explain: the spec, the config and child plan, the network as
 *  prepared and wired, the cgroups, and the command's pid. */
export interface RanContainer {
  spec: ContainerSpec;
  child: import('./child-plan.js').ChildPlan;
  config: () => Record<string, unknown>;
  paths: ContainerPaths;
  net: PreparedNet;
  /** The cgroups, with every write that made them (the limits as the kernel was asked). */
  cgroups: import('../cgroup/plan.js').CgroupPlan;
  pid: number;
  root: string;
  api: NativeApi;
}

/** A created child waiting for "go", whoever created it (run.ts itself, or minidock-shim). */
interface Launched {
  pid: number;
  /** Lets it run: null once it exec'd, or its failure report. */
  go(): Promise<import('../native/binding.js').ChildFailure | null>;
  /** Kills it (a rollback step). */
  abort(): void | Promise<void>;
}

export interface StartMode {
  /** Hand the container to minidock-shim and return once it runs (run -d, start). */
  detach: boolean;
  /** A container this command just created: a failure removes it (or keeps it Created, as docker
   *  does when its command cannot be invoked). A restarted one is only marked exited. */
  fresh: boolean;
  /** Called with the plans that ran once the command runs (--explain). */
  explain?: (ran: RanContainer) => Promise<void>;
  /** The cgroup plan, when the caller made one already (run: the one it recorded). */
  cgroups?: OciCgroups;
  /** run -a: only these of the foreground streams reach our descriptors (the log has all). */
  attach?: ReadonlySet<'stdin' | 'stdout' | 'stderr'>;
  /** run --sig-proxy=false: the CLI's signals stay its own. */
  noSigProxy?: boolean;
}

/** Starts a created (or exited) container: network, child, then either waits for it in the
 *  foreground and returns its exit code, or leaves it to the shim and returns 0. */
export async function startContainer(store: StateStore, s: ContainerSpec, paths: ContainerPaths, mode: StartMode, root: string, api: NativeApi): Promise<number> {
  const rollback = new Rollback();
  const opened: number[] = [];
  let pty: { master: number; slave: string } | undefined;
  let handle: ChildHandle | undefined;
  let shim: import('./detached.js').ShimSession | undefined;
  let net: PreparedNet | undefined;
  /** A foreground run's log (docker keeps one for every container it runs, attached or not). */
  let log: { file: ForegroundLog; pipes: Array<[number, 'stdout' | 'stderr', number]> } | undefined;
  /** What this run recorded once the command ran: the foreground finish goes by it. */
  let running: import('./state.js').ContainerState | undefined;
  try {
    // A restarted container must not read back as exited from its previous run's record.
    rmSync(join(paths.dir, 'exit.json'), { force: true });
    net = await prepareNetwork(s, store, root, api);
    const leased = net.leased;
    const cgroup = mode.cgroups ?? planRunCgroups(s);
    // Recorded before anything reaches the kernel, so rm can always undo it. A fresh run
    // recorded these very cgroups with the container (store.create, from the same plan): it
    // writes again only for a lease. A restart writes them back over its last run's record.
    if (leased || !mode.fresh) store.writeState(s.id, { ...store.read(s.id).state!, net: leased, cgroup: cgroup.plan.dirs });
    if (leased) rollback.add('network', () => releaseNetwork(leased, root, api));
    // Registered before the child, so it unwinds after the child is dead (a cgroup with
    // processes cannot be removed).
    rollback.add('cgroup', async () => { await releaseCgroup(cgroup.plan.dirs); });
    checkpoint('run.net-leased');
    // The image's VOLUME paths: made and filled at the first start, taken back if it fails.
    const madeVolumes = await ensureVolumes(s, root);
    if (madeVolumes.length) rollback.add('volumes', () => removeAnonymousVolumes(s, root, madeVolumes));
    writeEtcFiles(s, paths, net);
    // The child's stdio: the shim gives a detached one pipes to its log (or a pty it allocates:
    // "@tty"); a foreground one gets ours, or a pty of ours relayed to the terminal.
    let stdio: [number, number, number] = [0, 1, 2];
    let tty: string | undefined;
    if (mode.detach) {
      tty = s.tty ? '@tty' : undefined;
    } else {
      if (s.tty) {
        pty = api.openPty(true);
        const master = pty.master;
        rollback.add('pty', () => closeSync(master));
        // The size goes on before the command runs: its first look at the terminal must not see 0x0.
        if (process.stdout.isTTY) api.setWinsize(master, process.stdout.rows, process.stdout.columns);
        tty = pty.slave;
      }
      if (!s.interactive || (mode.attach && !mode.attach.has('stdin'))) {
        // docker attaches stdin only with -i (and, with -a, when stdin is listed); without it
        // the command reads end-of-file.
        stdio = [openSync('/dev/null', 'r'), 1, 2];
        opened.push(stdio[0]);
      }
      // -a without stdout or stderr: that stream is not ours to show. With --rm (no log) it goes
      // to /dev/null; otherwise it is still logged, and not copied to us (below).
      if (mode.attach && s.autoRemove && !s.tty) {
        for (const [i, stream] of [[1, 'stdout'], [2, 'stderr']] as const) {
          if (mode.attach.has(stream)) continue;
          stdio[i] = openSync('/dev/null', 'w');
          opened.push(stdio[i]);
        }
      }
      // `logs` shows what a foreground run wrote too. --rm removes the log with the container,
      // so such a run keeps its output on our own descriptors, with nothing copied.
      if (!s.autoRemove) {
        const file = new ForegroundLog(paths.dir);
        log = { file, pipes: [] };
        rollback.add('log', () => file.close());
        if (!s.tty) {
          // Pipes, as docker's are: the CLI copies each to its own descriptor and to the log.
          for (const [i, stream] of [[1, 'stdout'], [2, 'stderr']] as const) {
            const [r, w] = api.pipe();
            log.pipes.push([r, stream, i]);
            stdio[i] = w;
            opened.push(w);
            rollback.add('pipe', () => closeSync(r));
          }
        }
      }
    }
    // The OCI config of this run and its child plan, from the same planner as minidock-runc's.
    const { child: plan, config } = planRunChild(s, paths, { stdio, tty, init: s.init ? initPath() : undefined, cgroups: cgroup.plan.dirs }, net.child, { cgroupParent: cgroupParent() });
    trace('etc files written, plan built');
    // One launch sequence for both: the child is created and waits for "go" while it is put in
    // its cgroups and given its veth; only who creates it (we, or the shim) differs.
    let child: Launched;
    if (mode.detach) {
      const { startShim } = await import('./detached.js');
      shim = await startShim(paths.dir, serializePlan(plan), s.id);
      child = shim;
    } else {
      const h = api.create(serializePlan(plan));
      handle = h;
      child = {
        pid: h.pid,
        go: async () => {
          const failed = api.start(h);
          for (const fd of opened) closeSync(fd);
          opened.length = 0;
          if (failed) await api.wait(h.pid);
          return failed;
        },
        abort: () => api.abort(h),
      };
    }
    rollback.add(mode.detach ? 'shim' : 'child', () => child.abort());
    const pid = child.pid;
    checkpoint('run.child-created');
    const n = net;
    const entered = await enterCgroup(cgroup, pid, () => attachNetwork(n, pid));
    warn(entered.warnings);
    checkpoint('run.cgroup-joined');
    // Peers by name before the command runs, not a moment after (user-defined networks).
    if (net.leased) await refreshNetworkHosts(store, root, api, net.leased.attachment.network);
    checkpoint('run.veth-attached');
    const failure = await child.go();
    trace('child set up and exec\'d (or failed)');
    if (failure) throw childFailureError(failure, s.argv[0] ?? '');
    // The command runs (and may already have exited): a detached one's shim waits for us to let
    // go of it before its cleanup runs (shim.c), so the ports below are released by that cleanup.
    checkpoint('run.started');
    await publishPorts(net);
    checkpoint('run.ports-published');
    running = { status: 'running', pid, pidStart: processStartTime(pid), startedAt: Date.now(), net: net.leased, monitorPid: shim?.shimPid, cgroup: cgroup.plan.dirs };
    store.writeState(s.id, running);
    checkpoint('run.running');
    if (mode.explain) await mode.explain({ spec: s, child: plan, config, paths, net, cgroups: { ...cgroup.plan, ops: entered.ops }, pid, root, api });
  } catch (err) {
    for (const fd of opened) closeSync(fd);
    const failures = await rollback.unwind();
    const invoked = err instanceof MinidockError && (err.exitCode === EXIT.NOT_FOUND || err.exitCode === EXIT.CANNOT_INVOKE);
    try {
      if (mode.fresh && !(invoked && !s.autoRemove)) store.remove({ id: s.id, spec: s });
      else store.writeState(s.id, { status: mode.fresh ? 'created' : 'exited', exitCode: invoked ? err.exitCode : 125, note: (err as Error).message, finishedAt: Date.now() });
    } catch (undoErr) {
      failures.push(undoErr as Error);
    }
    if (failures.length && err instanceof Error) (err as Error & { cleanup?: Error[] }).cleanup = failures;
    throw err;
  }

  if (shim) {
    // The shim owns the container now; it runs `minidock cleanup` when PID 1 exits.
    shim.release();
    return 0;
  }
  const h = handle!;
  const logFile = log?.file;
  const copied = log ? log.pipes.map(([r, stream, to]) => copyOutput(r, mode.attach && !mode.attach.has(stream) ? -1 : to, (d, end) => logFile!.write(stream, d, end))) : [];
  const stopRelay = pty ? relayPty(api, pty.master, s.interactive, logFile && ((d) => logFile.write('stdout', d))) : undefined;
  const stopSignals = mode.noSigProxy ? () => undefined : forwardSignals(api, h.pidfd, !!pty);
  checkpoint('run.running');
  const result = await api.wait(h.pid);
  checkpoint('run.exited');
  stopSignals();
  if (stopRelay) await stopRelay(); // also closes the pty master, which its stream owns
  // PID 1 is gone and with it its PID namespace: every writer of the pipes has exited.
  await Promise.all(copied);
  logFile?.close();
  closeSync(h.pidfd);

  const exitCode = exitCodeOf(result);
  // By what this run recorded, not a read back: a concurrent `rm -f` may have removed the record
  // meanwhile (docker's client then just reports the exit code too).
  await finishContainer(store, root, api, { id: s.id, spec: s, state: running! }, { exitCode, finishedAt: Date.now() }, { afterNetwork: 'run.net-released' });
  trace('state written or removed');
  return exitCode;
}

/** docker prints a limit the host cannot apply as a warning, and runs without it. */
function warn(warnings: string[]): void {
  for (const w of warnings) process.stderr.write(`WARNING: ${w}\n`);
}

/** docker's --sig-proxy: signals sent to the CLI go to the container's PID 1. With a tty, ^C
 *  travels through the pty instead, as a keystroke. */
function forwardSignals(api: NativeApi, pidfd: number, tty: boolean): () => void {
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  if (!tty) signals.push('SIGINT');
  const numbers: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1, SIGQUIT: 3, SIGUSR1: 10, SIGUSR2: 12 };
  const handlers = signals.map((sig) => {
    const fn = (): void => api.signal(pidfd, numbers[sig]!);
    process.on(sig, fn);
    return [sig, fn] as const;
  });
  return () => handlers.forEach(([sig, fn]) => process.off(sig, fn));
}

/** Copies a container's output pipe to our descriptor `to` (-1: nowhere, run -a left it out) and hands each chunk to `tee`;
 *  resolves at end of file, when the last writer has closed it. */
function copyOutput(fd: number, to: number, tee: (d: Buffer, end: boolean) => void): Promise<void> {
  const { Socket } = netLib();
  const pipe = new Socket({ fd, readable: true, writable: false });
  return new Promise((resolve) => {
    pipe.on('data', (d: Buffer) => {
      if (to >= 0) writeAll(to, d); // -1: logged only (run -a without this stream)
      tee(d, false);
    });
    const done = (): void => {
      tee(Buffer.alloc(0), true);
      resolve();
    };
    pipe.on('end', done);
    pipe.on('error', done);
  });
}

/** Copies between the user's terminal and the pty master in raw mode, and passes window sizes.
 *  Returns a function that waits for the container's last output, then restores the terminal. */
export function relayPty(api: NativeApi, master: number, interactive: boolean, onOutput?: (d: Buffer) => void): () => Promise<void> {
  // Lazy: only -t needs the tty module and its streams.
  const ttyMod = Promise.resolve().then(ttyLib);
  const stdin = process.stdin;
  const raw = interactive && stdin.isTTY;
  const resize = (): void => {
    if (process.stdout.isTTY) api.setWinsize(master, process.stdout.rows, process.stdout.columns);
  };
  resize();
  process.stdout.on('resize', resize);
  let done: () => void;
  const drained = new Promise<void>((r) => (done = r));
  let onInput: ((d: Buffer) => void) | undefined;
  let out: import('node:tty').ReadStream | undefined;
  void ttyMod.then(({ ReadStream }) => {
    const o = new ReadStream(master);
    out = o;
    // Written asynchronously, one chunk at a time, the pty paused meanwhile: process.stdout on a
    // terminal writes synchronously, and a terminal that is itself waiting to hand us input
    // (a large paste) would then block this process, and with it the input, for good.
    const toTerminal = (d: Buffer): void => {
      o.pause();
      onOutput?.(d);
      write(1, d, 0, d.length, null, (err, n) => {
        if (!err && n < d.length) return toTerminal(d.subarray(n));
        o.resume();
      });
    };
    o.on('data', toTerminal);
    // EIO on the master means every slave descriptor is closed: the container is gone.
    out.on('error', () => done());
    out.on('end', () => done());
    out.on('close', () => done());
    if (interactive) {
      if (raw) {
        // Fully raw, as docker's cfmakeraw: libuv's raw mode leaves OPOST (and ONLCR) on.
        stdin.setRawMode(true);
        api.rawOutput(0);
      }
      // The master is non-blocking (libuv made it so for the ReadStream). When the container
      // is not reading and its input queue is full, the rest waits in `queue` and is retried on
      // a timer: a retry loop would hold the event loop and never drain the container's output
      // (both sides would stall), and pausing stdin would stall the user's terminal instead
      // (a terminal that cannot hand us input may stop reading our output too).
      const queue: Buffer[] = [];
      let waiting = false;
      const flush = (): void => {
        waiting = false;
        while (queue.length) {
          const d = queue[0]!;
          let n: number;
          try {
            n = writeSync(master, d);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') { queue.length = 0; return; } // EIO: the container is gone
            waiting = true;
            setTimeout(flush, 5);
            return;
          }
          if (n < d.length) queue[0] = d.subarray(n);
          else queue.shift();
        }
      };
      onInput = (d: Buffer): void => {
        queue.push(d);
        if (!waiting) flush();
      };
      stdin.on('data', onInput);
      stdin.resume();
    }
  });
  return async () => {
    await Promise.race([drained, new Promise((r) => setTimeout(r, 500))]);
    process.stdout.off('resize', resize);
    if (onInput) stdin.off('data', onInput);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
    if (out) out.destroy();
    else closeSync(master);
  };
}
