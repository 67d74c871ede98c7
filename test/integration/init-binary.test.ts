// minidock-init (native/src/init.c), the PID 1 of `run --init`, exercised directly: no minidock,
// no image. Each test makes it PID 1 of a fresh PID namespace with unshare(1) and checks docker's
// exit codes, zombie reaping, signal forwarding to the command's process group, the terminal's
// foreground group, a clean signal state for the command, and that the binary is static.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, killPid, shQuote } from '../helpers/cli.js';

// Setup at the top level (uvu swallows an exception thrown by a hook).
if (process.getuid?.() !== 0) throw new Error('integration tests need root (run them as root, as CI does)');
const INIT = join(REPO, 'native/build/minidock-init');
// make rebuilds only when missing or older than init.c.
const build = spawnSync('make', ['-f', 'native/init.mk'], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
if (build.status !== 0) throw new Error(`make -f native/init.mk failed: ${build.stderr}${build.stdout}`);

const Init = suite('init-binary');

interface Done {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const UNSHARE = ['--fork', '--pid', '--mount-proc'];

/** Runs `argv` as PID 1 of a new PID namespace and waits for it (at most 10 s). */
function runInNs(argv: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('unshare', [...UNSHARE, ...argv], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw r.error;
  return { code: r.status ?? 128 + 9, stdout: r.stdout, stderr: r.stderr };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Polls `pred` every 20 ms for up to `ms`; true once it held. */
async function eventually(pred: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (pred()) return true;
  return pred();
}

interface Proc {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
}

function readProc(pid: number | string): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const [state, ppid, pgrp] = stat.slice(close + 2).split(' ');
    return { pid: Number(pid), comm: stat.slice(stat.indexOf('(') + 1, close), state: state!, ppid: Number(ppid), pgrp: Number(pgrp) };
  } catch {
    return undefined; // exited meanwhile
  }
}

function allProcs(): Proc[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(readProc).filter((p): p is Proc => p !== undefined);
}

/** Every process in the PID namespace whose PID 1 has host pid `nsInit` (host-side view). */
function nsProcs(nsInit: number): Proc[] {
  const ns = readlinkSync(`/proc/${nsInit}/ns/pid`);
  return allProcs().filter((p) => {
    try {
      return readlinkSync(`/proc/${p.pid}/ns/pid`) === ns;
    } catch {
      return false;
    }
  });
}

/** A process started in the background: unshare, and (once found) the host pid of the
 *  namespace's PID 1. */
interface Started {
  proc: ChildProcessWithoutNullStreams;
  out: () => string;
  done: Promise<Done>;
  nsInit?: number;
}
const started: Started[] = [];

function startInNs(argv: string[], viaScript = false): Started {
  const proc = viaScript
    ? spawn('script', ['-qfec', ['unshare', ...UNSHARE, ...argv].map(shQuote).join(' '), '/dev/null'], { stdio: 'pipe' })
    : spawn('unshare', [...UNSHARE, ...argv], { stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<Done>((resolve) =>
    proc.on('close', (code, signal) => resolve({ code, signal, stdout: stdout.replace(/\r/g, ''), stderr })));
  const s: Started = { proc, out: () => stdout.replace(/\r/g, ''), done };
  started.push(s);
  return s;
}

/** The host pid of the namespace's PID 1: unshare's child once it has exec'd `comm`. */
async function findNsInit(s: Started, comm: string): Promise<number> {
  const unsharePid = () => {
    if (!s.proc.pid) return undefined;
    if (readProc(s.proc.pid)?.comm === 'unshare') return s.proc.pid;
    // under script(1): a descendant (script -> sh -c -> unshare, unless sh exec'd it)
    const procs = allProcs();
    const ours = new Set([s.proc.pid]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const p of procs) if (ours.has(p.ppid) && !ours.has(p.pid)) (ours.add(p.pid), (grew = true));
    }
    return procs.find((p) => ours.has(p.pid) && p.comm === 'unshare' && p.pid !== s.proc.pid)?.pid;
  };
  let found: number | undefined;
  const ok = await eventually(() => {
    const u = unsharePid();
    found = u === undefined ? undefined : allProcs().find((p) => p.ppid === u && p.comm === comm)?.pid;
    return found !== undefined;
  }, 5000);
  assert.ok(ok && found, `found the namespace's ${comm}`);
  s.nsInit = found;
  return found!;
}

async function waitOutput(s: Started, text: string): Promise<void> {
  assert.ok(await eventually(() => s.out().includes(text), 5000), `saw "${text}" (got ${JSON.stringify(s.out())})`);
}

/** Ends whatever a test left running: SIGKILL to the namespace's PID 1 takes the whole namespace
 *  with it, then unshare (or script) itself. Only pids this file started. */
async function cleanup(): Promise<void> {
  for (const s of started.splice(0)) {
    if (s.proc.exitCode !== null || s.proc.signalCode !== null) continue;
    if (s.nsInit) killPid(s.nsInit, 'SIGKILL');
    if (s.proc.pid) killPid(s.proc.pid, 'SIGKILL');
    await within(s.done, 5000, 'a killed test process').catch(() => undefined);
  }
}

const T = (name: string, fn: () => void | Promise<void>): void => {
  Init(name, async () => {
    try {
      await fn();
    } finally {
      await cleanup();
    }
  });
};

T('usage errors exit 125 with a one-line usage', () => {
  for (const args of [[], ['sh'], ['--'], ['-x', '--', 'true']]) {
    const r = spawnSync(INIT, args, { encoding: 'utf8', timeout: 5000 });
    assert.is(r.status, 125, `args ${JSON.stringify(args)}`);
    assert.match(r.stderr, /^usage: minidock-init -- COMMAND \[ARG\.\.\.\]\n$/);
    assert.is(r.stdout, '');
  }
});

T('exit codes as PID 1: the command\'s own, 127 not found, 126 not executable, 128+N killed', () => {
  assert.is(runInNs([INIT, '--', 'sh', '-c', 'exit 7']).code, 7);
  assert.is(runInNs([INIT, '--', 'sh', '-c', 'echo $$; exit 0']).stdout, '2\n', 'init is PID 1, the command PID 2');

  const notFound = runInNs([INIT, '--', '/nonexistent']);
  assert.is(notFound.code, 127);
  assert.is(notFound.stderr, 'minidock-init: exec "/nonexistent": No such file or directory\n');
  assert.is(runInNs([INIT, '--', 'no-such-command-on-path']).code, 127, 'PATH lookup');

  const dir = mkdtempSync(join(tmpdir(), 'mdk-init-'));
  try {
    const plain = join(dir, 'not-executable');
    writeFileSync(plain, 'echo hi\n', { mode: 0o644 });
    const r = runInNs([INIT, '--', plain]);
    assert.is(r.code, 126);
    assert.is(r.stderr, `minidock-init: exec "${plain}": Permission denied\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  assert.is(runInNs([INIT, '--', 'sh', '-c', 'kill -9 $$']).code, 137);
  assert.is(runInNs([INIT, '--', 'sh', '-c', 'kill -TERM $$']).code, 143);
});

// The orphans are reparented to PID 1; the main command (sleep, after exec) never waits for them.
const ORPHANS = '(sleep 0.1 &); (sleep 0.1 &); echo started; exec sleep 30';

T('orphans are reaped while the command still runs (and are not without an init)', async () => {
  const s = startInNs([INIT, '--', 'sh', '-c', ORPHANS]);
  const init = await findNsInit(s, 'minidock-init');
  await waitOutput(s, 'started');
  // Both orphans exit after 0.1 s; then only init and the command may remain, neither a zombie.
  const settled = await eventually(() => nsProcs(init).length === 2, 3000);
  const left = nsProcs(init);
  assert.ok(settled, `left: ${JSON.stringify(left)}`);
  assert.equal(left.map((p) => p.comm).sort(), ['minidock-init', 'sleep']);
  assert.not.ok(left.some((p) => p.state === 'Z'), 'no zombies');
  // A stop ends it cleanly: SIGTERM reaches the sleep, which dies of it.
  killPid(init, 'SIGTERM');
  assert.is((await within(s.done, 3000, 'init after SIGTERM')).code, 143);

  // The control: the same command as PID 1 itself keeps two zombies, so the check above can see them.
  const c = startInNs(['sh', '-c', ORPHANS]);
  const pid1 = await findNsInit(c, 'sleep');
  await waitOutput(c, 'started');
  const zombies = () => nsProcs(pid1).filter((p) => p.state === 'Z').length;
  assert.ok(await eventually(() => zombies() === 2, 3000), `zombies without an init: ${zombies()}`);
});

T('SIGTERM to init reaches the command, which exits 42 from its trap, within a second', async () => {
  const s = startInNs([INIT, '--', 'sh', '-c', 'trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done']);
  const init = await findNsInit(s, 'minidock-init');
  await waitOutput(s, 'ready');
  const t0 = Date.now();
  killPid(init, 'SIGTERM');
  const r = await within(s.done, 3000, 'init after SIGTERM');
  const ms = Date.now() - t0;
  assert.is(r.code, 42, r.stderr);
  assert.ok(ms < 1000, `took ${ms} ms`);
});

T('every other catchable signal is forwarded too', async () => {
  const signals: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGWINCH', 'SIGCONT', 'SIGPIPE'];
  for (const [i, sig] of signals.entries()) {
    const code = 50 + i;
    const s = startInNs([INIT, '--', 'sh', '-c', `ulimit -c 0; trap "exit ${code}" ${sig.slice(3)}; echo ready; while :; do sleep 0.1; done`]);
    const init = await findNsInit(s, 'minidock-init');
    await waitOutput(s, 'ready');
    killPid(init, sig);
    const r = await within(s.done, 3000, `init after ${sig}`);
    assert.is(r.code, code, `${sig}: ${r.stderr}`);
  }
});

T('the command leads its own process group, and a signal reaches all of that group', async () => {
  // The background sleep shares sh's group (no job control): the trap's `wait` returns at once
  // only if the sleep got the SIGTERM as well (else it would wait 30 s).
  const s = startInNs([INIT, '--', 'sh', '-c', 'sleep 30 & s=$!; trap \'wait $s; echo "sleep:$?"; exit 42\' TERM; echo ready; wait']);
  const init = await findNsInit(s, 'minidock-init');
  await waitOutput(s, 'ready');
  const cmd = allProcs().find((p) => p.ppid === init && p.comm === 'sh');
  assert.ok(cmd, 'the command runs under init');
  assert.is(cmd!.pgrp, cmd!.pid, 'the command leads a process group');
  assert.is.not(readProc(init)!.pgrp, cmd!.pgrp, 'init is not in it');
  killPid(init, 'SIGTERM');
  const r = await within(s.done, 3000, 'init after SIGTERM');
  assert.is(r.code, 42, r.stderr);
  assert.match(r.stdout, /sleep:143\n/);
});

T('on a terminal the command is the foreground group: Ctrl-C reaches it directly, once', async () => {
  const cmd = 'set -- $(cat /proc/$$/stat); echo "pgrp=$5 tpgid=$8"; trap "echo got-INT; exit 3" INT; echo ready; while :; do sleep 0.1; done';
  const s = startInNs([INIT, '--', 'sh', '-c', cmd], true);
  await findNsInit(s, 'minidock-init');
  await waitOutput(s, 'ready');
  assert.match(s.out(), /pgrp=2 tpgid=2\n/, 'sh (PID 2) leads the foreground group');
  s.proc.stdin.write('\x03');
  const r = await within(s.done, 3000, 'script after Ctrl-C');
  assert.is(r.code, 3, r.stdout);
  assert.is(r.stdout.split('got-INT').length - 1, 1, 'one SIGINT, not a forwarded second one');
});

T('the command starts with no blocked or ignored signal, whatever init inherited', () => {
  // The outer sh ignores INT, QUIT, USR1 and even CHLD before exec'ing init: init still gets its
  // child's status, and the command sees a clean state while init blocks everything.
  const inner = 'grep -E "^Sig(Blk|Ign)" /proc/self/status /proc/1/status; exit 5';
  const r = runInNs(['sh', '-c', `trap '' INT QUIT USR1 CHLD; exec ${shQuote(INIT)} -- sh -c ${shQuote(inner)}`]);
  assert.is(r.code, 5, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.includes('/proc/self/status:SigBlk:\t0000000000000000'), r.stdout);
  assert.ok(lines.includes('/proc/self/status:SigIgn:\t0000000000000000'), r.stdout);
  // All 64 blocked but SIGKILL (9) and SIGSTOP (19), which the kernel never blocks.
  assert.ok(lines.includes('/proc/1/status:SigBlk:\tfffffffffffbfeff'), r.stdout);
});

/** The program header types of an ELF file (PT_INTERP = 3 names the dynamic loader). */
function programHeaderTypes(file: string): number[] {
  const b = readFileSync(file);
  assert.is(b.subarray(0, 4).toString('latin1'), '\x7fELF');
  const is64 = b[4] === 2;
  const le = b[5] === 1;
  const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const phoff = is64 ? Number(le ? b.readBigUInt64LE(0x20) : b.readBigUInt64BE(0x20)) : u32(0x1c);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  return Array.from({ length: phnum }, (_, i) => u32(phoff + i * phentsize));
}

T('the binary is static: no PT_INTERP, and it runs in a root holding nothing else', () => {
  const types = programHeaderTypes(INIT);
  assert.ok(types.length > 0, 'has program headers');
  assert.not.ok(types.includes(3), `PT_INTERP in ${JSON.stringify(types)}`);
  assert.not.ok(types.includes(2), 'no PT_DYNAMIC either');
  const readelf = spawnSync('readelf', ['-l', INIT], { encoding: 'utf8' });
  if (readelf.status === 0) assert.not.match(readelf.stdout, /INTERP|program interpreter/);
  assert.ok(statSync(INIT).size < 1_000_000, `size ${statSync(INIT).size}`);

  const root = mkdtempSync(join(tmpdir(), 'mdk-init-root-'));
  try {
    copyFileSync(INIT, join(root, 'minidock-init'));
    const r = spawnSync('chroot', [root, '/minidock-init', '--', '/nothing-here'], { encoding: 'utf8', timeout: 5000 });
    assert.is(r.status, 127, r.stderr);
    assert.is(r.stderr, 'minidock-init: exec "/nothing-here": No such file or directory\n');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

Init.run();
