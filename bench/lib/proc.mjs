// Small process helpers shared by the bench scripts: finding binaries, running set-up commands,
// timing one spawn, and reading a process's memory from /proc.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The environment every contender gets: this one without NODE_EXTRA_CA_CERTS (see README). */
export const ORIG_ENV = { ...process.env };
export const CLEAN_ENV = { ...process.env };
delete CLEAN_ENV.NODE_EXTRA_CA_CERTS;

export const now = () => Number(process.hrtime.bigint()) / 1e6;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function which(name) {
  for (const dir of (process.env.PATH || '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try { fs.accessSync(p, fs.constants.X_OK); if (fs.statSync(p).isFile()) return p; } catch { /* next */ }
  }
  return null;
}

export function shq(s) {
  return /^[A-Za-z0-9_./:=@%+,<>-]+$/.test(s) ? s : `'${String(s).replace(/'/g, `'\\''`)}'`;
}

export const cmdline = (cmd, args) => [cmd, ...args].map(shq).join(' ');

export function firstLine(s) {
  return String(s || '').split('\n').map((l) => l.trim()).find(Boolean) || '';
}

export function lastLine(s) {
  return String(s || '').split('\n').map((l) => l.trim()).filter(Boolean).pop() || '';
}

export function indent(s, prefix = '    | ', most = 15) {
  const lines = String(s || '').replace(/\s+$/, '').split('\n');
  const shown = lines.slice(0, most);
  if (lines.length > shown.length) shown.push(`... (${lines.length - shown.length} more lines)`);
  return shown.map((l) => prefix + l).join('\n');
}

/** Runs a set-up or clean-up command (never timed) and captures its output. */
export function sh(cmd, args, { env = CLEAN_ENV, cwd, input, timeout = 120_000 } = {}) {
  const r = spawnSync(cmd, args, { env, cwd, input, encoding: 'utf8', timeout, killSignal: 'SIGKILL', maxBuffer: 64 << 20 });
  const ok = r.status === 0 && !r.error;
  return { ok, status: r.status, signal: r.signal, stdout: r.stdout || '', stderr: (r.stderr || '') + (r.error ? String(r.error) : '') };
}

/** The same, asynchronously (for many commands at once). */
export function shAsync(cmd, args, { env = CLEAN_ENV, cwd, timeout = 120_000 } = {}) {
  return new Promise((resolve) => {
    const t0 = now();
    const p = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeout);
    p.on('error', (e) => { stderr += String(e); });
    p.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ ok: status === 0, status, signal, stdout, stderr, ms: now() - t0 });
    });
  });
}

/**
 * One timed run: only the spawnSync call is inside the clock; stdout is discarded and stderr
 * kept for the error message. Throws on failure, so a failed run is never a sample.
 */
export function timeSpawn(cmd, args, { env = CLEAN_ENV, cwd, timeout = 60_000 } = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout, killSignal: 'SIGKILL', maxBuffer: 16 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
    throw new Error(`${why}: ${telling(r.stderr?.toString()) || '(no stderr)'}`);
  }
  return ms;
}

/** The line of a failed command's stderr that says most: the last, unless Node crashed (then
 *  its last line is only "Node.js vX" and the error is the first line naming one). */
function telling(stderr) {
  const last = lastLine(stderr);
  if (!/^Node\.js v/.test(last)) return last;
  return String(stderr).split('\n').map((l) => l.trim()).find((l) => /Error( \[\w+\])?:|^error:/.test(l)) || last;
}

/** VmRSS and Pss (kB) of a live process, or null. Pss counts shared pages once across sharers. */
export function memoryKb(pid) {
  try {
    const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    let pss = NaN;
    try { pss = Number(/^Pss:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1]); } catch { /* old kernel */ }
    return Number.isFinite(rss) ? { rss, pss } : null;
  } catch { return null; }
}

export function ppidOf(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch { return null; }
}

export function commOf(pid) {
  try { return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return null; }
}

export function version(cmd, args = ['--version']) {
  const r = sh(cmd, args);
  return firstLine(r.stdout || r.stderr);
}
