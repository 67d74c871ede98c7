// minidock-runc exec: runs another process in a running container, as `runc exec` does. The
// process is runc's: a runtime-spec `process` object, from --process FILE (what containerd and
// podman pass) or built from the bundle's config.json process with the flags applied on top.
// `minidock-shim exec` (native/src/shim.c) carries it out: a fresh single-threaded process that
// writes itself into the container's cgroups, joins with one setns(pidfd) the namespaces of the
// container's process that differ from ours, and forks the command with the process's user,
// capability sets, rlimits, noNewPrivileges and the container's seccomp filter (linux.seccomp of
// the bundle's config.json, compiled here as create compiles it).
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { closeSync, readFileSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { writeFileAtomic } from '../core/atomic-file.js';
import { MinidockError } from '../core/errors.js';
import { RLIMIT_NUMBERS } from '../runtime/child-plan.js';
import { parseConfig, parseConfigText, type OciProcess } from './config.js';
import { planCaps } from './plan.js';
import { compileSeccomp } from './seccomp.js';
import { readProc, validateId, type OciStore } from './state.js';

export interface ExecOptions {
  process?: string;
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  tty?: boolean;
  cwd?: string;
  env: string[];
  user?: string;
  additionalGids: string[];
  cap: string[];
  noNewPrivs?: boolean;
  /** commander's name for --no-new-privs (a negated "new-privs"): false when given. */
  newPrivs?: boolean;
  processLabel?: string;
  apparmor?: string;
  preserveFds?: string;
  cgroup: string[];
  ignorePaused?: boolean;
}

export interface ExecDeps {
  native(): Promise<{ pidfdOpen(pid: number): number | null }>;
  debug(msg: string): void;
}

/** runc exec's flags, for commander: those before the id are exec's, everything after it is the
 *  command's (runc's SkipArgReorder; commander's passThroughOptions). */
export function execOptions(cmd: Command): Command {
  return cmd
    .description('run a process in a running container')
    .argument('<id>').argument('[command...]', 'the command and its arguments (unless --process)')
    .passThroughOptions()
    .option('-p, --process <file>', 'a runtime-spec process object (JSON) to run')
    .option('-d, --detach', 'return once the process runs')
    .option('--pid-file <file>', 'write the process id (in our PID namespace) to this file')
    .option('--console-socket <path>', 'with --tty: a unix socket that receives the pty master (SCM_RIGHTS)')
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('--cwd <dir>', 'working directory in the container')
    .option('-e, --env <K=V>', 'set an environment variable (repeatable)', collect, [])
    .option('-u, --user <uid[:gid]>', 'run as this uid (and gid), numeric')
    .option('-g, --additional-gids <gid>', 'an additional gid (repeatable)', collect, [])
    .option('-c, --cap <cap>', 'add a capability (e.g. CAP_NET_ADMIN) to the bounding, effective and permitted sets (repeatable)', collect, [])
    .option('--no-new-privs', 'set no_new_privs for the process')
    .option('--process-label <label>', 'SELinux label: refused (this host has none)')
    .option('--apparmor <profile>', 'AppArmor profile: refused (this host has none)')
    .option('--preserve-fds <n>', 'pass this many descriptors after stdio: only 0 is supported', '0')
    .option('--cgroup <path>', 'a sub-cgroup to run in: not supported', collect, [])
    .option('--ignore-paused', 'allow exec in a paused container');
}

const fail = (message: string, hint?: string, step = 'oci.exec'): MinidockError => new MinidockError(message, { step, hint, exitCode: 1 });

/** A repeatable option's collector, for commander. */
export const collect = (v: string, all: string[]): string[] => [...all, v];

/** The namespaces the shim can join, as /proc/PID/ns names them and shim --ns takes them. */
const NS = ['user', 'mnt', 'uts', 'ipc', 'net', 'pid', 'cgroup'] as const;

/** Those of the container's process that are not ours: setns of one's own user namespace is
 *  EINVAL, and an OCI container may share the host's user, network or any other namespace. */
export function namespacesToJoin(pid: number): string[] {
  const link = (p: number | 'self', ns: string): string | undefined => {
    try {
      return readlinkSync(`/proc/${p}/ns/${ns}`);
    } catch {
      return undefined;
    }
  };
  return NS.filter((ns) => {
    const theirs = link(pid, ns);
    if (theirs === undefined) throw fail(`cannot read /proc/${pid}/ns/${ns}`, 'the container\'s process is gone');
    return theirs !== link('self', ns);
  });
}

/** The process parsed as config.json's `process` is (config.ts's rules); errors name `source`. */
function parseProcess(raw: unknown, source: string): OciProcess {
  try {
    return parseConfig({ ociVersion: '1.0.2', root: { path: '/' }, process: raw }).process!;
  } catch (err) {
    if (err instanceof MinidockError) throw new MinidockError(err.message.replace(/^config\.json: /, `${source}: `), { step: 'oci.exec', hint: err.hint, exitCode: 1 });
    throw err;
  }
}

/** runc's getProcess: the file's process as it is, or the bundle's with the flags applied. */
export function execProcess(configProcess: unknown, args: string[], o: ExecOptions, readFile: (p: string) => string = (p) => readFileSync(p, 'utf8')): OciProcess {
  if (o.process) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFile(o.process));
    } catch (err) {
      throw fail(`cannot read the process file ${o.process}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'give a runtime-spec process object in JSON');
    }
    return parseProcess(raw, o.process);
  }
  if (!configProcess || typeof configProcess !== 'object') throw fail('the bundle\'s config.json has no process', 'give --process FILE');
  const p = structuredClone(configProcess) as Record<string, any>;
  p.args = args;
  if (o.cwd) p.cwd = o.cwd;
  if (o.apparmor) p.apparmorProfile = o.apparmor;
  if (o.processLabel) p.selinuxLabel = o.processLabel;
  if (o.cap.length && p.capabilities) {
    const c = p.capabilities as Record<string, string[] | undefined>;
    for (const cap of o.cap) {
      for (const k of ['bounding', 'effective', 'permitted'] as const) c[k] = [...(c[k] ?? []), cap];
      // As runc: ambient only when the config has an inheritable set (ambient needs it).
      if (c.inheritable !== undefined) c.ambient = [...(c.ambient ?? []), cap];
    }
  }
  p.env = [...((p.env as string[] | undefined) ?? []), ...o.env];
  p.terminal = !!o.tty;
  if (o.noNewPrivs || o.newPrivs === false) p.noNewPrivileges = true;
  p.user = { ...(p.user ?? { uid: 0, gid: 0 }) };
  if (o.user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(o.user);
    if (!m) throw fail(`--user ${JSON.stringify(o.user)} is not UID[:GID]`, 'give numbers, e.g. --user 1000:1000');
    p.user.uid = Number(m[1]);
    if (m[2] !== undefined) p.user.gid = Number(m[2]);
  }
  for (const g of o.additionalGids) {
    if (!/^\d+$/.test(g)) throw fail(`--additional-gids ${JSON.stringify(g)} is not a number`);
    p.user.additionalGids = [...(p.user.additionalGids ?? []), Number(g)];
  }
  return parseProcess(p, 'exec');
}

/** The shim's arguments for `proc` (everything but the cgroups, namespaces and descriptors). */
export function shimArgs(proc: OciProcess, seccomp: { hex: string; flags: number } | undefined, o: { detach?: boolean; consoleSocket?: string }): string[] {
  const u = proc.user;
  const args = ['exec', '-u', `${u.uid}:${u.gid}${u.additionalGids.map((g) => `:${g}`).join('')}`, '-w', proc.cwd, ...proc.env.flatMap((e) => ['-e', e])];
  if (o.detach) args.push('-d');
  if (proc.terminal) args.push('-t');
  if (o.consoleSocket) {
    args.push('--console-socket', o.consoleSocket);
    if (proc.consoleSize) args.push('--console-size', `${proc.consoleSize.height}x${proc.consoleSize.width}`);
  }
  const oci = (k: string, v: string | number): void => void args.push('--oci', `${k}=${v}`);
  const caps = planCaps(proc);
  if (caps.caps !== undefined) oci('caps', caps.caps);
  if (caps.capSets) for (const k of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const) oci(`cap_${k}`, caps.capSets[k]);
  if (proc.noNewPrivileges) oci('nnp', 1);
  if (seccomp) {
    oci('seccomp_prog', seccomp.hex);
    if (seccomp.flags) oci('seccomp_flags', seccomp.flags);
  }
  for (const r of proc.rlimits) oci('rlimit', `${RLIMIT_NUMBERS[r.type]} ${r.soft} ${r.hard}`);
  if (proc.user.umask !== undefined) oci('umask', `0${proc.user.umask.toString(8)}`);
  return args;
}

/** Reads "pid N" from the shim's report pipe; undefined when it closed without one. */
function reportedPid(stream: Readable): Promise<number | undefined> {
  return new Promise((resolvePid) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => {
      text += d;
      const m = /^pid (\d+)\n/.exec(text);
      if (m) resolvePid(Number(m[1]));
    });
    stream.on('end', () => resolvePid(undefined));
    stream.on('error', () => resolvePid(undefined));
  });
}

/** `exec`: returns the process's exit status (128+N for a signal), or 0 with --detach once it
 *  runs. */
export async function ociExec(store: OciStore, deps: ExecDeps, id: string, args: string[], o: ExecOptions): Promise<number> {
  const rec = store.read(validateId(id));
  if (!o.process && !args.length) throw fail('exec needs a command, or --process FILE', 'e.g. minidock-runc exec ID sh -c "echo hi"');
  const status = store.status(rec);
  // runc's messages; exec into a created container is allowed, as runc allows it.
  if (status === 'stopped') throw fail('exec failed: cannot exec in a stopped container');
  if (status === 'paused' && !o.ignorePaused) throw fail('exec failed: cannot exec in a paused container (use --ignore-paused to override)');
  if (status === 'creating') throw fail('exec failed: the container is still being created', 'wait for create to return');
  if (Number(o.preserveFds ?? 0) !== 0) throw fail('--preserve-fds is not supported yet', 'the shim passes stdio only');
  if (o.cgroup.length) throw fail('exec --cgroup is not supported yet', 'the process joins the container\'s own cgroups');

  let configText: string;
  try {
    configText = readFileSync(join(rec.bundle, 'config.json'), 'utf8');
  } catch (err) {
    throw fail(`cannot read the container's config ${join(rec.bundle, 'config.json')}: ${(err as NodeJS.ErrnoException).code ?? err}`, 'exec takes the seccomp filter and the default process from the bundle');
  }
  const config = parseConfigText(configText);
  const rawProcess = (JSON.parse(configText) as { process?: unknown }).process;
  const proc = execProcess(rawProcess, args, o);
  if (proc.apparmorProfile) throw fail('process.apparmorProfile: this host has no AppArmor', 'drop --apparmor (and apparmorProfile)');
  if (proc.selinuxLabel) throw fail('process.selinuxLabel: this host has no SELinux', 'drop --process-label (and selinuxLabel)');
  if (proc.other.length) throw fail(`the process needs ${proc.other.join(', ')}, which minidock-runc does not support yet`);
  if (proc.terminal && o.detach && !o.consoleSocket) throw fail('cannot allocate tty if minidock-runc will detach without setting console socket', 'give --console-socket, or drop --tty');
  if (!proc.terminal && o.consoleSocket) throw fail('cannot use console socket if minidock-runc will not detach or allocate tty', 'give --tty, or drop --console-socket');
  const compiled = config.linux?.seccomp ? compileSeccomp(config.linux.seccomp) : undefined;
  if (compiled?.unsupported.length) throw fail(`linux.seccomp needs ${compiled.unsupported.join(', ')}, which minidock-runc does not support yet`);
  const seccomp = compiled ? { hex: compiled.filter.toString('hex'), flags: compiled.flags ?? 0 } : undefined;

  // The container's process, by a pidfd opened before its start time is checked: a process that
  // took over a dead container's pid is never entered.
  const pidfd = (await deps.native()).pidfdOpen(rec.pid);
  if (pidfd === null) throw fail('exec failed: cannot exec in a stopped container');
  let ns: string[];
  try {
    if (readProc(rec.pid).start !== rec.pidStart) throw fail('exec failed: cannot exec in a stopped container');
    ns = namespacesToJoin(rec.pid);
  } catch (err) {
    closeSync(pidfd);
    throw err;
  }
  const shim = [
    ...shimArgs(proc, seccomp, { detach: o.detach, consoleSocket: o.consoleSocket ? resolve(o.consoleSocket) : undefined }),
    '--ns', ns.join(','),
    // Joined first, before any namespace: nothing runs in the container outside its limits.
    ...(rec.cgroup ?? []).flatMap((d) => ['--cgroup', `${d.path}/cgroup.procs`]),
    '--report-fd', '4', '--', ...proc.args,
  ];
  deps.debug(`exec ${id}: joins ${ns.join(',') || 'no namespace'}, runs ${JSON.stringify(proc.args)}`);
  // A terminal relayed here (no console socket) goes raw, so keystrokes reach the process as typed.
  const relay = proc.terminal && !o.consoleSocket;
  const raw = relay && process.stdin.isTTY;
  if (raw) process.stdin.setRawMode(true);
  const { shimPath } = await import('../native/binding.js');
  const child = spawn(shimPath(), shim, { stdio: ['inherit', 'inherit', 'inherit', pidfd, 'pipe'] });
  const exited = new Promise<number>((res) => child.on('close', (c, sig) => res(c ?? 128 + (sig === 'SIGKILL' ? 9 : 15))));
  const pid = reportedPid(child.stdio[4] as Readable);
  closeSync(pidfd);
  // Signals for us are for the process (runc forwards them); the shim passes them on. A
  // terminal's ^C reaches the shim's group itself.
  const sigs: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', ...(process.stdin.isTTY ? [] : ['SIGINT' as const])];
  const forward = (s: NodeJS.Signals): void => void child.kill(s);
  for (const s of sigs) process.on(s, forward);
  try {
    const got = await pid;
    // In the foreground while the process runs; with --detach once the shim said it runs.
    if (got !== undefined && o.pidFile && !o.detach) writeFileAtomic(resolve(o.pidFile), String(got), 0o644);
    const code = await exited;
    if (got !== undefined && o.pidFile && o.detach && code === 0) writeFileAtomic(resolve(o.pidFile), String(got), 0o644);
    return code;
  } finally {
    for (const s of sigs) process.off(s, forward);
    if (raw) process.stdin.setRawMode(false);
  }
}
