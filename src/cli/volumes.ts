// `minidock volume create|ls|inspect|rm|prune`: docker's local volumes, daemonless. A volume is
// $ROOT/volumes/NAME/_data (the data, bound into containers) beside NAME/volume.json (a named
// volume's record); anonymous ones (-v /path, an image's VOLUME) have no record and a hex name,
// and go with `rm -v`, `run --rm` or gc. Whether a volume is in use is read from the containers'
// records under the state lock, so `rm` never takes a volume that a container names.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatForUser, MinidockError, usageError } from '../core/errors.js';
import { secureRoot } from '../core/state-perms.js';
import { checkVolumeName } from '../spec/volumes.js';
import { mappedRoot, parseRemapSetting, remapMapping } from '../spec/userns.js';
import { makeVolume, volumesDir, type VolumeRecord } from '../runtime/anon-volumes.js';
import { randomHex } from '../runtime/ids.js';
import { StateStore } from '../runtime/state.js';
import { humanSize, renderTable } from '../runtime/format.js';
import { treeBytes } from '../runtime/disk-usage.js';
import { native } from '../native/binding.js';

/** The object `volume inspect` prints, in docker's order. */
interface DockerVolume {
  CreatedAt: string;
  Driver: 'local';
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: 'local';
}

const notFound = (name: string): MinidockError => new MinidockError(`No such volume: ${name}`, { step: 'volume.find', exitCode: 1 });
const storeOf = (root: string): StateStore => new StateStore(root, (fd) => native().flock(fd));

/** Every volume there is (named and anonymous), by name; a staging directory is none. */
function volumeNames(root: string): string[] {
  const dir = volumesDir(root);
  return existsSync(dir) ? readdirSync(dir).filter((e) => !e.startsWith('.') && existsSync(join(dir, e, '_data'))).sort() : [];
}

function volumeOf(root: string, name: string): DockerVolume | undefined {
  const dir = join(volumesDir(root), name);
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name) || !existsSync(join(dir, '_data'))) return undefined;
  let rec: VolumeRecord | undefined;
  try {
    rec = JSON.parse(readFileSync(join(dir, 'volume.json'), 'utf8')) as VolumeRecord;
  } catch { /* anonymous: no record */ }
  return {
    CreatedAt: rec?.CreatedAt ?? statSync(dir).mtime.toISOString().replace(/\.\d+Z$/, 'Z'),
    Driver: 'local',
    Labels: rec ? rec.Labels : null,
    Mountpoint: join(dir, '_data'),
    Name: name,
    Options: rec ? rec.Options : null,
    Scope: 'local',
  };
}

export function volumeFinder(root: string): (name: string) => object | undefined {
  return (name) => volumeOf(root, name);
}

/** The volumes some container's record names, whatever its state. */
function usedVolumes(store: StateStore): Set<string> {
  return new Set(store.list().flatMap((c) => (c.spec?.volumes ?? []).flatMap((v) => [v.named, v.anonymous].filter((x): x is string => !!x))));
}

/** The containers (ids) whose record names the volume, whatever their state. */
function users(store: StateStore, name: string): string[] {
  return store.list().filter((c) => (c.spec?.volumes ?? []).some((v) => v.named === name || v.anonymous === name)).map((c) => c.id);
}

function parseLabels(list: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const l of list) {
    const eq = l.indexOf('=');
    if (eq === 0 || l === '') throw usageError(`invalid label "${l}"`, 'use --label KEY=VALUE');
    labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  return labels;
}

/** `volume create [NAME] [--label K=V]...`: the name on stdout; one that exists is kept as it
 *  is (docker's). Its data belongs to the containers' root: the remapped root by default. */
export async function volumeCreate(root: string, given: string | undefined, o: { labels: string[]; driver?: string; opts: string[] }): Promise<number> {
  if (o.driver !== undefined && o.driver !== 'local') throw usageError(`volume driver "${o.driver}" is not available`, 'minidock has the local driver only');
  if (o.opts.length) throw usageError(`volume options (-o ${o.opts[0]}) are not supported yet`, 'create the volume without -o: its data is a directory under the state root');
  const name = given === undefined ? randomHex(32) : checkVolumeName(given);
  const labels = parseLabels(o.labels);
  if (!existsSync(join(volumesDir(root), name, '_data'))) {
    const setting = parseRemapSetting(process.env.MINIDOCK_USERNS_REMAP);
    const owner = setting === 'host' ? undefined : mappedRoot(remapMapping(setting.base, setting.count));
    secureRoot(root, owner?.gid);
    await makeVolume(root, name, { owner, record: labels });
  }
  process.stdout.write(`${name}\n`);
  return 0;
}

/** `volume ls [-q] [-f name=|dangling=|label=] [--format]`, docker's columns. */
export async function volumeLs(root: string, o: { quiet: boolean; filter: string[]; format?: string }): Promise<string> {
  const store = storeOf(root);
  const used = usedVolumes(store);
  let vols = volumeNames(root).map((n) => volumeOf(root, n)!).filter(Boolean);
  for (const f of o.filter) {
    const eq = f.indexOf('=');
    const [key, value] = eq < 0 ? [f, ''] : [f.slice(0, eq), f.slice(eq + 1)];
    if (key === 'name') vols = vols.filter((v) => v.Name.includes(value));
    else if (key === 'dangling') {
      if (!['true', 'false', '1', '0'].includes(value)) throw usageError(`invalid filter 'dangling=${value}'`, 'dangling=true or dangling=false');
      const dangling = value === 'true' || value === '1';
      vols = vols.filter((v) => used.has(v.Name) !== dangling);
    } else if (key === 'label') {
      const [k, val] = value.includes('=') ? [value.slice(0, value.indexOf('=')), value.slice(value.indexOf('=') + 1)] : [value, undefined];
      vols = vols.filter((v) => v.Labels && k in v.Labels && (val === undefined || v.Labels[k] === val));
    } else if (key === 'driver') vols = vols.filter((v) => v.Driver === value);
    else throw new MinidockError(`Invalid filter '${key}'`, { step: 'cli.args', hint: 'name=, dangling=, label= or driver=', exitCode: 1 });
  }
  if (o.quiet) return vols.map((v) => `${v.Name}\n`).join('');
  const rows = vols.map((v) => ({ ...v, Labels: Object.entries(v.Labels ?? {}).map(([k, val]) => `${k}=${val}`).join(','), Label: (k: unknown) => v.Labels?.[String(k)] ?? '' }));
  const table = renderTable(['DRIVER', 'VOLUME NAME'], rows.map((r) => [r.Driver, r.Name]));
  if (o.format === undefined) return table;
  const { parseListFormat, renderList } = await import('../runtime/list-format.js');
  return renderList(parseListFormat(o.format), rows, { Driver: 'DRIVER', Name: 'VOLUME NAME', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Scope: 'SCOPE', CreatedAt: 'CREATED' }, table);
}

/** `volume rm [-f] NAME...`: refused while a container names it (docker's words); each name
 *  removed is printed; -f is quiet about missing ones. */
export function volumeRm(root: string, names: string[], force: boolean): number {
  const store = storeOf(root);
  let failed = false;
  for (const name of names) {
    try {
      store.withLock(() => {
        if (!volumeOf(root, name)) {
          if (force) return;
          throw notFound(name);
        }
        const by = users(store, name);
        if (by.length) throw new MinidockError(`remove ${name}: volume is in use - [${by.join(', ')}]`, { step: 'volume.rm', hint: 'remove those containers first (minidock rm)', exitCode: 1 });
        rmSync(join(volumesDir(root), name), { recursive: true, force: true });
      });
      process.stdout.write(`${name}\n`);
    } catch (err) {
      failed = true;
      process.stderr.write(formatForUser(err) + '\n');
    }
  }
  return failed ? 1 : 0;
}

/** `volume prune [-f]`: every volume no container names (docker 20.10's: named ones too). */
export async function volumePrune(root: string, force: boolean): Promise<number> {
  if (!force) {
    const { confirm } = await import('./images.js');
    if (!(await confirm('WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] '))) return 0;
  }
  const store = storeOf(root);
  const deleted: string[] = [];
  let bytes = 0;
  store.withLock(() => {
    const used = usedVolumes(store);
    for (const name of volumeNames(root)) {
      if (used.has(name)) continue;
      const dir = join(volumesDir(root), name);
      bytes += treeBytes(join(dir, '_data'));
      rmSync(dir, { recursive: true, force: true });
      deleted.push(name);
    }
  });
  if (deleted.length) process.stdout.write(`Deleted Volumes:\n${deleted.join('\n')}\n\n`);
  process.stdout.write(`Total reclaimed space: ${humanSize(bytes)}\n`);
  return 0;
}
