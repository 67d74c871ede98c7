#!/usr/bin/env node
// Networking figures, side by side, in one run: `run --rm true` on the bridge network against
// --network none, and the time from `run -p HOSTPORT:80 <python http.server>` to the first HTTP
// answer on the published port; minidock next to podman (where installed) and next to the floor
// of starting python's http.server with no container at all.
//
//   node bench/network.mjs [--runs N] [--json FILE]
//
// Everything runs inside a network namespace this script creates (and deletes): bridges,
// veths and iptables rules never touch the host's. Traffic goes to 127.0.0.1 in it only.
// Contenders alternate run by run; NODE_EXTRA_CA_CERTS is removed from their environment.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir, cpus, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inPrivateNetns, options } from './lib/netns.mjs';
import { formatTable, summarize } from './lib/stats.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = options();
const RUNS = Number(opt('--runs', '15'));
const JSON_OUT = opt('--json');

if (process.getuid() !== 0) {
  console.error('bench/network.mjs: run as root (it creates a network namespace)');
  process.exit(1);
}

inPrivateNetns(import.meta.url, 'mdkbench');

const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
const root = mkdtempSync(join(tmpdir(), 'minidock-netbench-'));
const mdEnv = { ...env, MINIDOCK_ROOT: root, MINIDOCK_BRIDGE: 'mdkbench0', MINIDOCK_SUBNET: '10.131.0.0/24' };
const BIN = join(REPO, 'bin/minidock.js');
const cleanups = [];
const cleanup = () => {
  while (cleanups.length) {
    try { cleanups.pop()(); } catch { /* best effort */ }
  }
  rmSync(root, { recursive: true, force: true });
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

const sh = (cmd, a, e = env) => spawnSync(cmd, a, { env: e, encoding: 'utf8' });
const md = (...a) => sh(process.execPath, ['--', BIN, ...a], mdEnv);
const which = (b) => sh('sh', ['-c', `command -v ${b}`]).stdout.trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Number(process.hrtime.bigint()) / 1e6;

for (const [name, cmd] of [['busybox', 'sh'], ['python3', 'python3']]) {
  const tar = join(REPO, `images/${name}/out/${name}.tar`);
  const r = md('import', '-c', `CMD ["${cmd}"]`, tar, name);
  if (r.status !== 0) {
    console.error(`cannot import ${tar} (run bin/setup first): ${r.stderr}`);
    process.exit(1);
  }
}

/** One GET; resolves true on any HTTP answer. */
function get(port) {
  return new Promise((res) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 200 }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode === 200));
    });
    req.on('error', () => res(false));
    req.on('timeout', () => { req.destroy(); res(false); });
    req.end();
  });
}

/** Starts `start()`, then polls the port every 2 ms; returns ms until the first 200. */
async function timeToHttp(port, start, stop) {
  const t0 = now();
  const handle = start();
  let ok = false;
  while (!ok && now() - t0 < 10_000) {
    ok = await get(port);
    if (!ok) await sleep(2);
  }
  const t = now() - t0;
  await stop(handle);
  if (!ok) throw new Error(`no HTTP answer on ${port} within 10 s`);
  return t;
}

const contenders = [];
const add = (label, fn, note) => contenders.push({ label, fn, note, samples: [] });
const spawnBg = (cmd, a, e) => {
  const p = spawn(cmd, a, { env: e, stdio: 'ignore' });
  const done = new Promise((r) => p.on('close', r));
  return { p, done };
};
const timed = (cmd, a, e) => () => {
  const t0 = now();
  const r = spawnSync(cmd, a, { env: e, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${a.join(' ')} exited ${r.status}`);
  return now() - t0;
};

// minidock
add('minidock run --rm true (bridge)', timed(process.execPath, ['--', BIN, 'run', '--rm', 'busybox', 'true'], mdEnv));
add('minidock run --rm --network none true', timed(process.execPath, ['--', BIN, 'run', '--rm', '--network', 'none', 'busybox', 'true'], mdEnv));
let n = 0;
add('minidock: run -p to first HTTP answer', () => {
  const name = `h${n++}`;
  return timeToHttp(18080,
    () => spawnBg(process.execPath, ['--', BIN, 'run', '--rm', '--name', name, '-p', '18080:80', 'python3', 'python3', '-m', 'http.server', '80'], mdEnv),
    async (h) => { md('rm', '-f', name); await h.done; });
});

// floor: python's http.server with no container
add('floor: python3 -m http.server, no container', () =>
  timeToHttp(18082, () => spawnBg('python3', ['-m', 'http.server', '18082', '--bind', '127.0.0.1'], env), async (h) => { h.p.kill('SIGTERM'); await h.done; }),
  'the host\'s python, started directly: what python costs before any runtime work');

// podman, with the flags bench/startup.mjs found necessary on this machine kind
const podman = which('podman');
if (podman) {
  const pidMax = readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim();
  const flags = ['--runtime', 'runc', '--ulimit', 'nofile=20000:20000', '--ulimit', `nproc=${pidMax}:${pidMax}`];
  const image = `localhost/minidock-netbench-python3:p${process.pid}`;
  const bimage = `localhost/minidock-netbench-busybox:p${process.pid}`;
  const imp = sh(podman, ['import', join(REPO, 'images/python3/out/python3.tar'), image]);
  const bimp = sh(podman, ['import', join(REPO, 'images/busybox/out/busybox.tar'), bimage]);
  cleanups.push(() => sh(podman, ['rmi', '-f', image, bimage]));
  const probe = sh(podman, ['run', '--rm', ...flags, bimage, 'true']);
  if (imp.status === 0 && bimp.status === 0 && probe.status === 0) {
    add('podman run --rm true (bridge)', timed(podman, ['run', '--rm', ...flags, bimage, 'true'], env));
    add('podman run --rm --network none true', timed(podman, ['run', '--rm', '--network', 'none', ...flags, bimage, 'true'], env));
    let m = 0;
    add('podman: run -d -p to first HTTP answer', () => {
      const name = `mdkbench-h${process.pid}-${m++}`;
      return timeToHttp(18081,
        () => spawnBg(podman, ['run', '-d', '--rm', '--name', name, '-p', '18081:80', ...flags, image, 'python3', '-m', 'http.server', '80'], env),
        async (h) => { await h.done; sh(podman, ['rm', '-f', '-t', '0', name]); });
    }, `flags: ${flags.join(' ')}`);
  } else {
    const why = [imp, bimp, probe].find((r) => r.status !== 0);
    console.log(`podman: skipped (${why.stderr.trim().split('\n').pop()})`);
  }
} else {
  console.log('podman: not installed (bench/startup.mjs --install-peers installs it)');
}

console.log(`date:    ${new Date().toISOString()}`);
console.log(`machine: ${cpus().length} cpus, kernel ${release()}, node ${process.version}`);
console.log(`runs:    ${RUNS} per contender + 1 warm-up, alternated; NODE_EXTRA_CA_CERTS removed; inside netns ${process.env.MDK_BENCH_NETNS}\n`);
for (let round = -1; round < RUNS; round++) {
  for (const c of contenders) {
    if (c.failed) continue;
    try {
      const t = await c.fn();
      if (round >= 0) c.samples.push(t);
    } catch (err) {
      c.failed = String(err.message ?? err);
      console.log(`${c.label}: dropped (${c.failed})`);
    }
  }
}
for (const c of contenders) c.stats = c.failed ? null : summarize(c.samples);
const ref = contenders[0].stats?.median;
console.log(formatTable(contenders, ref));
for (const c of contenders) if (c.note) console.log(`  ${c.label}: ${c.note}`);
if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(contenders.map(({ label, stats, note }) => ({ label, stats, note })), null, 2));
