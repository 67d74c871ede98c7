// Finishing a container whose PID 1 has exited: the one epilogue of a foreground run, of the
// shim's `minidock cleanup` (a detached container) and of gc (a container whose finisher was
// killed). The order matters: the network first (its DNAT rules and lease must not outlive the
// address), then the cgroups (read for the OOM killer before they go), then the record (removed
// for --rm, else "exited" with the status), then the peers' /etc/hosts on a user network.
// Each step is idempotent, so a finisher killed half-way is finished by the next one (gc).
import { removeAnonymousVolumes } from './anon-volumes.js';
import { checkpoint } from '../core/trace.js';
import type { NativeApi } from '../native/binding.js';
import type { ContainerSpec } from '../spec/container-spec.js';
import { releaseCgroup } from './run-cgroup.js';
import { refreshNetworkHosts, releaseNetwork } from './run-network.js';
import type { ContainerState, StateStore } from './state.js';

/** How PID 1 ended, as the finisher knows it. */
export interface ExitFacts {
  exitCode: number;
  finishedAt: number;
  /** Why the exit code is what it is, when minidock did not see the exit itself (gc). */
  note?: string;
  /** Already known to be an OOM kill (a record gc finishes may say so from an earlier try). */
  oomKilled?: boolean;
}

/** Crash checkpoints (src/core/trace.ts) the caller names, so its crash tests can stop there. */
export interface FinishCheckpoints {
  afterNetwork?: string;
  afterCgroup?: string;
}

export async function finishContainer(
  store: StateStore, root: string, api: NativeApi,
  rec: { id: string; spec: ContainerSpec; state: ContainerState }, exit: ExitFacts, at: FinishCheckpoints = {},
): Promise<void> {
  const st = rec.state;
  await releaseNetwork(st.net, root, api);
  if (at.afterNetwork) checkpoint(at.afterNetwork);
  const { oomKilled } = await releaseCgroup(st.cgroup);
  if (at.afterCgroup) checkpoint(at.afterCgroup);
  if (rec.spec.autoRemove) {
    store.remove({ id: rec.id, spec: rec.spec });
    // run --rm takes the anonymous volumes with it, as docker's does.
    removeAnonymousVolumes(rec.spec, root);
  } else {
    // (`rm -f` from another shell may have removed the container meanwhile: nothing to record.)
    store.writeStateIfPresent(rec.id, {
      status: 'exited',
      startedAt: st.startedAt,
      finishedAt: exit.finishedAt,
      exitCode: exit.exitCode,
      ...(exit.note ? { note: exit.note } : {}),
      ...(oomKilled || exit.oomKilled ? { oomKilled: true } : {}),
    });
  }
  const netName = st.net?.attachment.network;
  if (netName) await refreshNetworkHosts(store, root, api, netName);
}
