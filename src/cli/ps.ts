// `minidock ps` and `minidock rm`: reading and removing containers.
import { formatForUser } from '../core/errors.js';
import { native } from '../native/binding.js';
import { StateStore } from '../runtime/state.js';
import { commandText, createdText, renderTable, statusText } from '../runtime/format.js';
import { removeContainer } from '../runtime/remove.js';
import { formatPorts } from '../spec/ports.js';
import { MinidockError } from '../core/errors.js';
import { check } from '../runtime/status.js';

export async function psCommand(root: string, o: { all: boolean; quiet: boolean; noTrunc: boolean; filter: string[] }): Promise<string> {
  const store = new StateStore(root);
  const now = Date.now();
  const pf = o.filter.length ? await import('../runtime/ps-filter.js') : undefined;
  const f = pf?.parsePsFilters(o.filter);
  // docker: a status filter shows stopped containers without -a.
  const all = o.all || (f !== undefined && pf!.filterShowsAll(f));
  const records = store
    .list()
    .filter((c) => all || c.state?.status === 'running')
    .filter((c) => f === undefined || pf!.matchesFilter(f, c))
    .sort((a, b) => (b.spec?.createdAt ?? 0) - (a.spec?.createdAt ?? 0));
  const id = (full: string): string => (o.noTrunc ? full : full.slice(0, 12));
  if (o.quiet) return records.map((c) => id(c.id) + '\n').join('');
  const rows = records.map((c) => [
    id(c.id),
    c.spec?.image.ref ?? '',
    c.spec ? commandText(c.spec.argv, o.noTrunc) : '',
    c.spec ? createdText(c.spec.createdAt, now) : '',
    c.broken ? `Broken (${c.broken})` : statusText(c.state!, now),
    c.state?.status === 'running' && c.state.net ? formatPorts(c.state.net.attachment.ports) : '',
    c.spec?.name ?? '',
  ]);
  return renderTable(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], rows);
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
export async function inspectCommand(root: string, refs: string[], format: string | undefined): Promise<number> {
  const { inspectContainer } = await import('../runtime/inspect.js');
  const { readNamespaceInodes } = await import('../runtime/top.js');
  const tpl = format === undefined ? undefined : await import('../runtime/go-template.js');
  tpl?.checkTemplate(format!);
  const store = new StateStore(root);
  const out: object[] = [];
  let failed = false;
  for (const ref of refs) {
    try {
      const rec = store.resolve(ref);
      const pid = rec.state?.status === 'running' ? rec.state.pid : undefined;
      out.push(inspectContainer(rec, { nsInodes: pid ? readNamespaceInodes(pid) : undefined, logPath: `${store.paths(rec.id).dir}/container.log` }));
    } catch (err) {
      failed = true;
      process.stderr.write(formatForUser(err) + '\n');
    }
  }
  if (tpl) for (const o of out) process.stdout.write(tpl.renderTemplate(format!, o) + '\n');
  else process.stdout.write(JSON.stringify(out, null, 4) + '\n');
  return failed ? 1 : 0;
}

/** `minidock top NAME`: the container's processes, with host and container pids. */
export async function topCommand(root: string, ref: string): Promise<string> {
  const rec = new StateStore(root).resolve(ref);
  check('top', rec);
  if (!rec.state?.pid) throw new MinidockError(`container ${ref} is not running`, { step: 'top', exitCode: 1 });
  const { containerProcesses, renderTop } = await import('../runtime/top.js');
  return renderTop(containerProcesses(rec.state.pid));
}
