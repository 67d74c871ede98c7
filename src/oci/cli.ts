// minidock-runc: runc's command line over minidock's runtime core, for engines that drive an
// OCI runtime (podman through conmon, containerd's shim, the runtime-tools suite). The only
// place under src/oci that exits. Exit codes are runc's: 0, or 1 for any error, which goes to
// stderr and, with --log, to the log file too (podman and containerd read it from there).
import type { Command } from 'commander';
import { appendFileSync, closeSync, constants as fsc, existsSync, openSync, readFileSync, readSync, statSync, unlinkSync, writeFileSync, readlinkSync, readdirSync } from 'node:fs';
import { childProcess } from '../core/lazy.js';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';
import { describeError, MinidockError } from '../core/errors.js';
import type { ChildFailure, ChildHandle, NativeApi } from '../native/binding.js';
import { SPEC_VERSION, specText } from './default-spec.js';
import { releaseCgroup } from '../runtime/run-cgroup.js';
import type { UpdateOptions } from './update.js';
import type { ExecOptions } from './exec.js';
import { runHookList } from './hooks.js';
import { detachRootMount, noteRootMount } from './root-mount.js';
import { OciStore, freezerOf, parseSignal, readProc, stateJson, validateId, type OciRecord } from './state.js';

export const VERSION = '0.1.0';
const DEFAULT_ROOT = '/run/minidock-runc';

/**
 * What create/start need from the native addon beyond `minidock run`'s calls: `ociLifecycle`
 * is 1 once the addon says it has them (issue #14's OCI notes).
 * - create(plan) with the plan key exec_fifo: start(h) then returns null once the child
 *   reported "ready" (set up, parent-death signal cleared, about to wait on the FIFO).
 * - sendFd(socket, fd, name) passes the pty master to --console-socket (SCM_RIGHTS), which
 *   Node's net module cannot do.
 */
export interface OciNative extends NativeApi {
  ociLifecycle?: number;
  sendFd?(socketPath: string, fd: number, name: string): void;
}

interface Globals {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
  systemdCgroup: boolean;
}

export interface CliDeps {
  native?: () => OciNative;
  stdout?: (s: string) => void;
  stderr?: (s: string) => void;
}

const err1 = (message: string, hint?: string, step = 'oci.cli'): MinidockError => new MinidockError(message, { step, hint, exitCode: 1 });

/** runc's log lines: logrus's text or JSON formatter, time in RFC 3339 (seconds). */
export function logLine(format: 'text' | 'json', level: string, msg: string, now = new Date()): string {
  const time = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (format === 'json') return `${JSON.stringify({ level, msg, time })}\n`;
  return `time=${JSON.stringify(time)} level=${level} msg=${JSON.stringify(msg)}\n`;
}

/** The message of an error and its hint, on one line. */
const oneLine = (err: unknown): string => {
  const hint = err instanceof MinidockError ? err.hint : undefined;
  return (hint ? `${describeError(err)} (${hint})` : describeError(err)).replace(/\n/g, ' ');
};


/** runc list's table: Go's tabwriter with minwidth 12, padding 3; the last column unpadded. */
export function listTable(rows: string[][]): string {
  const header = ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'];
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(12, ...all.map((r) => (r[c] ?? '').length + 3)));
  return all.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('')).join('\n') + '\n';
}

function ownerName(uid: number): string {
  if (uid === 0) return 'root';
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[2] === String(uid)) return f[0]!;
    }
  } catch {
    /* no passwd: the number will do */
  }
  return `#${uid}`;
}

/** The child's (or the parent's) failed step as the error create reports. A setns that says
 *  EINVAL was given a file that is not a namespace of that type (setns(2)). */
function setupFailure(f: ChildFailure): MinidockError {
  const ns = /^(?:child|parent)\.setns\.(\w+)$/.exec(f.step);
  const hint = ns && f.code === 'EINVAL' ? `is ${f.detail} a namespace of type ${ns[1]}? linux.namespaces[].path must name one` : undefined;
  return new MinidockError(`container setup failed at ${f.step}${f.detail ? ` ${f.detail}` : ''}: ${f.message || 'error'}`, { step: f.step, errno: f.code, hint, exitCode: 1 });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class Runtime {
  readonly store: OciStore;
  private api?: OciNative;

  constructor(readonly g: Globals, private readonly deps: CliDeps, private readonly out: (s: string) => void) {
    this.store = new OciStore(g.root);
  }

  async nativeApi(): Promise<OciNative> {
    if (this.api) return this.api;
    if (this.deps.native) return (this.api = this.deps.native());
    const { native } = await import('../native/binding.js');
    return (this.api = native() as OciNative);
  }

  /** runtime.md's "log a warning": stderr, and the log file with --log (runc's logrus level). */
  warn(msg: string): void {
    if (this.g.log) {
      try {
        appendFileSync(this.g.log, logLine(this.g.logFormat, 'warning', msg));
      } catch {
        /* stderr still says it */
      }
    }
    (this.deps.stderr ?? ((s: string) => process.stderr.write(s)))(`minidock-runc: warning: ${msg}\n`);
  }

  /** The poststop hooks, once the container is gone (runtime.md step 13): a failure is a
   *  warning, and the remaining hooks still run. */
  private async poststop(rec: OciRecord): Promise<void> {
    if (!rec.hooks?.poststop?.length) return;
    await runHookList('poststop', rec.hooks.poststop, JSON.stringify(stateJson(rec, 'stopped')), undefined, (m) => this.warn(m));
  }

  debug(msg: string): void {
    if (!this.g.debug) return;
    const line = logLine(this.g.logFormat, 'debug', msg);
    if (this.g.log) appendFileSync(this.g.log, line);
    else (this.deps.stderr ?? ((s: string) => process.stderr.write(s)))(line);
  }

  state(id: string): void {
    const rec = this.store.read(validateId(id));
    this.out(`${JSON.stringify(stateJson(rec, this.store.status(rec)), null, 2)}\n`);
  }

  list(format: string, quiet: boolean): void {
    if (format !== 'table' && format !== 'json') throw err1(`invalid format option: ${JSON.stringify(format)}`, 'use --format table or --format json');
    const recs = this.store.list().map((r) => ({ rec: r, status: this.store.status(r), owner: ownerName(statSync(this.store.dir(r.id)).uid) }));
    if (quiet) {
      for (const r of recs) this.out(`${r.rec.id}\n`);
    } else if (format === 'json') {
      this.out(`${JSON.stringify(recs.map((r) => ({ ...stateJson(r.rec, r.status), owner: r.owner })))}\n`);
    } else {
      this.out(listTable(recs.map((r) => [r.rec.id, String(r.status === 'stopped' ? 0 : r.rec.pid), r.status, r.rec.bundle, r.rec.created, r.owner])));
    }
  }

  /** Signals the container's process through a pidfd opened after checking its start time, so
   *  a process that took over a dead container's pid is never touched. */
  private async signalPid(pid: number, start: number | undefined, sig: number): Promise<boolean> {
    const api = await this.nativeApi();
    const fd = api.pidfdOpen(pid);
    if (fd === null) return false;
    try {
      if (start === undefined || readProc(pid).start !== start) return false;
      api.signal(fd, sig);
      return true;
    } finally {
      closeSync(fd);
    }
  }

  async kill(id: string, signal: string, all: boolean): Promise<void> {
    const sig = parseSignal(signal);
    const rec = this.store.read(validateId(id));
    const status = this.store.status(rec);
    if (status !== 'created' && status !== 'running') throw err1('container not running', `its status is ${status}`);
    if (all) {
      // Every process in the container's PID namespace, when it is the container's own: its
      // process is that namespace's init (NSpid ends in 1). In the runtime's, or one it joined
      // (linux.namespaces[].path), the others there are not the container's: its processes are
      // then the ones in its cgroups, as runc finds them.
      const nsOf = (pid: number | 'self'): string | undefined => {
        try {
          return readlinkSync(`/proc/${pid}/ns/pid`);
        } catch {
          return undefined;
        }
      };
      const ns = nsOf(rec.pid);
      let nspid = '';
      try {
        nspid = /^NSpid:\s*(.*)$/m.exec(readFileSync(`/proc/${rec.pid}/status`, 'utf8'))?.[1] ?? '';
      } catch { /* gone: ns is undefined too */ }
      const ownNs = !!ns && ns !== nsOf('self') && /\s1$/.test(nspid.trim());
      if (!ownNs) {
        if (!rec.cgroup?.length) throw err1('kill --all needs the container to have its own PID namespace or cgroups', 'add {"type": "pid"} to linux.namespaces');
        const { cgroupProcesses } = await import('../runtime/reap.js');
        for (const pid of cgroupProcesses(rec.cgroup)) await this.signalPid(pid, readProc(pid).start, sig);
        return;
      }
      for (const name of readdirSync('/proc')) {
        const pid = Number(name);
        if (!Number.isInteger(pid) || pid <= 0 || nsOf(pid) !== ns) continue;
        await this.signalPid(pid, readProc(pid).start, sig);
      }
      return;
    }
    if (!(await this.signalPid(rec.pid, rec.pidStart, sig))) throw err1('container not running');
  }

  /** Kills the container's process and waits until it is gone (for a PID namespace's init:
   *  with everything in it). */
  private async killAndWait(rec: OciRecord): Promise<void> {
    const api = await this.nativeApi();
    for (const [pid, start] of [[rec.pid, rec.pidStart], [rec.creator?.pid ?? 0, rec.creator?.start]] as const) {
      if (!pid) continue;
      const fd = api.pidfdOpen(pid);
      if (fd === null) continue;
      try {
        if (readProc(pid).start !== start) continue;
        api.signal(fd, 9);
        if (!(await api.pidfdWait(fd, 10_000))) throw err1(`container process ${pid} did not exit after SIGKILL`, undefined, 'oci.delete');
      } finally {
        closeSync(fd);
      }
    }
  }

  async delete(id: string, force: boolean): Promise<void> {
    validateId(id);
    const rec = this.store.find(id);
    if (!rec) {
      // As runc: a directory a failed create left without a record goes too.
      this.store.remove(id);
      if (force) return;
      throw err1(`container "${id}" does not exist`);
    }
    const status = this.store.status(rec);
    // runc deletes a created container without --force: nothing of the user's program ran.
    if ((status === 'running' || status === 'paused' || status === 'creating') && !force) throw err1(`cannot delete container ${id} that is not stopped: ${status}`, 'stop it first, or delete --force');
    // A frozen task takes SIGKILL only once thawed.
    if (status === 'paused') writeFileSync(`${freezerOf(rec)}/freezer.state`, 'THAWED');
    if (status !== 'stopped') await this.killAndWait(rec);
    if (rec.rootMount) this.debug(`delete ${id}: ${detachRootMount(rec.rootMount)}`);
    if (rec.cgroup?.length) {
      // Without a PID namespace of its own, what PID 1 forked outlives it: end what is left in
      // the cgroups, then remove them.
      const { cgroupProcesses, killAndWait } = await import('../runtime/reap.js');
      await killAndWait(cgroupProcesses(rec.cgroup));
      await releaseCgroup(rec.cgroup);
    }
    this.store.remove(id);
    await this.poststop(rec);
  }

  /** pause/resume: the container's freezer cgroup (v1), as runc does; pause returns once the
   *  kernel says FROZEN (every task stopped), not merely FREEZING. */
  async freeze(id: string, frozen: boolean): Promise<void> {
    const rec = this.store.read(validateId(id));
    const status = this.store.status(rec);
    if (frozen && status !== 'running') throw err1(`container not running: ${status}`);
    if (!frozen && status !== 'paused') throw err1(`container not paused: ${status}`);
    const dir = freezerOf(rec);
    if (!dir) throw err1('this container has no freezer cgroup', 'the host has no cgroup v1 freezer mounted', 'oci.freeze');
    const want = frozen ? 'FROZEN' : 'THAWED';
    for (let i = 0; i < 400; i++) {
      writeFileSync(`${dir}/freezer.state`, want);
      if (readFileSync(`${dir}/freezer.state`, 'utf8').trim() === want) return;
      await sleep(5);
    }
    throw err1(`the container's cgroup did not become ${want} in 2 s`, `see ${dir}/freezer.state`, 'oci.freeze');
  }

  /** ps: the container's processes, from its cgroups (what forked in it is there too). */
  async ps(id: string, format: string, psArgs: string[]): Promise<void> {
    if (format !== 'table' && format !== 'json') throw err1(`invalid format option: ${JSON.stringify(format)}`, 'use --format table or --format json');
    const rec = this.store.read(validateId(id));
    const { cgroupProcesses } = await import('../runtime/reap.js');
    const pids = rec.cgroup?.length ? cgroupProcesses(rec.cgroup).sort((a, b) => a - b) : rec.pid ? [rec.pid] : [];
    if (format === 'json') {
      this.out(`${JSON.stringify(pids)}\n`);
      return;
    }
    // runc prints ps(1)'s own table, with ps-args, filtered to the container's pids.
    const r = childProcess().spawnSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8' });
    if (r.status !== 0) throw err1(`ps ${psArgs.join(' ')} failed: ${(r.stderr || '').trim()}`, undefined, 'oci.ps');
    const [head, ...rows] = r.stdout.trimEnd().split('\n');
    const col = head!.trim().split(/\s+/).indexOf('PID');
    if (col < 0) throw err1('ps output has no PID column', 'give ps arguments that print one (e.g. -ef)', 'oci.ps');
    const want = new Set(pids);
    this.out([head, ...rows.filter((l) => want.has(Number(l.trim().split(/\s+/)[col])))].join('\n') + '\n');
  }

  spec(bundle: string, rootless: boolean): void {
    if (rootless) throw err1('spec --rootless is not supported', 'minidock-runc runs containers as root');
    const path = join(resolve(bundle), 'config.json');
    if (existsSync(path)) throw err1('File config.json exists. Remove it first', `in ${resolve(bundle)}`);
    try {
      writeFileSync(path, specText(), { flag: 'wx', mode: 0o666 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw err1('File config.json exists. Remove it first', `in ${resolve(bundle)}`);
      throw err;
    }
  }

  /** Refuses create/run before anything is made when the native part cannot do the lifecycle. */
  private async lifecycleApi(): Promise<OciNative> {
    const api = await this.nativeApi();
    if (!((api.ociLifecycle ?? 0) >= 1)) {
      throw err1('create is not supported yet: the native helper has no OCI lifecycle (exec fifo)', 'state, list, kill, delete, spec and features work; create/start/run wait for the native change of issue #14', 'oci.native');
    }
    return api;
  }

  /** The OCI create: the container's process is set up and waits on ROOT/ID/exec.fifo; this
   *  process exits, and the waiting one is re-parented to our caller (a subreaper). */
  async create(id: string, o: CreateOptions): Promise<{ pid: number; handle: ChildHandle; master?: number }> {
    validateId(id);
    if (this.g.systemdCgroup) throw err1('--systemd-cgroup is not supported', 'minidock-runc manages cgroupfs paths only: drop the flag (podman: --cgroup-manager cgroupfs)');
    const bundle = resolve(o.bundle);
    const { enterOciCgroups, hostFacts, loadConfig, ociCgroups, planOci, serializePlan } = await import('./translate.js');
    const config = loadConfig(bundle);
    const preserve = Number(o.preserveFds ?? 0);
    if (!Number.isInteger(preserve) || preserve < 0) throw err1(`--preserve-fds ${JSON.stringify(o.preserveFds)} is not a count`, 'give a number of descriptors after stdio, e.g. 1');
    // The child marks every descriptor after stdio close-on-exec (CVE-2024-21626).
    if (preserve > 0) throw err1('--preserve-fds is not supported yet', 'the native plan has no key for descriptors kept past stdio');
    const terminal = config.process?.terminal ?? false;
    if (terminal && !o.consoleSocket && !o.foreground) throw err1('cannot allocate tty if minidock-runc will detach without setting console socket', 'give --console-socket, or set process.terminal to false');
    if (!terminal && o.consoleSocket) throw err1('cannot use console socket if process.terminal is false', 'drop --console-socket, or set process.terminal to true');
    // Planned once without a pty only to learn what is unsupported before anything is made.
    const cg = ociCgroups(config, id);
    const probe = planOci(config, { bundle, tty: terminal ? '/dev/pts/0' : undefined, cgroups: cg.plan.dirs }, hostFacts());
    // linux.cgroupsPath and linux.resources are carried out here (oci/cgroups.ts), with what
    // of them cannot be.
    const unsupported = [...probe.unsupported, ...cg.unsupported];
    if (unsupported.length) {
      throw err1(`config.json needs ${unsupported.join(', ')}, which minidock-runc does not support yet`, 'remove those fields, or run the bundle with runc', 'oci.unsupported');
    }
    const api = await this.lifecycleApi();
    this.store.claim(id);
    const rec: OciRecord = {
      id, ociVersion: config.ociVersion, bundle, rootfs: probe.rootfs, created: new Date().toISOString(),
      annotations: config.annotations, pid: 0, creator: { pid: process.pid, start: readProc(process.pid).start ?? 0 },
      cgroup: cg.plan.dirs,
      resources: cg.resources,
      ...(probe.runtimeMounts ? { rootMount: noteRootMount(probe.rootfs) } : {}),
      // Kept for start and delete; startContainer's only so that start knows to wait for it.
      hooks: Object.fromEntries((['poststart', 'poststop', 'startContainer'] as const).filter((k) => config.hooks[k]?.length).map((k) => [k, config.hooks[k]])),
    };
    let pty: { master: number; slave: string } | undefined;
    let handle: ChildHandle | undefined;
    try {
      this.store.write(rec);
      if (terminal) {
        // Non-blocking only when this process relays it (run without --console-socket).
        pty = api.openPty(!o.consoleSocket);
        const size = probe.consoleSize;
        if (size) api.setWinsize(pty.master, size.height, size.width);
      }
      // Node has no mkfifo(3). 0622: the child reopens it for writing through /proc/self/fd as
      // the container's user, maybe a remapped one; the directory (0700) keeps others out.
      const fifo = this.store.fifo(id);
      const mk = childProcess().spawnSync('mkfifo', ['-m', '0622', fifo], { encoding: 'utf8' });
      if (mk.status !== 0) throw err1(`cannot make the exec fifo ${fifo}: ${(mk.stderr || mk.error?.message || '').trim()}`, undefined, 'oci.create.fifo');
      // The child's own hooks get this state, their pid put in by the child (container.c).
      const [pre, post] = JSON.stringify(stateJson({ ...rec, pid: -1 }, 'created')).split('"pid":-1').map((t, i) => (i ? t : `${t}"pid":`)) as [string, string];
      const plan = planOci(config, { bundle, tty: pty?.slave, execFifo: fifo, cgroups: cg.plan.dirs, hookState: { pre, post } }, hostFacts());
      this.debug(`create ${id}: ${plan.child.ns.join(',')} namespaces, root ${plan.rootfs}`);
      try {
        handle = api.create(serializePlan(plan.child));
      } catch (err) {
        // The parent's steps, and the child's while it joins namespaces (before "go"), fail here.
        const e = err as Partial<ChildFailure>;
        if (typeof e.step !== 'string') throw err;
        throw setupFailure({ step: e.step, detail: e.detail ?? '', message: (err as Error).message.replace(/^[^:]*: /, ''), code: e.code ?? '', errno: e.errno ?? 0 });
      }
      // Between clone and "go", as for `minidock run`: the process is limited before it runs a
      // single instruction of its own, and its cgroup namespace (made after "go") is rooted here.
      for (const w of (await enterOciCgroups(cg, handle.pid)).warnings) this.debug(`create ${id}: ${w}`);
      // prestart and createRuntime (runtime.md steps 3 and 4): in our namespaces, after the
      // container's exist (the child waits for "go", before its mounts and pivot_root). The
      // record gets the pid first, so that `state ID` from a hook says what its stdin says.
      // Their stdin says "created" as runtime.md's State section defines it ("after step 2");
      // runc says "creating".
      if (config.hooks.prestart?.length || config.hooks.createRuntime?.length) {
        const live: OciRecord = { ...rec, pid: handle.pid, pidStart: readProc(handle.pid).start, creator: undefined };
        this.store.write(live);
        const state = JSON.stringify(stateJson(live, 'created'));
        await runHookList('prestart', config.hooks.prestart, state);
        await runHookList('createRuntime', config.hooks.createRuntime, state);
      }
      const failure: ChildFailure | null = api.start(handle);
      if (failure) {
        throw setupFailure(failure);
      }
      const start = readProc(handle.pid).start;
      this.store.write({ ...rec, pid: handle.pid, pidStart: start, creator: undefined });
      if (o.pidFile) writeFileAtomic(resolve(o.pidFile), String(handle.pid), 0o644);
      if (pty && o.consoleSocket) {
        if (!api.sendFd) throw err1('the native helper cannot pass the console to --console-socket', undefined, 'oci.native');
        api.sendFd(resolve(o.consoleSocket), pty.master, pty.slave);
        closeSync(pty.master);
        pty = undefined;
      }
      return { pid: handle.pid, handle, master: pty?.master };
    } catch (err) {
      if (handle) api.abort(handle);
      if (rec.rootMount) {
        try { this.debug(`create ${id}: ${detachRootMount(rec.rootMount)}`); } catch { /* the state is gone: nothing to retry from */ }
      }
      if (pty) closeSync(pty.master);
      try { await releaseCgroup(cg.plan.dirs); } catch { /* reported by the original error's step; delete retries */ }
      this.store.remove(id);
      // A container that existed (it was cloned) is destroyed, and then come the poststop hooks,
      // as after any delete (runtime.md: a failed create-phase hook continues at step 12).
      if (handle) await this.poststop(rec);
      throw err;
    }
  }

  /** Releases the waiting process: opening the fifo for reading lets its open for writing
   *  return; it writes one byte and execs. */
  async start(id: string): Promise<void> {
    const rec = this.store.read(validateId(id));
    const status = this.store.status(rec);
    if (status === 'stopped') throw err1('cannot start a container that has stopped');
    if (status === 'running') throw err1('cannot start an already running container');
    if (status === 'creating') throw err1('cannot start a container that is still being created');
    const fifo = this.store.fifo(id);
    // Non-blocking: a child that died would leave a blocking open waiting forever.
    const fd = openSync(fifo, fsc.O_RDONLY | fsc.O_NONBLOCK);
    // The child opens the fifo for writing, runs the startContainer hooks (as long as they
    // take: no 10 s limit then), and writes "0" just before execve, or "1" and why a hook
    // failed (container.c, wait_exec_fifo), and exits.
    const hooked = !!rec.hooks?.startContainer?.length;
    let said = '';
    let gone = false;
    try {
      const buf = Buffer.alloc(512);
      for (let waited = 0; ; waited += 5) {
        let n = 0;
        try {
          n = readSync(fd, buf, 0, buf.length, null);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
          n = -1; // a writer, nothing written yet
        }
        if (n > 0) {
          said += buf.toString('utf8', 0, n);
          if (said.startsWith('0')) break;
          continue;
        }
        if (n === 0 && said) break; // the report is whole: the writer closed
        if (gone) throw err1('the container process exited before it was started');
        // Read once more first: it may have written its report just before it exited.
        if (this.store.status(rec) === 'stopped') {
          gone = true;
          continue;
        }
        if (!hooked && waited > 10_000) throw err1('the container process did not take the start signal in 10 s', undefined, 'oci.start');
        await sleep(5);
      }
    } finally {
      closeSync(fd);
    }
    // runtime.md step 7: a failed startContainer hook fails start; the child has exited.
    if (!said.startsWith('0')) throw err1(said.slice(1).trim() || 'the container process failed before its program', undefined, 'oci.hook.startContainer');
    // Gone: `state` now reads "running" for as long as the process lives.
    unlinkSync(fifo);
    // poststart (step 9), in our namespaces, before start returns: a failure is a warning (see
    // runHookList; runc, and runtime-spec 1.3, kill the container instead).
    if (rec.hooks?.poststart?.length) {
      await runHookList('poststart', rec.hooks.poststart, JSON.stringify(stateJson(rec, 'running')), undefined, (m) => this.warn(m));
    }
  }

  /** create + start in the foreground: the container is our child; its status becomes ours. */
  async run(id: string, o: CreateOptions & { detach?: boolean }): Promise<number> {
    const { pid, handle, master } = await this.create(id, { ...o, foreground: !o.detach && !o.consoleSocket });
    await this.start(id);
    if (o.detach) return 0;
    const api = await this.nativeApi();
    const { relayPty } = await import('../runtime/run.js');
    const stopRelay = master !== undefined ? relayPty(api, master, true) : undefined;
    const forward = (sig: NodeJS.Signals): void => {
      try {
        api.signal(handle.pidfd, parseSignal(sig));
      } catch {
        /* gone */
      }
    };
    const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
    for (const s of signals) process.on(s, forward);
    const result = await api.wait(pid);
    for (const s of signals) process.off(s, forward);
    if (stopRelay) await stopRelay();
    closeSync(handle.pidfd);
    // As runc run: the container is deleted once it exited, by the one teardown delete uses
    // (what is left in its cgroups ended, the cgroups removed, then the state).
    await this.delete(id, true);
    return result.exitCode ?? 128 + (result.signal ?? 0);
  }
}

interface CreateOptions {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  preserveFds?: string;
  /** run without --detach: a terminal is relayed by this process, no console socket needed. */
  foreground?: boolean;
}

function createOptions(cmd: Command): Command {
  return cmd
    .option('-b, --bundle <dir>', 'path to the bundle (the directory holding config.json)', '.')
    .option('--pid-file <file>', 'write the container process id to this file')
    .option('--console-socket <path>', 'a unix socket that receives the pty master (SCM_RIGHTS) when process.terminal is true')
    // The root is always entered with pivot_root, which isolates more than runc's MS_MOVE +
    // chroot fallback: the flag is accepted and has nothing to change.
    .option('--no-pivot', 'accepted for runc compatibility; the root is always entered with pivot_root')
    // runc's default is a new session keyring; minidock's child joins none yet, so every
    // container keeps the caller's, as with this flag (listed in issue #14's remaining work).
    .option('--no-new-keyring', 'keep the caller\'s session keyring (what minidock-runc does today in any case)')
    .option('--preserve-fds <n>', 'pass this many descriptors after stdio into the container', '0');
}

/** The commands an engine calls for every container besides create (conmon and containerd's
 *  shim call start, state, kill and delete), in the exact shapes they use. */
export type QuickCommand =
  | { cmd: 'start' | 'state'; id: string }
  | { cmd: 'delete'; id: string; force: boolean }
  | { cmd: 'kill'; id: string; all: boolean; signal: string };

/**
 * The argv of one of those commands, parsed without commander (which costs ~18 ms to load, on
 * each of them): global options, then the command, its flags and its operands, nothing else.
 * Anything this does not know exactly (help, an unknown or misplaced flag, a missing id, one
 * operand too many) returns undefined, and commander's full parse takes it, with its messages.
 */
export function quickParse(args: readonly string[]): { g: Globals; q: QuickCommand } | undefined {
  const g: Globals = { root: DEFAULT_ROOT, logFormat: 'text', debug: false, systemdCgroup: false };
  let i = 0;
  for (; i < args.length && args[i]!.startsWith('-'); i++) {
    const [flag, inline] = args[i]!.startsWith('--') && args[i]!.includes('=') ? [args[i]!.slice(0, args[i]!.indexOf('=')), args[i]!.slice(args[i]!.indexOf('=') + 1)] : [args[i]!, undefined];
    const value = (): string | undefined => inline ?? args[++i];
    if (flag === '--debug' && inline === undefined) g.debug = true;
    else if (flag === '--systemd-cgroup' && inline === undefined) g.systemdCgroup = true;
    else if (flag === '--root') { const v = value(); if (!v) return undefined; g.root = resolve(v); }
    else if (flag === '--log') { const v = value(); if (!v) return undefined; g.log = v; }
    else if (flag === '--log-format') { const v = value(); if (v !== 'text' && v !== 'json') return undefined; g.logFormat = v; }
    else return undefined;
  }
  const [cmd, ...rest] = args.slice(i);
  const flags = rest.filter((a) => a.startsWith('-'));
  const operands = rest.filter((a) => !a.startsWith('-'));
  const only = (...allowed: string[]): boolean => flags.every((f) => allowed.includes(f));
  if ((cmd === 'start' || cmd === 'state') && !flags.length && operands.length === 1) return { g, q: { cmd, id: operands[0]! } };
  if (cmd === 'delete' && only('-f', '--force') && operands.length === 1) return { g, q: { cmd, id: operands[0]!, force: flags.length > 0 } };
  if (cmd === 'kill' && only('-a', '--all') && operands.length >= 1 && operands.length <= 2) {
    return { g, q: { cmd, id: operands[0]!, all: flags.length > 0, signal: operands[1] ?? 'SIGTERM' } };
  }
  return undefined;
}

/** The program; `main` runs it. Exported for tests that drive it in-process. */
export async function runCli(argv: string[], deps: CliDeps = {}): Promise<number> {
  const out = deps.stdout ?? ((s: string) => void process.stdout.write(s));
  const errOut = deps.stderr ?? ((s: string) => void process.stderr.write(s));
  const quick = quickParse(argv.slice(2));
  if (quick) {
    const r = new Runtime(quick.g, deps, out);
    const q = quick.q;
    try {
      switch (q.cmd) {
        case 'start': await r.start(q.id); break;
        case 'state': await r.state(q.id); break;
        case 'delete': await r.delete(q.id, q.force); break;
        case 'kill': await r.kill(q.id, q.signal, q.all); break;
      }
      return 0;
    } catch (err) {
      return reportError(err, quick.g, errOut, 1);
    }
  }
  const { Command, CommanderError, Option } = await import('commander');
  const program = new Command('minidock-runc');
  let g: Globals = { root: DEFAULT_ROOT, logFormat: 'text', debug: false, systemdCgroup: false };
  let code = 0;
  const rt = (): Runtime => new Runtime(g, deps, out);
  program
    .description('An OCI runtime with runc\'s command line, built on minidock\'s runtime core')
    .version(`minidock-runc version ${VERSION}\nspec: ${SPEC_VERSION}`, '-v, --version', 'print the version')
    .option('--root <dir>', 'where container state is kept', DEFAULT_ROOT)
    .option('--log <file>', 'write errors (and --debug output) to this file too')
    .addOption(new Option('--log-format <format>', 'the log file\'s format').choices(['text', 'json']).default('text'))
    .option('--debug', 'log debug output')
    .option('--systemd-cgroup', 'not supported: refused by create and run')
    .addOption(new Option('--rootless <value>', 'accepted as false or auto; true is not supported').default('false'))
    .configureOutput({ writeOut: out, writeErr: errOut })
    .exitOverride()
    .hook('preAction', () => {
      const o = program.opts();
      g = { root: resolve(o.root as string), log: o.log as string | undefined, logFormat: o.logFormat as Globals['logFormat'], debug: !!o.debug, systemdCgroup: !!o.systemdCgroup };
      if (o.rootless === 'true') throw err1('--rootless true is not supported', 'minidock-runc runs containers as root');
    });

  program.command('spec').description('write a default config.json into the bundle')
    .option('-b, --bundle <dir>', 'the bundle directory', '.')
    .option('--rootless', 'not supported')
    .action((o: { bundle: string; rootless?: boolean }) => rt().spec(o.bundle, !!o.rootless));
  program.command('features').description('print the runtime-spec features JSON')
    .action(async () => out(`${JSON.stringify((await import('./translate.js')).features(VERSION), null, 4)}\n`));
  program.command('state').argument('<id>').description('print the state of a container as JSON')
    .action((id: string) => rt().state(id));
  program.command('list').alias('ps-all').description('list containers')
    .option('-f, --format <format>', 'table or json', 'table').option('-q, --quiet', 'print only the ids')
    .action((o: { format: string; quiet?: boolean }) => rt().list(o.format, !!o.quiet));
  program.command('kill').argument('<id>').argument('[signal]', 'name (KILL, SIGKILL) or number', 'SIGTERM').description('send a signal to the container\'s process')
    .option('-a, --all', 'signal every process of the container')
    .action((id: string, sig: string, o: { all?: boolean }) => rt().kill(id, sig, !!o.all));
  program.command('delete').argument('<id>').description('delete a container and its state')
    .option('-f, --force', 'kill a running container first')
    .action((id: string, o: { force?: boolean }) => rt().delete(id, !!o.force));
  createOptions(program.command('create').argument('<id>').description('create a container, stopped before its program runs'))
    .action(async (id: string, o: CreateOptions) => { await rt().create(id, o); });
  program.command('pause').argument('<id>').description('suspend every process of the container (freezer cgroup)')
    .action((id: string) => rt().freeze(id, true));
  program.command('resume').argument('<id>').description('resume a paused container')
    .action((id: string) => rt().freeze(id, false));
  program.command('ps').argument('<id>').argument('[ps-args...]', 'arguments for ps(1), default -ef').description('list the processes of a container')
    .option('-f, --format <format>', 'table or json', 'table')
    .action((id: string, psArgs: string[], o: { format: string }) => rt().ps(id, o.format, psArgs));
  program.command('start').argument('<id>').description('run the program of a created container')
    .action((id: string) => rt().start(id));
  createOptions(program.command('run').argument('<id>').description('create and start a container; wait for it unless --detach'))
    .option('-d, --detach', 'return once the program runs')
    .action(async (id: string, o: CreateOptions & { detach?: boolean }) => { code = await rt().run(id, o); });
  // update (src/oci/update.ts): new limits for a created, running or paused container.
  const { updateOptions, ociUpdate } = await import('./update.js');
  const { execOptions, ociExec } = await import('./exec.js');
  updateOptions(program.command('update')).action(async (id: string, o: UpdateOptions) => {
    const r = rt();
    await ociUpdate(r.store, id, o, (m) => r.debug(m));
  });
  // exec (src/oci/exec.ts): what follows its id is the command's, so global options come first.
  program.enablePositionalOptions();
  let failCode = 1;
  execOptions(program.command('exec')).action(async (id: string, cmd: string[], o: ExecOptions) => {
    // runc exits 255 when exec fails (fatalWithCode in its exec.go): 1 could be the process's own.
    failCode = 255;
    const r = rt();
    code = await ociExec(r.store, { native: () => r.nativeApi(), debug: (m) => r.debug(m) }, id, cmd, o);
  });

  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with 0; commander printed its own usage error.
      if (err.exitCode === 0 || err.code === 'commander.version' || err.code === 'commander.helpDisplayed') return 0;
      if (g.log) appendFileSync(g.log, logLine(g.logFormat, 'error', err.message.replace(/^error: /, '')));
      return 1;
    }
    return reportError(err, g, errOut, failCode);
  }
}

/** A failed command: one line on stderr and in the --log file (runc's JSON lines with
 *  --log-format json, which podman and containerd read), and the exit status. */
function reportError(err: unknown, g: Globals, errOut: (s: string) => void, code: number): number {
  const msg = oneLine(err);
  if (g.log) {
    try {
      appendFileSync(g.log, logLine(g.logFormat, 'error', msg));
    } catch {
      /* the log is unwritable: stderr still says it */
    }
  }
  errOut(`minidock-runc: ${msg}\n`);
  if (process.env.MINIDOCK_DEBUG && err instanceof Error && err.stack) errOut(`${err.stack}\n`);
  return code;
}

export async function main(argv = process.argv): Promise<never> {
  process.exit(await runCli(argv));
}
