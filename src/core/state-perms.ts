// Who may reach what under MINIDOCK_ROOT. Side-effecting (fs): every directory the state store
// makes goes through here, so the rule below lives in one place.
//
// The rule (docker's answer to CVE-2021-41091, where any local user walked into a container's
// upper layer and ran the setuid-root shell a container had left there):
//
//   $ROOT                   0710 root:GATE   GATE = host gid of the remapped containers' root
//   $ROOT/containers        0710 root:GATE
//   $ROOT/containers/<id>   0710 root:GATE   (0700 for a container with the host's ids)
//   $ROOT/shifted/...       0710 root:GATE   image copies already owned by the remapped ids
//   $ROOT/{images,tmp,names,networks,ports}  0700 root
//   every file              0600 (the spec holds -e values: passwords, tokens)
//
// Other users get nothing: $ROOT itself has no bits for them. The gate group is the one
// principal besides root that must walk in: a remapped container's child is host uid/gid
// 100000 (by default) between its clone and pivot_root, when it mounts its overlay from
// containers/<id>/{upper,work}. It must never reach images/: stored images keep host-root-owned
// setuid binaries (with idmapped mounts nothing is shifted), and a process that escaped a
// container is exactly that gid.
import { chmodSync, chownSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MinidockError } from './errors.js';

/** Makes `path` (and missing parents) a directory of root's alone: 0700. Parents made on the way
 *  get 0700 too, so a missing MINIDOCK_ROOT is never born open. */
export function privateDir(path: string): void {
  if (mkdirSync(path, { recursive: true, mode: 0o700 }) !== undefined) return;
  // It was there: an older minidock made some of these 0711.
  const st = statSync(path);
  if (st.uid !== 0 && asRoot()) chownSync(path, 0, 0);
  if ((st.mode & 0o7777) !== 0o700) chmodSync(path, 0o700);
}

/** Makes `path` a directory the gate group may only pass through (0710 root:gid), or fixes one
 *  that an older minidock (0711) or a user's mkdir (0755) left open. One stat when all is well. */
export function gatedDir(path: string, gid: number): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const st = statSync(path);
  if (st.uid !== 0 || st.gid !== gid) chownSync(path, 0, gid);
  if ((st.mode & 0o7777) !== 0o710) chmodSync(path, 0o710);
}

/**
 * Makes MINIDOCK_ROOT closed to other users, and passable by `gate` (the remapped root's host
 * gid) when a remapped container needs it. A root has one gate: a root first opened to gid
 * 100000 refuses a container remapped to 300000 (docker keeps one state directory per remapped
 * range, /var/lib/docker/100000.100000, for the same reason).
 */
export function secureRoot(root: string, gate?: number): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const st = statSync(root);
  const mode = st.mode & 0o7777;
  const opened = st.gid !== 0 && (mode & 0o010) !== 0;
  if (gate === undefined) {
    // No gate asked for: keep the one there is, close everything else.
    const target = opened ? 0o710 : 0o700;
    if (mode !== target) {
      chmodSync(root, target);
      closeOlderLayout(root);
    }
    if (st.uid !== 0 && asRoot()) chownSync(root, 0, st.gid);
    return;
  }
  if (!(opened && st.gid === gate && mode === 0o710)) closeOlderLayout(root);
  if (opened && st.gid !== gate) {
    throw new MinidockError(`MINIDOCK_ROOT ${root} is set up for containers remapped to host gid ${st.gid}; this container's root is host gid ${gate}`, {
      step: 'state.root',
      exitCode: 125,
      hint: `give this MINIDOCK_USERNS_REMAP range a state root of its own (MINIDOCK_ROOT=${root}.${gate}), or use the range ${st.gid} here`,
    });
  }
  gatedDir(root, gate);
}

/** minidock runs as root; its unit tests need not, and then own what they make. */
const asRoot = (): boolean => process.getuid?.() === 0;

/** A root that was open was made by an older minidock (0711 everywhere): close what it made
 *  below too, or the gate group would walk on into images/ through their o+x bits. */
function closeOlderLayout(root: string): void {
  for (const d of ['images', 'tmp', 'names', 'networks', 'ports']) {
    try {
      if (statSync(join(root, d)).isDirectory()) privateDir(join(root, d));
    } catch {
      /* not made yet */
    }
  }
}
