// minidock-runc update: new limits for a created, running or paused container, as `runc update`
// sets them: linux.resources JSON from --resources FILE or - (what podman and containerd pass),
// or runc's flags. The values are merged onto the resources in force (src/oci/resources.ts),
// written to the container's cgroups (src/oci/cgroups.ts plans, cgroups-apply.ts writes), then
// recorded in its state for the next update. Devices are not updated, as runc does not.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { MinidockError } from '../core/errors.js';
import { missingControllers } from './cgroups.js';
import { applyOciResources } from './cgroups-apply.js';
import { mergeResources, parseResources, resourcesFromFlags, type OciResources, type UpdateFlags } from './resources.js';
import { validateId, type OciStore } from './state.js';

export interface UpdateOptions extends UpdateFlags {
  resources?: string;
  l3CacheSchema?: string;
  memBwSchema?: string;
}

const fail = (message: string, hint?: string): MinidockError => new MinidockError(message, { step: 'oci.update', hint, exitCode: 1 });

/** runc update's options (runc's names; --cpu-shares as docker and podman spell it, too). */
export function updateOptions(cmd: Command): Command {
  return cmd.argument('<id>').description('update the resource limits of a container')
    .option('-r, --resources <file>', 'linux.resources JSON from this file, or - for stdin; the other options are then ignored')
    .option('--memory <bytes>', 'memory limit (512m, 1g; -1 unlimited)')
    .option('--memory-swap <bytes>', 'memory + swap limit (-1 unlimited swap)')
    .option('--memory-reservation <bytes>', 'memory soft limit')
    .option('--kernel-memory <bytes>', 'ignored (kernel memory is not limited any more)')
    .option('--kernel-memory-tcp <bytes>', 'ignored (kernel memory is not limited any more)')
    .option('--cpu-share <n>', 'CPU shares (relative weight)')
    .option('--cpu-shares <n>', 'the same as --cpu-share')
    .option('--cpu-quota <us>', 'CFS quota per period (-1 unlimited)')
    .option('--cpu-period <us>', 'CFS period')
    .option('--cpu-burst <us>', 'CFS burst')
    .option('--cpu-rt-period <us>', 'realtime period')
    .option('--cpu-rt-runtime <us>', 'realtime runtime per period')
    .option('--cpu-idle <0|1>', '1: the cgroup runs as SCHED_IDLE')
    .option('--cpuset-cpus <list>', 'CPUs to run on (0-3, 0,2)')
    .option('--cpuset-mems <list>', 'memory nodes to use')
    .option('--pids-limit <n>', 'maximum number of tasks (-1 unlimited)')
    .option('--blkio-weight <n>', 'block I/O weight, 10 to 1000')
    .option('--l3-cache-schema <schema>', 'Intel RDT: not supported')
    .option('--mem-bw-schema <schema>', 'Intel RDT: not supported');
}

/** The update as resources: --resources' JSON (all other options ignored, as runc), or the flags. */
function requested(o: UpdateOptions): OciResources {
  if (o.resources === undefined) return resourcesFromFlags(o);
  let text: string;
  try {
    text = readFileSync(o.resources === '-' ? 0 : o.resources, 'utf8');
  } catch (err) {
    throw fail(`cannot read --resources ${o.resources}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw fail(`--resources ${o.resources} is not JSON: ${(err as Error).message}`, 'give a linux.resources object, e.g. {"memory": {"limit": 67108864}}');
  }
  const { resources, unsupported } = parseResources(json);
  if (unsupported.length) throw fail(`update cannot set ${unsupported.join(', ')}`, 'minidock-runc updates memory, cpu, pids, blockIO and unified');
  return resources;
}

export async function ociUpdate(store: OciStore, id: string, o: UpdateOptions, debug: (m: string) => void): Promise<void> {
  if (o.l3CacheSchema !== undefined || o.memBwSchema !== undefined) throw fail('Intel RDT is not supported', 'drop --l3-cache-schema and --mem-bw-schema');
  const rec = store.read(validateId(id));
  const status = store.status(rec);
  // runc's ErrNotRunning: a stopped container's cgroups may be gone with its processes.
  if (status === 'stopped') throw fail('container not running');
  if (status === 'creating') throw fail('cannot update a container that is still being created', 'wait for create to return');
  const u = requested(o);
  const dirs = rec.cgroup ?? [];
  // Only what update changes must have its directory: hugepages and network are kept as they
  // were (runc's update ignores them too), whatever the JSON says.
  const missing = missingControllers(dirs, { memory: u.memory, cpu: u.cpu, pids: u.pids, blockIO: u.blockIO, unified: u.unified });
  if (missing.length) throw fail(`cannot update ${missing.join(', ')}`);
  const old = rec.resources ?? {};
  const merged = mergeResources(old, u);
  try {
    for (const w of applyOciResources(dirs, merged).warnings) debug(`update ${id}: ${w}`);
  } catch (err) {
    // As runc: put the old values back, so the record and the kernel still agree.
    try {
      applyOciResources(dirs, old);
    } catch (back) {
      debug(`update ${id}: setting the old limits back failed too: ${(back as Error).message}`);
    }
    throw err;
  }
  store.write({ ...rec, resources: merged });
}
