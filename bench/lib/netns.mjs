// What the network-touching benchmarks share: reading `--name value` options, and running the
// whole script again inside a network namespace of its own, so bridges, veths and iptables rules
// never touch the host's. nsenter --net, not `ip netns exec`: the latter remounts /sys, which
// hides /sys/fs/cgroup from podman's runtime.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** `opt('--runs', '20')`: the value after a flag on the command line, or the default. */
export function options(argv = process.argv.slice(2)) {
  return (name, dflt) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : dflt;
  };
}

/**
 * Unless already inside, creates namespace `<prefix><pid>`, re-runs `scriptUrl` in it with the
 * same arguments, deletes the namespace and exits with the script's status. Returns (inside) the
 * namespace's name.
 */
export function inPrivateNetns(scriptUrl, prefix) {
  if (process.env.MDK_BENCH_NETNS) return process.env.MDK_BENCH_NETNS;
  const ns = `${prefix}${process.pid}`;
  // A Ctrl-C reaches the script inside too; it cleans up and exits, and only then may this
  // process delete the namespace: so this one outlives it instead of dying at the signal.
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => {});
  spawnSync('ip', ['netns', 'add', ns], { stdio: 'inherit' });
  spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const r = spawnSync('nsenter', [`--net=/run/netns/${ns}`, process.execPath, fileURLToPath(scriptUrl), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, MDK_BENCH_NETNS: ns },
  });
  spawnSync('ip', ['netns', 'del', ns]);
  process.exit(r.status ?? 1);
}
