#!/usr/bin/env node
// The benchmark suite: every figure of issue #8 in one run, minidock side by side with crun,
// runc, podman and docker and with the floors under them (what the kernel and Node cost anyway),
// printed as one table and written as JSON, markdown and an SVG of the start-up distributions.
//
//   npm run bench                     # = node bench/suite.mjs
//   node bench/suite.mjs --quick      # a smoke run of a minute or two
//   node bench/suite.mjs --install-peers --runs 30
//
// Everything runs inside a network namespace the suite makes and deletes (bridges, veths,
// iptables rules, the private dockerd's docker0 never touch the host's); traffic goes only to
// addresses in it. minidock uses a private MINIDOCK_ROOT, bridge and subnet; podman and docker
// containers are named mdkb<pid>-*, and all of them are removed at the end. NODE_EXTRA_CA_CERTS
// is removed from every contender's environment (one floor row keeps it, to show its cost).
// Contenders alternate run by run (A B C A B C ...). See bench/README.md.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dockerEngine, minidockEngine, namePrefix, podmanEngine } from './lib/engines.mjs';
import { extractRootfs, imageKind } from './lib/image.mjs';
import { describeMachine, machineInfo } from './lib/machine.mjs';
import { inPrivateNetns } from './lib/netns.mjs';
import { ociContenders } from './lib/oci.mjs';
import { ensureBuilt, installPeers } from './lib/prepare.mjs';
import {
  CLEAN_ENV, ORIG_ENV, cmdline, commOf, indent, lastLine, memoryKb, now, ppidOf, sh, shAsync, sleep, timeSpawn, which,
} from './lib/proc.mjs';
import { fmt, formatCell, markdownTable, summarize } from './lib/stats.mjs';
import { distributionSvg } from './lib/svg.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECTIONS = ['startup', 'memory', 'http', 'throughput', 'parallel', 'exec', 'exited'];
const COLUMNS = ['minidock', 'crun', 'runc', 'podman', 'docker', 'floor'];
// Inside the suite's own network namespace; none of these exists outside it.
const NET = {
  minidockBridge: 'mdksuite0', minidockSubnet: '10.136.0.0/22', dockerBip: '10.138.0.1/24',
  hostAddr: '10.139.0.1', hostLink: 'mdkhost0',
};
const PORTS = { http: { minidock: 18080, podman: 18081, docker: 18082, floor: 18083 }, tp: { minidock: 18090, podman: 18091, docker: 18092 } };

// ------------------------------------------------------------------------------------ options

function usage(code) {
  (code ? process.stderr : process.stdout).write(`usage: node bench/suite.mjs [options]   (as root; npm run bench runs it)

  --quick           a smoke run (~2 min): few runs, 10 parallel containers, 10 for ps, 100 exited
  --runs N          timed runs per contender of the start-up, memory, exec and ps rows
                    (default 20; --quick 5); first-HTTP gets N/2, the rest fixed counts
  --only LIST       some sections: ${SECTIONS.join(',')}
  --skip LIST       leave peers out: crun,runc,podman,docker
  --install-peers   apt-get install what is missing of crun runc podman docker.io wrk
  --no-build        do not build minidock or the images first
  --json FILE       figures as JSON     (default bench/results/latest.json)
  --md FILE         the table, markdown (default bench/results/latest.md)
  --svg FILE        start-up plot       (default bench/results/startup.svg)
                    (a --quick or --only run writes bench/results/scratch.* instead)
  -h, --help        this text
`);
  process.exit(code);
}

function parseArgs(argv) {
  const o = { quick: false, runs: null, only: SECTIONS, skip: [], installPeers: false, build: true, json: null, md: null, svg: null };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let val = null;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) { val = a.slice(eq + 1); a = a.slice(0, eq); }
    const next = () => {
      if (val !== null) return val;
      if (i + 1 >= argv.length) { console.error(`${a} needs a value`); usage(2); }
      return argv[++i];
    };
    switch (a) {
      case '--quick': o.quick = true; break;
      case '--runs': o.runs = Number(next()); break;
      case '--only': o.only = next().split(','); break;
      case '--skip': o.skip = next().split(','); break;
      case '--install-peers': o.installPeers = true; break;
      case '--no-build': o.build = false; break;
      case '--json': o.json = path.resolve(next()); break;
      case '--md': o.md = path.resolve(next()); break;
      case '--svg': o.svg = path.resolve(next()); break;
      case '-h': case '--help': usage(0); break;
      default: console.error(`unknown option: ${a}`); usage(2);
    }
  }
  const bad = o.only.filter((s) => !SECTIONS.includes(s));
  if (bad.length) { console.error(`unknown section: ${bad.join(', ')}`); usage(2); }
  o.runs ??= o.quick ? 5 : 20;
  if (!Number.isInteger(o.runs) || o.runs < 1) { console.error('--runs must be a positive integer'); process.exit(2); }
  // Only a full run replaces the committed results; a quick or partial one writes scratch.*.
  const full = !o.quick && o.only.length === SECTIONS.length;
  const base = path.join(REPO, 'bench/results', full ? 'latest' : 'scratch');
  o.json ??= `${base}.json`;
  o.md ??= `${base}.md`;
  o.svg ??= full ? path.join(REPO, 'bench/results/startup.svg') : `${base}.svg`;
  // Everything but --runs is sized so the full suite takes under ten minutes on 2 vCPUs.
  o.httpRuns = Math.max(3, Math.round(o.runs / 2));
  o.tpReps = o.quick ? 1 : 6;
  o.tpSeconds = 1;
  o.parallel = o.quick ? 10 : 50;
  o.parallelReps = o.quick ? 1 : 3;
  o.psCount = o.quick ? 10 : 100;
  o.exitedCount = o.quick ? 100 : 1000;
  o.rssRuns = Math.min(o.runs, o.quick ? 2 : 5);
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const log = (...a) => console.log(...a);

// Outside the namespace: check, install, build, then run this script again inside one.
if (!process.env.MDK_BENCH_NETNS) {
  if (process.getuid() !== 0) { console.error('bench/suite.mjs: run as root (containers, namespaces, iptables)'); process.exit(1); }
  if (opts.installPeers) installPeers(log);
  if (opts.build && !ensureBuilt(REPO, log)) process.exit(1);
  inPrivateNetns(import.meta.url, 'mdksuite');
}

// ------------------------------------------------------------------------------------ plumbing

let interrupted = null;
class Interrupted extends Error {}
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(s, () => {
    if (!interrupted) process.stderr.write(`\n${s}: stopping after the current step and cleaning up...\n`);
    interrupted = s;
  });
}
// Lets pending signals reach their handlers: every spawnSync blocks the loop.
async function checkpoint() {
  await new Promise((r) => setImmediate(r));
  if (interrupted) throw new Interrupted(interrupted);
}

const results = { rows: [], skipped: [], notes: [], targets: [], sections: {} };
const cell = (samples) => ({ stats: summarize(samples), samples: samples.map((x) => +x.toFixed(3)) });

/** A row of the table: cells keyed by COLUMNS, each { stats, samples } or { text } or { dropped }. */
function addRow(section, label, unit, cells, extra = {}) {
  const row = { section, label, unit, cells, ...extra };
  results.rows.push(row);
  return row;
}

/**
 * Runs contenders round by round (A B C A B C ...): `warmup` untimed rounds (at least one: the
 * check that each runs at all), then `runs` timed ones. A contender: { key, run: async (n) => ms }.
 * A failed run is never a sample: it is tried again twice, 3 s apart (a rebuild of dist/ or the
 * native helper under way shows as one), and a contender that still fails is dropped with its error.
 */
async function alternate(contenders, runs, warmup = 1, what = '') {
  for (const c of contenders) { c.samples = []; c.retries = 0; }
  for (let round = -Math.max(1, warmup); round < runs; round++) {
    for (const c of contenders) {
      for (let attempt = 0; !c.dropped; attempt++) {
        try {
          const ms = await c.run(attempt ? `${round}r${attempt}` : round);
          if (round >= 0) c.samples.push(ms);
          break;
        } catch (e) {
          if (interrupted) throw new Interrupted(interrupted);
          const where = round < 0 ? 'warm-up' : `run ${round + 1}`;
          if (attempt < 2) {
            c.retries++;
            log(`  ${c.key}: ${where} failed (${e.message}); again in 3 s`);
            await sleep(3000);
            continue;
          }
          c.dropped = `${where}: ${e.message}`;
          log(`  ${c.key}: dropped (${c.dropped})`);
        }
      }
      await checkpoint();
    }
    if (process.stdout.isTTY && round >= 0) process.stdout.write(`\r  ${what} round ${round + 1}/${runs}  `);
  }
  if (process.stdout.isTTY) process.stdout.write('\r' + ' '.repeat(60) + '\r');
  const out = {};
  for (const c of contenders) out[c.key] = c.dropped ? { dropped: c.dropped } : { ...cell(c.samples), ...(c.retries ? { retried: c.retries } : {}) };
  return out;
}

const spawnTimed = (cmd, args, env) => async () => timeSpawn(cmd, args, { env });

/** Any HTTP answer from host:port within `ms`, or false. */
function httpAnswers(host, port, ms = 1000, urlPath = '/') {
  return new Promise((res) => {
    const req = request({ host, port, path: urlPath, agent: false, timeout: ms }, (r) => { r.resume(); r.on('end', () => res(true)); r.on('error', () => res(true)); });
    req.on('error', () => res(false));
    req.on('timeout', () => { req.destroy(); res(false); });
    req.end();
  });
}

async function waitHttp(host, port, deadline, urlPath = '/') {
  while (now() < deadline) {
    if (await httpAnswers(host, port, 1000, urlPath)) return true;
    await sleep(10);
  }
  return false;
}

// ------------------------------------------------------------------------------------ set-up

const ctx = { repo: REPO, net: NET, cleanups: [], asyncCleanups: [], engines: {}, oci: {} };

async function setup() {
  const machine = machineInfo();
  machine.loadavg = os.loadavg().map((x) => +x.toFixed(2));
  // What was measured: the commit, and whether the working tree differed from it.
  results.revision = sh('git', ['-C', REPO, 'describe', '--always', '--dirty']).stdout.trim() || null;
  results.machine = machine;
  results.date = new Date().toISOString();
  log('minidock benchmark suite (issue #8)');
  log(`date:    ${results.date}`);
  log(`machine: ${describeMachine(machine)}`);
  log(`netns:   ${process.env.MDK_BENCH_NETNS} (made for this run; deleted at the end)`);
  log(`tree:    ${results.revision ?? 'not a git checkout'}`);
  log(`runs:    ${opts.runs} per start-up/memory/exec/ps contender, ${opts.httpRuns} first-HTTP, ${opts.tpReps} x ${opts.tpSeconds} s per load figure, ` +
    `${opts.parallelReps} x ${opts.parallel} parallel, ps with ${opts.psCount}; alternated A B C A B C`);
  if (machine.loadavg[0] > machine.nproc * 0.75) {
    log(`warning: the machine is busy (load ${machine.loadavg[0]} on ${machine.nproc} CPUs): figures will be slower and noisier than alone`);
  }
  results.env = { NODE_EXTRA_CA_CERTS: ORIG_ENV.NODE_EXTRA_CA_CERTS ?? null, removedFromContenders: ORIG_ENV.NODE_EXTRA_CA_CERTS !== undefined };
  log(ORIG_ENV.NODE_EXTRA_CA_CERTS !== undefined
    ? `env:     NODE_EXTRA_CA_CERTS removed from every contender; only the row "node -e 0, NODE_EXTRA_CA_CERTS as set here" keeps it`
    : 'env:     NODE_EXTRA_CA_CERTS is not set here');
  ctx.hybridCgroups = machine.hybridCgroups;
  ctx.work = fs.mkdtempSync(path.join(os.tmpdir(), 'minidock-suite-'));
  // mkdtemp makes it 0700; a container's remapped root (uid 100000) must be able to pass it.
  fs.chmodSync(ctx.work, 0o755);
  ctx.runDir = fs.mkdtempSync('/run/minidock-suite-');
  // "The host's own address": a veth in the namespace with an address, as eth0 has outside.
  // Traffic to it is local delivery, through the same nat OUTPUT path as the host's address.
  sh('ip', ['link', 'add', NET.hostLink, 'type', 'veth', 'peer', 'name', `${NET.hostLink}p`]);
  sh('ip', ['addr', 'add', `${NET.hostAddr}/24`, 'dev', NET.hostLink]);
  sh('ip', ['link', 'set', NET.hostLink, 'up']);
  sh('ip', ['link', 'set', `${NET.hostLink}p`, 'up']);
  // One rootfs per image: busybox for the OCI bundles, python3 for the no-container floor.
  for (const name of ['busybox', 'python3']) {
    const tar = path.join(REPO, `images/${name}/out/${name}.tar`);
    const dir = path.join(ctx.work, `rootfs-${name}`);
    try {
      extractRootfs(tar, imageKind(tar, sh), dir, path.join(ctx.work, `archive-${name}`), sh);
      ctx[`${name}Rootfs`] = dir;
    } catch (e) { ctx.imageMissing = `cannot unpack ${tar}: ${e.message}`; }
  }
  ctx.rootfs = ctx.busyboxRootfs;
  log('\nsetting up contenders...');
  const skip = (why) => { results.skipped.push(why.split('\n')[0]); log(why); };
  const md = minidockEngine(ctx);
  if (typeof md === 'string') { log(md); throw new Error('minidock cannot run; nothing to measure'); }
  ctx.engines.minidock = md;
  for (const id of ['crun', 'runc']) {
    if (opts.skip.includes(id)) { skip(`${id}: left out (--skip)`); continue; }
    const got = ociContenders(ctx, id);
    if (typeof got === 'string') skip(got); else ctx.oci[id] = got;
  }
  if (opts.skip.includes('podman')) skip('podman: left out (--skip)');
  else {
    const p = podmanEngine(ctx);
    if (typeof p === 'string') skip(p); else ctx.engines.podman = p;
  }
  await checkpoint();
  if (opts.skip.includes('docker')) skip('docker: left out (--skip)');
  else {
    const d = await dockerEngine(ctx);
    if (typeof d === 'string') skip(d); else ctx.engines.docker = d;
  }
  ctx.wrk = which('wrk');
  ctx.ab = which('ab');
  results.peers = {};
  for (const e of Object.values(ctx.engines)) results.peers[e.id] = e.notes;
  for (const [id, list] of Object.entries(ctx.oci)) results.peers[id] = list.flatMap((c) => c.notes);
  for (const [id, notes] of Object.entries(results.peers)) {
    log(`  ${id}:`);
    for (const n of notes) log(`      ${n}`);
  }
}

// ------------------------------------------------------------------------------------ sections

const E = () => Object.values(ctx.engines);
const oci = (id) => (ctx.oci.crun || []).concat(ctx.oci.runc || []).find((c) => c.id === id);
const unshareArgs = ['--fork', '--pid', '--mount', '--uts', '--ipc', '--net', '--cgroup', '--user', '--map-root-user', 'true'];

/** 1 and 7: start-to-exit of `run --rm IMAGE true`, both networks, with the floors. */
async function sectionStartup() {
  const cs = [];
  const add = (key, cmd, args, env = CLEAN_ENV) => cs.push({ key, cmd, args, env, run: spawnTimed(cmd, args, env) });
  for (const e of E()) {
    add(`${e.id}:none`, e.cmd, e.run({ rm: true, network: 'none', image: e.images.busybox, command: ['true'] }), e.env);
    add(`${e.id}:bridge`, e.cmd, e.run({ rm: true, image: e.images.busybox, command: ['true'] }), e.env);
    // What the startup snapshot (bin/minidock) saves: the same run through bin/minidock.js, from
    // V8's code cache; and what the code cache saves: the bundle compiled as it goes.
    if (e.id === 'minidock') {
      const none = ['--', e.js, ...e.run({ rm: true, network: 'none', image: e.images.busybox, command: ['true'] })];
      add('minidock:none-nosnap', process.execPath, none, e.env);
      add('minidock:none-nocache', process.execPath, none, { ...e.env, MINIDOCK_CODE_CACHE: 'off' });
    }
  }
  for (const c of [...(ctx.oci.crun || []), ...(ctx.oci.runc || [])]) {
    cs.push({ key: c.id, cmd: c.cmd, display: c.display, env: CLEAN_ENV, run: (n) => timeSpawn(c.cmd, c.args(n), { env: CLEAN_ENV }) });
  }
  add('unshare', which('unshare') || 'unshare', unshareArgs);
  add('node', process.execPath, ['-e', '0']);
  if (ORIG_ENV.NODE_EXTRA_CA_CERTS !== undefined) add('node-env', process.execPath, ['-e', '0'], ORIG_ENV);
  log(`\n== 1, 7. start-to-exit of run --rm true, and the floors: ${cs.length} contenders x ${opts.runs} runs`);
  const r = await alternate(cs, opts.runs, 2, 'start-up');
  const pick = (map) => Object.fromEntries(Object.entries(map).filter(([, k]) => r[k]).map(([col, k]) => [col, r[k]]));
  addRow('startup', 'run --rm IMAGE true, --network none', 'ms',
    pick({ minidock: 'minidock:none', crun: 'crun', runc: 'runc', podman: 'podman:none', docker: 'docker:none', floor: 'unshare' }),
    { floor: 'unshare of the same 7 namespaces, running true', id: 'startup-none' });
  addRow('startup', 'run --rm IMAGE true, bridge network', 'ms',
    pick({ minidock: 'minidock:bridge', podman: 'podman:bridge', docker: 'docker:bridge' }), { id: 'startup-bridge', note: 'the OCI runtimes make no network' });
  if (r['minidock:none-nosnap']) addRow('startup', 'run --rm IMAGE true, --network none, no snapshot (bin/minidock.js, code cache)', 'ms', { minidock: r['minidock:none-nosnap'] }, { id: 'startup-nosnap' });
  if (r['minidock:none-nocache']) addRow('startup', 'run --rm IMAGE true, --network none, neither (bin/minidock.js, MINIDOCK_CODE_CACHE=off)', 'ms', { minidock: r['minidock:none-nocache'] }, { id: 'startup-nocache' });
  if (r['crun-nocg']) addRow('startup', 'run true, no cgroup made (crun --cgroup-manager=disabled)', 'ms', { crun: r['crun-nocg'] }, { id: 'startup-nocgroup' });
  if (r['nsenter-mnt']) addRow('floor', 'floor: nsenter --mount true (the wrapper in both crun rows)', 'ms', { floor: r['nsenter-mnt'] }, { id: 'floor-nsenter-mnt' });
  addRow('floor', 'floor: node -e 0, NODE_EXTRA_CA_CERTS unset', 'ms', { floor: r.node }, { id: 'floor-node' });
  if (r['node-env']) addRow('floor', 'floor: node -e 0, NODE_EXTRA_CA_CERTS as set here', 'ms', { floor: r['node-env'] }, { id: 'floor-node-env' });
  const md = ctx.engines.minidock;
  const n = Math.min(opts.runs, 5);
  results.trace = {
    none: traceBreakdown(md, md.run({ rm: true, network: 'none', image: md.images.busybox, command: ['true'] }), n),
    bridge: traceBreakdown(md, md.run({ rm: true, image: md.images.busybox, command: ['true'] }), n),
  };
  for (const [k, t] of Object.entries(results.trace)) if (t) log(`  where minidock run --rm${k === 'none' ? ' --network none' : ''} true goes (MINIDOCK_TRACE=1, ms, median of ${n}): ${traceLine(t)}`);
  results.startup = { contenders: cs.map((c) => ({ key: c.key, command: c.display || cmdline(path.basename(c.cmd), c.args || []) })), figures: r };
}

/**
 * Where minidock's time goes: `runs` more runs with MINIDOCK_TRACE=1 (not in the table), the
 * median of each step's share. Before the first step: Node's start and loading the CLI; after the
 * last: exit, as the parent sees it.
 */
function traceBreakdown(e, args, runs) {
  const steps = new Map();
  const push = (k, v) => { if (!steps.has(k)) steps.set(k, []); steps.get(k).push(v); };
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    const r = sh(e.cmd, args, { env: { ...e.env, MINIDOCK_TRACE: '1' } });
    const wall = now() - t0;
    if (!r.ok) return null;
    const seen = {};
    let at = null;
    for (const m of r.stderr.matchAll(/^trace:\s+([\d.]+) ms\s+\+\s*([\d.]+)\s+(.*)$/gm)) {
      if (at === null) push('(node start, loading the CLI)', Number(m[1]) - Number(m[2]));
      seen[m[3]] = (seen[m[3]] ?? 0) + 1;
      push(seen[m[3]] > 1 ? `${m[3]} (${seen[m[3]]})` : m[3], Number(m[2]));
      at = Number(m[1]);
    }
    if (at === null) return null;
    push('(exit, as the parent sees it)', wall - at);
    push('= whole run', wall);
  }
  return [...steps].map(([step, v]) => ({ step, ms: summarize(v).median }));
}

function traceLine(t) {
  return t.map((x) => `${x.step} ${fmt(x.ms)}`).join(', ');
}

/** 5 (second half): the CLI's own peak RSS during `run --rm true`, by GNU time. */
async function sectionMemory() {
  const time = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
  log(`\n== 5b. peak RSS of the command line tool during run --rm true: ${opts.rssRuns} runs`);
  if (!time) { log('  skipped: /usr/bin/time (Debian package time) is not installed'); results.skipped.push('CLI peak RSS: /usr/bin/time not installed'); return; }
  const out = path.join(ctx.work, 'time.out');
  const cs = [];
  // argsFor(n): the command's arguments for run n (the OCI runtimes want a fresh id each time).
  const add = (key, cmd, argsFor, env = CLEAN_ENV) => cs.push({
    key,
    run: async (n) => {
      timeSpawn(time, ['-f', '%M', '-o', out, cmd, ...argsFor(n)], { env });
      return Number(lastLine(fs.readFileSync(out, 'utf8'))) / 1024;
    },
  });
  for (const e of E()) add(e.id, e.cmd, () => e.run({ rm: true, network: 'none', image: e.images.busybox, command: ['true'] }), e.env);
  for (const id of ['crun', 'runc']) { const c = oci(id); if (c) add(id, c.cmd, (n) => c.args(`rss${n}`)); }
  add('floor', process.execPath, () => ['-e', '0']);
  const r = await alternate(cs, opts.rssRuns, 1, 'peak RSS');
  addRow('memory', 'CLI peak RSS during run --rm true (--network none)', 'MiB', r,
    { id: 'cli-rss', floor: 'node -e 0', note: 'GNU time %M: the largest RSS of the command and its waited-for children; docker: the client only (the daemons are not its children)' });
}

/** 2: `run -d -p HOSTPORT:80 python3 http.server` until curl on the published port answers. */
async function sectionHttp() {
  const curl = which('curl');
  log(`\n== 2. run -d -p PORT:80 python3 -m http.server 80 until curl answers on 127.0.0.1:PORT: ${opts.httpRuns} runs`);
  if (!curl) { results.skipped.push('first HTTP answer: curl not installed'); log('  skipped: curl is not installed'); return; }
  const answered = (port) => shAsync(curl, ['-s', '-o', '/dev/null', '--max-time', '2', `http://127.0.0.1:${port}/`]).then((r) => r.ok);
  const poll = async (port, t0, failed) => {
    while (now() - t0 < 30_000) {
      if (failed()) return false;
      if (await answered(port)) return true;
      await sleep(2);
    }
    return false;
  };
  const cs = E().map((e) => ({
    key: e.id,
    run: async (n) => {
      const name = `${namePrefix()}http-${n}`;
      const port = PORTS.http[e.id];
      const t0 = now();
      const started = shAsync(e.cmd, e.run({ detach: true, name, publish: [`${port}:80`], image: e.images.python3, command: ['python3', '-m', 'http.server', '80'] }), { env: e.env });
      let done = null;
      started.then((res) => { done = res; });
      const ok = await poll(port, t0, () => done && !done.ok);
      const ms = now() - t0;
      await started;
      await shAsync(e.cmd, e.rm([name]), { env: e.env });
      if (!ok) throw new Error(done && !done.ok ? `run -d failed: ${lastLine(done.stderr)}` : 'no answer within 30 s');
      return ms;
    },
  }));
  if (ctx.python3Rootfs) {
    cs.push({
      key: 'floor',
      run: async () => {
        const port = PORTS.http.floor;
        const t0 = now();
        const p = spawn('chroot', [ctx.python3Rootfs, 'python3', '-m', 'http.server', String(port)], { stdio: 'ignore', env: CLEAN_ENV });
        let exited = false;
        const gone = new Promise((r) => p.on('close', () => { exited = true; r(); }));
        const ok = await poll(port, t0, () => exited);
        const ms = now() - t0;
        p.kill('SIGKILL');
        await gone;
        if (!ok) throw new Error('python3 in a chroot did not answer');
        return ms;
      },
    });
  }
  const r = await alternate(cs, opts.httpRuns, 1, 'first HTTP');
  addRow('http', 'run -d -p to first HTTP answer (python3 http.server)', 'ms', r,
    { id: 'first-http', floor: 'the image\'s python3 -m http.server in a chroot of the same rootfs: no namespaces, no network set-up' });
}

// Load generator: wrk (Debian's) or, failing that, ab. Each returns one figure per call.
function loadGen() {
  const d = String(opts.tpSeconds);
  if (ctx.wrk) {
    const unitMs = { us: 1e-3, ms: 1, s: 1e3 };
    const unitMiB = { B: 1 / 2 ** 20, KB: 1 / 1024, MB: 1, GB: 1024 };
    return {
      name: 'wrk',
      rps: { args: (u) => ['-t1', '-c8', `-d${d}s`, '--timeout', '2s', `${u}/small`], parse: (o) => Number(/Requests\/sec:\s+([\d.]+)/.exec(o)?.[1]) },
      latency: { args: (u) => ['-t1', '-c1', `-d${d}s`, '--latency', `${u}/small`], parse: (o) => { const m = /^\s+50%\s+([\d.]+)(us|ms|s)\s*$/m.exec(o); return m ? Number(m[1]) * unitMs[m[2]] : NaN; } },
      mib: { args: (u) => ['-t1', '-c4', `-d${d}s`, '--timeout', '5s', `${u}/big`], parse: (o) => { const m = /Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB)/.exec(o); return m ? Number(m[1]) * unitMiB[m[2]] : NaN; } },
      errors: (o) => { const m = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(o); const n = /Non-2xx or 3xx responses: (\d+)/.exec(o); return (m ? m.slice(1).reduce((a, b) => a + Number(b), 0) : 0) + (n ? Number(n[1]) : 0); },
      bin: ctx.wrk,
    };
  }
  const n = ['-n', '100000000'];
  return {
    name: 'ab',
    rps: { args: (u) => ['-q', '-t', d, ...n, '-c', '8', `${u}/small`], parse: (o) => Number(/Requests per second:\s+([\d.]+)/.exec(o)?.[1]) },
    latency: { args: (u) => ['-q', '-t', d, ...n, '-c', '1', `${u}/small`], parse: (o) => Number(/Time per request:\s+([\d.]+) \[ms\] \(mean\)/.exec(o)?.[1]) },
    mib: { args: (u) => ['-q', '-t', d, ...n, '-c', '4', `${u}/big`], parse: (o) => Number(/Transfer rate:\s+([\d.]+)/.exec(o)?.[1]) / 1024 },
    errors: (o) => Number(/Failed requests:\s+(\d+)/.exec(o)?.[1] ?? 0),
    bin: ctx.ab,
  };
}

/** 3: throughput and latency through the published port and directly to the container. */
async function sectionThroughput() {
  log(`\n== 3. published-port throughput and latency against the container's own address`);
  if (!ctx.wrk && !ctx.ab) { results.skipped.push('throughput: neither wrk nor ab installed (--install-peers installs wrk)'); log('  skipped: neither wrk nor ab is installed (use --install-peers)'); return; }
  const gen = loadGen();
  // The server: busybox httpd (a process per connection, files sent with sendfile), serving a
  // 1 KiB and a 16 MiB file. Cheaper per request than python's, so more of the path shows.
  const serve = ['sh', '-c', 'mkdir -p /www && head -c 1024 /dev/zero > /www/small && head -c 16777216 /dev/zero > /www/big && exec httpd -f -p 80 -h /www'];
  const servers = [];
  for (const e of E()) {
    const name = `${namePrefix()}tp`;
    const port = PORTS.tp[e.id];
    const r = await shAsync(e.cmd, e.run({ detach: true, name, publish: [`${port}:80`], image: e.images.busybox, command: serve }), { env: e.env });
    if (!r.ok) { log(`  ${e.id}: server did not start: ${lastLine(r.stderr)}`); continue; }
    const ip = (await shAsync(e.cmd, e.inspect('{{.NetworkSettings.IPAddress}}', [name]), { env: e.env })).stdout.trim();
    servers.push({ e, name, paths: { lo: ['127.0.0.1', port], host: [NET.hostAddr, port], direct: [ip, 80] } });
  }
  const deadline = now() + 30_000;
  for (const s of servers) {
    for (const [pathId, [h, p]] of Object.entries(s.paths)) {
      if (!(await waitHttp(h, p, deadline, '/big'))) { log(`  ${s.e.id}: ${pathId} path ${h}:${p} never answered`); s.broken = true; }
    }
  }
  const live = servers.filter((s) => !s.broken);
  const metrics = ['rps', 'latency', 'mib'];
  const samples = {};
  const errors = {};
  log(`  ${gen.name}, ${opts.tpReps} x (${live.length} engines x 3 paths x 3 figures x ${opts.tpSeconds} s)`);
  const order = ['lo', 'host', 'direct'];
  const rotate = (list, k) => [...list.slice(k % list.length), ...list.slice(0, k % list.length)];
  for (let rep = 0; rep < opts.tpReps; rep++) {
    // One engine's three paths back to back for each figure, so published and direct are
    // measured seconds apart; engines and paths take turns at going first.
    for (const s of rotate(live, rep)) {
      for (const m of metrics) {
        for (const pathId of rotate(order, rep)) {
          const [h, p] = s.paths[pathId];
          const r = await shAsync(gen.bin, gen[m].args(`http://${h}:${p}`), { timeout: (opts.tpSeconds + 30) * 1000 });
          await checkpoint();
          const v = gen[m].parse(r.stdout);
          const k = `${m}:${pathId}:${s.e.id}`;
          (samples[k] ??= []).push(v);
          errors[k] = (errors[k] ?? 0) + gen.errors(r.stdout);
          if (!Number.isFinite(v)) log(`  ${k}: no figure from ${gen.name} (exit ${r.status}): ${lastLine(r.stderr || r.stdout)}`);
        }
      }
    }
  }
  for (const s of servers) await shAsync(s.e.cmd, s.e.rm([s.name]), { env: s.e.env });
  const pathLabel = { lo: '127.0.0.1:PORT (published)', host: 'host address:PORT (published)', direct: 'container address:80 (direct)' };
  const metricLabel = {
    rps: ['requests/s, 1 KiB, 8 connections', 'req/s'],
    latency: [gen.name === 'wrk' ? 'latency p50, 1 KiB, 1 connection' : 'latency mean, 1 KiB, 1 connection', 'ms'],
    mib: ['throughput, 16 MiB file, 4 connections', 'MiB/s'],
  };
  for (const m of metrics) {
    for (const pathId of ['lo', 'host', 'direct']) {
      const cells = {};
      for (const s of live) {
        const k = `${m}:${pathId}:${s.e.id}`;
        cells[s.e.id] = cell(samples[k].filter(Number.isFinite));
        if (errors[k]) cells[s.e.id].errors = errors[k];
      }
      addRow('throughput', `${metricLabel[m][0]}: ${pathLabel[pathId]}`, metricLabel[m][1], cells, { id: `${m}-${pathId}`, better: m === 'latency' ? 'lower' : 'higher' });
    }
  }
  // Published over direct, round by round: the two were measured seconds apart, so a ratio per
  // round cancels most of the machine's drift, which on 2 busy vCPUs exceeds the 10 % asked about.
  const ratios = {};
  for (const m of ['rps', 'mib']) {
    for (const pathId of ['lo', 'host']) {
      for (const s of live) {
        const pub = samples[`${m}:${pathId}:${s.e.id}`];
        const dir = samples[`${m}:direct:${s.e.id}`];
        const r = pub.map((x, i) => x / dir[i]).filter(Number.isFinite);
        if (r.length) ratios[`${m}:${pathId}:${s.e.id}`] = cell(r);
      }
    }
  }
  results.throughput = { ratios, generator: gen.name, seconds: opts.tpSeconds, reps: opts.tpReps, hostAddress: `${NET.hostAddr} on ${NET.hostLink} (a veth in the suite's namespace, standing for eth0)`,
    server: 'busybox httpd -f -p 80 in the busybox image (HTTP/1.0: one TCP connection and one forked process per request)',
    generatorArgs: Object.fromEntries(metrics.map((m) => [m, gen[m].args('URL').join(' ')])) };
}

/** 4 and 5 (first half): N containers started at once; answers, addresses, monitors, removal. */
async function sectionParallel() {
  const N = opts.parallel;
  log(`\n== 4, 5a. ${N} x run -d busybox httpd at once (bridge network), ${opts.parallelReps} rounds`);
  const t = {};
  const push = (k, v) => (t[k] ??= []).push(v);
  const mem = {};
  const texts = {};
  for (let rep = 0; rep < opts.parallelReps; rep++) {
    for (const e of E()) {
      const names = Array.from({ length: N }, (_, i) => `${namePrefix()}par${rep}-${i}`);
      const cpu0 = cpuSeconds();
      const t0 = now();
      const runs = await Promise.all(names.map((name) => shAsync(e.cmd, e.run({ detach: true, name, image: e.images.busybox, command: ['httpd', '-f', '-p', '80'] }), { env: e.env, timeout: 300_000 })));
      const tStarted = now() - t0;
      push(`${e.id}:cpu`, cpuSeconds() - cpu0);
      const ok = names.filter((_, i) => runs[i].ok);
      const failed = runs.filter((r) => !r.ok);
      let ips = [];
      let answered = 0;
      if (ok.length) {
        ips = (await shAsync(e.cmd, e.inspect('{{.NetworkSettings.IPAddress}}', ok), { env: e.env })).stdout.trim().split('\n').map((s) => s.trim());
        const deadline = now() + 60_000;
        answered = (await Promise.all(ips.map((ip) => (ip ? waitHttp(ip, 80, deadline) : false)))).filter(Boolean).length;
      }
      const tAnswer = now() - t0;
      const distinct = new Set(ips.filter(Boolean)).size;
      // The process that stays with each container: PID 1's parent (minidock-shim, conmon,
      // containerd-shim-runc-v2).
      const pids = (await shAsync(e.cmd, e.inspect('{{.State.Pid}}', ok), { env: e.env })).stdout.trim().split('\n').map(Number);
      for (const pid of pids) {
        const mon = ppidOf(pid);
        const m = mon && memoryKb(mon);
        if (m) { (mem[e.id] ??= { rss: [], pss: [], comm: commOf(mon) }).rss.push(m.rss); mem[e.id].pss.push(m.pss); }
      }
      const t1 = now();
      const rm = await shAsync(e.cmd, e.rm(names), { env: e.env, timeout: 300_000 });
      const tRm = now() - t1;
      const summary = `${e.id}: started ${ok.length}/${N} in ${fmt(tStarted)} ms, ${answered} answering after ${fmt(tAnswer)} ms, ${distinct} distinct addresses; rm -f ${fmt(tRm)} ms`;
      log(`  round ${rep + 1}: ${summary}${failed.length ? `; first failure: ${lastLine(failed[0].stderr)}` : ''}${rm.ok ? '' : `; rm: ${lastLine(rm.stderr)}`}`);
      if (answered === ok.length && ok.length === N) push(`${e.id}:answer`, tAnswer);
      push(`${e.id}:started`, tStarted);
      if (rm.ok) push(`${e.id}:rm`, tRm);
      const tx = (texts[e.id] ??= { failed: 0, dup: 0, silent: 0, n: 0 });
      tx.failed += N - ok.length;
      tx.dup += ok.length - distinct;
      tx.silent += ok.length - answered;
      tx.n += N;
      await checkpoint();
    }
  }
  const cells = (suffix) => Object.fromEntries(E().filter((e) => t[`${e.id}:${suffix}`]).map((e) => [e.id, cell(t[`${e.id}:${suffix}`].map((x) => x / 1000))]));
  addRow('parallel', `${N} x run -d at once: all run commands returned`, 's', cells('started'), { id: 'parallel-started' });
  addRow('parallel', `${N} x run -d at once: all answer HTTP on their own address`, 's', cells('answer'), { id: 'parallel-answer', note: 'includes one inspect for the addresses' });
  addRow('parallel', `${N} x run -d at once: failed / duplicate addresses / not answering`, 'count',
    Object.fromEntries(Object.entries(texts).map(([id, x]) => [id, { text: `${x.failed} / ${x.dup} / ${x.silent} of ${x.n}`, ...x }])), { id: 'parallel-failures' });
  addRow('parallel', `${N} x run -d at once: CPU time used until all returned`, 'cpu-s', Object.fromEntries(E().filter((e) => t[`${e.id}:cpu`]).map((e) => [e.id, cell(t[`${e.id}:cpu`])])),
    { id: 'parallel-cpu', note: `the whole machine's busy time from /proc/stat (${results.machine.nproc} CPUs), so it includes anything else running` });
  addRow('parallel', `rm -f of the ${N} (one command)`, 's', cells('rm'), { id: 'parallel-rm' });
  const kb = (k) => Object.fromEntries(Object.entries(mem).map(([id, m]) => [id, { ...cell(m[k].map((x) => x / 1024)), process: m.comm }]));
  addRow('memory', 'monitor RSS per detached container', 'MiB', kb('rss'), { id: 'monitor-rss', note: 'VmRSS of PID 1\'s parent: minidock-shim, conmon, containerd-shim-runc-v2' });
  addRow('memory', 'monitor PSS per detached container (shared pages split)', 'MiB', kb('pss'), { id: 'monitor-pss' });
  if (ctx.engines.docker) {
    const d = ctx.engines.docker.daemonsKb().map(memoryKb).filter(Boolean).reduce((a, m) => a + m.rss, 0);
    results.notes.push(`docker's daemons (dockerd + containerd) RSS after the parallel rounds: ${fmt(d / 1024)} MiB, shared by all its containers`);
  }
  results.parallel = { count: N, rounds: opts.parallelReps, command: 'run -d --name NAME busybox httpd -f -p 80 (default bridge network)', monitors: Object.fromEntries(Object.entries(mem).map(([k, v]) => [k, v.comm])) };
}

/** CPU seconds the whole machine has been busy (user, nice, system, irq, softirq). */
function cpuSeconds() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq] = f;
  return (user + nice + system + irq + softirq) / 100; // USER_HZ is 100 on Linux
}

/** 6: `exec NAME true` latency and `ps` with psCount containers running. */
async function sectionExec() {
  const N = opts.psCount;
  log(`\n== 6. exec NAME true and ps with ${N} running containers per engine`);
  const running = {};
  for (const e of E()) {
    const names = Array.from({ length: N }, (_, i) => `${namePrefix()}ps-${i}`);
    const ok = [];
    for (let i = 0; i < names.length; i += 8) {
      const batch = names.slice(i, i + 8);
      // --network none: neither exec nor ps looks at the network, and the fleet starts faster.
      const rs = await Promise.all(batch.map((name) => shAsync(e.cmd, e.run({ detach: true, name, network: 'none', image: e.images.busybox, command: ['sleep', '3600'] }), { env: e.env })));
      batch.forEach((name, j) => { if (rs[j].ok) ok.push(name); else log(`  ${e.id}: ${name}: ${lastLine(rs[j].stderr)}`); });
      await checkpoint();
    }
    running[e.id] = ok;
    log(`  ${e.id}: ${ok.length} running`);
  }
  const cs = [];
  for (const e of E()) if (running[e.id].length) cs.push({ key: `exec:${e.id}`, run: spawnTimed(e.cmd, e.exec(running[e.id][0], ['true']), e.env) });
  const mdName = running.minidock?.[0];
  if (mdName) {
    const md = ctx.engines.minidock;
    const pid = sh(md.cmd, md.inspect('{{.State.Pid}}', [mdName]), { env: md.env }).stdout.trim();
    cs.push({ key: 'exec:floor', run: spawnTimed(which('nsenter') || 'nsenter', ['-a', '-t', pid, 'true'], CLEAN_ENV) });
  }
  for (const e of E()) if (running[e.id].length) cs.push({ key: `ps:${e.id}`, run: spawnTimed(e.cmd, e.ps(), e.env) });
  const r = await alternate(cs, opts.runs, 1, 'exec/ps');
  const pick = (prefix) => Object.fromEntries(Object.entries(r).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
  addRow('exec', 'exec NAME true', 'ms', pick('exec:'), { id: 'exec', floor: 'nsenter -a -t PID true (joins all of PID 1\'s namespaces)' });
  addRow('exec', `ps with ${N} containers running`, 'ms', pick('ps:'), { id: 'ps',
    note: `running (all busybox sleep, --network none): ${Object.entries(running).map(([k, v]) => `${k} ${v.length}`).join(', ')}${ctx.engines.podman ? '; podman ps lists every podman container of the host' : ''}` });
  for (const e of E()) if (running[e.id].length) await shAsync(e.cmd, e.rm(running[e.id]), { env: e.env, timeout: 300_000 });
}

/** 6b: `ps -a` over exitedCount exited containers (issue #20: under 2x `node -e 0`), `node -e 0`
 *  beside it. Made with `run --network none busybox true`, 3 at a time, untimed. */
async function sectionExited() {
  const N = opts.exitedCount;
  log(`\n== 6b. ps -a with ${N} exited containers per engine`);
  const made = {};
  for (const e of E()) {
    const names = Array.from({ length: N }, (_, i) => `${namePrefix()}ex-${i}`);
    const ok = [];
    for (let i = 0; i < names.length; i += 3) {
      const batch = names.slice(i, i + 3);
      const rs = await Promise.all(batch.map((name) => shAsync(e.cmd, e.run({ name, network: 'none', image: e.images.busybox, command: ['true'] }), { env: e.env })));
      batch.forEach((name, j) => { if (rs[j].ok) ok.push(name); else log(`  ${e.id}: ${name}: ${lastLine(rs[j].stderr)}`); });
      if (i % 300 === 0) await checkpoint();
    }
    made[e.id] = ok;
    log(`  ${e.id}: ${ok.length} exited`);
  }
  const cs = [];
  for (const e of E()) if (made[e.id].length) cs.push({ key: `psa:${e.id}`, run: spawnTimed(e.cmd, e.psAll(), e.env) });
  cs.push({ key: 'psa:floor', run: spawnTimed(process.execPath, ['-e', '0'], CLEAN_ENV) });
  const r = await alternate(cs, opts.runs, 1, 'ps -a');
  const pick = Object.fromEntries(Object.entries(r).filter(([k]) => k.startsWith('psa:')).map(([k, v]) => [k.slice(4), v]));
  addRow('exec', `ps -a with ${N} exited containers`, 'ms', pick, { id: 'ps-exited', floor: 'node -e 0 (the aim: minidock under 2x this)',
    note: `exited (busybox true, --network none): ${Object.entries(made).map(([k, v]) => `${k} ${v.length}`).join(', ')}` });
  for (const e of E()) {
    for (let i = 0; i < made[e.id].length; i += 100) await shAsync(e.cmd, e.rm(made[e.id].slice(i, i + 100)), { env: e.env, timeout: 300_000 });
  }
}

// ------------------------------------------------------------------------------------ report

const med = (row, col) => row?.cells?.[col]?.stats?.median;
const rowById = (id) => results.rows.find((r) => r.id === id);

function verdicts() {
  const out = [];
  const v = (target, met, detail) => { out.push({ target, met, detail }); };
  const br = rowById('startup-bridge');
  const none = rowById('startup-none');
  if (br && med(br, 'minidock')) {
    for (const peer of ['podman', 'docker']) {
      const p = med(br, peer);
      if (p == null) { v(`run --rm true with bridge >= 3x faster than ${peer}'s`, null, `${peer} not measured`); continue; }
      const x = p / med(br, 'minidock');
      v(`run --rm true with bridge >= 3x faster than ${peer}'s`, x >= 3, `${peer} ${fmt(p)} ms / minidock ${fmt(med(br, 'minidock'))} ms = ${x.toFixed(2)}x`);
    }
  }
  if (none && med(none, 'minidock') && med(none, 'crun')) {
    const x = med(none, 'minidock') / med(none, 'crun');
    v('run --rm true within 3x of crun run without network', x <= 3,
      `minidock --network none ${fmt(med(none, 'minidock'))} ms / crun run ${fmt(med(none, 'crun'))} ms = ${x.toFixed(2)}x` +
      (med(br, 'minidock') ? `; with the bridge ${(med(br, 'minidock') / med(none, 'crun')).toFixed(2)}x` : ''));
  }
  const ratios = results.throughput?.ratios ?? {};
  for (const m of ['rps', 'mib']) {
    const ratio = (p, e) => ratios[`${m}:${p}:${e}`]?.stats;
    const parts = ['lo', 'host'].filter((p) => ratio(p, 'minidock'));
    if (!parts.length) continue;
    const pct = (x) => `${x >= 1 ? '+' : ''}${((x - 1) * 100).toFixed(1)}%`;
    const where = (p) => (p === 'lo' ? '127.0.0.1' : 'host address');
    const peers = ['podman', 'docker'].filter((e) => parts.every((p) => ratio(p, e)))
      .map((e) => `${e} ${parts.map((p) => `${where(p)} ${pct(ratio(p, e).median)}`).join(', ')}`);
    v(`published-port ${m === 'rps' ? 'requests/s' : 'MiB/s'} equal to the direct path within 10%`,
      parts.every((p) => Math.abs(ratio(p, 'minidock').median - 1) <= 0.10),
      `published over direct, median of ${ratio(parts[0], 'minidock').n} paired rounds (min–max): ` +
      parts.map((p) => { const r = ratio(p, 'minidock'); return `${where(p)} ${pct(r.median)} (${pct(r.min)}…${pct(r.max)})`; }).join('; ') +
      (peers.length ? `; for comparison ${peers.join('; ')}` : ''));
  }
  const rss = rowById('monitor-rss');
  if (rss && med(rss, 'minidock') != null) {
    const c = med(rss, 'podman');
    v('monitor RSS per detached container <= podman\'s conmon', c == null ? null : med(rss, 'minidock') <= c,
      `minidock-shim ${fmt(med(rss, 'minidock') * 1024)} kB, conmon ${c == null ? 'not measured' : `${fmt(c * 1024)} kB`}` +
      (med(rss, 'docker') != null ? `, containerd-shim ${fmt(med(rss, 'docker') * 1024)} kB` : ''));
  }
  const f = rowById('parallel-failures')?.cells?.minidock;
  const ans = rowById('parallel-answer');
  if (f) {
    const pod = med(ans, 'podman');
    const mine = med(ans, 'minidock');
    const clean = f.failed === 0 && f.dup === 0 && f.silent === 0;
    v(`${opts.parallel} parallel starts: no failures, no duplicate addresses, faster than podman`, clean && mine != null && pod != null ? mine < pod : (clean ? null : false),
      `minidock ${f.text} failed/duplicate/silent, all answering after ${fmt(mine)} s; podman ${pod == null ? 'not measured' : `${fmt(pod)} s`}`);
  }
  // Issue #20's aims for exec and ps.
  const ex = rowById('exec');
  if (ex && med(ex, 'minidock') && med(ex, 'docker')) {
    const x = med(ex, 'docker') / med(ex, 'minidock');
    v('exec NAME true >= 2x faster than docker exec', x >= 2, `docker ${fmt(med(ex, 'docker'))} ms / minidock ${fmt(med(ex, 'minidock'))} ms = ${x.toFixed(2)}x`);
  }
  const ps = rowById('ps');
  if (ps && med(ps, 'minidock') && med(ps, 'docker')) {
    v('ps with the running containers no slower than docker ps', med(ps, 'minidock') <= med(ps, 'docker'), `minidock ${fmt(med(ps, 'minidock'))} ms, docker ${fmt(med(ps, 'docker'))} ms`);
  }
  const pe = rowById('ps-exited');
  if (pe && med(pe, 'minidock') && med(pe, 'floor')) {
    const x = med(pe, 'minidock') / med(pe, 'floor');
    v(`${pe.label.replace(/ with /, ' over ')} under 2x node -e 0`, x < 2, `minidock ${fmt(med(pe, 'minidock'))} ms / node -e 0 ${fmt(med(pe, 'floor'))} ms = ${x.toFixed(2)}x${med(pe, 'docker') ? `; docker ${fmt(med(pe, 'docker'))} ms` : ''}`);
  }
  return out;
}

function table() {
  const used = COLUMNS.filter((c) => results.rows.some((r) => r.cells[c]));
  const head = ['measure', 'unit', ...used];
  const rows = results.rows.map((r) => [r.label, r.unit, ...used.map((c) => formatCell(r.cells[c]))]);
  return markdownTable(head, rows);
}

function svg() {
  const fig = results.startup?.figures;
  if (!fig) return null;
  const rows = [];
  const group = (heading, list) => {
    const have = list.filter(([key]) => fig[key]?.samples?.length);
    if (!have.length) return;
    rows.push({ heading });
    for (const [key, label, g] of have) rows.push({ label, group: g, samples: fig[key].samples });
  };
  group('run --rm IMAGE true, --network none', [['minidock:none', 'minidock', 'minidock'], ['crun', 'crun run', 'crun'], ['crun-nocg', 'crun run, no cgroup', 'crun'],
    ['runc', 'runc run', 'runc'], ['podman:none', 'podman run', 'podman'], ['docker:none', 'docker run', 'docker']]);
  group('run --rm IMAGE true, bridge network', [['minidock:bridge', 'minidock', 'minidock'], ['podman:bridge', 'podman run', 'podman'], ['docker:bridge', 'docker run', 'docker']]);
  group('floors', [['unshare', 'unshare, 7 namespaces, true', 'floor'], ['nsenter-mnt', 'nsenter --mount true', 'floor'],
    ['node', 'node -e 0', 'floor'], ['node-env', 'node -e 0, NODE_EXTRA_CA_CERTS set', 'floor']]);
  const m = results.machine;
  return distributionSvg(rows, {
    title: 'Start-to-exit of a container running true',
    subtitle: `${results.date.slice(0, 10)}, ${m.nproc} vCPUs, kernel ${m.kernel}, ${m.distro}; ${opts.runs} runs each, alternated`,
  });
}

function report() {
  const t = table();
  results.table = t;
  results.targets = verdicts();
  log('\n' + t);
  log('\nfigures: median (min–max) over the runs; the floor column is the row\'s floor (see the notes)');
  for (const r of results.rows) {
    const extra = [r.floor && `floor = ${r.floor}`, r.note].filter(Boolean);
    const errs = Object.entries(r.cells).filter(([, c]) => c.errors).map(([k, c]) => `${k}: ${c.errors} errors`);
    const dropped = Object.entries(r.cells).filter(([, c]) => c.dropped).map(([k, c]) => `${k} failed: ${c.dropped}`);
    const retried = Object.entries(r.cells).filter(([, c]) => c.retried).map(([k, c]) => `${k}: ${c.retried} failed run(s) repeated`);
    if (extra.length || errs.length || dropped.length || retried.length) log(`  ${r.label}: ${[...extra, ...errs, ...dropped, ...retried].join('; ')}`);
  }
  for (const n of results.notes) log(`  ${n}`);
  if (results.skipped.length) { log('\nnot measured:'); for (const s of results.skipped) log(`  ${s}`); }
  log('\ntargets (issue #8):');
  for (const x of results.targets) log(`  [${x.met === true ? 'met' : x.met === false ? 'NOT met' : 'n/a'}] ${x.target}: ${x.detail}`);
  const md = [`Measured ${results.date} on ${describeMachine(results.machine)}; \`node bench/suite.mjs${opts.quick ? ' --quick' : ''}${opts.runs !== (opts.quick ? 5 : 20) ? ` --runs ${opts.runs}` : ''}\`.`, '', t, '',
    ...results.targets.map((x) => `- **${x.met === true ? 'met' : x.met === false ? 'not met' : 'n/a'}**: ${x.target} (${x.detail})`), '',
    ...Object.entries(results.trace ?? {}).filter(([, t]) => t).map(([k, t]) =>
      `Where \`minidock run --rm${k === 'none' ? ' --network none' : ''} busybox true\` goes (\`MINIDOCK_TRACE=1\`, ms, medians): ${traceLine(t)}.\n`)].join('\n');
  for (const f of [opts.json, opts.md, opts.svg]) fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(opts.md, md);
  const plot = svg();
  if (plot) fs.writeFileSync(opts.svg, plot);
  fs.writeFileSync(opts.json, JSON.stringify({ ...results, options: opts, columns: COLUMNS }, null, 1) + '\n');
  log(`\nwrote ${path.relative(process.cwd(), opts.json)}, ${path.relative(process.cwd(), opts.md)}${plot ? `, ${path.relative(process.cwd(), opts.svg)}` : ''}`);
}

// ------------------------------------------------------------------------------------ main

async function cleanupAll() {
  for (const fn of [...ctx.cleanups].reverse()) {
    try { fn(); } catch (e) { console.error(`cleanup: ${e.message}`); }
  }
  for (const fn of [...ctx.asyncCleanups].reverse()) {
    try { await fn(); } catch (e) { console.error(`cleanup: ${e.message}`); }
  }
  for (const d of [ctx.work, ctx.runDir].filter(Boolean)) {
    const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter(Boolean)
      .filter((mp) => mp === d || mp.startsWith(d + '/')).sort((a, b) => b.length - a.length);
    for (const mp of mounts) sh('umount', ['-l', mp]);
    try { fs.rmSync(d, { recursive: true, force: true }); } catch (e) { console.error(`cleanup: could not remove ${d}: ${e.message}`); }
  }
}

async function main() {
  const t0 = now();
  await setup();
  const steps = { startup: sectionStartup, memory: sectionMemory, http: sectionHttp, throughput: sectionThroughput, parallel: sectionParallel, exec: sectionExec, exited: sectionExited };
  for (const s of SECTIONS) {
    if (!opts.only.includes(s)) continue;
    const ts = now();
    await steps[s]();
    results.sections[s] = { seconds: +((now() - ts) / 1000).toFixed(1) };
    log(`  (${s}: ${results.sections[s].seconds} s)`);
    await checkpoint();
  }
  results.seconds = +((now() - t0) / 1000).toFixed(1);
  results.machine.loadavgAtEnd = os.loadavg().map((x) => +x.toFixed(2));
  report();
  log(`total ${results.seconds} s`);
}

let code = 0;
try {
  await main();
} catch (e) {
  code = e instanceof Interrupted ? 130 : 1;
  console.error(e instanceof Interrupted ? 'interrupted; cleaning up' : (e?.stack ?? e));
}
log('cleaning up...');
await cleanupAll();
process.exit(code);
