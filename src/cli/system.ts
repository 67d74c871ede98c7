// `minidock version` and `minidock info`: docker's two "what am I talking to" commands. There is
// no daemon: the "Server" of `version` is this same program, said so in its Components, so that
// scripts reading {{.Server.Version}} get an answer instead of an error.
import { readFileSync } from 'node:fs';
import { arch, cpus, hostname, release, totalmem } from 'node:os';
import { renderTemplate, checkTemplate } from '../runtime/go-template.js';
import { readCgroupLayout } from '../cgroup/layout.js';
import { StateStore } from '../runtime/state.js';
import { ImageStore } from '../image/store.js';

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
