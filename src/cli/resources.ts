// `minidock stats` and `minidock update`: a container's cgroups read and changed while it runs.
// The numbers and their formatting are docker's (src/cgroup/stats.ts); this file only walks
// the containers and the clock.
import { availableParallelism } from 'node:os';
import { MinidockError, usageError } from '../core/errors.js';
import { StateStore, type ContainerRecord } from '../runtime/state.js';
import { mergeResources, parseResources, type ResourceFlags } from '../spec/resources.js';
import type { CgroupSample, SystemSample, StatsRow } from '../cgroup/stats.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Sample = CgroupSample & SystemSample;

/** `minidock stats [-a] [--no-stream] [CONTAINER...]`: docker's columns; refreshed every
 *  second until Ctrl-C, or printed once from two samples a second apart with --no-stream. */
const STATS_FIELDS = ['ID', 'Name', 'CPUPerc', 'MemUsage', 'MemPerc', 'NetIO', 'BlockIO', 'PIDs'] as const;

export async function statsCommand(root: string, refs: string[], o: { all: boolean; noStream: boolean; format?: string; noTrunc?: boolean }): Promise<number> {
  const { readStats, readSystemCpu, readHostMemory, readNetIO } = await import('../cgroup/fs.js');
  const { statsRow, emptyStatsRow, formatStatsTable, formatStatsRow, STATS_HEADERS, CLEAR_SCREEN } = await import('../cgroup/stats.js');
  const lfm = o.format === undefined ? undefined : await import('../runtime/list-format.js');
  const lf = lfm?.parseListFormat(o.format!);
  // docker's stats fields: the cells of the table by name, and .Container as the user named it.
  const headers: Record<string, string> = { ...Object.fromEntries(STATS_FIELDS.map((f, i) => [f, STATS_HEADERS[i]!])), Container: 'CONTAINER' };
  const render = (rows: StatsRow[]): string => {
    const table = formatStatsTable(rows);
    if (!lf) return table;
    const fields = rows.map((r) => {
      const cells = formatStatsRow(r);
      return { ...Object.fromEntries(STATS_FIELDS.map((f, i) => [f, cells[i]!])), ID: o.noTrunc ? r.id : cells[0]!, Container: r.name || cells[0]! };
    });
    return lfm!.renderList(lf, fields, headers, table);
  };
  const store = new StateStore(root);
  const pick = (): ContainerRecord[] =>
    refs.length ? refs.map((r) => store.resolve(r)) : store.list().filter((c) => c.spec && (o.all || c.state?.status === 'running'));
  const hostMemory = readHostMemory();
  const prev = new Map<string, Sample>();
  const frame = (): string => {
    const rows: StatsRow[] = [];
    for (const rec of pick()) {
      const c = { id: rec.id, name: rec.spec?.name ?? rec.id };
      const dirs = rec.state?.cgroup;
      if (rec.state?.status !== 'running' || !dirs?.length) {
        rows.push(emptyStatsRow(c));
        continue;
      }
      let cur: Sample;
      try {
        cur = { ...readStats({ dirs }), ...readSystemCpu() };
      } catch {
        rows.push(emptyStatsRow(c)); // exited between the listing and the read
        continue;
      }
      rows.push(statsRow(c, prev.get(rec.id), cur, readNetIO(rec.state.pid ?? 0), hostMemory));
      prev.set(rec.id, cur);
    }
    return render(rows);
  };
  frame(); // the first samples: CPU % needs a second one
  if (o.noStream) {
    await sleep(1000);
    process.stdout.write(frame());
    return 0;
  }
  let stop = false;
  process.once('SIGINT', () => (stop = true));
  for (;;) {
    await sleep(1000);
    if (stop) return 0;
    process.stdout.write(CLEAR_SCREEN + frame());
  }
}

/** `minidock update [flags] CONTAINER...`: new limits for running (or stopped) containers. A
 *  running one gets them at once in its cgroups; every one keeps them for its next start. */
export async function updateCommand(root: string, refs: string[], flags: ResourceFlags): Promise<number> {
  if (!Object.values(flags).some((v) => v !== undefined)) {
    throw usageError('you must provide one or more flags when using this command', 'for example: minidock update --memory 128m --cpus 1 NAME');
  }
  const change = parseResources(flags, { cpus: availableParallelism() }, 'update');
  const store = new StateStore(root);
  let failed = 0;
  for (const ref of refs) {
    try {
      const rec = store.resolve(ref);
      if (!rec.spec) throw new MinidockError(`container ${ref} is broken`, { step: 'update', hint: 'remove it with minidock rm -f' });
      const resources = mergeResources(rec.spec.resources ?? {}, change);
      const dirs = rec.state?.status === 'running' ? rec.state.cgroup : undefined;
      if (dirs?.length) {
        // As dockerd hands runc update the merged resources: checked against the host, turned
        // into linux.resources, written by the runtime's own writer (oci/cgroups-apply.ts).
        const { hostResources } = await import('../runtime/run-cgroup.js');
        const { readCgroupLayout } = await import('../cgroup/layout.js');
        const { ociLimits } = await import('../oci/from-spec.js');
        const { parseResources: parseOci } = await import('../oci/resources.js');
        const { applyOciResources } = await import('../oci/cgroups-apply.js');
        const host = hostResources(readCgroupLayout(), resources);
        const { warnings } = applyOciResources(dirs, parseOci(ociLimits(host.resources)).resources);
        for (const w of [...host.warnings, ...warnings]) process.stderr.write(`WARNING: ${w}\n`);
      }
      store.writeSpec({ ...rec.spec, resources });
      process.stdout.write(`${ref}\n`);
    } catch (err) {
      // docker goes on with the other containers and reports each failure.
      const { formatForUser } = await import('../core/errors.js');
      process.stderr.write(`${formatForUser(err)}\n`);
      failed++;
    }
  }
  return failed ? 1 : 0;
}
