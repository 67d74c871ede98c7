// `minidock gc`: reconciles the state store with the kernel after crashes. Whatever a killed
// minidock left (a half-made container, leases, DNAT rules, a veth, staging files, a network
// rm cut short) is finished or undone here; nothing minidock did not create is touched (it goes
// by the records, the minidock:<id> rule tags and the mdk<id> veth names). The kernel's tables
// and links are shared with every other state root on the host: a tag or veth name counts only
// when its container is one this root recorded (a container directory, a lease or a port lease
// naming it). A lease whose owner cannot be read is left in use and reported. Idempotent: a
// second run finds nothing.
import { ImageStore } from '../image/store.js';
import { pruneAnonymousVolumes } from './anon-volumes.js';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { NativeApi } from '../native/binding.js';
import { checkpoint } from '../core/trace.js';
import { isSameProcess } from './proc.js';
import { StateStore, type ContainerRecord } from './state.js';
import { readExitRecord } from './detached.js';
import { killAndWait, processesOf } from './reap.js';
import { finishContainer } from './finish.js';

export interface GcReport {
  /** Containers a crashed run left half-made: removed, processes and all. */
  undone: string[];
  /** Stopped containers whose cleanup never ran: network released, exit recorded. */
  finalized: string[];
  leases: number;
  ports: number;
  rules: number;
  veths: number;
  files: number;
  /** Networks whose interrupted `network rm` this gc finished. */
  networks: string[];
  /** What gc left alone and why (unreadable network configurations, unreadable lease owners). */
  skipped: string[];
}

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

export async function gc(root: string, api: NativeApi): Promise<GcReport> {
  const report: GcReport = { undone: [], finalized: [], leases: 0, ports: 0, rules: 0, veths: 0, files: 0, networks: [], skipped: [] };
  const store = new StateStore(root, api.flock);
  const { releaseNetwork, reclaimNetwork } = await import('./run-network.js');
  const { releaseCgroup } = await import('./run-cgroup.js');

  // 1. Containers: finish or undo what a crash interrupted.
  for (const listed of store.list()) {
    // As its creator left it: one that started the container since the listing is no crash.
    const rec = store.settled(listed);
    if (!rec.spec || !rec.state) continue; // broken: shown by ps, removed by rm -f
    const st = rec.state;
    const dir = store.paths(rec.id).dir;
    const creatorAlive = !!st.creator && isSameProcess(st.creator.pid, st.creator.start);
    if (st.status === 'created' && !creatorAlive && st.exitCode === undefined && !st.standing) {
      // A run that died before its container was running: undo all of it, as its own rollback
      // would have. (A container docker keeps as Created has the exit code of its failed exec.)
      await killAndWait(processesOf(dir));
      await releaseNetwork(st.net, root, api);
      await releaseCgroup(st.cgroup);
      checkpoint('gc.released');
      store.remove(rec);
      report.undone.push(rec.id);
    } else if (st.status === 'exited' && (st.net || st.cgroup || rawStatus(dir) === 'running')) {
      // Stopped, but nobody recorded it: its CLI was killed, or its shim's cleanup never ran.
      await killAndWait(processesOf(dir).filter((p) => !isShimOfLive(rec, p)));
      const exit = readExitRecord(dir);
      await finishContainer(store, root, api, { id: rec.id, spec: rec.spec, state: st }, {
        exitCode: exit?.exitCode ?? st.exitCode ?? 255,
        finishedAt: exit?.finishedAt ?? st.finishedAt ?? Date.now(),
        note: st.note,
        oomKilled: st.oomKilled,
      }, { afterCgroup: 'gc.released' });
      report.finalized.push(rec.id);
    }
  }

  // 2. What this root recorded: its containers (broken records included: isLive keeps those
  //    whose directory exists) and the owners its leases name. Only these are reaped below.
  const { NetworkStore } = await import('../network/store.js');
  const nets = new NetworkStore(root, api.flock);
  const { nets: networks, broken } = nets.scan();
  for (const b of broken) report.skipped.push(`network ${b.name}: ${b.error.message}: left as it is (its leases and rules too)`);
  const known = new Set(store.list().map((c) => c.id));
  const owners = nets.withLock(() => {
    const found: Array<{ network?: string; ip?: string; owner: string | null; what: string }> = [];
    for (const net of networks) for (const [ip, owner] of nets.leases(net.name)) found.push({ network: net.name, ip, owner, what: `lease ${net.name}/${ip}` });
    for (const l of nets.portLeases()) found.push({ owner: l.owner, what: `port lease ${l.file}` });
    return found;
  });
  for (const o of owners) {
    if (o.owner === null) report.skipped.push(`${o.what}: its owner cannot be read: left in use (remove the file if no container uses it)`);
    else known.add(o.owner);
  }
  const dead = [...known].filter((id) => !store.isLive(id));

  // 3. Rules first, then leases: an address must not be reused while a rule still sends traffic
  //    to it. Rules by the container's record, else by its tag in the kernel.
  const { realRunner, check } = await import('../network/runner.js');
  const save = await realRunner.run('iptables-save', []);
  if (save.code === 0) {
    for (const owner of dead) {
      const before = (save.stdout.match(new RegExp(`minidock:${owner}\\b`, 'g')) ?? []).length;
      if (!before) continue;
      await reclaimNetwork(store, owner); // its recorded rules, or those the kernel shows by tag
      report.rules += before;
    }
  }
  nets.withLock(() => {
    for (const net of networks) {
      for (const [ip, owner] of nets.leases(net.name)) {
        if (owner === null || store.isLive(owner)) continue;
        nets.release(net.name, ip, owner);
        report.leases++;
      }
    }
    for (const l of nets.portLeases()) {
      if (l.owner === null || store.isLive(l.owner)) continue;
      nets.releasePorts(l.owner);
      report.ports++;
    }
  });
  // A veth outlives its container only while something holds the container's namespace.
  const mine = new Set(dead.map((id) => id.slice(0, 12)));
  const veths = readFileSync('/proc/self/net/dev', 'utf8')
    .split('\n')
    .map((l) => l.split(':')[0]!.trim())
    .filter((n) => /^mdk[0-9a-f]{12}$/.test(n) && mine.has(n.slice(3)));
  if (veths.length) {
    await check(realRunner, 'gc.veths', 'ip', ['-batch', '-'], veths.map((v) => `link del ${v}`).join('\n') + '\n');
    report.veths = veths.length;
  }

  // 3b. A network rm that was cut short (the network is marked as being removed): finish it.
  const { removeNetwork } = await import('../network/setup.js');
  for (const net of networks) {
    if (!nets.isRemoving(net.name)) continue;
    await nets.withLockAsync(() => removeNetwork(nets, net, realRunner));
    report.networks.push(net.name);
  }
  for (const s of report.skipped) process.stderr.write(`minidock gc: ${s}\n`);

  // 4. Files: names without a container, staging directories and temporary files of dead
  //    processes (their names carry the pid that made them).
  const namesDir = join(root, 'names');
  if (existsSync(namesDir)) {
    // Through the store: a torn name file of a live container is mended, never deleted (a
    // deleted one would let the next run take the name).
    for (const n of readdirSync(namesDir)) if (store.reconcileName(n)) report.files++;
  }
  const shifted = join(root, 'shifted');
  const shiftedDirs = existsSync(shifted) ? readdirSync(shifted).map((d) => join(shifted, d)) : [];
  for (const dir of [join(root, 'tmp'), join(root, 'images'), join(root, 'containers'), ...shiftedDirs, ...store.list().map((c) => store.paths(c.id).dir)]) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) {
      // Atomic writes' temporaries, import staging, and half-made shifted image copies.
      // (image store scratch: blob-, layer-, load-, intent-; shifted layer copies: <chain>.tmp-PID)
      const m = /^(?:\..*\.(\d+)\.tmp|(?:image|blob|layer|load|save|intent)-[0-9a-f]+-(\d+)-[0-9a-f]+|(?:rootfs-[\d-]+|[0-9a-f]{64})\.tmp-(\d+))$/.exec(f);
      const pid = m ? Number(m[1] ?? m[2] ?? m[3]) : 0;
      if (pid && !alive(pid) && statSync(join(dir, f), { throwIfNoEntry: false })) {
        rmSync(join(dir, f), { recursive: true, force: true });
        report.files++;
      }
    }
  }
  // 5. Images: layers and blobs that no image names (a load killed after landing a layer and
  //    before its record), unless a live load claims them.
  const images = new ImageStore(root);
  report.files += images.gc(images.claimed(alive));
  // 6. Anonymous volumes no container names (docker's `volume prune`), and dead runs' staging.
  const named = new Set(store.list().flatMap((c) => (c.spec?.volumes ?? []).flatMap((v) => (v.anonymous ? [v.anonymous] : []))));
  report.files += pruneAnonymousVolumes(root, named, alive);
  return report;
}

/** The raw status in state.json (read() turns a dead 'running' into 'exited'). */
function rawStatus(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { status?: string }).status;
  } catch {
    return undefined;
  }
}

function isShimOfLive(rec: ContainerRecord, pid: number): boolean {
  return rec.state?.monitorPid === pid && rec.state.status === 'running';
}
