// What machine the figures come from: CPUs, memory, kernel, distribution, Node, cgroup layout.
import fs from 'node:fs';
import os from 'node:os';

export function machineInfo() {
  let distro = '';
  try {
    const m = fs.readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)"?/m);
    if (m) distro = m[1];
  } catch { /* none */ }
  let cgroups = 'unknown';
  let hybrid = false;
  try {
    const mi = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
    const at = (mp) => mi.map((l) => l.split(' - ')).find(([a]) => a && a.split(' ')[4] === mp);
    const root = at('/sys/fs/cgroup');
    const fstype = root ? root[1].split(' ')[0] : '';
    if (fstype === 'cgroup2') cgroups = 'v2 (unified)';
    else if (fstype === 'tmpfs') {
      const uni = at('/sys/fs/cgroup/unified');
      let ctl = '';
      try { ctl = fs.readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').trim(); } catch { /* none */ }
      hybrid = !!uni;
      cgroups = uni ? `hybrid (v1 controllers + cgroup2 at /sys/fs/cgroup/unified${ctl ? ` with: ${ctl}` : ''})` : 'v1';
    }
  } catch { /* unknown */ }
  const cpus = os.cpus();
  return {
    nproc: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    cpu: cpus[0] ? cpus[0].model.trim() : 'unknown',
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(),
    distro,
    node: process.version,
    cgroups,
    hybridCgroups: hybrid,
    uid: process.getuid(),
  };
}

export function describeMachine(m) {
  return `${m.nproc} cpus (${m.cpu}), ${m.memGiB} GiB, kernel ${m.kernel}, ${m.distro}, node ${m.node}, cgroups ${m.cgroups}` +
    (m.loadavg ? `, load average ${m.loadavg.join(' ')} at the start` : '');
}
