// `minidock ps` and `minidock rm`: reading and removing containers.
import { formatForUser } from '../core/errors.js';
import { native } from '../native/binding.js';
import { StateStore } from '../runtime/state.js';
import { commandText, createdText, goTime, humanSize, renderTable, statusText } from '../runtime/format.js';
import { removeContainer } from '../runtime/remove.js';
import { formatPorts, withExposed } from '../spec/ports.js';
import { MinidockError } from '../core/errors.js';
import { check } from '../runtime/status.js';
import { inspectContainer } from '../runtime/inspect.js';
import { isPaused } from '../runtime/freezer.js';
import { treeBytes } from '../runtime/disk-usage.js';
import { readNamespaceInodes } from '../runtime/top.js';

/** The column each of ps's template fields heads in a `table` format (docker's names). */
const PS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS',
  State: 'STATE', Status: 'STATUS', Size: 'SIZE', Names: 'NAMES', Labels: 'LABELS', Mounts: 'MOUNTS', Networks: 'NETWORKS', LocalVolumes: 'LOCAL VOLUMES',
};

export interface PsOptions {
  all: boolean;
  quiet: boolean;
  noTrunc: boolean;
  filter: string[];
  /** -n: the last N created, in every state; -l is -n 1. */
  last?: number;
  size?: boolean;
  format?: string;
}

export async function psCommand(root: string, o: PsOptions): Promise<string> {
  const store = new StateStore(root);
  const now = Date.now();
  const fmt = o.format === undefined ? undefined : (await import('../runtime/list-format.js'));
  const lf = fmt?.parseListFormat(o.format!);
  const pf = o.filter.length ? await import('../runtime/ps-filter.js') : undefined;
  const f = pf?.parsePsFilters(o.filter);
  // docker: a status filter, -n and -l show stopped containers without -a.
  const all = o.all || o.last !== undefined || (f !== undefined && pf!.filterShowsAll(f));
  // Whether each running container is paused: one read of its freezer file, for the filter and
  // the row alike.
  const paused = new Map<string, boolean>();
  const pausedOf = (c: { id: string; state?: Parameters<typeof isPaused>[0] }): boolean => {
    if (!paused.has(c.id)) paused.set(c.id, isPaused(c.state));
    return paused.get(c.id)!;
  };
  let records = store
    .list()
    .filter((c) => all || c.state?.status === 'running')
    .filter((c) => f === undefined || pf!.matchesFilter(f, c, pausedOf(c)))
    .sort((a, b) => (b.spec?.createdAt ?? 0) - (a.spec?.createdAt ?? 0));
  if (o.last !== undefined && o.last >= 0) records = records.slice(0, o.last);
  const id = (full: string): string => (o.noTrunc ? full : full.slice(0, 12));
  if (o.quiet) return records.map((c) => id(c.id) + '\n').join('');
  // The writable layer's size only when asked for: it walks the container's upper directory.
  const withSize = o.size || (lf !== undefined && fmt!.mentions(lf, 'Size'));
  const sizeOf = withSize ? await containerSizes(root, store) : undefined;
  // The columns the default table leaves out are getters: worked out only for a --format that
  // names them (ps -a reads every container, so per-row work counts).
  const rows = records.map((c) => ({
    ID: id(c.id),
    Image: c.spec?.image.ref ?? '',
    Command: c.spec ? commandText(c.spec.argv, o.noTrunc) : '',
    get CreatedAt(): string {
      return c.spec ? goTime(c.spec.createdAt) : '';
    },
    RunningFor: c.spec ? createdText(c.spec.createdAt, now) : '',
    Ports: c.state?.status === 'running' && c.state.net ? formatPorts(withExposed(c.state.net.attachment.ports, c.spec?.exposedPorts)) : '',
    State: c.broken ? 'dead' : pausedOf(c) ? 'paused' : c.state?.status ?? '',
    Status: c.broken ? `Broken (${c.broken})` : statusText(c.state!, now) + (pausedOf(c) ? ' (Paused)' : ''),
    get Size(): string {
      return sizeOf ? sizeOf(c.id, c.spec?.image.id) : '';
    },
    Names: c.spec?.name ?? '',
    // docker's method: {{.Label "key"}} is one label's value ("" when absent). Not serialised.
    Label: (key: unknown) => c.spec?.labels?.[String(key)] ?? '',
    // docker joins the labels in its map's order (random); sorted here, so the output is stable.
    get Labels(): string {
      return Object.entries(c.spec?.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join(',');
    },
    // Each source cut to 15 characters, the last an ellipsis, unless --no-trunc, as docker's.
    get Mounts(): string {
      return (c.spec?.volumes ?? []).map((v) => v.anonymous ?? v.named ?? v.src).map((m) => (o.noTrunc || [...m].length <= 15 ? m : `${[...m].slice(0, 14).join('')}\u2026`)).join(',');
    },
    get Networks(): string {
      return !c.spec ? '' : c.spec.network.mode === 'bridge' ? c.spec.network.network : c.spec.network.mode === 'container' ? '' : c.spec.network.mode;
    },
    LocalVolumes: '0',
  }));
  const columns: Array<Exclude<keyof (typeof rows)[number], 'Label'>> = ['ID', 'Image', 'Command', 'RunningFor', 'Status', 'Ports', 'Names'];
  if (withSize && lf === undefined) columns.push('Size');
  const table = renderTable(columns.map((c) => PS_HEADERS[c]!), rows.map((r) => columns.map((c) => r[c])));
  return lf ? fmt!.renderList(lf, rows, PS_HEADERS, table) : table;
}

/** `SIZE` as docker's: the writable layer's bytes, and with the image's, `(virtual ...)`. */
async function containerSizes(root: string, store: StateStore): Promise<(id: string, imageId: string | undefined) => string> {
  const { ImageStore } = await import('../image/store.js');
  const images = new Map(new ImageStore(root).list().map((i) => [i.id, i.size]));
  return (id, imageId) => {
    const rw = treeBytes(store.paths(id).upper);
    return `${humanSize(rw)} (virtual ${humanSize(rw + (imageId ? images.get(imageId) ?? 0 : 0))})`;
  };
}


/** Removes each container, printing what it removed as docker does; goes on past failures. */
export async function rmCommand(root: string, refs: string[], force: boolean, volumes = false): Promise<number> {
  const api = native();
  const store = new StateStore(root, api.flock);
  let failed = false;
  for (const ref of refs) {
    try {
      await removeContainer(store, api, store.resolve(ref), force, ref, { volumes });
      process.stdout.write(`${ref}\n`);
    } catch (err) {
      // docker: with -f a container that is not there is said, not failed (clean-up scripts
      // under set -e rm -f what may be gone).
      if (!(force && err instanceof MinidockError && err.step === 'state.not-found')) failed = true;
      process.stderr.write(formatForUser(err) + '\n');
    }
  }
  // docker rm exits 1 when any removal failed.
  return failed ? 1 : 0;
}

/** `minidock port NAME [PORT]`: docker's `80/tcp -> 0.0.0.0:8080` lines. */
export function portCommand(root: string, ref: string, only: string | undefined): string {
  const rec = new StateStore(root).resolve(ref);
  const ports = rec.state?.status === 'running' ? rec.state.net?.attachment.ports ?? [] : [];
  const want = only === undefined ? undefined : only.includes('/') ? only : `${only}/tcp`;
  const lines = ports
    .filter((p) => want === undefined || `${p.containerPort}/${p.proto}` === want)
    .map((p) => (want ? `${p.hostIp}:${p.hostPort}` : `${p.containerPort}/${p.proto} -> ${p.hostIp}:${p.hostPort}`));
  if (want && lines.length === 0) {
    throw new MinidockError(`no public port '${want}' published for ${ref}`, { step: 'port', exitCode: 1 });
  }
  return lines.map((l) => l + '\n').join('');
}

/** `minidock inspect [--format T] NAME...`: docker's JSON, or one template line per container. */
/** inspect's finder for containers: docker's JSON for a name, id, unique id prefix or `/name`. */
export function containerFinder(root: string): (ref: string) => object | undefined {
  const store = new StateStore(root);
  return (ref) => {
    let rec;
    try {
      rec = store.resolve(ref.startsWith('/') ? ref.slice(1) : ref);
    } catch (err) {
      if (err instanceof MinidockError && err.step === 'state.not-found') return undefined;
      throw err;
    }
    const pid = rec.state?.status === 'running' ? rec.state.pid : undefined;
    return inspectContainer(rec, { nsInodes: pid ? readNamespaceInodes(pid) : undefined, logPath: `${store.paths(rec.id).dir}/container.log`, paused: isPaused(rec.state) });
  };
}

/** `minidock top NAME`: the container's processes, with host and container pids. */
export async function topCommand(root: string, ref: string): Promise<string> {
  const rec = new StateStore(root).resolve(ref);
  check('top', rec);
  if (!rec.state?.pid) throw new MinidockError(`container ${ref} is not running`, { step: 'top', exitCode: 1 });
  const { containerProcesses, renderTop } = await import('../runtime/top.js');
  return renderTop(containerProcesses(rec.state.pid, rec.spec?.pidMode === 'host' ? 'mnt' : 'pid'));
}

/** `container prune [-f]`: every stopped container (created or exited), as docker's; prints
 *  docker's report. Its writable layers are what is reclaimed. */
export async function containerPruneCommand(root: string, force: boolean): Promise<number> {
  if (!force) {
    const { confirm } = await import('./images.js');
    if (!(await confirm('WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] '))) return 0;
  }
  const api = native();
  const store = new StateStore(root, api.flock);
  const stopped = store.list().filter((c) => c.state && c.state.status !== 'running' && !store.isLive(c.id));
  const deleted: string[] = [];
  let reclaimed = 0;
  let failed = false;
  for (const c of stopped) {
    const bytes = treeBytes(store.paths(c.id).upper);
    try {
      await removeContainer(store, api, c, false, c.id, {});
      deleted.push(c.id);
      reclaimed += bytes;
    } catch (err) {
      failed = true;
      process.stderr.write(formatForUser(err) + '\n');
    }
  }
  if (deleted.length) process.stdout.write(`Deleted Containers:\n${deleted.join('\n')}\n\n`);
  process.stdout.write(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
  return failed ? 1 : 0;
}
