// `minidock inspect`: a container record as the JSON object `docker inspect` prints for it (one
// element of its array). Pure: what can only be read from /proc (namespace inodes) and the log
// file's path are passed in; top.ts reads the former.
//
// The fields are docker's names, in docker's order, for what minidock has. Differences:
//   - Image is the image store id as minidock keeps it (random hex, no "sha256:" prefix: it is
//     not a content digest), or the directory/ref when the rootfs was used in place.
//   - HostConfig.PortBindings gives HostIp "" where -p gave no address, as docker's (a record
//     made before minidock kept the difference shows "" for 0.0.0.0); HostPort "" means "a
//     random port", as in docker.
//   - NetworkSettings.Ports lists published ports and, with null, exposed ones, IPv4 only, and
//     only while the container runs (docker: the same).
//   - NetworkSettings.Bridge is the bridge device (docker leaves it ""); HostVeth and
//     ContainerInterface are minidock's own; ContainerInterface is "eth0" while attached;
//     IngressRate and EgressRate (bits per second, 0 when not shaped) too.
//   - Namespaces is minidock's own: the namespace inodes of PID 1 while it runs, else {}.
//   - State.Note (minidock's own) says why an exit code was inferred, when it was.
//   - Times are RFC 3339 with millisecond precision (docker: nanoseconds), trailing zeros
//     dropped as Go's RFC3339Nano does; an unset time is Go's zero time, as docker prints it.
import type { ContainerRecord, ContainerState } from './state.js';
import type { NetworkSpec } from '../spec/container-spec.js';
import type { PortBinding } from '../spec/ports.js';
import { goMap, goOptional } from './go-template.js';

/** Go's zero time.Time, which docker prints for a container never started or never finished. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** The order docker's own tools list namespaces in; the keys of `Namespaces`. */
export const NAMESPACE_ORDER = ['mnt', 'uts', 'ipc', 'pid', 'net', 'user', 'cgroup'] as const;

/** Fields the runtime is adding to ContainerState; read defensively until every writer sets them. */
type StateFields = ContainerState & { oomKilled?: boolean; restartCount?: number; monitorPid?: number };

/** Go's RFC3339Nano in UTC: `2024-05-01T10:20:30.12Z` (trailing zeros of the fraction dropped). */
export function goTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return ZERO_TIME;
  return new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z');
}

export interface DockerPortBinding {
  HostIp: string;
  HostPort: string;
}

/** docker's port map: `{"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}`, keys in Go's
 *  (byte-wise) order as its JSON encoder writes them, bindings in the order given. */
export function dockerPortMap(bindings: PortBinding[], exposed: string[] = [], asGiven = false): Record<string, DockerPortBinding[] | null> {
  const byKey = new Map<string, DockerPortBinding[]>();
  for (const b of bindings) {
    const key = `${b.containerPort}/${b.proto}`;
    const list = byKey.get(key) ?? [];
    // As given (HostConfig): "" for an address -p did not name (a record older than ipGiven
    // has only the wildcard to go by).
    list.push({ HostIp: asGiven && !b.ipGiven && b.hostIp === '0.0.0.0' ? '' : b.hostIp, HostPort: b.hostPort === 0 ? '' : b.hostPortEnd !== undefined ? `${b.hostPort}-${b.hostPortEnd}` : String(b.hostPort) });
    byKey.set(key, list);
  }
  // Exposed ports nothing publishes are keys with null, as in docker's NetworkSettings.Ports.
  const keys = new Set([...byKey.keys(), ...exposed]);
  const out: Record<string, DockerPortBinding[] | null> = {};
  for (const key of [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) {
    out[key] = byKey.get(key) ?? null;
  }
  return goMap(out);
}

/** HostConfig.NetworkMode as docker writes it. */
export function networkMode(n: NetworkSpec): string {
  switch (n.mode) {
    case 'bridge':
      return n.network;
    case 'container':
      return `container:${n.container}`;
    default:
      return n.mode;
  }
}

interface Endpoint {
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  MacAddress: string;
}

const EMPTY_ENDPOINT: Endpoint = { Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '' };

export interface InspectExtra {
  /** Namespace inodes of PID 1 (top.ts readNamespaceInodes); shown while the container runs. */
  nsInodes?: Record<string, number>;
  /** `<container dir>/container.log`. */
  logPath?: string;
  /** The container's cgroup is frozen (freezer.ts isPaused): docker's "paused" status. */
  paused?: boolean;
  /** Accepted for callers that pass the clock; nothing in inspect's output depends on it. */
  now?: number;
}

/** The namespaces in NAMESPACE_ORDER, then any others the caller read, in its order. */
function orderedNamespaces(ns: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of NAMESPACE_ORDER) if (ns[k] !== undefined) out[k] = ns[k];
  for (const [k, v] of Object.entries(ns)) if (!(k in out)) out[k] = v;
  return out;
}

/** One element of `docker inspect`'s output for a container. */
export function inspectContainer(rec: ContainerRecord, extra: InspectExtra = {}): object {
  if (rec.broken !== undefined || !rec.spec || !rec.state) {
    return { Id: rec.id, State: { Status: 'broken', Error: rec.broken ?? 'missing config.json or state.json' } };
  }
  const s = rec.spec;
  const st: StateFields = rec.state;
  const running = st.status === 'running';
  const att = running ? st.net?.attachment : undefined;
  const net = s.network;

  const endpoint: Endpoint = att
    ? { Gateway: att.gateway, IPAddress: att.ip, IPPrefixLen: att.prefix, MacAddress: att.mac }
    : EMPTY_ENDPOINT;
  const networks: Record<string, Endpoint> = {};
  if (net.mode === 'bridge') networks[net.network] = { ...endpoint };
  else if (net.mode !== 'container') networks[net.mode] = { ...EMPTY_ENDPOINT };

  const state: Record<string, unknown> = {
    Status: running && extra.paused ? 'paused' : st.status,
    Running: running,
    Paused: running && (extra.paused ?? false),
    Restarting: false,
    OOMKilled: st.oomKilled ?? false,
    Dead: false,
    Pid: running ? st.pid ?? 0 : 0,
    ExitCode: running ? 0 : st.exitCode ?? 0,
    Error: '',
    StartedAt: goTime(st.startedAt),
    FinishedAt: goTime(st.finishedAt),
  };
  if (st.note !== undefined) state.Note = st.note;
  goOptional(state, 'Note');
  // docker's Binds: -v as given, NAME:/path for a named volume.
  const binds = (s.volumes ?? []).filter((v) => !v.anonymous).map((v) => `${v.named ?? v.src}:${v.dst}${v.ro ? ':ro' : ''}`);

  return {
    Id: rec.id,
    Created: goTime(s.createdAt),
    Path: s.argv[0] ?? '',
    Args: s.argv.slice(1),
    State: state,
    Image: s.image.id ?? s.image.ref,
    LogPath: extra.logPath ?? '',
    Name: `/${s.name}`,
    RestartCount: st.restartCount ?? 0,
    HostConfig: {
      // The -v binds as given (src:dst, :ro), null when none, as docker's; anonymous volumes
      // of the image's VOLUME paths are only in .Mounts.
      Binds: binds.length ? binds : null,
      NetworkMode: s.networkDefault ? 'default' : networkMode(net),
      PortBindings: goMap(net.mode === 'bridge' ? dockerPortMap(net.ports, [], true) : {}),
      // docker's: "" (PID, UTS) and "private" (IPC) for the container's own.
      IpcMode: s.ipcMode ?? 'private',
      PidMode: s.pidMode ?? '',
      UTSMode: s.utsMode ?? '',
      AutoRemove: s.autoRemove,
      Privileged: s.privileged ?? false,
      PublishAllPorts: s.publishAll ?? false,
      ReadonlyRootfs: s.readOnly ?? false,
      // docker's zero values where no limit was given.
      Memory: s.resources?.memory ?? 0,
      MemorySwap: s.resources?.memorySwap ?? 0,
      NanoCpus: s.resources?.nanoCpus ?? 0,
      CpuShares: s.resources?.cpuShares ?? 0,
      CpusetCpus: s.resources?.cpusetCpus ?? '',
      PidsLimit: s.resources?.pidsLimit ?? null,
      CpuQuota: s.resources?.cpuQuota ?? 0,
      CpuPeriod: s.resources?.cpuPeriod ?? 0,
      MemoryReservation: s.resources?.memoryReservation ?? 0,
      OomKillDisable: s.resources?.oomKillDisable ?? false,
      UsernsMode: s.idMap.uidMap.startsWith('0 0 ') ? 'host' : '',
      Dns: s.dns?.servers ?? [],
      DnsOptions: s.dns?.options ?? [],
      DnsSearch: s.dns?.search ?? [],
      ExtraHosts: s.extraHosts?.length ? s.extraHosts.map(([h, ip]) => `${h}:${ip}`) : null,
      ShmSize: s.shmSize ?? 64 * 1024 * 1024,
    },
    // docker's .Mounts: binds and (anonymous) volumes.
    Mounts: (s.volumes ?? []).map((v) => v.anonymous || v.named
      ? { Type: 'volume', Name: v.anonymous ?? v.named, Source: v.src, Destination: v.dst, Driver: 'local', Mode: v.named ? 'z' : '', RW: !v.ro, Propagation: '' }
      : { Type: 'bind', Source: v.src, Destination: v.dst, Mode: v.ro ? 'ro' : '', RW: !v.ro, Propagation: 'rprivate' }),
    Config: goOptional({
      Hostname: s.hostname,
      // What was asked (-u, else the image's USER), "" for neither, as docker shows it; an
      // older record without it shows the resolved ids.
      User: s.userGiven ?? `${s.user.uid}:${s.user.gid}`,
      Tty: s.tty,
      OpenStdin: s.interactive,
      // docker's set of the image's EXPOSE, --expose and -p ports; left out when empty.
      ...(s.exposedPorts?.length ? { ExposedPorts: goMap(Object.fromEntries(s.exposedPorts.map((p) => [p, {}]))) } : {}),
      Env: [...(s.configEnv ?? s.env)],
      Cmd: [...s.argv],
      Image: s.image.ref,
      WorkingDir: s.cwd,
      Labels: goMap({ ...s.labels }),
      ...(s.stopSignal ? { StopSignal: s.stopSignal } : {}),
      ...(s.stopTimeout !== undefined ? { StopTimeout: s.stopTimeout } : {}),
    }, 'ExposedPorts', 'StopSignal', 'StopTimeout'),
    NetworkSettings: {
      Bridge: att?.bridge ?? '',
      Ports: att ? dockerPortMap(att.ports, s.exposedPorts) : goMap({}),
      ...endpoint,
      Networks: goMap(networks),
      HostVeth: att?.hostVeth ?? '',
      ContainerInterface: att ? 'eth0' : '',
      // minidock's own: --ingress-rate and --egress-rate in bits per second (0: not shaped).
      IngressRate: net.mode === 'bridge' ? net.bandwidth?.ingressRate ?? 0 : 0,
      EgressRate: net.mode === 'bridge' ? net.bandwidth?.egressRate ?? 0 : 0,
    },
    Namespaces: goMap(running && extra.nsInodes ? orderedNamespaces(extra.nsInodes) : {}),
  };
}
