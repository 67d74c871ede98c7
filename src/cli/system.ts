// `minidock version`, `info` and `system df`: docker's "what am I talking to" commands. There is
// no daemon: the "Server" of `version` is this same program, said so in its Components, so that
// scripts reading {{.Server.Version}} get an answer instead of an error.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { arch, cpus, hostname, release, totalmem } from 'node:os';
import { renderTemplate, checkTemplate } from '../runtime/go-template.js';
import { readCgroupLayout } from '../cgroup/layout.js';
import { StateStore } from '../runtime/state.js';
import { ImageStore } from '../image/store.js';
import { join } from 'node:path';
import { humanSize, renderTable } from '../runtime/format.js';
import { parseListFormat, renderList } from '../runtime/list-format.js';
import { treeBytes } from '../runtime/disk-usage.js';

export const VERSION = '0.1.0';

/** Go's GOARCH for Node's arch names (docker prints those). */
export const goArch = (a: string): string => ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[a] ?? a;

function versionData(): Record<string, unknown> {
  const node = process.versions.node;
  const side = { Version: VERSION, ApiVersion: '1.41', NodeVersion: `v${node}`, Os: 'linux', Arch: goArch(arch()), KernelVersion: release() };
  return {
    Client: { Platform: { Name: 'minidock' }, ...side },
    Server: { Platform: { Name: 'minidock (no daemon: the same program)' }, Components: [{ Name: 'minidock', Version: VERSION, Details: { NodeVersion: `v${node}` } }], ...side },
  };
}

/** docker version's text, or its --format over the same data (strict, as inspect's). */
export function versionCommand(format?: string): string {
  const data = versionData();
  if (format !== undefined) {
    checkTemplate(format);
    return renderTemplate(format, data, { strict: true }) + '\n';
  }
  const c = data.Client as Record<string, string>;
  const rows = (o: Record<string, string>): string => [
    ` Version:           ${o.Version}`, ` API version:       ${o.ApiVersion}`, ` Node version:      ${o.NodeVersion}`, ` OS/Arch:           ${o.Os}/${o.Arch}`,
  ].join('\n');
  return `Client:\n${rows(c)}\n\nServer: minidock (daemonless: the client is the engine)\n${rows(c)}\n Kernel Version:    ${c.KernelVersion}\n`;
}

function osName(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

export function infoData(root: string): Record<string, unknown> {
  const containers = new StateStore(root).list();
  const running = containers.filter((c) => c.state?.status === 'running').length;
  const layout = readCgroupLayout();
  return {
    ID: '',
    Containers: containers.length,
    ContainersRunning: running,
    ContainersPaused: 0,
    ContainersStopped: containers.length - running,
    Images: new ImageStore(root).list().length,
    Driver: 'overlay',
    CgroupDriver: 'cgroupfs',
    CgroupVersion: layout.mode === 'v2' ? '2' : '1',
    KernelVersion: release(),
    OperatingSystem: osName(),
    OSType: 'linux',
    Architecture: arch() === 'x64' ? 'x86_64' : arch(),
    NCPU: cpus().length,
    MemTotal: totalmem(),
    DockerRootDir: root,
    Name: hostname(),
    ServerVersion: VERSION,
    DefaultRuntime: 'minidock',
    SecurityOptions: ['name=seccomp,profile=default', 'name=userns'],
  };
}

export function infoCommand(root: string, format?: string): string {
  const d = infoData(root);
  if (format !== undefined) {
    checkTemplate(format);
    return renderTemplate(format, d, { strict: true }) + '\n';
  }
  return [
    'Client:', ` Version:    ${VERSION}`, '', 'Server:',
    ` Containers: ${d.Containers}`, `  Running: ${d.ContainersRunning}`, `  Paused: ${d.ContainersPaused}`, `  Stopped: ${d.ContainersStopped}`,
    ` Images: ${d.Images}`, ` Server Version: ${d.ServerVersion}`, ` Storage Driver: ${d.Driver}`, ` Cgroup Driver: ${d.CgroupDriver}`,
    ` Cgroup Version: ${d.CgroupVersion}`, ` Default Runtime: ${d.DefaultRuntime}`, ` Kernel Version: ${d.KernelVersion}`,
    ` Operating System: ${d.OperatingSystem}`, ` OSType: ${d.OSType}`, ` Architecture: ${d.Architecture}`, ` CPUs: ${d.NCPU}`,
    ` Total Memory: ${(Number(d.MemTotal) / 2 ** 30).toFixed(2)}GiB`, ` Name: ${d.Name}`, ` Docker Root Dir: ${d.DockerRootDir}`, '',
  ].join('\n');
}

export interface DfRow {
  Type: string;
  TotalCount: number;
  Active: number;
  Size: string;
  Reclaimable: string;
}

/** docker's RECLAIMABLE cell: the bytes, and their share of the total when there is a total. */
export function reclaimableText(bytes: number, total: number, withPercent: boolean): string {
  const pct = total > 0 ? Math.round((bytes * 100) / total) : 0;
  return withPercent ? `${humanSize(bytes)} (${pct}%)` : humanSize(bytes);
}

/** `system df`: images, containers, local volumes and build cache, as docker counts them:
 *  an image is active while a container uses it, a container while it runs; what no container
 *  uses (images) or what a stopped container holds (its writable layer) is reclaimable. */
export function dfRows(root: string): DfRow[] {
  const store = new StateStore(root);
  const containers = store.list();
  const images = new ImageStore(root).list();
  const used = new Set(containers.map((c) => c.spec?.image.id).filter((x): x is string => !!x));
  const imageBytes = images.reduce((n, i) => n + i.size, 0);
  const unusedBytes = images.filter((i) => !used.has(i.id)).reduce((n, i) => n + i.size, 0);
  const rw = containers.map((c) => ({ running: c.state?.status === 'running', bytes: treeBytes(store.paths(c.id).upper) }));
  const rwBytes = rw.reduce((n, c) => n + c.bytes, 0);
  const stoppedBytes = rw.filter((c) => !c.running).reduce((n, c) => n + c.bytes, 0);
  const volumes = existsSync(join(root, 'volumes')) ? readdirSync(join(root, 'volumes')) : [];
  const volumeBytes = volumes.reduce((n, v) => n + treeBytes(join(root, 'volumes', v)), 0);
  const activeVolumes = new Set(containers.filter((c) => c.state?.status === 'running').flatMap((c) => (c.spec?.volumes ?? []).flatMap((v) => (v.anonymous ? [v.anonymous] : []))));
  return [
    { Type: 'Images', TotalCount: images.length, Active: images.filter((i) => used.has(i.id)).length, Size: humanSize(imageBytes), Reclaimable: reclaimableText(unusedBytes, imageBytes, true) },
    { Type: 'Containers', TotalCount: containers.length, Active: rw.filter((c) => c.running).length, Size: humanSize(rwBytes), Reclaimable: reclaimableText(stoppedBytes, rwBytes, rwBytes > 0) },
    { Type: 'Local Volumes', TotalCount: volumes.length, Active: activeVolumes.size, Size: humanSize(volumeBytes), Reclaimable: reclaimableText(volumeBytes - [...activeVolumes].reduce((n, v) => n + treeBytes(join(root, 'volumes', v)), 0), volumeBytes, volumeBytes > 0) },
    // minidock builds no images: its build cache is always empty.
    { Type: 'Build Cache', TotalCount: 0, Active: 0, Size: '0B', Reclaimable: '0B' },
  ];
}

const DF_HEADERS: Record<string, string> = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

export function dfCommand(root: string, format?: string): string {
  const lf = format === undefined ? undefined : parseListFormat(format);
  const rows = dfRows(root);
  const table = renderTable(['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'], rows.map((r) => [r.Type, String(r.TotalCount), String(r.Active), r.Size, r.Reclaimable]));
  return lf ? renderList(lf, rows, DF_HEADERS, table) : table;
}
