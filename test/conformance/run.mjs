#!/usr/bin/env node
// The OCI runtime-tools conformance suite against minidock-runc and, side by side, Debian's runc
// and crun. Builds the pinned suite in a temporary directory, runs each of its validation
// programs once per runtime in a private mount namespace with a private TMPDIR, a private state
// root (the runtime is called through a wrapper that adds --root) and a timeout,
// and prints per-program pass/fail/skip from their TAP and the totals. Writes nothing into the
// repository. Needs root, golang-go (apt-get install -y golang-go) and util-linux's unshare.
//
//   npm run conformance -- [--runtime NAME=PATH]... [--source TARBALL|DIR] [--only A,B]
//                          [--timeout SECONDS] [--keep] [--json FILE] [--expect FILE]
//
// --expect FILE: the programs (one name a line, # comments) that must pass under the first
// runtime; any that does not is a regression, and the exit status is 1. CI runs it so, for
// minidock alone (npm run conformance:ci), against test/conformance/expected-pass.txt.
//
// Without --runtime: minidock (bin/minidock-runc.js), runc and crun where they are installed.
// crun 1.8 refuses a hybrid cgroup host while /sys/fs/cgroup/unified is mounted, so its
// programs run with that mount removed (in their own mount namespace only).
//
// Counting: the figures are the programs' top-level TAP lines (ok / not ok / skip), which is how
// issue #14's runc and crun figures were taken. Some programs print the in-container
// `runtimetest`'s TAP inline, others inside a YAML block: the total with those nested results
// is printed beside. A program that exits non-zero without a "not ok", prints no plan or times
// out is counted as died (and FAIL).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const VENDORED = [join(REPO, '../shared/vendor/runtime-tools-260e151.tar.gz'), '/work/shared/vendor/runtime-tools-260e151.tar.gz'];

function usage(msg) {
  if (msg) process.stderr.write(`conformance: ${msg}\n`);
  process.stderr.write('usage: node test/conformance/run.mjs [--runtime NAME=PATH]... [--source TARBALL|DIR] [--only A,B] [--timeout S] [--keep] [--json FILE] [--expect FILE]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { runtimes: [], source: undefined, only: undefined, timeout: 120, keep: false, json: undefined, expect: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => argv[++i] ?? usage(`${a} needs a value`);
    if (a === '--runtime') {
      const v = val();
      const eq = v.indexOf('=');
      if (eq < 1) usage(`--runtime takes NAME=PATH, not ${v}`);
      o.runtimes.push({ name: v.slice(0, eq), path: resolve(v.slice(eq + 1)) });
    } else if (a === '--source') o.source = resolve(val());
    else if (a === '--only') o.only = val().split(',');
    else if (a === '--timeout') o.timeout = Number(val());
    else if (a === '--keep') o.keep = true;
    else if (a === '--json') o.json = resolve(val());
    else if (a === '--expect') o.expect = resolve(val());
    else usage(`unknown argument ${a}`);
  }
  return o;
}

const which = (cmd) => {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
};

function defaultRuntimes() {
  const list = [{ name: 'minidock', path: join(REPO, 'bin/minidock-runc.js') }];
  for (const name of ['runc', 'crun']) {
    const path = which(name);
    if (path) list.push({ name, path });
    else process.stderr.write(`conformance: ${name} is not installed (apt-get install -y ${name}): its column is left out\n`);
  }
  return list;
}

/** Unpacks and builds the suite in `work`; returns the tree's root. */
function build(work, source) {
  if (!which('go')) throw new Error('go is missing: apt-get install -y golang-go (Debian 12\'s Go 1.19 builds this commit offline)');
  let tree;
  if (source && !source.endsWith('.tar.gz')) tree = source;
  else {
    const tarball = source ?? VENDORED.find((p) => existsSync(p));
    if (!tarball) throw new Error(`no runtime-tools source: pass --source (looked for ${VENDORED.join(', ')})`);
    const r = spawnSync('tar', ['-C', work, '-xzf', tarball], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`tar -xzf ${tarball} failed`);
    tree = join(work, 'runtime-tools');
  }
  const env = { ...process.env, GOFLAGS: '-mod=vendor', GOPROXY: 'off', GOCACHE: join(work, 'gocache'), GOPATH: join(work, 'gopath'), HOME: join(work, 'home') };
  process.stderr.write(`conformance: building runtime-tools in ${tree} ...\n`);
  const r = spawnSync('make', ['-j2', 'runtimetest', 'tool', 'validation-executables'], { cwd: tree, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make failed:\n${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
  return tree;
}

/** Counts one TAP stream's results: ok, not ok, skip (SKIP and TODO directives). */
function countTap(text) {
  const c = { pass: 0, fail: 0, skip: 0, plan: false, nested: { pass: 0, fail: 0, skip: 0 } };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^1\.\.\d+/.test(line)) c.plan = true;
    const m = /^(not )?ok\b(.*)$/.exec(line);
    if (m) {
      if (/#\s*(SKIP|TODO)/i.test(m[2])) c.skip++;
      else if (m[1]) c.fail++;
      else c.pass++;
      continue;
    }
    if (line === '  ---') {
      // A YAML block; runtime-tools writes it as JSON. The inner runtimetest's TAP is its stdout.
      const body = [];
      for (i++; i < lines.length && lines[i] !== '  ...'; i++) body.push(lines[i]);
      try {
        const doc = JSON.parse(body.join('\n'));
        if (typeof doc.stdout === 'string' && doc.stdout.includes('TAP version')) {
          const inner = countTap(doc.stdout);
          c.nested.pass += inner.pass + inner.nested.pass;
          c.nested.fail += inner.fail + inner.nested.fail;
          c.nested.skip += inner.skip + inner.nested.skip;
        }
      } catch {
        /* a YAML block that is not JSON: nothing nested to count */
      }
    }
  }
  return c;
}

/** A runtime as the suite calls it: the suite passes no --root, so each runtime is called through
 *  a two-line wrapper that gives it a state root of this run's own. What the programs leave can
 *  then be deleted without touching anyone else's containers in the runtime's default root. */
function privateRuntime(rt, work) {
  const dir = join(work, 'bin');
  mkdirSync(dir, { recursive: true });
  const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
  const wrapper = join(dir, rt.name);
  writeFileSync(wrapper, `#!/bin/sh\nexec ${q(rt.path)} --root ${q(join(work, `state-${rt.name}`))} "$@"\n`, { mode: 0o755 });
  return { ...rt, real: rt.path, path: wrapper };
}

/** The containers a runtime lists now (in its private root). */
function listIds(rt) {
  const r = spawnSync(rt.path, ['list', '-q'], { encoding: 'utf8', timeout: 20_000 });
  return r.status === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

function runProgram(tree, prog, rt, tmp, timeoutS) {
  mkdirSync(tmp, { recursive: true });
  // A private mount namespace: what a test leaves mounted under its TMPDIR goes with it.
  const pre = rt.name === 'crun' || /(^|\/)crun$/.test(rt.real ?? rt.path) ? 'umount -l /sys/fs/cgroup/unified 2>/dev/null; ' : '';
  const script = `${pre}exec "$0"`;
  return new Promise((done) => {
    const started = Date.now();
    const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, join(tree, prog)], {
      cwd: tree,
      env: { ...process.env, RUNTIME: rt.path, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    }, timeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const c = countTap(out);
      const crashed = timedOut || !c.plan || (code !== 0 && c.fail === 0);
      done({ ...c, code, signal, timedOut, crashed, ms: Date.now() - started, stderr: err.slice(-500) });
    });
  });
}

function verdict(r) {
  if (!r) return '';
  if (r.crashed || r.fail || r.nested.fail) return 'FAIL';
  if (!r.pass && !r.nested.pass) return 'skip';
  return 'pass';
}

/** A program's verdict and its top-level TAP counts (ok/not ok/skip); "died" when it exited
 *  non-zero without a "not ok", printed no plan, or timed out. */
const cell = (r) => (r ? `${verdict(r)} ${r.pass}/${r.fail}/${r.skip}${r.timedOut ? ' timeout' : r.crashed ? ' died' : ''}` : '');

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) usage('run it as root: the suite creates containers');
  const runtimes = o.runtimes.length ? o.runtimes : defaultRuntimes();
  const work = mkdtempSync(join(tmpdir(), 'mdk-conformance-'));
  try {
    const tree = build(work, o.source);
    const programs = readdirSync(join(tree, 'validation'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(tree, 'validation', d.name, `${d.name}.t`)))
      .map((d) => `validation/${d.name}/${d.name}.t`)
      .filter((p) => !o.only || o.only.some((n) => p.includes(`/${n}/`)))
      .sort();
    process.stderr.write(`conformance: ${programs.length} programs x ${runtimes.map((r) => r.name).join(', ')}\n`);
    const results = {};
    for (const named of runtimes) {
      const rt = privateRuntime(named, work);
      results[rt.name] = {};
      const before = new Set(listIds(rt));
      let n = 0;
      for (const prog of programs) {
        const r = await runProgram(tree, prog, rt, join(work, 'tmp', rt.name, String(n++)), o.timeout);
        results[rt.name][prog] = r;
        // What the program left behind: its containers (killed, then deleted) and its TMPDIR.
        for (const id of listIds(rt)) if (!before.has(id)) spawnSync(rt.path, ['delete', '--force', id], { timeout: 20_000 });
        rmSync(join(work, 'tmp', rt.name), { recursive: true, force: true });
        process.stderr.write(`  ${rt.name.padEnd(9)} ${prog.split('/')[1].padEnd(34)} ${cell(r)}\n`);
      }
    }
    const name = (p) => p.split('/')[1];
    const w = Math.max(...programs.map((p) => name(p).length), 7);
    const cols = runtimes.map((rt) => rt.name);
    const cw = 26;
    const lines = [`${'program'.padEnd(w)}  ${cols.map((c) => `${c} pass/fail/skip`.padEnd(cw)).join('')}`];
    for (const p of programs) lines.push(`${name(p).padEnd(w)}  ${cols.map((c) => cell(results[c][p]).padEnd(cw)).join('')}`);
    lines.push('');
    for (const c of cols) {
      const rs = Object.values(results[c]);
      const sum = (f) => rs.reduce((s, r) => s + f(r), 0);
      const progs = { pass: rs.filter((r) => verdict(r) === 'pass').length, fail: rs.filter((r) => verdict(r) === 'FAIL').length, skip: rs.filter((r) => verdict(r) === 'skip').length };
      lines.push(`${c}: top-level TAP ${sum((r) => r.pass)} ok / ${sum((r) => r.fail)} not ok / ${sum((r) => r.skip)} skip, ${sum((r) => (r.crashed ? 1 : 0))} programs died` +
        ` (${sum((r) => (r.timedOut ? 1 : 0))} timed out); with runtimetest's TAP nested in YAML blocks ${sum((r) => r.pass + r.nested.pass)} / ${sum((r) => r.fail + r.nested.fail)} / ${sum((r) => r.skip + r.nested.skip)};` +
        ` programs ${progs.pass} pass / ${progs.fail} fail / ${progs.skip} skip`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    if (o.json) writeFileSync(o.json, JSON.stringify({ runtimes, results }, null, 2));
    if (o.expect) {
      const want = readFileSync(o.expect, 'utf8').split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
      const first = runtimes[0].name;
      const byName = new Map(programs.map((p) => [name(p), results[first][p]]));
      const unknown = want.filter((w) => !byName.has(w));
      const regressed = want.filter((w) => byName.has(w) && verdict(byName.get(w)) !== 'pass');
      const gained = programs.map(name).filter((n) => verdict(byName.get(n)) === 'pass' && !want.includes(n));
      if (gained.length) process.stdout.write(`conformance: ${first} now also passes ${gained.join(', ')}: add them to ${o.expect}\n`);
      if (unknown.length || regressed.length) {
        process.stdout.write(`conformance: ${first} no longer passes ${[...regressed, ...unknown.map((u) => `${u} (not in the suite)`)].join(', ')}\n`);
        process.exitCode = 1;
      } else {
        process.stdout.write(`conformance: every program ${first} is expected to pass passed\nconformance: ${want.length} passed, 0 failed\n`);
      }
    }
  } finally {
    if (o.keep) process.stderr.write(`conformance: kept ${work}\n`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`conformance: ${err.message}\n`);
  process.exit(1);
});
