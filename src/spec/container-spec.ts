// The fully specified container: everything `run` decided from flags, image config and
// defaults, recorded in the container's state before anything is created. Pure types.

import type { PortBinding } from './ports.js';
import type { Resources } from './resources.js';

/** docker's --network: none (own namespace, lo only), host (the host's), bridge (the default
 *  network or a user-defined one, by name), container (another container's namespace). */
export type NetworkSpec =
  | { mode: 'none' }
  | { mode: 'host' }
  | { mode: 'bridge'; network: string; ports: PortBinding[]; bandwidth?: import('../network/bandwidth.js').Bandwidth; ip?: string; mac?: string; aliases?: string[] }
  | { mode: 'container'; container: string };

export interface IdMapping {
  /** Contents for /proc/PID/uid_map, e.g. "0 0 4294967295" (identity: container root = host root). */
  uidMap: string;
  gidMap: string;
}

/** The identity mapping: container root is host root (--userns=host, --privileged). */
export const IDENTITY_MAP: IdMapping = { uidMap: '0 0 4294967295', gidMap: '0 0 4294967295' };

export interface ContainerSpec {
  id: string;
  name: string;
  hostname: string;
  image: {
    /** What the user typed: a name, a directory or a tarball. */
    ref: string;
    /** The image store id, or undefined for a directory used in place. */
    id?: string;
    /** A directory used in place (or the flat image of a record made before layers): the one
     *  read-only lower layer. */
    rootfs?: string;
    /** A stored image: overlay's lower directories, top layer first, relative to `layerRoot`
     *  (the layer store's directory, or a shifted copy's), where the child mounts the overlay. */
    layers?: string[];
    layerRoot?: string;
    /** rootfs or layerRoot is shown through an idmapped mount in the container's user
     *  namespace (remapped containers on kernels that can); otherwise it is already owned by
     *  the mapped ids (a shifted copy) or the container has the host's ids. */
    idmapped?: boolean;
  };
  /** The signal `stop` sends first (--stop-signal, else the image's StopSignal; none: SIGTERM). */
  stopSignal?: string;
  /** The image's labels with --label over them, as docker's Config.Labels. */
  labels?: Record<string, string>;
  /** argv[0] is searched in the container's $PATH. */
  argv: string[];
  env: string[];
  /** docker's Config.Env: -e/--env-file entries, then the image's not overridden. */
  configEnv?: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  /** -u as given, else the image's USER, else "" (inspect's Config.User). */
  userGiven?: string;
  tty: boolean;
  interactive: boolean;
  network: NetworkSpec;
  autoRemove: boolean;
  /** --init: minidock-init runs as PID 1, reaping zombies and forwarding signals to argv. */
  init?: boolean;
  /** Capabilities kept (hex mask; docker's default set unless --cap-add/--cap-drop/--privileged). */
  caps?: string;
  /** no_new_privs: setuid bits and file capabilities grant nothing. On unless --privileged. */
  noNewPrivs?: boolean;
  /** The seccomp filter: minidock's default (native/src/seccomp.c), none, or the profile of
   *  --security-opt seccomp=FILE (docker's format, kept as the OCI profile it became). */
  seccomp?: 'default' | 'unconfined' | 'profile';
  seccompProfile?: import('../oci/config.js').OciSeccomp;
  /** --pid, --ipc, --uts host: no namespace of its own of that kind (docker's PidMode, IpcMode,
   *  UTSMode). */
  pidMode?: 'host';
  ipcMode?: 'host';
  utsMode?: 'host';
  /** -v HOST:CTR[:ro] bind mounts, --tmpfs mounts, --read-only root. */
  /** -v binds, named volumes (`named`: -v NAME:/path, made on first use, kept after the
   *  container) and anonymous ones (`anonymous`: -v /path and the image's VOLUME paths, gone
   *  with rm -v): both under $ROOT/volumes/<name>/_data (src/runtime/anon-volumes.ts). */
  volumes?: Array<{ src: string; dst: string; ro: boolean; file: boolean; anonymous?: string; named?: string; nocopy?: boolean }>;
  tmpfs?: Array<{ dst: string; data: string; ro: boolean }>;
  readOnly?: boolean;
  /** --privileged was given (what inspect's HostConfig.Privileged says; the powers it grants
   *  are in caps, noNewPrivs, seccomp and idMap). */
  privileged?: boolean;
  /** --stop-timeout: seconds stop waits before SIGKILL (docker's Config.StopTimeout). */
  stopTimeout?: number;
  /** --add-host: [name, address] lines for /etc/hosts. */
  extraHosts?: Array<[string, string]>;
  /** --dns, --dns-search, --dns-option: what replaces the host's in /etc/resolv.conf. */
  dns?: { servers: string[]; search: string[]; options: string[] };
  /** --device HOST[:CTR[:PERMS]]: a host device node bound at CTR, and the device cgroup rule
   *  that lets the container use it with PERMS (r, w, m). */
  devices?: Array<{ host: string; path: string; type: 'c' | 'b'; major: number; minor: number; perms: string }>;
  /** --domainname: the OCI config's domainname (setdomainname(2) in the UTS namespace). */
  domainname?: string;
  /** --sysctl: linux.sysctl. */
  sysctl?: Record<string, string>;
  /** --ulimit: process.rlimits. */
  rlimits?: Array<{ type: string; soft: number; hard: number }>;
  /** --shm-size in bytes (docker's default 64 MiB when absent). */
  shmSize?: number;
  /** No --network was given: docker's NetworkMode "default" (the bridge). */
  networkDefault?: boolean;
  /** -P was given. */
  publishAll?: boolean;
  /** `port/proto` keys of the image's EXPOSE, --expose and -p, sorted (docker's ExposedPorts). */
  exposedPorts?: string[];
  /** --memory, --cpus, --pids-limit and the rest: what the container's cgroups enforce. */
  resources?: Resources;
  idMap: IdMapping;
  createdAt: number;
}
