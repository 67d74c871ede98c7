// pause and unpause: a container's processes stopped and resumed by its freezer cgroup, as
// runc and docker do (v1's freezer.state, v2's cgroup.freeze). Whether a container is paused is
// read from the kernel, never recorded: a state file saying "paused" could disagree with a
// cgroup someone thawed, and the shim that writes exits would have to know about it.
import { readFileSync, writeFileSync } from 'node:fs';
import { MinidockError, errnoOf } from '../core/errors.js';
import type { ContainerState } from './state.js';

/** The file that freezes the container's cgroup, and what it says when frozen / thawed. */
export function freezeFile(state: Pick<ContainerState, 'cgroup'> | undefined): { file: string; frozen: string; thawed: string } | undefined {
  const dirs = state?.cgroup ?? [];
  const v1 = dirs.find((d) => d.version === 1 && (d.controllers as string[]).includes('freezer'));
  if (v1) return { file: `${v1.path}/freezer.state`, frozen: 'FROZEN', thawed: 'THAWED' };
  // cgroup v2 alone (a v2 host): every cgroup but the root has cgroup.freeze.
  const v2 = dirs.find((d) => d.version === 2);
  if (v2 && !dirs.some((d) => d.version === 1)) return { file: `${v2.path}/cgroup.freeze`, frozen: '1', thawed: '0' };
  return undefined;
}

/** True when the container's cgroup is frozen (or freezing). */
export function isPaused(state: Pick<ContainerState, 'cgroup' | 'status'> | undefined): boolean {
  if (state?.status !== 'running') return false;
  const f = freezeFile(state);
  if (!f) return false;
  try {
    const now = readFileSync(f.file, 'utf8').trim();
    return now === f.frozen || now === 'FREEZING';
  } catch {
    return false;
  }
}

/** Freezes or thaws, and waits (up to 2 s) until the kernel says it is done: v1's FREEZING
 *  becomes FROZEN only once every task has stopped. */
export async function setFrozen(state: Pick<ContainerState, 'cgroup'>, frozen: boolean, name: string): Promise<void> {
  const f = freezeFile(state);
  if (!f) {
    throw new MinidockError(`cannot ${frozen ? 'pause' : 'unpause'} container ${name}: it has no freezer cgroup`, {
      step: 'freezer', exitCode: 1, hint: 'the host mounts no cgroup v1 freezer and no cgroup v2',
    });
  }
  const want = frozen ? f.frozen : f.thawed;
  for (let i = 0; i < 400; i++) {
    try {
      writeFileSync(f.file, want);
      if (readFileSync(f.file, 'utf8').trim() === want) return;
    } catch (err) {
      throw new MinidockError(`cannot ${frozen ? 'pause' : 'unpause'} container ${name}: ${f.file}: ${errnoOf(err) ?? err}`, { step: 'freezer', exitCode: 1, errno: errnoOf(err) });
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new MinidockError(`container ${name} did not become ${want} in 2 s`, { step: 'freezer', exitCode: 1, hint: `see ${f.file}` });
}

/** After a signal to a paused container: thaw it, so the signal is acted on (docker does the
 *  same for kill and stop). Quiet when it was not frozen or has gone. */
export function thawAfterSignal(state: Pick<ContainerState, 'cgroup' | 'status'> | undefined): void {
  if (!isPaused(state)) return;
  const f = freezeFile(state)!;
  try { writeFileSync(f.file, f.thawed); } catch { /* gone with the container */ }
}
