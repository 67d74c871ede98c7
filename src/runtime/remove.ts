// `minidock rm`: removes containers, killing a running one first with -f. Side-effecting.
import { closeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { MinidockError } from '../core/errors.js';
import type { NativeApi } from '../native/binding.js';
import { isSameProcess } from './proc.js';
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

export async function removeContainer(store: StateStore, api: NativeApi, rec: ContainerRecord, force: boolean): Promise<void> {
  const label = rec.spec?.name ?? rec.id;
  check(force ? 'remove-force' : 'remove', rec);
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
