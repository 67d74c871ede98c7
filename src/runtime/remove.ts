// `minidock rm`: removes containers, killing a running one first with -f. Side-effecting.
import { thawAfterSignal } from './freezer.js';
import { closeSync, existsSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { MinidockError, errnoOf } from '../core/errors.js';
import { createExclusive } from '../core/atomic-file.js';
import type { NativeApi } from '../native/binding.js';
import { isSameProcess, processStartTime } from './proc.js';
import type { ContainerRecord, StateStore } from './state.js';
import { check } from './status.js';
import { checkpoint } from '../core/trace.js';

/** Sends `sig` to the container's PID 1 only if that pid still is PID 1 (pid + start time,
 *  checked after opening a pidfd, so the signal cannot reach a process that reused the pid).
 *  Returns false when the container's process is already gone. */
export function signalContainer(api: NativeApi, rec: ContainerRecord, sig: number): boolean {
  const { pid, pidStart } = rec.state ?? {};
  if (!pid || pidStart === undefined) return false;
  const fd = api.pidfdOpen(pid);
  if (fd === null) return false;
  try {
    if (!isSameProcess(pid, pidStart)) return false;
    api.signal(fd, sig);
    // A paused container acts on the signal only once thawed (docker thaws it too).
    thawAfterSignal(rec.state);
    return true;
  } finally {
    closeSync(fd);
  }
}

async function waitGone(pid: number, start: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (isSameProcess(pid, start)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

/**
 * Claims the removal of a container: one `rm` wins, the others hear that it is under way or
 * gone, as docker says them. The claim is a file in the container's directory holding the
 * remover's pid and start time, made under the store's lock, so a claim whose remover died (a
 * killed rm) is taken over and never held by two.
 */
function claimRemoval(store: StateStore, rec: ContainerRecord, label: string): void {
  const file = join(store.paths(rec.id).dir, 'removing');
  store.withLock(() => {
    const me = `${process.pid} ${processStartTime(process.pid) ?? 0}`;
    for (let attempt = 0; ; attempt++) {
      try {
        createExclusive(file, me);
        return;
      } catch (err) {
        const code = errnoOf(err);
        // Removed meanwhile (a concurrent rm): not found, as for one never there.
        if (code === 'ENOENT') throw new MinidockError(`no such container: ${label}`, { step: 'state.not-found', exitCode: 1 });
        if (code !== 'EEXIST' || attempt > 0) throw err;
      }
      let holder: number[] = [];
      try { holder = readFileSync(file, 'utf8').trim().split(' ').map(Number); } catch { /* torn: stale */ }
      if (holder.length === 2 && isSameProcess(holder[0]!, holder[1]!)) {
        throw new MinidockError(`removal of container ${label} is already in progress`, { step: 'rm.claim', exitCode: 1 });
      }
      unlinkSync(file); // its remover died half-way: finish what it started
    }
  });
}

/** `ref` is what the user typed: a record read while a concurrent rm deletes it can have lost its
 *  spec (and so its name) already, and "no such container" must still name what was asked for. */
export async function removeContainer(store: StateStore, api: NativeApi, rec: ContainerRecord, force: boolean, ref?: string, o: { volumes?: boolean } = {}): Promise<void> {
  const label = ref ?? rec.spec?.name ?? rec.id;
  // rm -v: the anonymous volumes go once the record has (a killed rm leaves them to gc).
  const spec = rec.spec;
  if (o.volumes && spec) {
    try {
      await removeContainerOnly(store, api, rec, force, label);
    } finally {
      if (!existsSync(store.paths(rec.id).dir)) (await import('./anon-volumes.js')).removeAnonymousVolumes(spec, store.root);
    }
    return;
  }
  return removeContainerOnly(store, api, rec, force, label);
}

async function removeContainerOnly(store: StateStore, api: NativeApi, rec: ContainerRecord, force: boolean, label: string): Promise<void> {
  check(force ? 'remove-force' : 'remove', rec);
  claimRemoval(store, rec, label);
  if (rec.broken) return removeBroken(store, api, rec);
  if (rec.state?.status === 'running') {
    if (signalContainer(api, rec, 9) && !(await waitGone(rec.state.pid!, rec.state.pidStart!, 10_000))) {
      throw new MinidockError(`container ${label} did not die after SIGKILL within 10 s`, { step: 'rm.kill' });
    }
    // A detached container's shim writes exit.json right after reaping PID 1: let it finish
    // before the directory goes, or the two race (rmdir: directory not empty).
    if (rec.state.monitorPid) {
      const exitFile = join(store.paths(rec.id).dir, 'exit.json');
      for (let i = 0; i < 200 && !existsSync(exitFile) && existsSync(`/proc/${rec.state.monitorPid}`); i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    checkpoint('rm.killed');
  }
  // The CLI that ran the container normally releases its rules, leases and cgroups when it
  // exits; if that CLI was killed, this is where they go. Idempotent, so both doing it is fine.
  if (rec.state?.cgroup?.length) {
    const { releaseCgroup } = await import('./run-cgroup.js');
    await releaseCgroup(rec.state.cgroup);
  }
  if (rec.state?.net) {
    const { releaseNetwork, refreshNetworkHosts } = await import('./run-network.js');
    await releaseNetwork(rec.state.net, store.root, api);
    checkpoint('rm.net-released');
    store.remove(rec);
    await refreshNetworkHosts(store, store.root, api, rec.state.net.attachment.network);
    return;
  }
  store.remove(rec);
}

/**
 * rm -f of a container whose record cannot be read: nothing says whether it runs, so whatever is
 * in its cgroups or has its layers mounted is ended first (a record lost must never leave its
 * processes running, invisible), then its cgroups, rules and leases go with the record.
 */
async function removeBroken(store: StateStore, api: NativeApi, rec: ContainerRecord): Promise<void> {
  const { planRunCgroups, releaseCgroup } = await import('./run-cgroup.js');
  const { cgroupProcesses, killAndWait, processesOf } = await import('./reap.js');
  const dir = store.paths(rec.id).dir;
  const cgroups = planRunCgroups({ id: rec.id }).plan.dirs;
  // Again until none is left: a fork bomb adds processes while the first SIGKILLs land.
  for (let i = 0; i < 10; i++) {
    const pids = [...new Set([...processesOf(dir), ...cgroupProcesses(cgroups)])];
    if (!pids.length) break;
    await killAndWait(pids);
  }
  checkpoint('rm.killed');
  await releaseCgroup(cgroups.filter((d) => existsSync(d.path)));
  const { reclaimNetwork } = await import('./run-network.js');
  await reclaimNetwork(store, rec.id); // by the tag its rules carry
  const { NetworkStore } = await import('../network/store.js');
  const nets = new NetworkStore(store.root, api.flock);
  nets.withLock(() => {
    for (const net of nets.list()) for (const [ip, owner] of nets.leases(net.name)) if (owner === rec.id) nets.release(net.name, ip, owner);
    nets.releasePorts(rec.id);
  });
  checkpoint('rm.net-released');
  store.remove(rec);
}
