// What the podman tests (oci-podman, cni-podman) share: the --ulimit flags this host needs, and
// a curl from the test namespace that waits for a server to come up.
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { TEST_NETNS } from './cli.js';

/** Our hard limit of a /proc/self/limits row. */
function hardLimit(label: string): string {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(label))!;
  return line.slice(26).trim().split(/\s+/)[1]!;
}

/** podman's default --ulimit asks for more than root without CAP_SYS_RESOURCE may set, and a
 *  runtime must not raise a hard limit: every run passes ours (nproc at most pid_max). */
export function podmanUlimits(): string[] {
  const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  const nproc = Math.min(Number(hardLimit('Max processes')) || pidMax, pidMax);
  const nofile = hardLimit('Max open files');
  return ['--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', `nproc=${nproc}:${nproc}`];
}

/** The body at `url`, from the test namespace, tried for up to ~4 s ('' if nothing answered). */
export function curlUntil(url: string): string {
  let out = '';
  for (let i = 0; i < 40; i++) {
    const r = spawnSync('nsenter', [`--net=/run/netns/${TEST_NETNS}`, 'curl', '-s', '-m', '2', url], { encoding: 'utf8' });
    if (r.status === 0 && (out = r.stdout)) break;
    spawnSync('sleep', ['0.05']);
  }
  return out;
}

/** libcni (podman's CNI backend, cnitool) caches results under /var/lib/cni: the returned
 *  function removes that directory if it was not there when this was called and is empty. */
export function cniCacheCleanup(): () => void {
  const was = existsSync('/var/lib/cni');
  return () => {
    if (!was) spawnSync('sh', ['-c', 'rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null; true']);
  };
}
