// The lifecycle commands after run: cleanup (the shim's exit command), logs, stop, kill, wait,
// start, restart and exec. Each works on detached and foreground containers alike where it can.
import { closeSync, constants, existsSync, lstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { childProcess } from '../core/lazy.js';
import { join } from 'node:path';
import { EXIT, MinidockError, formatForUser, usageError } from '../core/errors.js';
import { native, shimPath, type NativeApi } from '../native/binding.js';
import { StateStore, type ContainerRecord } from '../runtime/state.js';
import { isSameProcess } from '../runtime/proc.js';
import { signalContainer } from '../runtime/remove.js';
import { readExitRecord } from '../runtime/detached.js';
import { planRunCgroups, releaseCgroup } from '../runtime/run-cgroup.js';
import { canStart, canStop, check } from '../runtime/status.js';
import { checkInputTerminal } from '../runtime/input-terminal.js';
import { checkpoint } from '../core/trace.js';
import { parseSignal } from '../spec/signal.js';
import { finishContainer } from '../runtime/finish.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `minidock cleanup ID`: run by the shim when a detached container's PID 1 exits. */
export async function cleanupCommand(root: string, id: string): Promise<number> {
  const api = native();
  const store = new StateStore(root, api.flock);
  const rec = store.read(id);
  if (!rec.spec || !rec.state) {
    // Removed meanwhile. rm -f frees the cgroups itself, but a state root deleted under us
    // (a test's teardown) takes the only record of them: free those of this id, which no
    // other container shares, so they are never left for good.
    await releaseCgroup(planRunCgroups({ id }).plan.dirs.filter((d) => existsSync(d.path)));
    return 0;
  }
  const exit = readExitRecord(store.paths(id).dir);
  await finishContainer(store, root, api, { id, spec: rec.spec, state: rec.state }, { exitCode: exit?.exitCode ?? 255, finishedAt: exit?.finishedAt ?? Date.now() });
  return 0;
}

function running(rec: ContainerRecord): boolean {
  return rec.state?.status === 'running';
}

/** The container's monitor is at work: its shim, or the `minidock cleanup ID` the shim execs
 *  (same pid) once it has written exit.json. A recycled pid names neither. */
function monitorAlive(store: StateStore, rec: ContainerRecord): boolean {
  const pid = rec.state?.monitorPid;
  if (!pid) return false;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    return cmd.includes(`\0${store.paths(rec.id).dir}\0`) || cmd.endsWith(`\0cleanup\0${rec.id}\0`);
  } catch {
    return false;
  }
}

async function waitStopped(store: StateStore, rec: ContainerRecord, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  const { pid, pidStart } = rec.state ?? {};
  while (pid && pidStart !== undefined && isSameProcess(pid, pidStart)) {
    if (Date.now() >= until) return false;
    await sleep(20);
  }
  // A detached container's shim writes its exit record just after PID 1 is reaped: for as long
  // as the shim lives, not a fixed second (under load it can take longer). Giving up early is
  // harmless (the container reads as exiting until the record is there), only slower to show.
  const exitFile = join(store.paths(rec.id).dir, 'exit.json');
  for (const end = Date.now() + 10_000; Date.now() < end && !existsSync(exitFile) && monitorAlive(store, rec);) await sleep(10);
  return true;
}

/** Before a container starts again: the monitor of its last run is finished. Its `minidock
 *  cleanup` releases that run's lease, rules and cgroups (by the recorded state) and writes its
 *  final state; run beside a start, it would release the new run's and record it exited. */
async function lastRunFinished(store: StateStore, rec: ContainerRecord): Promise<void> {
  for (const end = Date.now() + 10_000; monitorAlive(store, rec); await sleep(20)) {
    if (Date.now() >= end) {
      throw new MinidockError(`container ${rec.spec?.name ?? rec.id} is still exiting: its monitor (pid ${rec.state!.monitorPid}) has not finished`, {
        step: 'start.exiting', exitCode: 1, hint: 'try again in a moment',
      });
    }
  }
}

/** Runs `fn` on each container; prints the reference on success, the error otherwise; exit 1
 *  when any failed (docker's behaviour for stop, kill, rm, start, wait). */
async function each(refs: string[], fn: (store: StateStore, rec: ContainerRecord, api: NativeApi) => Promise<string | void>, root: string): Promise<number> {
  const api = native();
  const store = new StateStore(root, api.flock);
  let failed = false;
  for (const ref of refs) {
    try {
      const out = await fn(store, store.resolve(ref), api);
      process.stdout.write(`${out ?? ref}\n`);
    } catch (err) {
      failed = true;
      process.stderr.write(formatForUser(err) + '\n');
    }
  }
  return failed ? 1 : 0;
}

/** `stop`: SIGTERM (or the container's stop signal), a grace period, then SIGKILL. PID 1 ignores signals it has no handler
 *  for, so without a handler (or --init) the grace period always runs out. */
/** The grace period: -t, else the container's --stop-timeout, else docker's 10 s. */
const graceOf = (rec: ContainerRecord, timeoutS: number | undefined): number => timeoutS ?? rec.spec?.stopTimeout ?? 10;

export function stopCommand(root: string, refs: string[], timeoutS: number | undefined): Promise<number> {
  return each(refs, (store, rec, api) => stopOne(store, rec, api, graceOf(rec, timeoutS)), root);
}

async function stopOne(store: StateStore, rec: ContainerRecord, api: NativeApi, timeoutS: number): Promise<void> {
  check('stop', rec);
  if (!canStop(rec)) return;
  // The container's stop signal (--stop-signal, or its image's StopSignal), as docker.
  signalContainer(api, rec, rec.spec?.stopSignal ? parseSignal(rec.spec.stopSignal) : 15);
  checkpoint('stop.signalled');
  if (!(await waitStopped(store, rec, timeoutS * 1000))) {
    signalContainer(api, rec, 9);
    await waitStopped(store, rec, 10_000);
  }
}

/** `restart`: stop, then start, container by container; each name printed once. */
export function restartCommand(root: string, refs: string[], timeoutS: number | undefined): Promise<number> {
  return each(refs, async (store, rec, api) => {
    await stopOne(store, rec, api, graceOf(rec, timeoutS));
    await startOne(store, store.read(rec.id), api, root);
  }, root);
}

export function killCommand(root: string, refs: string[], signal: string): Promise<number> {
  const sig = parseSignal(signal);
  return each(refs, async (store, rec, api) => {
    check('kill', rec);
    if (!signalContainer(api, rec, sig)) {
      throw new MinidockError(`cannot kill container: ${rec.spec?.name ?? rec.id}: container is not running`, { step: 'kill', exitCode: 1 });
    }
    if (sig === 9) await waitStopped(store, rec, 10_000);
  }, root);
}

export function waitCommand(root: string, refs: string[]): Promise<number> {
  return each(refs, async (store, rec) => {
    let r = rec;
    while (running(r)) {
      await sleep(50);
      r = store.read(r.id);
    }
    return String(r.state?.exitCode ?? 0);
  }, root);
}

export async function startCommand(root: string, refs: string[], attach: boolean): Promise<number> {
  const { startContainer } = await import('../runtime/run.js');
  if (attach) {
    // Attached, docker prints only the container's output and returns its exit code.
    if (refs.length !== 1) throw usageError('you cannot start and attach multiple containers at once');
    const api = native();
    const store = new StateStore(root, api.flock);
    const rec = store.resolve(refs[0]!);
    check('start', rec);
    if (!canStart(rec) || !rec.spec) throw new MinidockError(`container ${refs[0]} is already running`, { step: 'start', exitCode: 1 });
    await lastRunFinished(store, rec);
    return startContainer(store, rec.spec, store.paths(rec.id), { detach: false, fresh: false }, root, api);
  }
  return each(refs, (store, rec, api) => startOne(store, rec, api, root), root);
}

async function startOne(store: StateStore, rec: ContainerRecord, api: NativeApi, root: string): Promise<void> {
  const { startContainer } = await import('../runtime/run.js');
  check('start', rec);
  if (!canStart(rec) || !rec.spec) return;
  await lastRunFinished(store, rec);
  await startContainer(store, rec.spec, store.paths(rec.id), { detach: true, fresh: false }, root, api);
}

/** `logs`: what a detached container wrote, from its CRI-format log (see native/src/shim.c). */
export async function logsCommand(root: string, ref: string, o: { follow: boolean; tail?: string; timestamps: boolean; since?: string; until?: string }): Promise<number> {
  const { parseLogTime } = await import('../runtime/log-time.js');
  const now = Date.now();
  const since = o.since === undefined ? -Infinity : parseLogTime(o.since, now, '--since');
  const until = o.until === undefined ? Infinity : parseLogTime(o.until, now, '--until');
  const store = new StateStore(root);
  const rec = store.resolve(ref);
  const file = join(store.paths(rec.id).dir, 'container.log');
  let tail = Infinity;
  // docker reads anything but a number as "all" (its daemon's strconv.Atoi fallback).
  if (o.tail !== undefined && /^\d+$/.test(o.tail)) tail = Number(o.tail);
  const emit = (lines: string[]): void => {
    for (const line of lines) {
      const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s.exec(line);
      if (!m) continue;
      if (o.since !== undefined || o.until !== undefined) {
        const t = Date.parse(m[1]!);
        // Both ends included, as docker's daemon compares them (Before(since), After(until)).
        if (!(t >= since && t <= until)) continue;
      }
      const text = `${o.timestamps ? `${m[1]} ` : ''}${m[4]}${m[3] === 'F' ? '\n' : ''}`;
      (m[2] === 'stderr' ? process.stderr : process.stdout).write(text);
    }
  };
  let offset = 0;
  let pending = '';
  const readNew = (): string[] => {
    if (!existsSync(file)) return [];
    const size = statSync(file).size;
    if (size <= offset) return [];
    const fd = openSync(file, 'r');
    const buf = Buffer.alloc(size - offset);
    try {
      readFully(fd, buf, offset);
    } finally {
      closeSync(fd);
    }
    offset = size;
    const parts = (pending + buf.toString('utf8')).split('\n');
    pending = parts.pop() ?? '';
    return parts;
  };
  const first = readNew();
  emit(tail === Infinity ? first : tail === 0 ? [] : first.slice(-tail));
  if (!o.follow) return 0;
  // Follow until the container has stopped and its last lines are out.
  for (;;) {
    const r = store.read(rec.id);
    const more = readNew();
    emit(more);
    if (r.state?.status !== 'running' && !more.length) return 0;
    await sleep(100);
  }
}

/** Fills `buf` from `fd` at `position`: readSync may return fewer bytes than asked for. */
function readFully(fd: number, buf: Buffer, position: number): void {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, position + got);
    if (n <= 0) break;
    got += n;
  }
}

/** `exec`: runs a command in a running container through `minidock-shim exec`, a fresh
 *  single-threaded process that joins all seven namespaces from a pidfd (see shim.c). */
/** The shim's exec options for a container under a profile of its user's (--security-opt
 *  seccomp=FILE): the same filter PID 1 got, compiled again from the record, with its
 *  capabilities and no_new_privs, as keys of an OCI plan (the shim's --oci). */
async function profilePrivileges(caps: string | undefined, nnp: boolean | undefined, profile: import('../oci/config.js').OciSeccomp): Promise<string[]> {
  const { compileSeccomp } = await import('../oci/seccomp.js');
  const c = compileSeccomp(profile);
  return [...(caps !== undefined ? ['--oci', `caps=${caps}`] : []), ...(nnp ? ['--oci', 'nnp=1'] : []),
    '--oci', `seccomp_prog=${c.filter.toString('hex')}`, ...(c.flags ? ['--oci', `seccomp_flags=${c.flags}`] : [])];
}

export async function execCommand(root: string, ref: string, argv: string[], o: { interactive: boolean; tty: boolean; detach: boolean; env: string[]; workdir?: string; user?: string }): Promise<number> {
  checkInputTerminal(o.interactive && o.tty && !o.detach);
  const api = native();
  const store = new StateStore(root, api.flock);
  const rec = store.resolve(ref);
  const name = rec.spec?.name ?? rec.id;
  check('exec', rec, 'minidock start it first');
  if ((await import('../runtime/freezer.js')).isPaused(rec.state)) {
    throw new MinidockError(`Container ${rec.spec?.name ?? ref} is paused, unpause the container before exec`, { step: 'exec', exitCode: 1 });
  }
  if (!rec.spec) throw new MinidockError(`container ${name} is not running`, { step: 'exec' });
  const { pid, pidStart } = rec.state!;
  const pidfd = api.pidfdOpen(pid!);
  if (pidfd === null || !isSameProcess(pid!, pidStart!)) {
    if (pidfd !== null) closeSync(pidfd);
    throw new MinidockError(`container ${name} is not running`, { step: 'exec' });
  }
  const { parseEnvFlag, splitEnvEntry } = await import('../spec/env.js');
  const env = new Map(rec.spec.env.map((e) => splitEnvEntry(e)));
  const given = new Map<string, string>();
  for (const e of o.env) {
    const kv = parseEnvFlag(e, process.env);
    if (kv) given.set(kv[0], kv[1]);
  }
  // docker's exec: TERM=xterm with -t (the container may have run without one).
  if (o.tty) env.set('TERM', 'xterm');
  let user = `${rec.spec.user.uid}:${rec.spec.user.gid}${rec.spec.user.additionalGids.map((g) => `:${g}`).join('')}`;
  if (o.user !== undefined) {
    const { parseUserSpec, resolveUser } = await import('../spec/user.js');
    // Through /proc/PID/root an absolute symlink in the container would resolve against *our*
    // root (a hostile /etc/passwd -> /etc/shadow would read the host's): refuse symlinks at etc
    // and at the file, and open with O_NOFOLLOW. (A container swapping /etc between the check
    // and the open could still race this; openat2's RESOLVE_IN_ROOT, which Node lacks, would not.)
    const read = (f: string): string | null => {
      try {
        const etc = `/proc/${pid}/root/etc`;
        if (!lstatSync(etc).isDirectory() || !lstatSync(`${etc}/${f}`).isFile()) return null;
        const fd = openSync(`${etc}/${f}`, constants.O_RDONLY | constants.O_NOFOLLOW);
        try { return readFileSync(fd, 'utf8'); } finally { closeSync(fd); }
      } catch {
        return null;
      }
    };
    const u = resolveUser(parseUserSpec(o.user), read('passwd'), read('group'));
    if (rec.spec.idMap) {
      const { checkUserMapped } = await import('../spec/userns.js');
      try { checkUserMapped(u, rec.spec.idMap); } catch (err) { closeSync(pidfd); throw err; }
    }
    user = `${u.uid}:${u.gid}${u.additionalGids.map((g) => `:${g}`).join('')}`;
    // HOME follows the user, from its passwd entry, as docker's exec -u does.
    env.set('HOME', u.home);
  }
  // The exec's own -e last: they win over all of the above.
  for (const [k, v] of given) env.set(k, v);
  if (o.workdir !== undefined && !o.workdir.startsWith('/')) throw usageError(`the working directory '${o.workdir}' is invalid, it needs to be an absolute path`);
  const args = ['exec', '-u', user, '-w', o.workdir ?? rec.spec.cwd, ...[...env].flatMap(([k, v]) => ['-e', `${k}=${v}`]), ...(o.detach ? ['-d'] : []), ...(o.tty ? ['-t'] : []),
    // exec gets PID 1's privileges, never more: exec must not be a way around them.
    ...(rec.spec.seccomp === 'profile' && rec.spec.seccompProfile ? await profilePrivileges(rec.spec.caps, rec.spec.noNewPrivs, rec.spec.seccompProfile)
      : [...(rec.spec.caps !== undefined ? ['--caps', rec.spec.caps] : []), ...(rec.spec.noNewPrivs ? ['--nnp'] : []), ...(rec.spec.seccomp === 'default' ? ['--seccomp'] : [])]),
    // and its limits: the exec'd command joins the container's cgroups before it enters.
    ...(rec.state?.cgroup ?? []).flatMap((d) => ['--cgroup', `${d.path}/cgroup.procs`]),
    // docker exec: 126 when the command cannot be started at all, found or not.
    '--setup-failure-code', '126', '--', ...argv];
  const { spawn } = childProcess();
  // With -t the shim allocates the pty inside the container and relays it to our terminal,
  // which goes raw here so keystrokes (^C included) reach the container unchanged.
  const raw = o.tty && o.interactive && process.stdin.isTTY;
  if (raw) {
    process.stdin.setRawMode(true);
    native().rawOutput(0); // fully raw, as docker's: libuv's raw mode leaves OPOST on
  }
  const child = spawn(shimPath(), args, {
    stdio: [o.interactive || o.tty ? 'inherit' : 'ignore', 'inherit', 'inherit', pidfd],
    detached: o.detach,
  });
  // Listen before any await: a command that fails at once may be gone by the next tick.
  const exited = new Promise<number>((resolve) => child.on('close', (c, sig) => resolve(c ?? 128 + (sig === 'SIGKILL' ? 9 : 15))));
  closeSync(pidfd);
  if (o.detach) {
    child.unref();
    return 0;
  }
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  // A terminal's ^C already reaches the whole foreground group (helper and command): only
  // signals sent to the CLI alone are passed on.
  const sigs: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP'];
  process.on('SIGINT', () => { /* the command gets it from the terminal; stay to report its exit */ });
  const handlers = sigs.map((s) => [s, forward(s)] as const);
  for (const [s, f] of handlers) process.on(s, f);
  const code = await exited;
  for (const [s, f] of handlers) process.off(s, f);
  if (raw) process.stdin.setRawMode(false);
  return code === 125 ? EXIT.RUNTIME : code;
}

/** `minidock rename CONTAINER NEW`: docker's rename. The hostname, /etc/hosts and the network's
 *  records keep what they were given at create time, as docker's do. */
export async function renameCommand(root: string, ref: string, to: string): Promise<void> {
  const { validateContainerName } = await import('../spec/name.js');
  const name = validateContainerName(to);
  const store = new StateStore(root, native().flock);
  const rec = store.resolve(ref);
  store.rename(rec.id, name.startsWith('/') ? name.slice(1) : name);
}

/** `minidock pause|unpause NAME...`: freeze or thaw each container's cgroup; prints each name
 *  done, as docker does, and exits 1 if any failed. */
export async function pauseCommand(root: string, refs: string[], frozen: boolean): Promise<number> {
  const { isPaused, setFrozen } = await import('../runtime/freezer.js');
  const store = new StateStore(root);
  let failed = false;
  for (const ref of refs) {
    try {
      const rec = store.resolve(ref);
      const name = rec.spec?.name ?? ref;
      check(frozen ? 'pause' : 'unpause', rec);
      const paused = isPaused(rec.state);
      if (frozen && paused) throw new MinidockError(`Container ${name} is already paused`, { step: 'pause', exitCode: 1 });
      if (!frozen && !paused) throw new MinidockError(`Container ${name} is not paused`, { step: 'unpause', exitCode: 1 });
      await setFrozen(rec.state!, frozen, name);
      process.stdout.write(`${ref}\n`);
    } catch (err) {
      failed = true;
      process.stderr.write(formatForUser(err) + '\n');
    }
  }
  return failed ? 1 : 0;
}

/**
 * `minidock attach NAME`: the container's output from now on, until it exits; then its exit code,
 * as docker attach returns it. SIGINT and SIGTERM to the CLI go to the container (docker's
 * --sig-proxy, on by default). Output only: minidock's detached containers keep no stdin to
 * attach to (a container started with -i -d has its stdin closed), so --no-stdin is the only mode.
 */
export async function attachCommand(root: string, ref: string, o: { sigProxy: boolean }): Promise<number> {
  const api = native();
  const store = new StateStore(root, api.flock);
  const rec = store.resolve(ref);
  if (rec.state?.status !== 'running') {
    throw new MinidockError('You cannot attach to a stopped container, start it first', { step: 'attach', exitCode: 1 });
  }
  if ((await import('../runtime/freezer.js')).isPaused(rec.state)) {
    throw new MinidockError('You cannot attach to a paused container, unpause it first', { step: 'attach', exitCode: 1 });
  }
  const handlers = o.sigProxy
    ? ([['SIGINT', 2], ['SIGTERM', 15]] as const).map(([s, n]) => [s, () => { signalContainer(api, store.read(rec.id), n); }] as const)
    : [];
  for (const [s, f] of handlers) process.on(s, f);
  try {
    await logsCommand(root, rec.id, { follow: true, tail: '0', timestamps: false });
  } finally {
    for (const [s, f] of handlers) process.off(s, f);
  }
  const st = store.read(rec.id).state;
  return st?.status === 'exited' ? st.exitCode ?? 0 : 0;
}
