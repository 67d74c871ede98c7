// The fully specified container: everything `run` decided from flags, image config and
// defaults, recorded in the container's state before anything is created. Pure types.

import type { PortBinding } from './ports.js';

/** docker's --network: none (own namespace, lo only), host (the host's), bridge (the default
 *  network or a user-defined one, by name), container (another container's namespace). */
export type NetworkSpec =
  | { mode: 'none' }
  | { mode: 'host' }
  | { mode: 'bridge'; network: string; ports: PortBinding[] }
  | { mode: 'container'; container: string };

export interface IdMapping {
  /** Contents for /proc/PID/uid_map, e.g. "0 0 4294967295" (identity: container root = host root). */
  uidMap: string;
  gidMap: string;
}

/** The identity mapping. Issue #6 makes a remapped range the default; the plan already takes it. */
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
    /** The read-only lower layer. */
    rootfs: string;
  };
  /** argv[0] is searched in the container's $PATH. */
  argv: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids: number[] };
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
  /** The seccomp filter: minidock's default (native/src/seccomp.c), or none. */
  seccomp?: 'default' | 'unconfined';
  /** -v HOST:CTR[:ro] bind mounts, --tmpfs mounts, --read-only root. */
  volumes?: Array<{ src: string; dst: string; ro: boolean; file: boolean }>;
  tmpfs?: Array<{ dst: string; data: string; ro: boolean }>;
  readOnly?: boolean;
  idMap: IdMapping;
  createdAt: number;
}
