#!/usr/bin/env node
// `npm run compat`: every case of test/compat/cases.ts run against a private docker (Debian's
// docker.io) and against minidock, side by side, and a table case | docker | minidock | verdict.
//
// Both engines run in a network namespace made for this run (bridges, veths and iptables rules
// never touch the host's), with state of their own: dockerd with --data-root, --exec-root and
// a socket under a temporary directory (bench/lib/engines.mjs starts and stops it, by pid),
// minidock with its own MINIDOCK_ROOT, bridge and subnet. The same busybox tarball is imported
// into both as `busybox`.
//
// A case is a shell script; `d` in it is the engine's CLI. Between cases every container of the
// engine is removed. Outputs are normalised by test/compat/normalise.ts (ids, times, durations,
// ephemeral ports, the program's name, column widths: each rule is unit-tested) and compared.
// Verdicts: same; accepted (differs, for the documented reason the case gives); wrong.
//
//   npm run compat [-- --only REGEX] [--verbose] [--json FILE]
//
// Exit status: 0 when no case is wrong, 1 otherwise, 2 when docker cannot run here.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inPrivateNetns, options } from '../../bench/lib/netns.mjs';
import { dockerEngine, minidockEngine } from '../../bench/lib/engines.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const opt = options();
const only = opt('--only') ? new RegExp(opt('--only')) : undefined;
const verbose = process.argv.includes('--verbose');
const jsonOut = opt('--json');

if (process.getuid?.() !== 0) {
  console.error('compat: run as root (it starts dockerd and runs containers)');
  process.exit(2);
}
const compiled = path.join(REPO, 'dist/test/compat/cases.js');
if (!fs.existsSync(compiled)) {
  console.error('compat: dist/test/compat is missing: run `npm run build:ts` first (npm run compat does)');
  process.exit(2);
}
inPrivateNetns(import.meta.url, 'mdkcompat');

const { CASES } = await import(compiled);
const { judge } = await import(path.join(REPO, 'dist/test/compat/normalise.js'));

// The same prefix length on both sides: inspect's IPPrefixLen is compared.
const NET = { minidockBridge: 'mdkcompat0', minidockSubnet: '10.144.0.0/24', dockerBip: '10.146.0.1/24' };
const ctx = { repo: REPO, net: NET, cleanups: [], asyncCleanups: [] };
ctx.work = fs.mkdtempSync(path.join(os.tmpdir(), 'minidock-compat-'));
fs.chmodSync(ctx.work, 0o755);
ctx.runDir = fs.mkdtempSync('/run/minidock-compat-');

async function cleanup() {
  for (const f of ctx.cleanups.reverse()) { try { f(); } catch { /* best effort */ } }
  for (const f of ctx.asyncCleanups.reverse()) { try { await f(); } catch { /* best effort */ } }
  fs.rmSync(ctx.work, { recursive: true, force: true });
  fs.rmSync(ctx.runDir, { recursive: true, force: true });
}
// Each case runs synchronously: a signal is handled between cases (the loop yields), and the
// run stops there with everything removed.
let stopping = false;
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => { stopping = true; });

const md = minidockEngine(ctx);
const docker = typeof md === 'string' ? md : await dockerEngine(ctx);
if (typeof md === 'string' || typeof docker === 'string') {
  console.error(`compat: ${typeof md === 'string' ? md : docker}`);
  await cleanup();
  process.exit(2);
}
// The same name in both: docker's import was tagged for the bench.
spawnSync(docker.cmd, ['tag', docker.images.busybox, 'busybox:latest'], { env: docker.env });
spawnSync(docker.cmd, ['rmi', docker.images.busybox], { env: docker.env });

// The shell function `d` is the engine's CLI; the scratch directory is the case's own.
const engines = [
  { id: 'docker', fn: `d() { ${docker.cmd} "$@"; }`, env: docker.env },
  { id: 'minidock', fn: `d() { ${path.join(REPO, 'bin/minidock')} "$@"; }`, env: md.env },
];

function runCase(engine, c) {
  // The same path for both engines (one after the other), so paths in outputs compare equal.
  const scratch = path.join(ctx.work, 'T');
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.mkdirSync(scratch, { mode: 0o755 });
  const script = `${engine.fn}\ncd ${scratch}\n${c.run}`;
  const r = spawnSync('sh', ['-c', script], { env: { ...engine.env, T: scratch }, encoding: 'utf8', timeout: c.timeout ?? 60_000, input: c.input ?? '' });
  if (c.cleanup) spawnSync('sh', ['-c', `${engine.fn}\n${c.cleanup}`], { env: engine.env, encoding: 'utf8', timeout: 60_000 });
  // Nothing carries over to the next case.
  const ids = spawnSync('sh', ['-c', `${engine.fn}\nd ps -aq`], { env: engine.env, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  if (ids.length) spawnSync('sh', ['-c', `${engine.fn}\nd rm -f ${ids.join(' ')} >/dev/null 2>&1`], { env: engine.env, timeout: 120_000 });
  fs.rmSync(scratch, { recursive: true, force: true });
  return { code: r.status ?? 128 + 9, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const rows = [];
const counts = { same: 0, accepted: 0, wrong: 0 };
const cell = (o) => `${o.code} ${JSON.stringify((o.stdout || o.stderr).trim().split('\n')[0] ?? '').slice(0, 38)}`;
try {
  for (const c of CASES) {
    await new Promise((r) => setImmediate(r));
    if (stopping) break;
    if (only && !only.test(c.id)) continue;
    const [d, m] = engines.map((e) => runCase(e, c));
    const { verdict, diff } = judge(d, m, c);
    counts[verdict]++;
    rows.push({ id: c.id, docker: d, minidock: m, verdict, diff, accepted: c.accepted });
    const line = `${c.id.padEnd(34)} ${cell(d).padEnd(44)} ${cell(m).padEnd(44)} ${verdict}${diff.length ? ` (${diff.join(', ')})` : ''}`;
    console.log(line);
    if (verbose && verdict !== 'same') {
      for (const [who, o] of [['docker', d], ['minidock', m]]) {
        console.log(`    ${who}: exit ${o.code}\n${o.stdout.replace(/^/gm, '      out| ')}\n${o.stderr.replace(/^/gm, '      err| ')}`);
      }
    }
  }
} finally {
  await cleanup();
}
if (stopping) {
  console.log('\ncompat: interrupted; what ran is above');
  process.exit(130);
}
console.log(`\n${rows.length} cases: ${counts.same} same, ${counts.accepted} accepted differences, ${counts.wrong} wrong`);
const acceptedRows = rows.filter((r) => r.verdict === 'accepted');
if (acceptedRows.length) {
  console.log('\naccepted differences:');
  for (const r of acceptedRows) console.log(`  ${r.id}: ${r.accepted}`);
}
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify({ counts, rows }, null, 2) + '\n');
process.exit(counts.wrong ? 1 : 0);
