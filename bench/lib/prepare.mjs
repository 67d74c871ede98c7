// What the suite does before it measures anything, in the host's network namespace (apt needs
// the network): install the peers from Debian's packages when asked, and build whatever of
// minidock and its sample images is missing or older than its sources.
import fs from 'node:fs';
import path from 'node:path';
import { CLEAN_ENV, indent, sh, which } from './proc.mjs';

// Debian package -> the binary that shows it is there. wrk is the load generator.
const PACKAGES = [
  { pkg: 'crun', bin: 'crun' },
  { pkg: 'runc', bin: 'runc' },
  { pkg: 'podman', bin: 'podman' },
  // Without recommends: they pull needrestart, git and apparmor, none of which the bench needs.
  { pkg: 'docker.io', bin: 'dockerd', noRecommends: true },
  { pkg: 'wrk', bin: 'wrk', noRecommends: true },
];

export function installPeers(log) {
  const missing = PACKAGES.filter((p) => !which(p.bin));
  if (missing.length === 0) { log(`peers: ${PACKAGES.map((p) => p.pkg).join(', ')} already installed`); return; }
  if (process.getuid() !== 0) { log(`peers: cannot install ${missing.map((p) => p.pkg).join(', ')}: not root`); return; }
  const env = { ...CLEAN_ENV, DEBIAN_FRONTEND: 'noninteractive' };
  // Only update the package lists if they do not know the packages yet.
  const known = missing.every((p) => /Candidate: (?!\(none\))/.test(sh('apt-cache', ['policy', p.pkg], { env }).stdout));
  if (!known) {
    log('peers: apt-get update');
    const u = sh('apt-get', ['update'], { env, timeout: 600_000 });
    if (!u.ok) log(`peers: apt-get update failed:\n${indent(u.stderr)}`);
  }
  for (const group of [missing.filter((p) => !p.noRecommends), missing.filter((p) => p.noRecommends)]) {
    if (group.length === 0) continue;
    const args = ['install', '-y', ...(group[0].noRecommends ? ['--no-install-recommends'] : []), ...group.map((p) => p.pkg)];
    log(`peers: apt-get ${args.join(' ')} (from Debian's packages)`);
    const r = sh('apt-get', args, { env, timeout: 900_000 });
    if (!r.ok) log(`peers: apt-get install failed (exit ${r.status}):\n${indent(r.stderr || r.stdout)}`);
  }
}

function newestMtime(dir, re) {
  let newest = 0;
  const walk = (d) => {
    let entries = [];
    try { entries = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (re.test(e.name)) newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  walk(dir);
  return newest;
}

const mtime = (p) => { try { return fs.statSync(p).mtimeMs; } catch { return 0; } };

/** Builds what is missing or stale; returns false (after saying why) if minidock cannot run. */
export function ensureBuilt(repo, log) {
  const run = (what, cmd, args, env = CLEAN_ENV) => {
    log(`build: ${what}`);
    const r = sh(cmd, args, { cwd: repo, env, timeout: 1_800_000 });
    if (!r.ok) log(`build: ${what} failed (exit ${r.status}):\n${indent(r.stderr || r.stdout)}`);
    return r.ok;
  };
  const bundle = path.join(repo, 'dist/bundle/main.cjs');
  const addon = path.join(repo, 'native/build/Release/minidock.node');
  const shim = path.join(repo, 'native/build/Release/minidock-shim');
  const tars = ['busybox', 'python3'].map((n) => path.join(repo, `images/${n}/out/${n}.tar`));
  if (!fs.existsSync(path.join(repo, 'node_modules')) || ![bundle, addon, shim, ...tars].every((p) => fs.existsSync(p))) {
    // A fresh checkout: bin/setup installs the system packages and npm dependencies and builds
    // everything, images included (not imported: the suite imports into its own root).
    if (!run('bin/setup (something is not built yet)', path.join(repo, 'bin/setup'), [], { ...CLEAN_ENV, MINIDOCK_SKIP_IMPORT: '1' })) return false;
    return true;
  }
  if (newestMtime(path.join(repo, 'src'), /\.ts$/) > mtime(bundle)) run('npm run build:bundle (src/ is newer than dist/bundle)', 'npm', ['run', '-s', 'build:bundle']);
  if (newestMtime(path.join(repo, 'native/src'), /\.[ch]$/) > Math.min(mtime(addon), mtime(shim))) run('npm run build:native (native/src is newer)', 'npm', ['run', '-s', 'build:native']);
  return true;
}
